package catalog

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The rules of the review of 2026-12-03 (issue 9), each with a host that
// passes, one that fails with the right action and verdict, and one where
// the deciding fact is unknown.
var dec03 = date("2026-12-03")

func TestReviewRules(t *testing.T) {
	c := loadCatalog(t)
	app := hostFacts{"adsync.connector_identity_type": "Application"}
	sa := hostFacts{"adsync.connector_identity_type": "ServiceAccount"}
	tlsMissing := hostFacts{
		"tls.net4.system_default_tls_versions": absent, "tls.net4.sch_use_strong_crypto": absent,
		"tls.net4_wow.system_default_tls_versions": absent, "tls.net4_wow.sch_use_strong_crypto": absent,
	}
	denied := unknown("Access is denied")
	tests := []struct {
		name    string
		host    hostFacts
		asOf    time.Time
		check   string
		status  Status
		sev     Severity // effective severity; "" skips
		action  string   // effective action; "" skips
		verdict Verdict
		words   string // substring of NextStep
	}{
		// Build support: retired and recalled builds need an upgrade as of the as-of day.
		{"current build is supported", ws2019, dec03, "aadc-build-support", StatusPass, "", "", VerdictOK, "none"},
		{"retired 2.5.79.0", ws2019.with(onBuild("2.5.79.0")), dec03, "aadc-build-support", StatusFail, SeverityBlocker, ActionUpgrade, VerdictUpgrade,
			"upgrade AD Connect in place to the newest build: the build is retired, recalled or near its end of support"},
		{"2.5.79.0 was still supported on 2026-10-22", ws2019.with(onBuild("2.5.79.0")), date("2026-10-22"), "aadc-build-support", StatusFail, SeverityWarning, ActionUpgrade, VerdictOK,
			"before 2026-10-23 (1 days)"},
		{"recalled 2.6.79.0", ws2019.with(onBuild("2.6.79.0")), dec03, "aadc-build-support", StatusFail, SeverityBlocker, ActionUpgrade, VerdictUpgrade, "upgrade AD Connect in place"},
		{"support ends within 90 days: a warning naming the date", ws2019.with(onBuild("2.5.190.0")), dec03, "aadc-build-support", StatusFail, SeverityWarning, ActionUpgrade, VerdictOK,
			"before 2027-02-02 (61 days)"},
		{"build unknown", ws2019.with(hostFacts{"aadc.wizard_version": denied, "aadc.uninstall_entries": []string{}}), dec03, "aadc-build-support", StatusCouldNotCheck, SeverityBlocker, ActionUpgrade, VerdictIncomplete, "rescan"},

		// TLS 1.2 explicitly off blocks on every build; absent is the OS default.
		{"SCHANNEL absent is the OS default", ws2019, dec03, "tls12-schannel", StatusPass, "", "", VerdictOK, "none"},
		{"client TLS 1.2 off on a current build: FIX", ws2019.with(hostFacts{"tls.schannel12_client.enabled": 0}), dec03, "tls12-schannel", StatusFail, SeverityBlocker, ActionFix, VerdictFix,
			"change on this server (no upgrade needed): turn TLS 1.2 back on in SCHANNEL"},
		{"server DisabledByDefault 1 on a current build: FIX", ws2019.with(hostFacts{"tls.schannel12_server.disabled_by_default": 1}), dec03, "tls12-schannel", StatusFail, SeverityBlocker, ActionFix, VerdictFix, "turn TLS 1.2 back on"},
		{"TLS 1.2 off on a retired build: FIX_THEN_UPGRADE", ws2019.with(onBuild("2.5.79.0")).with(hostFacts{"tls.schannel12_client.disabled_by_default": 1}), dec03, "tls12-schannel", StatusFail, SeverityBlocker, ActionFix, VerdictFixThenUpgrade,
			"fix on this server: turn TLS 1.2 back on in SCHANNEL"},
		{"absent on 2012 (build 9200) is not the OS default", ws2019.with(hostFacts{"os.build": 9200}), dec03, "tls12-schannel", StatusFail, SeverityBlocker, ActionFix, VerdictMigrate, "swing-migrate"},
		{"SCHANNEL unreadable", ws2019.with(hostFacts{"tls.schannel12_client.enabled": denied}), dec03, "tls12-schannel", StatusCouldNotCheck, SeverityBlocker, ActionFix, VerdictIncomplete, "rescan"},

		// .NET strong crypto: a blocker only on 2.3.20.0-2.4.129.0, a warning elsewhere.
		{".NET values set on 2.4.129.0", ws2019.with(onBuild("2.4.129.0")), dec03, "tls12-dotnet", StatusPass, "", "", VerdictUpgrade, "upgrade AD Connect in place"},
		{".NET values missing on 2.4.129.0: fix, then upgrade", ws2019.with(onBuild("2.4.129.0")).with(tlsMissing), dec03, "tls12-dotnet", StatusFail, SeverityBlocker, ActionFix, VerdictFixThenUpgrade,
			"fix on this server: set the four .NET strong-crypto values"},
		{".NET values unreadable on 2.4.129.0", ws2019.with(onBuild("2.4.129.0")).with(hostFacts{"tls.net4.sch_use_strong_crypto": denied}), dec03, "tls12-dotnet", StatusCouldNotCheck, SeverityBlocker, ActionFix, VerdictIncomplete, "rescan"},
		{".NET values missing on 2.6.92.0: only the auto-upgrade warning", ws2019.with(tlsMissing), dec03, "tls12-dotnet-auto-upgrade", StatusFail, SeverityWarning, ActionNone, VerdictOK,
			"review the warnings: tls12-dotnet-auto-upgrade"},
		{".NET values missing on 2.6.92.0 do not block", ws2019.with(tlsMissing), dec03, "tls12-dotnet", StatusNotApplicable, "", "", VerdictOK, ""},

		// 2027-04-07: below 2.6.84.0 upgrade; ServiceAccount on 2.6.84.0+ fix; unknown identity could not check.
		{"2.6.92.0 with Application identity after the deadline", ws2019, apr08, "aadc-app-auth", StatusPass, "", "", VerdictOK, "none"},
		{"legacy identity on 2.6.84.0 after the deadline: FIX by hand", ws2019.with(onBuild("2.6.84.0")).with(sa), apr08, "aadc-app-auth", StatusFail, SeverityBlocker, ActionFix, VerdictFix,
			"switch to application-based authentication by hand: wizard, Additional tasks > Configure application-based authentication to Microsoft Entra ID"},
		{"legacy identity on 2.6.84.0 today: OK, due 2027-04-07", ws2019.with(onBuild("2.6.84.0")).with(sa), dec03, "aadc-app-auth", StatusFail, SeverityWarning, ActionFix, VerdictOK,
			"before 2027-04-07 (125 days): switch to application-based authentication by hand"},
		{"2.6.3.0 with Application identity after the deadline: UPGRADE", ws2019.with(onBuild("2.6.3.0")).with(app), apr08, "aadc-app-auth", StatusFail, SeverityBlocker, ActionUpgrade, VerdictUpgrade,
			"2.6.84.0 or later is needed, then the switch to application-based authentication"},
		{"2.6.3.0 on ServiceAccount after the deadline: UPGRADE, not fix then upgrade", ws2019.with(onBuild("2.6.3.0")).with(sa), apr08, "aadc-app-auth", StatusFail, SeverityBlocker, ActionUpgrade, VerdictUpgrade, "2.6.84.0 or later is needed"},
		{"identity unreadable on 2.6.92.0 after the deadline", ws2019.with(hostFacts{"adsync.connector_identity_type": denied}), apr08, "aadc-app-auth", StatusCouldNotCheck, SeverityBlocker, ActionFix, VerdictIncomplete, "rescan"},
		{"identity unreadable on 2.6.92.0 today: decides only from the date on", ws2019.with(hostFacts{"adsync.connector_identity_type": denied}), dec03, "aadc-app-auth", StatusCouldNotCheck, SeverityWarning, ActionFix, VerdictOK, "none"},
		{"identity unreadable below 2.6.84.0: the build decides", ws2019.with(onBuild("2.6.3.0")).with(hostFacts{"adsync.connector_identity_type": denied}), apr08, "aadc-app-auth", StatusFail, SeverityBlocker, ActionUpgrade, VerdictUpgrade, "2.6.84.0 or later is needed"},

		// Windows Server 2016: last supported day 2027-01-12.
		{"2016 on its last supported day", ws2019.with(hostFacts{"os.build": 14393}), date("2027-01-12"), "os-ws2016-end-of-support", StatusFail, SeverityWarning, ActionMigrate, VerdictOK, "before 2027-01-13 (1 days)"},
		{"2016 from 2027-01-13: MIGRATE", ws2019.with(hostFacts{"os.build": 14393}), date("2027-01-13"), "os-ws2016-end-of-support", StatusFail, SeverityBlocker, ActionMigrate, VerdictMigrate, "swing-migrate"},
		{"2019 is past 2016's end", ws2019, date("2027-01-13"), "os-ws2016-end-of-support", StatusPass, "", "", VerdictOK, "none"},
		{"OS build unknown on 2027-01-13", ws2019.with(hostFacts{"os.build": denied}), date("2027-01-13"), "os-ws2016-end-of-support", StatusCouldNotCheck, SeverityBlocker, ActionMigrate, VerdictIncomplete, "rescan"},

		// KB5070773 on Windows Server 2025: a patch-level warning.
		{"2025 with KB5070773", ws2019.with(hostFacts{"os.build": 26100, "os.ubr": 6905}), dec03, "os-ws2025-update", StatusPass, "", "", VerdictOK, "none"},
		{"2025 without KB5070773: a warning", ws2019.with(hostFacts{"os.build": 26100, "os.ubr": 4946}), dec03, "os-ws2025-update", StatusFail, SeverityWarning, ActionNone, VerdictOK, "review the warnings: os-ws2025-update"},
		{"2025 with UBR unknown", ws2019.with(hostFacts{"os.build": 26100, "os.ubr": denied}), dec03, "os-ws2025-update", StatusCouldNotCheck, SeverityWarning, ActionNone, VerdictOK, ""},

		// Will the switch hold: scheduler, sync cycle, certificate rotation, TPM.
		{"scheduler running", ws2019, dec03, "adsync-scheduler-suspended", StatusPass, "", "", VerdictOK, "none"},
		{"scheduler suspended: FIX", ws2019.with(hostFacts{"adsync.scheduler_suspended": true}), dec03, "adsync-scheduler-suspended", StatusFail, SeverityBlocker, ActionFix, VerdictFix,
			"resume the sync scheduler (Set-ADSyncScheduler -SchedulerSuspended $false)"},
		// Operating state that older runs and denied ADSync cmdlets do not give
		// does not hold the verdict (unknown: keep_verdict); the reason names it.
		{"scheduler state unreadable", ws2019.with(hostFacts{"adsync.scheduler_suspended": denied}), dec03, "adsync-scheduler-suspended", StatusCouldNotCheck, SeverityBlocker, ActionFix, VerdictOK,
			"none known; clear what stopped adsync-scheduler-suspended and rescan"},
		{"sync cycle off: FIX", ws2019.with(hostFacts{"adsync.sync_cycle_enabled": false}), dec03, "adsync-sync-cycle", StatusFail, SeverityBlocker, ActionFix, VerdictFix, "turn the sync cycle back on"},
		{"sync cycle unreadable", ws2019.with(hostFacts{"adsync.sync_cycle_enabled": denied}), dec03, "adsync-sync-cycle", StatusCouldNotCheck, SeverityBlocker, ActionFix, VerdictOK, "rescan"},
		{"no certificate event", ws2019, dec03, "cert-rotation-expired", StatusPass, "", "", VerdictOK, "none"},
		{"event 1012: certificate expired, FIX", ws2019.with(hostFacts{"certrot.error_events": 2}), dec03, "cert-rotation-expired", StatusFail, SeverityBlocker, ActionFix, VerdictFix, "rotate the expired application certificate"},
		{"Application log unreadable", ws2019.with(hostFacts{"certrot.error_events": denied}), dec03, "cert-rotation-expired", StatusCouldNotCheck, SeverityBlocker, ActionFix, VerdictOK, "rescan"},
		{"event 1011: a warning", ws2019.with(hostFacts{"certrot.warning_events": 1}), dec03, "cert-rotation-warning", StatusFail, SeverityWarning, ActionNone, VerdictOK, "cert-rotation-warning"},
		{"event 1011 unreadable", ws2019.with(hostFacts{"certrot.warning_events": denied}), dec03, "cert-rotation-warning", StatusCouldNotCheck, SeverityWarning, ActionNone, VerdictOK, ""},
		{"TPM not ready: info", ws2019.with(hostFacts{"tpm.ready": false}), dec03, "tpm-ready", StatusFail, SeverityInfo, ActionNone, VerdictOK, "none"},
		{"TPM unreadable", ws2019.with(hostFacts{"tpm.present": denied, "tpm.ready": denied}), dec03, "tpm-ready", StatusCouldNotCheck, SeverityInfo, ActionNone, VerdictOK, "none"},

		// Is it still syncing?
		{"exported an hour ago", ws2019, dec03, "sync-last-export", StatusPass, "", "", VerdictOK, "none"},
		{"last export 9 days ago: a warning, it has stopped", ws2019.with(hostFacts{"sync.last_export_age_hours": 216}), dec03, "sync-last-export", StatusFail, SeverityWarning, ActionNone, VerdictOK, "sync-last-export"},
		{"no export in the run history", ws2019.with(hostFacts{"sync.last_export_age_hours": absent, "sync.last_export_utc": absent}), dec03, "sync-last-export", StatusFail, SeverityWarning, ActionNone, VerdictOK, ""},
		{"run history unreadable", ws2019.with(hostFacts{"sync.last_export_age_hours": denied}), dec03, "sync-last-export", StatusCouldNotCheck, SeverityWarning, ActionNone, VerdictOK, ""},
		{"a staging server never exports", ws2019.with(hostFacts{"adsync.staging_mode": true, "sync.last_export_age_hours": absent}), dec03, "sync-last-export", StatusNotApplicable, "", "", VerdictOK, ""},

		// The virtual account cannot be used on a domain controller.
		{"DC with a gMSA", ws2019.with(hostFacts{"domain.role": 5, "adsync.service_account": `CONTOSO\gmsa-adsync$`}), dec03, "adsync-virtual-account-on-dc", StatusPass, "", "", VerdictOK, ""},
		{"DC with the virtual account: a warning", ws2019.with(hostFacts{"domain.role": 4}), dec03, "adsync-virtual-account-on-dc", StatusFail, SeverityWarning, ActionNone, VerdictOK, "adsync-virtual-account-on-dc"},
		{"DC, service account unreadable", ws2019.with(hostFacts{"domain.role": 5, "adsync.service_account": denied}), dec03, "adsync-virtual-account-on-dc", StatusCouldNotCheck, SeverityWarning, ActionNone, VerdictOK, ""},
		{"member server", ws2019, dec03, "adsync-virtual-account-on-dc", StatusNotApplicable, "", "", VerdictOK, "none"},

		// Configuration on a current build is FIX, not FIX_THEN_UPGRADE.
		{"workgroup server: FIX", ws2019.with(hostFacts{"domain.part_of_domain": false}), dec03, "domain-joined", StatusFail, SeverityBlocker, ActionFix, VerdictFix, "join the server to the domain (domain-joined)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := c.Evaluate(tt.host.set(t), Options{AsOf: tt.asOf})
			ch := checkByID(t, ev, tt.check)
			if ch.Status != tt.status || (tt.sev != "" && ch.Severity != tt.sev) || (tt.action != "" && ch.Action != tt.action) {
				t.Errorf("%s: %s %s %s (%s), want %s %s %s", tt.check, ch.Status, ch.Severity, ch.Action, ch.Reason, tt.status, tt.sev, tt.action)
			}
			if ev.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s\n%s", ev.Verdict, tt.verdict, dump(ev))
			}
			if !strings.Contains(ev.NextStep, tt.words) {
				t.Errorf("next step %q does not contain %q", ev.NextStep, tt.words)
			}
			if ev.ScorePartial != slices.ContainsFunc(ev.Checks, func(c CheckResult) bool { return c.Status == StatusCouldNotCheck }) {
				t.Errorf("score_partial %t does not match the could-not-check checks", ev.ScorePartial)
			}
		})
	}
}

