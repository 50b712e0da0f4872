package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"aadcready/catalog"
	"aadcready/facts"
)

func TestWriteJSONStreamsAValidDocument(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		r := &Run{Schema: SchemaVersion, Tool: "aadcready", AsOf: "2026-11-26"}
		for i := 0; i < n; i++ {
			score := 90 + i
			r.Hosts = append(r.Hosts, Host{Name: fmt.Sprintf("h%d", i), Verdict: catalog.VerdictOK, Score: &score,
				Facts: facts.NewSet(), Tags: map[string]string{"owner": "</script>\u2028"}})
		}
		r.Summarize()
		var b bytes.Buffer
		if err := r.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		var generic map[string]any
		if err := json.Unmarshal(b.Bytes(), &generic); err != nil {
			t.Fatalf("%d hosts: invalid JSON: %v\n%s", n, err, b.String())
		}
		back, err := ReadJSON(&b)
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Hosts) != n || (n > 0 && *back.Hosts[n-1].Score != 90+n-1) || back.Summary.Total != n {
			t.Fatalf("%d hosts: read back %+v", n, back)
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		verdicts []catalog.Verdict
		want     int
	}{
		{[]catalog.Verdict{catalog.VerdictOK}, ExitOK},
		{[]catalog.Verdict{catalog.VerdictOK, catalog.VerdictFix}, ExitNeedsAction}, // FIX needs action
		{[]catalog.Verdict{catalog.VerdictUpgrade, catalog.VerdictFixThenUpgrade, catalog.VerdictMigrate}, ExitNeedsAction},
		{[]catalog.Verdict{catalog.VerdictFix, catalog.VerdictIncomplete}, ExitNotChecked},
	}
	for _, tt := range tests {
		r := &Run{}
		for _, v := range tt.verdicts {
			r.Hosts = append(r.Hosts, Host{Verdict: v})
		}
		if got := r.ExitCode(); got != tt.want {
			t.Errorf("%v: exit %d, want %d", tt.verdicts, got, tt.want)
		}
	}
}

// SetEvaluation copies every field a report shows, the new ones included.
func TestSetEvaluation(t *testing.T) {
	score := 78
	ev := catalog.Evaluation{Verdict: catalog.VerdictFix, Score: &score, ScorePartial: true, Blocking: []string{"tls12-schannel"},
		Reason: "r", NextStep: "n", Stopped: "s",
		NextDeadline: &catalog.Deadline{Date: "2027-04-07", DaysLeft: 125, Action: catalog.ActionFix, Check: "aadc-app-auth"}}
	var h Host
	h.SetEvaluation(ev)
	if h.Verdict != ev.Verdict || h.Score != ev.Score || !h.ScorePartial || h.Reason != "r" || h.NextStep != "n" ||
		h.StoppedSyncing != "s" || h.NextDeadline != ev.NextDeadline || len(h.Blocking) != 1 {
		t.Errorf("SetEvaluation: %+v", h)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"next_deadline":{"date":"2027-04-07","days_left":125,"action":"fix","check":"aadc-app-auth"}`, `"score_partial":true`, `"stopped_syncing":"s"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}
