package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/results"
)

// deadlineRun has an OK host with the 2027-04-07 deadline ahead, a FIX host,
// and a host that has stopped syncing with a partial score.
var (
	due0407 = time.Date(2027, 4, 7, 0, 0, 0, 0, time.UTC)
	left125 = 125
)

func deadlineRun() *results.Run {
	score := func(n int) *int { return &n }
	run := &results.Run{Schema: results.SchemaVersion, AsOf: "2026-12-03", CatalogVersion: "2026.12.03", Hosts: []results.Host{
		{Name: "aadc-legacy", Verdict: catalog.VerdictOK, Score: score(99), Reason: "no blocker fails as of 2026-12-03; 1 warning(s)",
			NextDeadline: &catalog.Deadline{Date: "2027-04-07", DaysLeft: 125, Action: catalog.ActionFix, Check: "aadc-app-auth"},
			Checks: []catalog.CheckResult{{ID: "aadc-app-auth", Title: "AD Connect 2.6.84.0 or later with application-based authentication",
				Severity: catalog.SeverityWarning, Status: catalog.StatusFail, Due: &due0407, DaysLeft: &left125}}},
		{Name: "aadc-tls-off", Verdict: catalog.VerdictFix, Score: score(78), Blocking: []string{"tls12-schannel"},
			NextStep: "change on this server (no upgrade needed): turn TLS 1.2 back on in SCHANNEL (tls12-schannel)"},
		{Name: "aadc-stale", Verdict: catalog.VerdictUpgrade, Score: score(41), ScorePartial: true, Blocking: []string{"aadc-build-support"},
			NextStep: "upgrade AD Connect in place to the newest build: retired build (aadc-build-support)", StoppedSyncing: "last successful export to Entra ID 9 days ago"},
	}}
	run.Summarize()
	return run
}

func TestTableShowsNextDeadlineAndStoppedSync(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, deadlineRun()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// Cells wrap at spaces: look for pieces without one.
	for _, want := range []string{"NEXT DEADLINE", "2027-04-07", "(125", "(aadc-app-auth)", "FIX 1", "~41", "STOPPED", "days)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestHostsCSVHasDeadlineColumns(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHostsCSV(&b, deadlineRun()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), utf8BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("no column %s in %v", name, rows[0])
		}
		return i
	}
	legacy, stale := rows[1], rows[3]
	if legacy[col("next_deadline")] != "2027-04-07" || legacy[col("days_left")] != "125" ||
		legacy[col("deadline_action")] != "fix" || legacy[col("deadline_check")] != "aadc-app-auth" {
		t.Errorf("deadline columns of an OK host: %v", legacy)
	}
	if stale[col("score_partial")] != "true" || !strings.Contains(stale[col("stopped_syncing")], "9 days ago") || stale[col("next_deadline")] != "" {
		t.Errorf("stale host row: %v", stale)
	}
}

func TestHTMLHasFixTileAndDeadlineLine(t *testing.T) {
	page := render(t, deadlineRun(), HTMLOptions{Now: testAsOf})
	for _, want := range []string{
		`data-verdict="FIX"`, "Change the server&#39;s configuration; no upgrade",
		"<strong>Next deadline:</strong> 2027-04-07 (125 days): fix (aadc-app-auth)",
		"<strong>Has stopped syncing:</strong> last successful export to Entra ID 9 days ago",
		"score ~41",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