// The remediation of aadc-app-auth cites both of Microsoft's texts and
// never tells anyone to wait for an automatic switch.
func TestAppAuthAdvice(t *testing.T) {
	c := loadCatalog(t)
	i := slices.IndexFunc(c.Requirements, func(r Requirement) bool { return r.ID == "aadc-app-auth" })
	r := c.Requirements[i]
	if strings.Contains(strings.ToLower(r.Remediation), "wait") || strings.Contains(r.Remediation, "on their own") {
		t.Errorf("remediation advises waiting: %s", r.Remediation)
	}
	for _, want := range []string{"within a six-hour window", "not switched automatically", "never to wait"} {
		if !strings.Contains(r.Note, want) {
			t.Errorf("note lacks %q: %s", want, r.Note)
		}
	}
	if r.Confidence != "!" {
		t.Errorf("confidence %q, want ! (sources disagree)", r.Confidence)
	}
}

func TestNextDeadline(t *testing.T) {
	c := loadCatalog(t)
	tests := []struct {
		name string
		host hostFacts
		want *Deadline
	}{
		{"current build, new OS: nothing ahead", ws2019, nil},
		{"legacy identity on 2.6.84.0", ws2019.with(onBuild("2.6.84.0")).with(hostFacts{"adsync.connector_identity_type": "ServiceAccount"}),
			&Deadline{Date: "2027-04-07", DaysLeft: 125, Action: ActionFix, Check: "aadc-app-auth"}},
		{"2.6.84.0 with Application identity: its end of support", ws2019.with(onBuild("2.6.84.0")),
			&Deadline{Date: "2027-09-16", DaysLeft: 287, Action: ActionUpgrade, Check: "aadc-build-support"}},
		{"2.6.3.0: the app-auth date comes first", ws2019.with(onBuild("2.6.3.0")),
			&Deadline{Date: "2027-04-07", DaysLeft: 125, Action: ActionUpgrade, Check: "aadc-app-auth"}},
		{"Windows Server 2016", ws2019.with(hostFacts{"os.build": 14393}),
			&Deadline{Date: "2027-01-13", DaysLeft: 41, Action: ActionMigrate, Check: "os-ws2016-end-of-support"}},
		{"no AD Connect on Windows Server 2016: no deadline", ws2019.with(hostFacts{"os.build": 14393,
			"aadc.wizard_path": absent, "aadc.wizard_version": absent, "aadc.uninstall_entries": []string{}, "adsync.service_state": absent}), nil},
		{"identity unreadable: the date, unverified", ws2019.with(hostFacts{"adsync.connector_identity_type": unknown("denied")}),
			&Deadline{Date: "2027-04-07", DaysLeft: 125, Action: ActionFix, Check: "aadc-app-auth", Unverified: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Evaluate(tt.host.set(t), Options{AsOf: dec03}).NextDeadline
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("next deadline %+v, want %+v", got, tt.want)
			}
		})
	}
	// Dated checks say how many days are left.
	ev := c.Evaluate(ws2019.with(hostFacts{"os.build": 14393}).set(t), Options{AsOf: dec03})
	if ch := checkByID(t, ev, "os-ws2016-end-of-support"); ch.DaysLeft == nil || *ch.DaysLeft != 41 {
		t.Errorf("os-ws2016-end-of-support days left %v, want 41", ch.DaysLeft)
	}
}

