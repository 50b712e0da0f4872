package simulator

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/facts"
	"aadcready/probes"
	"aadcready/wsman"
)

// oldBootstrap is the bootstrap before ConstrainedLanguage support: its
// [scriptblock]::Create is a method call on a type CLM does not allow.
const oldBootstrap = "$s = @($input) -join \"`n\"; & ([scriptblock]::Create($s))"

// constrainedVerdict scans a ConstrainedLanguage host (the profile
// ws2019-v2-current, Connect ready) with a command line and the bundle on
// stdin. It returns an error unless the host gets the verdict of the same
// profile in FullLanguage and every fact it reports there: none of the
// bundle's facts needs a call ConstrainedLanguage refuses.
func constrainedVerdict(t *testing.T, commandLine string) error {
	t.Helper()
	s := startHosts(t, Host{Name: "clm", LanguageMode: "ConstrainedLanguage"}, Host{Name: "full"})
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	full := client(t, s, "full", false).run(probes.CommandLine(), []byte(probes.Bundle()))
	want, _ := probes.Parse(full.stdout, probes.BundleID())
	wantEv := cat.Evaluate(want, catalog.Options{AsOf: asOf})

	r := client(t, s, "clm", false).run(commandLine, []byte(probes.Bundle()))
	got, diag := probes.Parse(r.stdout, probes.BundleID())
	var errs []error
	if r.code != 0 {
		errs = append(errs, fmt.Errorf("exit code %d, stderr %q", r.code, wsman.DecodeCLIXML(r.stderr)))
	}
	if len(diag.Problems) > 0 {
		errs = append(errs, fmt.Errorf("output problems: %v", diag.Problems))
	}
	if ev := cat.Evaluate(got, catalog.Options{AsOf: asOf}); ev.Verdict != wantEv.Verdict {
		errs = append(errs, fmt.Errorf("verdict %s (%s), want %s", ev.Verdict, ev.Reason, wantEv.Verdict))
	}
	for _, d := range facts.Registry {
		g, w := got.Get(d.Key), want.Get(d.Key)
		switch d.Key {
		case "host.name": // the two hosts' names
			continue
		case "ps.language_mode":
			if v, _ := g.Str(); v != "ConstrainedLanguage" {
				errs = append(errs, fmt.Errorf("ps.language_mode = %s", g.Display()))
			}
			continue
		}
		if g.Display() != w.Display() {
			errs = append(errs, fmt.Errorf("%s = %s, in FullLanguage %s", d.Key, g.Display(), w.Display()))
		}
	}
	return errors.Join(errs...)
}

// TestConstrainedLanguageVerdict: a host in ConstrainedLanguage mode gets a
// verdict and every fact with today's bootstrap; with the old bootstrap the
// same check fails, and PowerShell's refusal is on stderr.
func TestConstrainedLanguageVerdict(t *testing.T) {
	if err := constrainedVerdict(t, probes.CommandLine()); err != nil {
		t.Errorf("today's bootstrap:\n%v", err)
	}
	err := constrainedVerdict(t, probes.CommandLineFor(oldBootstrap))
	if err == nil {
		t.Fatal("the old bootstrap passes on a ConstrainedLanguage host")
	}
	if !strings.Contains(err.Error(), "MethodInvocationNotSupportedInConstrainedLanguage") {
		t.Errorf("old bootstrap: no CLM error record in:\n%v", err)
	}
}

