package report

import (
	"bytes"
	"html"
	"strings"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/results"
)

// Every report names the tool's version, the catalog and the probe bundle
// that made the run.
func TestEveryReportNamesItsVersions(t *testing.T) {
	score := 100
	run := &results.Run{Schema: results.SchemaVersion, Tool: "aadcready", ToolVersion: "v0.0.0-20261203164629-e38c6f187cac+dirty",
		CatalogVersion: "2026.11.26", BundleID: "ff0846b6101d587f", AsOf: "2026-12-03",
		Started: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC),
		Hosts:   []results.Host{{Name: "aadc01", Verdict: catalog.VerdictOK, Score: &score}}}
	run.Summarize()
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"table", func(b *bytes.Buffer) error { return WriteTable(b, run) }},
		{"CSV", func(b *bytes.Buffer) error { return WriteHostsCSV(b, run) }},
		{"JSON", func(b *bytes.Buffer) error { return run.WriteJSON(b) }},
		{"HTML", func(b *bytes.Buffer) error { return WriteHTML(b, run, HTMLOptions{Now: run.Started}) }},
		{"metrics", func(b *bytes.Buffer) error { return WritePrometheus(b, run) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		text := html.UnescapeString(b.String()) // html/template writes + as &#43;
		for _, want := range []string{run.ToolVersion, run.CatalogVersion, run.BundleID} {
			if !strings.Contains(text, want) {
				t.Errorf("the %s does not name %s", f.name, want)
			}
		}
	}
}
