package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/diff"
	"aadcready/results"
)

// diffRun is a run on day d of November 2026 with the given hosts.
func diffRun(d int, hosts ...results.Host) *results.Run {
	r := &results.Run{Schema: results.SchemaVersion, Started: time.Date(2026, 11, d, 2, 0, 0, 0, time.UTC),
		AsOf: time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), CatalogVersion: "2026.11.26", Hosts: hosts}
	r.Summarize()
	return r
}

// scored is a host judged v with one check id in status st.
func scored(name string, v catalog.Verdict, id string, st catalog.Status) results.Host {
	return results.Host{Name: name, Verdict: v, Checks: []catalog.CheckResult{
		{ID: id, Title: "title of " + id, Status: st, Severity: catalog.SeverityBlocker, Reason: "reason " + id}}}
}

func TestWriteDiff(t *testing.T) {
	a := diffRun(25,
		scored("aadc01", catalog.VerdictOK, "tls12-dotnet", catalog.StatusPass),
		scored("aadc03", catalog.VerdictOK, "x", catalog.StatusPass),
		scored("gone01", catalog.VerdictMigrate, "x", catalog.StatusFail),
	)
	hostile := scored("aadc01", catalog.VerdictFixThenUpgrade, "tls12-dotnet", catalog.StatusFail)
	hostile.Checks[0].Reason = "=HYPERLINK(\"http://x\") \x1b[2J\u202e"
	down := results.Host{Name: "aadc03", Verdict: catalog.VerdictUnreachable, Reason: "connection refused",
		Failure: &results.Failure{Class: "connect", Message: "connection refused"}}
	b := diffRun(26, hostile, down, scored("new01", catalog.VerdictOK, "x", catalog.StatusPass))
	res := diff.Compare(a, b)
	res.From.Label, res.To.Label = "20261125T020000Z", "20261126T020000Z"

	var tbl bytes.Buffer
	if err := WriteDiffTable(&tbl, res); err != nil {
		t.Fatal(err)
	}
	out := tbl.String()
	for _, want := range []string{
		"changes from 20261125T020000Z (as of 2026-11-25) to 20261126T020000Z (as of 2026-11-26)",
		"verdict regressed", "FIX_THEN_UPGRADE", "check newly failing", "tls12-dotnet",
		"became unreachable", "connection refused", "added to the inventory", "gone from the inventory",
		"1 regressed, 0 improved, 1 changed to or from could-not-check; checks: 1 newly failing, 0 now blocking, 0 newly passing; hosts: 1 added, 1 gone, 1 became unreachable",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Errorf("host text reached the terminal unescaped:\n%q", out)
	}
	// Rows follow B's host order; gone hosts last.
	if i, j, k := strings.Index(out, "aadc01"), strings.Index(out, "aadc03"), strings.Index(out, "gone01"); !(i < j && j < k) {
		t.Errorf("row order wrong:\n%s", out)
	}

	var c bytes.Buffer
	if err := WriteDiffCSV(&c, res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.String(), "\uFEFFhost,change,") || !strings.Contains(c.String(), "\r\n") {
		t.Errorf("CSV lacks the BOM or CRLF: %q", c.String())
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(c.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 { // header, verdict, check, unreachable, added, gone
		t.Fatalf("CSV has %d records: %q", len(recs), recs)
	}
	if got := recs[2][5]; !strings.HasPrefix(got, "'=HYPERLINK") {
		t.Errorf("formula not neutralised: %q", got)
	}

	var empty bytes.Buffer
	if err := WriteDiffTable(&empty, diff.Compare(a, a)); err != nil || !strings.Contains(empty.String(), "no changes") {
		t.Errorf("empty diff: %q, %v", empty.String(), err)
	}
}
