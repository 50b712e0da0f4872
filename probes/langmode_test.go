package probes

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// plantedFile holds the planted violations both language-mode checkers
// must catch (and the guarded copies they must not).
const plantedFile = "../test/psgrammar/testdata/clm-violations.ps1"

// expectedFindings reads the "# expect: rule,rule" marks of a planted file
// as "line:rule" strings.
func expectedFindings(t *testing.T, src string) []string {
	t.Helper()
	var want []string
	for i, line := range strings.Split(src, "\n") {
		if _, rules, ok := strings.Cut(line, "# expect: "); ok {
			for _, r := range strings.Split(strings.TrimSpace(rules), ",") {
				want = append(want, fmt.Sprintf("%d:%s", i+1, r))
			}
		}
	}
	slices.Sort(want)
	return want
}

func findingKeys(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%d:%s", f.Line, f.Rule)
	}
	slices.Sort(out)
	return out
}

// TestCheckConstrainedPlanted: every planted violation is caught, with the
// rule named on its line, and nothing else (in particular nothing in the
// FullLanguage-guarded block).
func TestCheckConstrainedPlanted(t *testing.T) {
	b, err := os.ReadFile(plantedFile)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	want := expectedFindings(t, src)
	if len(want) < 10 {
		t.Fatalf("only %d expectations in %s", len(want), plantedFile)
	}
	got := findingKeys(CheckConstrained(src))
	if !slices.Equal(got, want) {
		t.Errorf("findings\n got %v\nwant %v", got, want)
	}
	// The five the issue names, each on its own: caught alone too.
	for _, snippet := range []string{
		"& ([scriptblock]::Create($s))",
		"[Console]::Out.Write($text)",
		"$c = New-Object System.Net.WebClient",
		"Add-Type -AssemblyName System.Web",
		"$proc = Get-Process -Id $PID\n$proc.PriorityClass = 'High'",
	} {
		if fs := CheckConstrained(snippet); len(fs) == 0 {
			t.Errorf("%q: not caught", snippet)
		}
		guarded := "if ($AadcFullLanguage) {\n" + snippet + "\n}\n"
		if fs := CheckConstrained(guarded); len(fs) != 0 {
			t.Errorf("%q inside the guard: %v", snippet, fs)
		}
	}
}

// TestBundleConstrainedClean: the bootstrap and the whole bundle run in
// ConstrainedLanguage (every blocked construct is behind the guard).
func TestBundleConstrainedClean(t *testing.T) {
	for name, src := range map[string]string{"Bootstrap()": Bootstrap(), "Bundle()": Bundle()} {
		for _, f := range CheckConstrained(src) {
			t.Errorf("%s:%d: %s: %s", name, f.Line, f.Rule, f.Text)
		}
	}
}

func TestTypeAllowed(t *testing.T) {
	for name, want := range map[string]bool{
		"string": true, "System.String": true, "INT64": true, "object[]": true, "char[]": true, "hashtable": true,
		"scriptblock": false, "Console": false, "System.Console": false, "object": false,
		"Diagnostics.FileVersionInfo": false, "System.Net.WebClient": false,
	} {
		if got := TypeAllowed(name); got != want {
			t.Errorf("TypeAllowed(%q) = %v, want %v", name, got, want)
		}
	}
}
