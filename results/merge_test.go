package results

import (
	"reflect"
	"testing"
	"time"

	"aadcready/catalog"
)

func TestMerge(t *testing.T) {
	cancelled := &Failure{Class: "cancelled", Message: "interrupted"}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 2, 0, 0, 0, time.UTC) }
	base := &Run{AsOf: "2026-11-25", Finished: day(25), CredentialsDisabled: []string{`CORP\a`}, Hosts: []Host{
		{Name: "aadc-a", Verdict: catalog.VerdictOK},
		{Name: "aadc-down", Verdict: catalog.VerdictUnreachable},
		{Name: "aadc-kept", Verdict: catalog.VerdictUpgrade},
	}}
	rescan := &Run{AsOf: "2026-11-26", Finished: day(26), CredentialsDisabled: []string{`CORP\a`, `CORP\b`}, Hosts: []Host{
		{Name: "AADC-DOWN", Verdict: catalog.VerdictOK},
		{Name: "aadc-kept", Verdict: catalog.VerdictIncomplete, Failure: cancelled},
		{Name: "aadc-new", Verdict: catalog.VerdictMigrate},
	}}
	got, added := Merge(base, rescan)

	var verdicts []catalog.Verdict
	for _, h := range got.Hosts {
		verdicts = append(verdicts, h.Verdict)
	}
	want := []catalog.Verdict{catalog.VerdictOK, catalog.VerdictOK, catalog.VerdictUpgrade, catalog.VerdictMigrate}
	if !reflect.DeepEqual(verdicts, want) || got.Hosts[1].Name != "AADC-DOWN" {
		t.Errorf("merged hosts %+v, want verdicts %v", got.Hosts, want)
	}
	if !reflect.DeepEqual(added, []string{"aadc-new"}) {
		t.Errorf("added %v", added)
	}
	if got.AsOf != "2026-11-26" || !got.Finished.Equal(day(26)) || got.Interrupted || got.Summary.Total != 4 {
		t.Errorf("merged run: as of %s, finished %v, interrupted %v, summary %+v", got.AsOf, got.Finished, got.Interrupted, got.Summary)
	}
	if !reflect.DeepEqual(got.CredentialsDisabled, []string{`CORP\a`, `CORP\b`}) {
		t.Errorf("credentials %v", got.CredentialsDisabled)
	}
	if len(base.Hosts) != 3 || base.Hosts[1].Verdict != catalog.VerdictUnreachable {
		t.Error("Merge changed base")
	}

	// A host cancelled in both stays cancelled, and the run interrupted.
	base.Hosts[2].Failure = cancelled
	if got, _ := Merge(base, rescan); !got.Interrupted {
		t.Error("a cancelled host left, yet not interrupted")
	}
}
