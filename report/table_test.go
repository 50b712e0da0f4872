package report

import (
	"bytes"
	"strings"
	"testing"

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