// A host that needs more work never outscores one that needs less.
func TestScoreFollowsTheWork(t *testing.T) {
	c := loadCatalog(t)
	hosts := []hostFacts{
		ws2019, ws2012r2V1,
		ws2019.with(hostFacts{"domain.role": 5, "os.product_type": "LanmanNT", "reboot.pending": true}),
		ws2019.with(hostFacts{"tls.schannel12_client.enabled": 0}),
		ws2019.with(hostFacts{"tls.schannel12_client.enabled": 0, "adsync.scheduler_suspended": true, "domain.part_of_domain": false}),
		ws2019.with(onBuild("2.5.79.0")),
		ws2019.with(onBuild("2.4.18.0")).with(hostFacts{"hw.memory_bytes": 4 * gib}),
		ws2019.with(onBuild("2.4.129.0")).with(hostFacts{"tls.net4.sch_use_strong_crypto": 0}),
		ws2019.with(hostFacts{"os.installation_type": "Server Core"}),
	}
	type scored struct {
		v     Verdict
		score int
	}
	var all []scored
	for _, h := range hosts {
		for _, d := range []time.Time{dec03, apr08} {
			ev := c.Evaluate(h.set(t), Options{AsOf: d})
			all = append(all, scored{ev.Verdict, *ev.Score})
		}
	}
	seen := map[Verdict]bool{}
	for _, a := range all {
		seen[a.v] = true
		for _, b := range all {
			ra, _ := a.v.Work()
			rb, _ := b.v.Work()
			if ra < rb && a.score <= b.score {
				t.Errorf("%s scores %d, not above %s at %d", a.v, a.score, b.v, b.score)
			}
		}
	}
	for _, v := range VerdictOrder()[:5] {
		if !seen[v] {
			t.Errorf("no %s host among the examples", v)
		}
	}
}

