package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/results"
)

func TestTableShowsSecurityWarningsAndNoControlBytes(t *testing.T) {
	score := 100
	run := &results.Run{AsOf: "2026-11-26", CatalogVersion: "test", Hosts: []results.Host{
		{Name: "aadc01", Verdict: catalog.VerdictOK, Score: &score, Reason: "fine",
			Warnings: []string{"TLS certificate verification is disabled for this host (insecure: true)"}},
		{Name: "evil\x1b[2J", Verdict: catalog.VerdictUnreachable, Reason: "refused\x1b]0;pwned\x07"},
	}}
	run.Summarize()
	var b bytes.Buffer
	if err := WriteTable(&b, run); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "warning: aadc01: TLS certificate verification is disabled") {
		t.Errorf("the insecure host's warning is not under the table:\n%s", out)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control bytes reached the terminal: %q", out)
	}
	if !strings.Contains(out, "2 hosts as of 2026-11-26") {
		t.Errorf("no summary:\n%s", out)
	}
}

// A long reason wraps at spaces instead of being cut, and a ready host's
// warnings are named.
func TestTableWrapsAndNamesWarnings(t *testing.T) {
	score := 97
	due := time.Date(2027, 4, 7, 0, 0, 0, 0, time.UTC)
	long := "no AD Connect: no wizard path, no uninstall entry named Microsoft Azure AD Connect / Microsoft Azure AD Connect " +
		"synchronization services / Microsoft Entra Connect Sync / Microsoft Entra Connect synchronization services, no ADSync service"
	run := &results.Run{AsOf: "2026-12-03", Tool: "aadcready", ToolVersion: "v1.2.3", CatalogVersion: "2026.11.26", BundleID: "ff0846b6101d587f",
		Hosts: []results.Host{
			{Name: "member-01", Verdict: catalog.VerdictNotInstalled, Reason: long, NextStep: "none: no AD Connect on this server"},
			{Name: "aadc-appauth", Verdict: catalog.VerdictOK, Score: &score, NextStep: "before 2027-04-07: upgrade",
				Checks: []catalog.CheckResult{
					{ID: "aadc-app-auth", Title: "AD Connect 2.6.84.0 or later with application-based authentication",
						Severity: catalog.SeverityWarning, Status: catalog.StatusFail, Due: &due},
					{ID: "reboot-pending", Title: "No reboot pending", Severity: catalog.SeverityWarning, Status: catalog.StatusPass},
				}},
		}}
	run.Summarize()
	var b bytes.Buffer
	if err := WriteTable(&b, run); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "…") {
		t.Errorf("a cell was cut:\n%s", out)
	}
	// The WHY column, its lines joined, holds each reason word for word.
	col := -1
	cells := map[string]string{}
	host := ""
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "|")
		if len(f) < 6 {
			continue
		}
		if col < 0 {
			for i, c := range f {
				if strings.TrimSpace(c) == "WHY" {
					col = i
				}
			}
			continue
		}
		if name := strings.TrimSpace(f[1]); name != "" {
			host = name
		}
		cells[host] = strings.TrimSpace(cells[host] + " " + strings.TrimSpace(f[col]))
	}
	for name, want := range map[string]string{
		"member-01":    long,
		"aadc-appauth": "nothing blocks; warnings, not met: AD Connect 2.6.84.0 or later with application-based authentication (due 2027-04-07)",
	} {
		if cells[name] != want {
			t.Errorf("%s: WHY reads %q, want %q\n%s", name, cells[name], want, out)
		}
	}
	for _, want := range []string{"NEXT STEP", "none: no AD Connect on this server", "SCORE 0-100:",
		"aadcready v1.2.3, catalog 2026.11.26, probe bundle ff0846b6101d587f"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
}
