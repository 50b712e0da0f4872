package scanner

import (
	"context"
	"strings"
	"testing"

	"aadcready/catalog"
	"aadcready/probes"
)

// TestNoBundleReason: a ConstrainedLanguage host refuses a bundle whose
// prelude sets a property on a non-core type, so no BUNDLE line arrives.
// The host's reason quotes PowerShell's decoded error and names the
// language mode as the likely cause; the same host with today's bundle
// gets its verdict.
func TestNoBundleReason(t *testing.T) {
	inv, _ := startFleet(t, `
users: [{username: 'CONTOSO\svc-scan', password: Scanner-Test-Pw-1}]
hosts:
  - {name: clm, address: 127.0.81.20, language_mode: ConstrainedLanguage}
`)
	opt := options(t)
	if h := Scan(context.Background(), inv, opt).Hosts[0]; h.Verdict != catalog.VerdictOK {
		t.Fatalf("today's bundle: verdict %s (%s)", h.Verdict, h.Reason)
	}
	opt.Bundle = strings.Replace(probes.Bundle(), "$AadcOut['Lines'] = @()", "$AadcOut.Lines = @()", 1)
	h := Scan(context.Background(), inv, opt).Hosts[0]
	if h.Verdict != catalog.VerdictIncomplete {
		t.Errorf("verdict %s, want INCOMPLETE", h.Verdict)
	}
	for _, want := range []string{"no BUNDLE line (exit code 1)", "Property setting is supported only on core types",
		"likely cause: Constrained Language mode"} {
		if !strings.Contains(h.Reason, want) {
			t.Errorf("reason %q lacks %q", h.Reason, want)
		}
	}
}