// A dated check whose applicability is unknown sets no deadline: an
// unreadable OS build does not put every host under the Windows Server 2016
// date.
func TestNoDeadlineFromUnknownApplicability(t *testing.T) {
	ev := loadCatalog(t).Evaluate(ws2019.with(hostFacts{"os.build": unknown("denied")}).set(t), Options{AsOf: dec03})
	if ch := checkByID(t, ev, "os-ws2016-end-of-support"); ch.Status != StatusCouldNotCheck {
		t.Fatalf("os-ws2016-end-of-support: %s", ch.Status)
	}
	if ev.NextDeadline != nil {
		t.Errorf("next deadline %+v, want none", ev.NextDeadline)
	}
}

// A 2.6.92.0 host whose ADSync cmdlets are all denied is OK before
// 2027-04-07 (the identity decides only from that date on) and INCOMPLETE
// after it; the reason names what could not be checked.
func TestADSyncDenied(t *testing.T) {
	c := loadCatalog(t)
	h := ws2019.with(hostFacts{
		"adsync.staging_mode": unknown("denied"), "adsync.sync_cycle_enabled": unknown("denied"),
		"adsync.scheduler_suspended": unknown("denied"), "adsync.auto_upgrade": unknown("denied"),
		"adsync.connector_identity_type": unknown("denied"), "certrot.error_events": unknown("denied"),
	}).set(t)
	ev := c.Evaluate(h, Options{AsOf: dec03})
	if ev.Verdict != VerdictOK || !strings.Contains(ev.Reason, "could not check adsync-scheduler-suspended, adsync-sync-cycle, cert-rotation-expired") || !ev.ScorePartial {
		t.Errorf("today: %s", dump(ev))
	}
	if ev := c.Evaluate(h, Options{AsOf: apr08}); ev.Verdict != VerdictIncomplete || !slices.Equal(ev.Blocking, []string{"aadc-app-auth"}) {
		t.Errorf("2027-04-08: %s", dump(ev))
	}
}
