package simulator

import (
	"maps"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/facts"
)

// What each profile is built to show, judged by the embedded catalog today
// (2026-12-03) and after the application-identity deadline (2027-04-08).
// The profiles' docs promise these verdicts; a catalog change that moves
// one must update the profile's doc and this table together.
func TestProfileVerdicts(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	today, later := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), time.Date(2027, 4, 8, 0, 0, 0, 0, time.UTC)
	want := map[string][2]catalog.Verdict{
		"ws2019-v2-current":          {catalog.VerdictOK, catalog.VerdictOK},
		"ws2016-v2-current":          {catalog.VerdictOK, catalog.VerdictMigrate},
		"ws2016-v2-old":              {catalog.VerdictUpgrade, catalog.VerdictMigrate},
		"ws2022-v2-needs-appauth":    {catalog.VerdictOK, catalog.VerdictUpgrade},
		"ws2025-v2-current":          {catalog.VerdictOK, catalog.VerdictOK},
		"ws2019-tls-missing":         {catalog.VerdictFixThenUpgrade, catalog.VerdictFixThenUpgrade},
		"ws2019-no-aadc":             {catalog.VerdictNotInstalled, catalog.VerdictNotInstalled},
		"ws2019-dc":                  {catalog.VerdictOK, catalog.VerdictOK},
		"ws2019-staging":             {catalog.VerdictOK, catalog.VerdictOK},
		"ws2019-localdb-full":        {catalog.VerdictOK, catalog.VerdictOK},
		"ws2019-reboot-pending":      {catalog.VerdictOK, catalog.VerdictOK},
		"server-core":                {catalog.VerdictMigrate, catalog.VerdictMigrate},
		"ws2012r2-v1":                {catalog.VerdictMigrate, catalog.VerdictMigrate},
		"ws2019-retired-2-5-79":      {catalog.VerdictUpgrade, catalog.VerdictUpgrade},
		"ws2019-recalled-2-6-79":     {catalog.VerdictUpgrade, catalog.VerdictUpgrade},
		"ws2019-os-default-tls":      {catalog.VerdictOK, catalog.VerdictOK},
		"ws2019-tls12-disabled":      {catalog.VerdictFix, catalog.VerdictFix},
		"ws2022-legacy-identity":     {catalog.VerdictOK, catalog.VerdictFix},
		"ws2019-scheduler-suspended": {catalog.VerdictFix, catalog.VerdictFix},
		"ws2019-sync-stale":          {catalog.VerdictOK, catalog.VerdictOK},
	}
	for _, name := range ProfileNames() {
		w, ok := want[name]
		if !ok {
			t.Errorf("profile %s has no expected verdict here", name)
			continue
		}
		set := facts.NewSet()
		maps.Copy(set.Facts, profiles[name].facts)
		for i, d := range []time.Time{today, later} {
			if ev := cat.Evaluate(set, catalog.Options{AsOf: d}); ev.Verdict != w[i] {
				t.Errorf("%s as of %s: %s (%v: %s), want %s", name, d.Format(time.DateOnly), ev.Verdict, ev.Blocking, ev.Reason, w[i])
			}
		}
	}
	// The stale profile has stopped syncing, and the legacy-identity one
	// shows the deadline the change board must see.
	stale := facts.NewSet()
	maps.Copy(stale.Facts, profiles["ws2019-sync-stale"].facts)
	if ev := cat.Evaluate(stale, catalog.Options{AsOf: today}); ev.Stopped == "" {
		t.Errorf("ws2019-sync-stale: not reported as stopped: %s", ev.Reason)
	}
	legacy := facts.NewSet()
	maps.Copy(legacy.Facts, profiles["ws2022-legacy-identity"].facts)
	if d := cat.Evaluate(legacy, catalog.Options{AsOf: today}).NextDeadline; d == nil || d.Date != "2027-04-07" || d.Action != catalog.ActionFix || d.DaysLeft != 125 {
		t.Errorf("ws2022-legacy-identity: next deadline %+v", d)
	}
}