// TestConstrainedLanguageRefusals: what the simulated host does with
// scripts that break the rules — the bootstrap refused with nothing on
// stdout; a probe that calls a blocked method fails alone (its catch in
// Invoke-AadcProbe), the other probes report.
func TestConstrainedLanguageRefusals(t *testing.T) {
	s := startHosts(t, Host{Name: "clm", LanguageMode: "ConstrainedLanguage"})
	c := client(t, s, "clm", false)

	r := c.run(probes.CommandLineFor(oldBootstrap), []byte(probes.Bundle()))
	stderr := wsman.DecodeCLIXML(r.stderr)
	if r.code != 1 || len(r.stdout) != 0 || !strings.Contains(stderr, "Method invocation is supported only on core types") ||
		!strings.Contains(stderr, "At line:1 char:") {
		t.Errorf("old bootstrap: code %d, stdout %q, stderr %q", r.code, r.stdout, stderr)
	}

	// A probe body with a planted [Console]::Out.Write: that probe FAILs.
	bundle := strings.Replace(probes.Bundle(), "\nInvoke-AadcProbe 'dotnet' {\n", "\nInvoke-AadcProbe 'dotnet' {\n[Console]::Out.Write('x')\n", 1)
	r = c.run(probes.CommandLine(), []byte(bundle))
	set, _ := probes.Parse(r.stdout, probes.BundleID())
	if st := set.Probes["dotnet"]; st.Status != facts.ProbeFailed || !strings.Contains(st.Reason, "core types") {
		t.Errorf("dotnet probe: %+v", st)
	}
	if st := set.Probes["os"]; st.Status != facts.ProbeOK {
		t.Errorf("os probe: %+v", st)
	}

	// In the prelude: the whole bundle is refused.
	bundle = strings.Replace(probes.Bundle(), "$AadcOut['Lines'] = @()", "$AadcOut.Lines = @()", 1)
	r = c.run(probes.CommandLine(), []byte(bundle))
	if r.code != 1 || len(r.stdout) != 0 || !strings.Contains(wsman.DecodeCLIXML(r.stderr), "PropertySetterNotSupportedInConstrainedLanguage") {
		t.Errorf("prelude violation: code %d, stdout %d bytes, stderr %q", r.code, len(r.stdout), wsman.DecodeCLIXML(r.stderr))
	}

	// FullLanguage runs the old bootstrap.
	s2 := startHosts(t, Host{Name: "full"})
	r = client(t, s2, "full", false).run(probes.CommandLineFor(oldBootstrap), []byte(probes.Bundle()))
	if set, _ := probes.Parse(r.stdout, probes.BundleID()); set.Probes["os"].Status != facts.ProbeOK {
		t.Errorf("FullLanguage, old bootstrap: %+v", set.Probes)
	}
}

// TestHardenedHostVerdict: the demo's hardened host (ConstrainedLanguage,
// AllSigned, transcription and script block logging, the ADSync service
// hidden from WMI, a corrupt Uninstall entry) gets its full verdict: READY,
// with the execution-policy and transcription warnings, every fact but the
// hidden service's state known.
func TestHardenedHostVerdict(t *testing.T) {
	h := Hardened("hardened", "")
	s := startHosts(t, h)
	r := client(t, s, "hardened", false).run(probes.CommandLine(), []byte(probes.Bundle()))
	set, diag := probes.Parse(r.stdout, probes.BundleID())
	if r.code != 0 || len(diag.Problems) > 0 {
		t.Fatalf("exit %d, problems %v, stderr %q", r.code, diag.Problems, wsman.DecodeCLIXML(r.stderr))
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	ev := cat.Evaluate(set, catalog.Options{AsOf: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)})
	if ev.Verdict != catalog.VerdictOK {
		t.Errorf("verdict %s (%s)", ev.Verdict, ev.Reason)
	}
	warned := map[string]bool{}
	for _, c := range ev.Checks {
		if c.Status == catalog.StatusFail {
			warned[c.ID] = true
		}
		if c.Status == catalog.StatusCouldNotCheck {
			t.Errorf("%s could not be checked: %s", c.ID, c.Reason)
		}
	}
	for _, id := range []string{"ps-execution-policy", "ps-transcription"} {
		if !warned[id] {
			t.Errorf("%s does not warn", id)
		}
	}
	for _, d := range facts.Registry {
		if f := set.Get(d.Key); f.Status == facts.StatusError && d.Key != "adsync.service_state" {
			t.Errorf("%s unknown: %s", d.Key, f.Reason)
		}
	}
	if v, _ := set.Get("ps.language_mode").Str(); v != "ConstrainedLanguage" {
		t.Errorf("language mode %q", v)
	}
}

func TestViaWriteOutput(t *testing.T) {
	in := "##AADC BUNDLE 1 x\r\n##AADC BEGIN os\r\n##AADC END os\r\n##AADC BEGIN tls\r\n##AADC END tls\r\n##AADC DONE\r\n"
	want := "##AADC BUNDLE 1 x\r\n##AADC BEGIN os\r\n##AADC END os\r\n\r\n##AADC BEGIN tls\r\n##AADC END tls\r\n\r\n##AADC DONE\r\n\r\n"
	if got := string(viaWriteOutput([]byte(in))); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
