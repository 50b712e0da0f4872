package probes

import (
	"bytes"
	"crypto/rand"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"aadcready/facts"
)

// fixtureID is the bundle id the hand-written outputs in testdata/ carry.
const fixtureID = "0123456789abcdef"

func ok(v any) facts.Fact        { return facts.Fact{Status: facts.StatusOK, Value: v} }
func absent() facts.Fact         { return facts.Fact{Status: facts.StatusAbsent} }
func failed(r string) facts.Fact { return facts.Fact{Status: facts.StatusError, Reason: r} }

// parseCase is what one output must parse to. probes maps a probe to
// "status" or "status: text the reason contains"; probes not listed must
// have status rest. facts must match exactly, and no other fact may be set
// unless some is true.
type parseCase struct {
	name   string
	out    string // file in testdata/, or the output itself when inline
	inline bool
	probes map[string]string
	rest   string
	facts  map[string]facts.Fact
	some   bool
	noise  int
	// problems are texts that must each appear in some Diagnostics problem.
	problems []string
}

var fixtureCases = []parseCase{
	{
		name: "normal host", out: "normal-host.txt", rest: facts.ProbeOK, some: true,
		facts: map[string]facts.Fact{
			"os.build":                           ok(int64(17763)),
			"domain.part_of_domain":              ok(true),
			"ps.execution_policy_gpo":            absent(),
			"tls.schannel12_client.enabled":      ok(int64(4294967295)),
			"hw.memory_bytes":                    ok(int64(17179332608)),
			"reboot.reasons":                     ok([]string{}),
			"adsync.service_account":             ok(`NT SERVICE\ADSync`),
			"adsync.install_location":            ok(`C:\Program Files\Microsoft Azure AD Sync\`),
			"localdb.installed_versions":         ok([]string{"15.0"}),
			"adsync.connector_identity_type":     failed("The term 'Get-ADSyncEntraConnectorCredential' is not recognized as the name of a cmdlet, function, script file, or operable program."),
			"aadc.uninstall_entries":             ok([]string{"Microsoft Azure AD Connect|2.4.131.0", "Microsoft Azure AD Connect synchronization services|2.4.131.0", "Microsoft Azure AD Connect Health agent for sync|4.5.2520.0"}),
			"tls.schannel12_server.enabled":      absent(),
			"tls.net4_wow.sch_use_strong_crypto": ok(int64(1)),
		},
	},
	{
		name: "a probe that fails keeps the facts it reported", out: "probe-fail.txt", rest: facts.ProbeMissing,
		probes: map[string]string{
			"os":     facts.ProbeOK,
			"adsync": "failed: Exception of type 'System.OutOfMemoryException' was thrown.\r\nAt line:12 char:5",
		},
		facts: map[string]facts.Fact{"os.build": ok(int64(14393)), "adsync.staging_mode": ok(true)},
	},
	{
		name: "truncated output", out: "truncated.txt", rest: "missing: output ended before the probe",
		probes: map[string]string{
			"os":         facts.ProbeOK,
			"powershell": "malformed: output ended inside the probe",
		},
		facts:    map[string]facts.Fact{"os.build": ok(int64(17763)), "os.ubr": ok(int64(6893))},
		problems: []string{"no DONE record"},
	},
	{
		name: "garbage", out: "garbage.txt", rest: "malformed: output is not from this bundle",
		noise: 5, problems: []string{`starts with "F os.build 17763"`},
	},
	{
		name: "wrong bundle id", out: "wrong-bundle.txt", rest: "malformed: output is not from this bundle",
		problems: []string{`"fedcba9876543210", not ` + fixtureID},
	},
	{
		name: "escapes", out: "escapes.txt", rest: facts.ProbeMissing,
		probes: map[string]string{"os": facts.ProbeOK, "reboot": facts.ProbeOK},
		facts: map[string]facts.Fact{
			"os.caption":           ok("Microsoft Windows Server 2019 Standard\tEdition \u00e9valuation\r\n"),
			"host.name":            ok("SRV-\u00e9t\u00e9"),
			"domain.name":          ok("corp\U0001F600.example"),
			"os.edition_id":        ok("lone\uFFFDx and \uFFFD and end\uFFFD"),
			"os.installation_type": ok(`C:\Program Files\`),
			"os.build":             failed("Zugriff verweigert: \u00bbHKLM\\SOFTWARE\u00ab"),
			"reboot.reasons":       ok([]string{"\u65e5\u672c", ""}),
			"reboot.pending":       ok(true),
		},
	},
	{
		name: "wrong-kind values make only that fact unknown", out: "wrong-kind.txt", rest: facts.ProbeMissing,
		probes: map[string]string{"os": facts.ProbeOK, "reboot": facts.ProbeOK},
		facts: map[string]facts.Fact{
			"os.build":              failed(`host returned "abc", not an integer`),
			"os.ubr":                ok(int64(6893)),
			"domain.part_of_domain": failed(`host returned "maybe", not a boolean`),
			"domain.role":           failed("host returned a list for a int fact"),
			"reboot.reasons":        failed("host returned a single value for a list fact"),
			"reboot.pending":        ok(false),
		},
	},
	{
		name: "duplicate key", out: "duplicate-key.txt", rest: facts.ProbeMissing,
		probes: map[string]string{
			"dotnet": facts.ProbeOK,
			"tls":    `malformed: fact given twice: "A tls.net4.sch_use_strong_crypto"`,
			"reboot": `malformed: fact given twice: "L0 reboot.reasons"`,
		},
		facts: map[string]facts.Fact{"dotnet.release": ok(int64(528040))},
	},
	{
		name: "key from another probe", out: "foreign-key.txt", rest: facts.ProbeMissing,
		probes: map[string]string{
			"dotnet": `malformed: fact of another probe: "F tls.net4.sch_use_strong_crypto 1"`,
			"tls":    `malformed: unknown fact: "F tls.no_such_fact 1"`,
			"reboot": facts.ProbeOK,
		},
		facts: map[string]facts.Fact{"reboot.pending": ok(false)},
	},
	{
		name: "noise lines", out: "noise.txt", rest: facts.ProbeMissing, noise: 8,
		probes: map[string]string{"dotnet": facts.ProbeOK},
		facts:  map[string]facts.Fact{"dotnet.release": ok(int64(528040))},
	},
}

// inlineCases are edge cases too small for a file of their own.
var inlineCases = []parseCase{
	{name: "empty output", inline: true, rest: "malformed: no BUNDLE record"},
	{name: "protocol version 2", inline: true, out: "##AADC BUNDLE 2 " + fixtureID + "\n", rest: "malformed: protocol version"},
	{name: "missing probes after DONE", inline: true, out: "##AADC BUNDLE 1 " + fixtureID + "\n##AADC DONE\n", rest: "missing: not in the output"},
	{
		name: "bad escape", inline: true, rest: facts.ProbeMissing,
		out:    lines("BEGIN dotnet", `F dotnet.release 1\x41`, "END dotnet", "DONE"),
		probes: map[string]string{"dotnet": "malformed: bad escape"},
	},
	{
		name: "short \\u escape", inline: true, rest: facts.ProbeMissing,
		out:    lines("BEGIN os", `F host.name a\u00E`, "END os", "DONE"),
		probes: map[string]string{"os": "malformed: bad escape"},
	},
	{
		name: "raw non-ASCII byte", inline: true, rest: facts.ProbeMissing,
		out:    lines("BEGIN os", "F host.name caf\xc3\xa9", "END os", "DONE"),
		probes: map[string]string{"os": "malformed: outside printable ASCII"},
	},
	{
		name: "record outside a probe spoils its owner", inline: true, rest: facts.ProbeMissing,
		out:    lines("F dotnet.release 1", "BEGIN dotnet", "F dotnet.release 2", "END dotnet", "DONE"),
		probes: map[string]string{"dotnet": `malformed: record outside a probe: "F dotnet.release 1"`},
	},
	{
		name: "probe framed twice", inline: true, rest: facts.ProbeMissing,
		out:    lines("BEGIN dotnet", "F dotnet.release 1", "END dotnet", "BEGIN dotnet", "END dotnet", "DONE"),
		probes: map[string]string{"dotnet": "malformed: probe framed twice"},
	},
	{
		name: "BEGIN inside a probe", inline: true, rest: facts.ProbeMissing,
		out:    lines("BEGIN os", "F os.build 1", "BEGIN dotnet", "F dotnet.release 1", "END dotnet", "DONE"),
		probes: map[string]string{"os": "malformed: output ended inside the probe", "dotnet": facts.ProbeOK},
		facts:  map[string]facts.Fact{"dotnet.release": ok(int64(1))},
	},
	{
		name: "END of another probe", inline: true, rest: facts.ProbeMissing,
		out:    lines("BEGIN os", "F os.build 1", "END dotnet", "DONE"),
		probes: map[string]string{"os": `malformed: END or FAIL of another probe: "END dotnet"`},
	},
	{
		name: "F without a value", inline: true, rest: facts.ProbeMissing,
		out:    lines("BEGIN os", "F os.build", "END os", "DONE"),
		probes: map[string]string{"os": "malformed: does not parse"},
	},
	{
		name: "empty string value", inline: true, rest: facts.ProbeMissing,
		out:    lines("BEGIN os", "F os.caption ", "END os", "DONE"),
		probes: map[string]string{"os": facts.ProbeOK},
		facts:  map[string]facts.Fact{"os.caption": ok("")},
	},
	{
		name: "unknown probe is ignored", inline: true, rest: facts.ProbeMissing,
		out:      lines("BEGIN registry", "F os.build 1", "END registry", "BEGIN dotnet", "A dotnet.release", "END dotnet", "DONE"),
		probes:   map[string]string{"dotnet": facts.ProbeOK},
		facts:    map[string]facts.Fact{"dotnet.release": absent()},
		problems: []string{`probe is not in this bundle: "BEGIN registry"`},
	},
	{
		name: "unknown record type", inline: true, rest: facts.ProbeMissing,
		out:    lines("BEGIN os", "X os.build 1", "END os", "DONE"),
		probes: map[string]string{"os": `malformed: unknown record type: "X os.build 1"`},
	},
	{
		name: "records after DONE are ignored", inline: true, rest: facts.ProbeMissing,
		out:      lines("DONE", "BEGIN os", "F os.build 1", "END os"),
		problems: []string{"record after DONE"},
	},
}

// lines makes an output of the fixture bundle from records.
func lines(records ...string) string {
	var b strings.Builder
	b.WriteString("##AADC BUNDLE 1 " + fixtureID + "\n")
	for _, r := range records {
		b.WriteString("##AADC " + r + "\n")
	}
	return b.String()
}

func TestParse(t *testing.T) {
	for _, c := range append(fixtureCases, inlineCases...) {
		out := []byte(c.out)
		if !c.inline {
			var err error
			if out, err = os.ReadFile(filepath.Join("testdata", c.out)); err != nil {
				t.Fatal(err)
			}
		}
		// Windows ends lines with CRLF; the parser takes both.
		for _, eol := range []string{"\n", "\r\n"} {
			t.Run(c.name+"/"+strings.ReplaceAll(strings.ReplaceAll(eol, "\r", "CR"), "\n", "LF"), func(t *testing.T) {
				set, diag := Parse(bytes.ReplaceAll(out, []byte("\n"), []byte(eol)), fixtureID)
				checkParse(t, c, set, diag)
			})
		}
	}
}

func checkParse(t *testing.T, c parseCase, set *facts.Set, diag Diagnostics) {
	t.Helper()
	for _, name := range Names() {
		want, ok := c.probes[name]
		if !ok {
			want = c.rest
		}
		status, reason, _ := strings.Cut(want, ": ")
		got := set.Probes[name]
		if got.Status != status || !strings.Contains(got.Reason, reason) {
			t.Errorf("probe %s = %s (%q), want %s with reason containing %q", name, got.Status, got.Reason, status, reason)
		}
	}
	if len(set.Probes) != len(Names()) {
		t.Errorf("%d probe statuses, want %d", len(set.Probes), len(Names()))
	}
	for k, want := range c.facts {
		if got, ok := set.Facts[k]; !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("fact %s = %#v, want %#v", k, got, want)
		}
	}
	if !c.some {
		for k, got := range set.Facts {
			if _, ok := c.facts[k]; !ok {
				t.Errorf("unexpected fact %s = %#v", k, got)
			}
		}
	}
	if diag.NoiseLines != c.noise {
		t.Errorf("NoiseLines = %d, want %d", diag.NoiseLines, c.noise)
	}
	for _, p := range c.problems {
		if !strings.Contains(strings.Join(diag.Problems, "\n"), p) {
			t.Errorf("no problem mentions %q; problems:\n%s", p, strings.Join(diag.Problems, "\n"))
		}
	}
}

// TestParseNormalHostIsComplete: a normal host reports every fact of the
// registry and Parse reports no problem.
func TestParseNormalHostIsComplete(t *testing.T) {
	out, err := os.ReadFile("testdata/normal-host.txt")
	if err != nil {
		t.Fatal(err)
	}
	set, diag := Parse(out, fixtureID)
	if len(diag.Problems) != 0 {
		t.Errorf("problems: %q", diag.Problems)
	}
	for _, d := range facts.Registry {
		if _, ok := set.Facts[d.Key]; !ok {
			t.Errorf("normal-host.txt lacks %s", d.Key)
		}
	}
}

// richSet has every registry fact, with every status and awkward values.
func richSet() *facts.Set {
	set := facts.NewSet()
	strs := []string{"plain", "", `C:\Program Files\Microsoft Azure AD Sync\`, "tab\there\r\nnext", "caf\u00e9 \U0001F600 \u65e5\u672c", " trailing space ", "##AADC END os", "\x00\x7f"}
	for i, d := range facts.Registry {
		var f facts.Fact
		switch i % 5 {
		case 3:
			f = absent()
		case 4:
			f = failed(strs[i%len(strs)] + " (access denied)")
		default:
			switch d.Kind {
			case facts.String:
				f = ok(strs[i%len(strs)])
			case facts.Int:
				f = ok([]int64{0, -1, 4294967295, 9223372036854775807}[i%4])
			case facts.Bool:
				f = ok(i%2 == 0)
			case facts.List:
				f = ok(strs[:i%4])
			}
		}
		set.Facts[d.Key] = f
	}
	return set
}

func TestRenderParseRoundTrip(t *testing.T) {
	set := richSet()
	got, diag := Parse(Render(set, BundleID(), RenderOptions{}), BundleID())
	if len(diag.Problems) != 0 || diag.NoiseLines != 0 {
		t.Errorf("diagnostics: %+v", diag)
	}
	if !reflect.DeepEqual(got.Facts, set.Facts) {
		for k, f := range set.Facts {
			if !reflect.DeepEqual(got.Facts[k], f) {
				t.Errorf("%s: got %#v, want %#v", k, got.Facts[k], f)
			}
		}
	}
	for _, n := range Names() {
		if got.Probes[n].Status != facts.ProbeOK {
			t.Errorf("probe %s: %+v", n, got.Probes[n])
		}
	}
}

func TestRenderOptions(t *testing.T) {
	set := richSet()
	full := Render(set, BundleID(), RenderOptions{})
	cut := bytes.Index(full, []byte("##AADC BEGIN tls\r\n")) + len("##AADC BEGIN tls\r\n")
	got, _ := Parse(Render(set, BundleID(), RenderOptions{
		Fail:     map[string]string{"adsync": "Access is denied.\r\n\u00e9"},
		Omit:     []string{"hardware"},
		Truncate: 0,
	}), BundleID())
	want := map[string]facts.ProbeStatus{}
	for _, n := range Names() {
		want[n] = facts.ProbeStatus{Status: facts.ProbeOK}
	}
	want["adsync"] = facts.ProbeStatus{Status: facts.ProbeFailed, Reason: "Access is denied.\r\n\u00e9"}
	want["hardware"] = facts.ProbeStatus{Status: facts.ProbeMissing, Reason: "not in the output"}
	if !maps.Equal(got.Probes, want) {
		t.Errorf("Fail/Omit: probes = %v, want %v", got.Probes, want)
	}
	for k := range got.Facts {
		if d, _ := facts.Lookup(k); d.Probe == "adsync" || d.Probe == "hardware" {
			t.Errorf("fact %s of a failed or omitted probe", k)
		}
	}

	got, _ = Parse(Render(set, BundleID(), RenderOptions{Truncate: cut + 10}), BundleID())
	if s := got.Probes["tls"]; s.Status != facts.ProbeMalformed || !strings.Contains(s.Reason, "output ended inside the probe") {
		t.Errorf("Truncate: tls = %+v", s)
	}
	if s := got.Probes["dotnet"]; s.Status != facts.ProbeOK {
		t.Errorf("Truncate: dotnet = %+v", s)
	}
	if n := len(Render(set, BundleID(), RenderOptions{Truncate: 7})); n != 7 {
		t.Errorf("Truncate: 7 gave %d bytes", n)
	}
}

func TestRenderWrongKind(t *testing.T) {
	set := facts.NewSet()
	set.Facts["os.build"] = ok("abc")
	got, _ := Parse(Render(set, BundleID(), RenderOptions{}), BundleID())
	if f := got.Facts["os.build"]; f.Status != facts.StatusError || !strings.Contains(f.Reason, "not an integer") {
		t.Errorf("os.build = %#v", f)
	}
	if got := Render(nil, BundleID(), RenderOptions{}); !bytes.HasSuffix(got, []byte("##AADC DONE\r\n")) {
		t.Errorf("Render(nil) = %q", got)
	}
}

// TestParseGarbageBounded: 10 MB of garbage keeps Parse's memory and its
// diagnostics small.
func TestParseGarbageBounded(t *testing.T) {
	const size = 10 << 20
	random := make([]byte, size)
	rand.Read(random)
	header := []byte("##AADC BUNDLE 1 " + fixtureID + "\n")
	repeat := func(head []byte, line string) []byte {
		return append(head, bytes.Repeat([]byte(line), size/len(line))...)
	}
	for name, out := range map[string][]byte{
		"random bytes":            random,
		"one long line":           bytes.Repeat([]byte("x"), size),
		"bad records":             repeat(header, "##AADC X os.build 1\n"),
		"records outside probes":  repeat(header, "##AADC F os.build 1\n"),
		"unknown keys in a probe": repeat(append(header, "##AADC BEGIN os\n"...), "##AADC F os.nope 1\n"),
		"noise":                   repeat(header, "WARNING: something\r\n"),
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		set, diag := Parse(out, fixtureID)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%s: Parse allocated %d bytes", name, alloc)
		}
		if len(diag.Problems) > maxProblems+1 || len(set.Facts) > 0 {
			t.Errorf("%s: %d problems, %d facts", name, len(diag.Problems), len(set.Facts))
		}
	}
}

func BenchmarkParse(b *testing.B) {
	out, err := os.ReadFile("testdata/normal-host.txt")
	if err != nil {
		b.Fatal(err)
	}
	out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(out, fixtureID)
	}
}

func TestNoBundleReason(t *testing.T) {
	for _, c := range []struct {
		stderr string
		want   []string
	}{
		{"Cannot invoke method. Method invocation is supported only on core types in this language mode.\r\nAt line:1 char:60",
			[]string{"(exit code 1)", `stderr: "Cannot invoke method. Method invocation is supported only on core types in this language mode. At line:1 char:60"`, "likely cause: Constrained Language mode"}},
		{"This script contains malicious content and has been blocked by your antivirus software.",
			[]string{"likely cause: AMSI or antivirus"}},
		{"File C:\\x.ps1 cannot be loaded. The file is not digitally signed.",
			[]string{"likely cause: an execution policy"}},
		{"", []string{"stderr is empty", "likely causes: Constrained Language mode", "; or AMSI or antivirus", "; or an execution policy"}},
		{strings.Repeat("x", 5000), []string{`xxx..."`}},
	} {
		got := NoBundleReason(c.stderr, 1)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("NoBundleReason(%.40q) = %q, lacks %q", c.stderr, got, w)
			}
		}
		if len(got) > 1000 {
			t.Errorf("reason is %d bytes", len(got))
		}
	}
	if _, d := Parse(nil, BundleID()); !d.NoBundle {
		t.Error("empty output: NoBundle not set")
	}
	if _, d := Parse([]byte("##AADC BUNDLE 1 "+BundleID()+"\r\n"), BundleID()); d.NoBundle {
		t.Error("a BUNDLE record: NoBundle set")
	}
}
