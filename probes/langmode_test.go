package probes

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// TestLanguageModeCheckersAgree: the Go checker (which the simulator runs)
// and the tree-sitter checker (test/psgrammar, which CI runs on the
// scripts) find the same (line, rule) pairs on the bootstrap, the old
// bootstrap, the bundle, every probe script and the planted violations.
func TestLanguageModeCheckersAgree(t *testing.T) {
	dir := psgrammarDir(t)
	tmp := t.TempDir()
	sources := map[string]string{
		"bootstrap.ps1":     Bootstrap(),
		"old-bootstrap.ps1": "$s = @($input) -join \"`n\"; & ([scriptblock]::Create($s))",
		"bundle.ps1":        Bundle(),
	}
	planted, err := os.ReadFile(plantedFile)
	if err != nil {
		t.Fatal(err)
	}
	sources["clm-violations.ps1"] = string(planted)
	files, _ := filepath.Glob("*.ps1")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources["probe-"+f] = string(b)
	}
	args := []string{"check.mjs", "--clm-json"}
	for name, src := range sources {
		path := filepath.Join(tmp, name)
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %v: %v", args, err)
	}
	var tree map[string][]Finding
	if err := json.Unmarshal(out, &tree); err != nil {
		t.Fatalf("tree-sitter checker output: %v\n%s", err, out)
	}
	total := 0
	for name, src := range sources {
		goKeys := findingKeys(CheckConstrained(src))
		tsKeys := findingKeys(tree[filepath.Join(tmp, name)])
		total += len(goKeys)
		if !slices.Equal(goKeys, tsKeys) {
			t.Errorf("%s: Go finds %v, tree-sitter %v", name, goKeys, tsKeys)
		}
	}
	if total < 14 {
		t.Errorf("only %d findings compared: the planted file and the old bootstrap should give more", total)
	}
}

// BenchmarkCheckConstrained is what a simulated ConstrainedLanguage host
// pays per probe run to check the bundle it receives.
func BenchmarkCheckConstrained(b *testing.B) {
	bundle := Bundle()
	b.SetBytes(int64(len(bundle)))
	for b.Loop() {
		if fs := CheckConstrained(bundle); len(fs) != 0 {
			b.Fatal(fs)
		}
	}
}

// FuzzCheckConstrained: any text a client sends a simulated
// ConstrainedLanguage host is checked without a panic, and every finding
// points into the text.
func FuzzCheckConstrained(f *testing.F) {
	planted, err := os.ReadFile(plantedFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(planted))
	f.Add(Bootstrap())
	f.Add("@'\n[Console]::Out.Write(1)")
	f.Add("[a[b]c]::d(\n$x.(y) = 1; New-Object -Com")
	f.Fuzz(func(t *testing.T, script string) {
		lines := strings.Count(script, "\n") + 1
		for _, fd := range CheckConstrained(script) {
			if fd.Offset < 0 || fd.Offset >= len(script) || fd.Line < 1 || fd.Line > lines {
				t.Fatalf("finding %+v outside the %d-byte, %d-line script", fd, len(script), lines)
			}
		}
	})
}
