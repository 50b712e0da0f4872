package probes

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"aadcready/facts"
)

func TestNamesMatchRegistry(t *testing.T) {
	got := slices.Sorted(slices.Values(Names()))
	if want := facts.Probes(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, facts.Probes() = %v", got, want)
	}
}

func TestBundle(t *testing.T) {
	b := Bundle()
	if b != Bundle() || BundleID() != bundleID {
		t.Fatal("Bundle() is not deterministic")
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(BundleID()) {
		t.Fatalf("BundleID() = %q, want 16 hex digits", BundleID())
	}
	if strings.Contains(b, idPlaceholder) {
		t.Fatal("bundle still contains the id placeholder")
	}
	id, got, err := ProbesInBundle(b)
	if err != nil || id != BundleID() || !slices.Equal(got, Names()) {
		t.Fatalf("ProbesInBundle(Bundle()) = %q, %v, %v; want %q, %v", id, got, err, BundleID(), Names())
	}
}

func TestBundleWithPadding(t *testing.T) {
	for _, n := range []int{0, 1, 100 << 10, 300 << 10} {
		b := BundleWithPadding(n)
		if !strings.HasPrefix(b, Bundle()) || len(b)-len(Bundle()) < n {
			t.Errorf("BundleWithPadding(%d): %d bytes of padding, want at least %d", n, len(b)-len(Bundle()), n)
		}
		id, got, err := ProbesInBundle(b)
		if err != nil || id != BundleID() || !slices.Equal(got, Names()) {
			t.Errorf("ProbesInBundle(BundleWithPadding(%d)) = %q, %v, %v", n, id, got, err)
		}
	}
}

func TestProbesInBundleRejects(t *testing.T) {
	for name, script := range map[string]string{
		"empty":     "",
		"no probes": "$AadcBundleId = '0123456789abcdef'\n",
		"no id":     "Invoke-AadcProbe 'os' {\n}\n",
		"two ids":   "$AadcBundleId = '0123456789abcdef'\n$AadcBundleId = '0123456789abcdef'\nInvoke-AadcProbe 'os' {\n}\n",
	} {
		if _, _, err := ProbesInBundle(script); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The regular expressions ProbesInBundle replaced: the reference
// FuzzProbesInBundle holds it to.
var (
	idLineRE    = regexp.MustCompile(`(?m)^\$AadcBundleId = '([0-9a-f]{16})'\r?$`)
	probeLineRE = regexp.MustCompile(`(?m)^Invoke-AadcProbe '([a-z0-9_]+)' \{\r?$`)
)

func probesInBundleRE(script string) (id string, names []string, ok bool) {
	ids := idLineRE.FindAllStringSubmatch(script, -1)
	for _, m := range probeLineRE.FindAllStringSubmatch(script, -1) {
		names = append(names, m[1])
	}
	if len(ids) != 1 || len(names) == 0 {
		return "", nil, false
	}
	return ids[0][1], names, true
}

// FuzzProbesInBundle: the line scanner finds exactly what the regular
// expressions find, on any text.
func FuzzProbesInBundle(f *testing.F) {
	// The bundle's lines that mention Aadc: its shape without 40 KB of
	// probe code, which would slow the fuzzer's reference down.
	var short []string
	for _, l := range strings.Split(Bundle(), "\n") {
		if strings.Contains(l, "Aadc") {
			short = append(short, l)
		}
	}
	f.Add(strings.Join(short, "\n"))
	f.Add(strings.Join(short, "\r\n"))
	f.Add("$AadcBundleId = '0123456789abcdef'\r\r\nInvoke-AadcProbe 'os' {\nInvoke-AadcProbe 'o s' {\n Invoke-AadcProbe 'x' {")
	f.Add("x$AadcBundleId = '0123456789abcdef'\nInvoke-AadcProbe '' {\nInvoke-AadcProbe 'A' {\nInvoke-AadcProbe 'a' {")
	f.Fuzz(func(t *testing.T, script string) {
		id, names, err := ProbesInBundle(script)
		wantID, wantNames, ok := probesInBundleRE(script)
		if (err == nil) != ok || id != wantID || !slices.Equal(names, wantNames) {
			t.Fatalf("ProbesInBundle = %q, %q, %v; the expressions find %q, %q, %v", id, names, err, wantID, wantNames, ok)
		}
	})
}

// BenchmarkProbesInBundle is what the simulator pays per probe run to
// learn which probes a bundle brings.
func BenchmarkProbesInBundle(b *testing.B) {
	bundle := BundleWithPadding(0)
	b.SetBytes(int64(len(bundle)))
	for b.Loop() {
		if _, _, err := ProbesInBundle(bundle); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCommandLine(t *testing.T) {
	cl := CommandLine()
	const cmdExeLimit = 8191
	if len(cl) >= cmdExeLimit {
		t.Fatalf("command line is %d characters, cmd.exe allows %d", len(cl), cmdExeLimit-1)
	}
	prefix := "powershell.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand "
	enc, ok := strings.CutPrefix(cl, prefix)
	if !ok {
		t.Fatalf("CommandLine() = %q, want prefix %q", cl, prefix)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw)%2 != 0 {
		t.Fatalf("bad -EncodedCommand payload: %v", err)
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	if got := string(utf16.Decode(u)); got != Bootstrap() {
		t.Fatalf("decoded bootstrap = %q, want %q", got, Bootstrap())
	}
	for _, want := range []string{"$input", "[scriptblock]::Create", "Invoke-Expression", "-eq 'FullLanguage'"} {
		if !strings.Contains(Bootstrap(), want) {
			t.Errorf("bootstrap does not use %s", want)
		}
	}
}

// psRules is the "PS 3.0+ construct check": what the probes must not use,
// because it needs a newer PowerShell than 2.0 or because it writes, repairs
// or reaches the network. Matching is case-insensitive.
var psRules = []struct {
	name string
	re   *regexp.Regexp
}{
	{"ConvertTo-Json/ConvertFrom-Json (3.0)", regexp.MustCompile(`(?i)convert(to|from)-json`)},
	{"CIM cmdlets and types (3.0)", regexp.MustCompile(`(?i)-cim\w*|\[cim\w*\]`)},
	{"[ordered] (3.0)", regexp.MustCompile(`(?i)\[ordered\]`)},
	{"[pscustomobject] (3.0)", regexp.MustCompile(`(?i)\[pscustomobject\]`)},
	{"$PSItem (3.0)", regexp.MustCompile(`(?i)\$psitem\b`)},
	{"-ErrorAction Ignore (3.0)", regexp.MustCompile(`(?i)(-erroraction|-ea)\s*:?\s*['"]?ignore|erroractionpreference\s*=\s*['"]?ignore`)},
	{"Get-ItemPropertyValue (5.0)", regexp.MustCompile(`(?i)get-itempropertyvalue`)},
	{"::new() (5.0)", regexp.MustCompile(`(?i)::new\s*\(`)},
	{"class/enum definitions (5.0)", regexp.MustCompile(`(?im)^\s*(class|enum)\s+\w+`)},
	{"using namespace/module (5.0)", regexp.MustCompile(`(?im)^\s*using\s+(namespace|module)\b`)},
	{"-in/-notin (3.0)", regexp.MustCompile(`(?i)\s-[ci]?(not)?in\b`)},
	{".Where()/.ForEach() methods (4.0)", regexp.MustCompile(`(?i)\.(where|foreach)\s*\(`)},
	{"Where-Object/ForEach-Object without a script block (3.0)", regexp.MustCompile(`(?i)(\bwhere-object|\bforeach-object|\|\s*(\?|%|where|foreach))\s+[^{\s]`)},
	{"Win32_Product (triggers MSI repairs)", regexp.MustCompile(`(?i)win32_product\b`)},
	{"Set-/New-/Remove- cmdlets (writes)", regexp.MustCompile(`(?i)\b(set|new|remove)-[a-z]\w*`)},
	{"other writing cmdlets", regexp.MustCompile(`(?i)\b(add-content|out-file|add-type|clear-\w+|copy-item|move-item|rename-item|export-\w+|start-\w+|stop-\w+|restart-\w+|invoke-wmimethod|invoke-cimmethod)\b`)},
	{"file redirection (writes)", regexp.MustCompile(`>`)},
	{"network access", regexp.MustCompile(`(?i)invoke-webrequest|invoke-restmethod|net\.webclient|start-bitstransfer|system\.net\.`)},
}

// TestScriptConstructs runs psRules over every script, the assembled bundle
// and the bootstrap, skipping whole-line comments (a header may say what the
// probe avoids). It also requires pure ASCII everywhere, since the bundle
// reaches the host on stdin in the console code page.
func TestScriptConstructs(t *testing.T) {
	sources := map[string]string{"Bundle()": Bundle(), "Bootstrap()": Bootstrap()}
	files, _ := filepath.Glob("*.ps1")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources[f] = string(b)
	}
	if len(files) != len(Names())+1 {
		t.Errorf("found %d .ps1 files, want the prelude and %d probes", len(files), len(Names()))
	}
	for name, src := range sources {
		for i, line := range strings.Split(src, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				for _, r := range psRules {
					if m := r.re.FindString(line); m != "" {
						t.Errorf("%s:%d: %s: %q", name, i+1, r.name, m)
					}
				}
			}
			for _, c := range []byte(line) {
				if (c < 0x20 && c != '\t' && c != '\r') || c > 0x7E {
					t.Errorf("%s:%d: byte 0x%02X is not printable ASCII", name, i+1, c)
					break
				}
			}
		}
	}
}

// TestPSRulesCatch keeps the rules honest: each snippet must be caught.
func TestPSRulesCatch(t *testing.T) {
	for _, bad := range []string{
		`$x | ConvertTo-Json`, `Get-CimInstance Win32_OperatingSystem`, `$h = [ordered]@{}`,
		`[PSCustomObject]@{ a = 1 }`, `$PSItem.Name`, `Get-Item x -ErrorAction Ignore`, `-ea:Ignore`,
		`Get-ItemPropertyValue -Path x -Name y`, `[Text.StringBuilder]::new()`, `class Foo {`, `enum Color {`,
		`using namespace System`, `if ($a -in $b) {}`, `$a -NotIn $b`, `$a.Where({ $_ })`,
		`Get-Service | Where-Object Status -eq Running`, `$x | ? Name -like a*`, `$x | % Name`,
		`gwmi Win32_Product`, `Set-ItemProperty x`, `New-Item x`, `Remove-Item x`, `Add-Content x y`,
		`'x' > C:\x.txt`, `Invoke-WebRequest http://x`, `(New-Object Net.WebClient)`,
	} {
		caught := false
		for _, r := range psRules {
			caught = caught || r.re.MatchString(bad)
		}
		if !caught {
			t.Errorf("no rule catches %q", bad)
		}
	}
}

// psgrammarDir is test/psgrammar, where the tree-sitter checker runs.
// Without node or its node_modules the test skips, except in CI.
func psgrammarDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../test/psgrammar")
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(filepath.Join(dir, "node_modules", "tree-sitter-powershell"))
	_, nodeErr := exec.LookPath("node")
	if statErr != nil || nodeErr != nil {
		msg := "the tree-sitter check needs node and `cd test/psgrammar && npm ci`"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// TestGrammar parses the bundle and every script with tree-sitter-powershell
// (test/psgrammar). Without its node_modules it skips, except in CI.
func TestGrammar(t *testing.T) {
	dir := psgrammarDir(t)
	bundleFile := filepath.Join(t.TempDir(), "bundle.ps1")
	if err := os.WriteFile(bundleFile, []byte(BundleWithPadding(100<<10)), 0o644); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.ps1")
	for i, f := range files {
		files[i], _ = filepath.Abs(f)
	}
	for _, args := range [][]string{{"--self-test"}, append([]string{bundleFile}, files...)} {
		cmd := exec.Command("node", append([]string{"check.mjs"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("node check.mjs %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
