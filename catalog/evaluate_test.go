package catalog

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEvaluateHosts(t *testing.T) {
	c := loadCatalog(t)
	tests := []struct {
		name     string
		host     hostFacts
		asOf     time.Time
		verdict  Verdict
		blocking []string
		checks   map[string]Status // selected checks and their expected status
		reason   string            // substring of Evaluation.Reason
		next     string            // substring of Evaluation.NextStep
	}{
		{
			name: "2012 R2 on V1 1.6.x must move to a new server", host: ws2012r2V1, asOf: nov26,
			verdict: VerdictMigrate, blocking: []string{"os-supported-version"},
			checks: map[string]Status{
				"aadc-v2": StatusFail, "powershell-version": StatusFail, "dotnet-framework": StatusFail,
				// 1.6.x is outside 2.3.20.0-2.4.129.0; absent SCHANNEL values on 9600 are the OS default.
				"tls12-dotnet": StatusNotApplicable, "tls12-dotnet-auto-upgrade": StatusFail,
				"tls12-schannel": StatusPass, "aadc-build-2-5-79": StatusFail,
				"os-ws2016-end-of-support": StatusNotApplicable, "os-ws2025-update": StatusNotApplicable,
			},
			reason: "os-supported-version: os.build is 9600, below 14393", next: "swing-migrate",
		},
		{
			name: "2019 on 2.6.92.0, all good", host: ws2019, asOf: nov26,
			verdict: VerdictOK, reason: "no blocker fails as of 2026-11-26", next: "none",
			checks: map[string]Status{"tls12-schannel": StatusPass, "sql-external": StatusPass,
				"aadc-app-auth": StatusPass, "aadc-build-support": StatusPass},
		},
		{
			name: "2019 on 2.4.131.0 with good prerequisites needs an upgrade", host: ws2019.with(onBuild("2.4.131.0")).with(
				hostFacts{"adsync.connector_identity_type": unknown("Get-ADSyncEntraConnectorCredential is not recognized")}),
			asOf: nov26, verdict: VerdictUpgrade, blocking: []string{"aadc-build-2-5-79", "aadc-build-support"},
			checks: map[string]Status{"aadc-app-auth": StatusFail, "aadc-build-support": StatusFail, "aadc-build-wizard-signin": StatusPass},
			reason: "required since 2026-09-30: build 2.4.131.0", next: "upgrade AD Connect in place",
		},
		{
			name: "2019 on 2.4.129.0 without the .NET TLS values: fix, then upgrade", host: ws2019.with(onBuild("2.4.129.0")).with(hostFacts{
				"tls.net4.system_default_tls_versions": absent, "tls.net4.sch_use_strong_crypto": absent,
				"tls.net4_wow.system_default_tls_versions": absent, "tls.net4_wow.sch_use_strong_crypto": absent,
			}),
			asOf: nov26, verdict: VerdictFixThenUpgrade, blocking: []string{"tls12-dotnet", "aadc-build-2-5-79", "aadc-build-support"},
			reason: "tls.net4.sch_use_strong_crypto absent (want 1)",
			next: "fix on this server: set the four .NET strong-crypto values to 1 and restart (tls12-dotnet); " +
				"then upgrade AD Connect in place to the newest build: builds below 2.5.79.0 stopped syncing on 2026-09-30",
		},
		{
			name: "2.4.131.0 without the .NET TLS values: TLS enforcement no longer required, upgrade only", host: ws2019.with(onBuild("2.4.131.0")).with(hostFacts{
				"tls.net4.system_default_tls_versions": absent, "tls.net4.sch_use_strong_crypto": absent,
				"tls.net4_wow.system_default_tls_versions": absent, "tls.net4_wow.sch_use_strong_crypto": absent,
			}),
			asOf: nov26, verdict: VerdictUpgrade, blocking: []string{"aadc-build-2-5-79", "aadc-build-support"},
			checks: map[string]Status{"tls12-dotnet": StatusNotApplicable, "tls12-dotnet-auto-upgrade": StatusFail},
		},
		{
			name: "current build with a wrong .NET TLS value: only a warning", host: ws2019.with(hostFacts{"tls.net4_wow.sch_use_strong_crypto": 0}),
			asOf: nov26, verdict: VerdictOK, checks: map[string]Status{"tls12-dotnet-auto-upgrade": StatusFail},
			next: "review the warnings: tls12-dotnet-auto-upgrade",
		},
		{
			name: "unknown OS facts could change the verdict", host: ws2019.with(hostFacts{
				"os.build": unknown("Access is denied"), "os.ubr": unknown("Access is denied"),
				"os.installation_type": unknown("Access is denied"), "os.edition_id": unknown("Access is denied"),
			}),
			asOf: nov26, verdict: VerdictIncomplete,
			blocking: []string{"os-supported-version", "os-full-gui", "os-edition", "tls12-schannel"},
			checks:   map[string]Status{"os-ws2016-end-of-support": StatusCouldNotCheck, "os-ws2025-update": StatusCouldNotCheck},
			reason:   "could not check os-supported-version: os.build: Access is denied (+3 more)", next: "rescan",
		},
		{
			name: "unknown .NET on a host that must migrate anyway", host: ws2012r2V1.with(hostFacts{"dotnet.release": unknown("Access is denied")}),
			asOf: nov26, verdict: VerdictMigrate, blocking: []string{"os-supported-version"},
			checks: map[string]Status{"dotnet-framework": StatusCouldNotCheck},
		},
		{
			name: "no AD Connect at all", host: ws2019.with(hostFacts{
				"aadc.wizard_path": absent, "aadc.wizard_version": absent, "aadc.uninstall_entries": []string{},
				"adsync.service_state": absent, "adsync.db_server": absent,
			}),
			asOf: nov26, verdict: VerdictNotInstalled, blocking: []string{"aadc-installed"},
			checks: map[string]Status{"aadc-v2": StatusNotApplicable, "localdb-size-limit": StatusNotApplicable},
			reason: "no AD Connect", next: "drop it from the scan list",
		},
		{
			name: "only a Health agent is not a sync server", host: ws2019.with(hostFacts{
				"aadc.wizard_path": absent, "aadc.wizard_version": absent, "adsync.service_state": absent,
				"aadc.uninstall_entries": []string{"Microsoft Azure AD Connect Health agent for sync|4.5.2466.0"},
			}),
			asOf: nov26, verdict: VerdictNotInstalled, blocking: []string{"aadc-installed"},
		},
		{
			name: "install facts unknown", host: ws2019.with(hostFacts{
				"aadc.wizard_path": absent, "aadc.wizard_version": absent, "adsync.service_state": absent,
				"aadc.uninstall_entries": unknown("probe aadconnect failed: timeout"),
			}),
			asOf: nov26, verdict: VerdictIncomplete, blocking: []string{"aadc-installed"},
			checks: map[string]Status{"aadc-v2": StatusCouldNotCheck},
			reason: "could not check aadc-installed: could not tell whether AD Connect is installed",
		},
		{
			name: "renamed product found by its Entra uninstall entry alone", host: ws2019.with(hostFacts{
				"aadc.wizard_path": absent, "aadc.wizard_version": absent, "adsync.service_state": absent,
				"aadc.uninstall_entries": []string{"Microsoft Entra Connect Sync|2.6.92.0"},
			}),
			asOf: nov26, verdict: VerdictOK,
		},
		{
			name: "the lowest of wizard and sync engine decides", host: ws2019.with(hostFacts{
				"aadc.uninstall_entries": []string{"Microsoft Azure AD Connect synchronization services|2.4.131.0"},
			}),
			asOf: nov26, verdict: VerdictUpgrade, blocking: []string{"aadc-build-2-5-79", "aadc-build-support"},
			reason: "build 2.4.131.0 (lowest of wizard 2.6.92.0, Microsoft Azure AD Connect synchronization services 2.4.131.0)",
		},
		{
			name: "installed but no build found", host: ws2019.with(hostFacts{
				"aadc.wizard_version": absent, "aadc.uninstall_entries": []string{},
			}),
			asOf: nov26, verdict: VerdictIncomplete,
			blocking: []string{"tls12-dotnet", "aadc-v2", "aadc-build-wizard-signin", "aadc-build-2-5-79", "aadc-build-support"},
			reason:   "could not find the installed build",
		},
		{
			name: "Server Core", host: ws2019.with(hostFacts{"os.installation_type": "Server Core"}),
			asOf: nov26, verdict: VerdictMigrate, blocking: []string{"os-full-gui"},
			reason: `os.installation_type is "Server Core", not one of Server`,
		},
		{
			name: "Essentials 2016 cannot run it", host: ws2019.with(hostFacts{"os.build": 14393, "os.edition_id": "ServerSolution"}),
			asOf: nov26, verdict: VerdictMigrate, blocking: []string{"os-edition"},
		},
		{
			name: "domain controller is only a warning", host: ws2019.with(hostFacts{"domain.role": 5, "os.product_type": "LanmanNT"}),
			asOf: nov26, verdict: VerdictOK, checks: map[string]Status{"domain-controller": StatusFail},
			next: "none required; review the warnings: domain-controller",
		},
		{
			name: "workgroup server must be joined", host: ws2019.with(hostFacts{"domain.part_of_domain": false}),
			asOf: nov26, verdict: VerdictFix, blocking: []string{"domain-joined"},
			next: "change on this server (no upgrade needed): join the server to the domain (domain-joined)",
		},
		{
			name: "Windows Server 2025 without KB5070773", host: ws2019.with(hostFacts{"os.build": 26100, "os.ubr": 4946}),
			asOf: nov26, verdict: VerdictOK, checks: map[string]Status{"os-ws2025-update": StatusFail},
			next: "review the warnings: os-ws2025-update",
		},
		{
			name: "Windows Server 2025 with KB5070773", host: ws2019.with(hostFacts{"os.build": 26100, "os.ubr": 6901}),
			asOf: nov26, verdict: VerdictOK, checks: map[string]Status{"os-ws2025-update": StatusPass},
		},
		{
			name: "SCHANNEL Enabled 0xFFFFFFFF counts as on", host: ws2019.with(hostFacts{"tls.schannel12_client.enabled": -1}),
			asOf: nov26, verdict: VerdictOK, checks: map[string]Status{"tls12-schannel": StatusPass},
		},
		{
			name: "TLS 1.2 client explicitly off on a current build: fix only", host: ws2019.with(hostFacts{"tls.schannel12_client.enabled": 0}),
			asOf: nov26, verdict: VerdictFix, blocking: []string{"tls12-schannel"},
			reason: "tls.schannel12_client.enabled = 0 (turns TLS 1.2 off)", next: "turn TLS 1.2 back on in SCHANNEL",
		},
		{
			name: "LocalDB at 9 GiB warns", host: ws2019.with(hostFacts{"localdb.mdf_bytes": 9 * gib}),
			asOf: nov26, verdict: VerdictOK,
			checks: map[string]Status{"localdb-size-auto-upgrade": StatusFail, "localdb-size-limit": StatusPass},
		},
		{
			name: "LocalDB at 10 GiB is full", host: ws2019.with(hostFacts{"localdb.mdf_bytes": 10 * gib}),
			asOf: nov26, verdict: VerdictFix, blocking: []string{"localdb-size-limit"},
			reason: "localdb.mdf_bytes is 10.0 GiB, at or above 10.0 GiB",
		},
		{
			name: "external SQL skips the LocalDB checks", host: ws2019.with(hostFacts{"adsync.db_server": "SQL01.corp.example.com", "localdb.mdf_bytes": absent}),
			asOf: nov26, verdict: VerdictOK,
			checks: map[string]Status{"sql-external": StatusFail, "localdb-size-limit": StatusNotApplicable},
		},
		{
			name: "ADSync cmdlets denied: fine before the app-auth deadline", host: ws2019.with(hostFacts{
				"adsync.connector_identity_type": unknown("access denied: not in ADSyncAdmins"),
			}),
			asOf: nov26, verdict: VerdictOK, checks: map[string]Status{"aadc-app-auth": StatusCouldNotCheck},
		},
		{
			name: "ADSync cmdlets denied: deciding after the app-auth deadline", host: ws2019.with(hostFacts{
				"adsync.connector_identity_type": unknown("access denied: not in ADSyncAdmins"),
			}),
			asOf: apr08, verdict: VerdictIncomplete, blocking: []string{"aadc-app-auth"},
			reason: "could not check aadc-app-auth: adsync.connector_identity_type: access denied",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := c.Evaluate(tt.host.set(t), Options{AsOf: tt.asOf})
			if ev.Verdict != tt.verdict || !slices.Equal(ev.Blocking, tt.blocking) {
				t.Errorf("got %s %v, want %s %v\n%s", ev.Verdict, ev.Blocking, tt.verdict, tt.blocking, dump(ev))
			}
			for id, want := range tt.checks {
				if got := checkByID(t, ev, id); got.Status != want {
					t.Errorf("%s: got %s (%s), want %s", id, got.Status, got.Reason, want)
				}
			}
			if !strings.Contains(ev.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", ev.Reason, tt.reason)
			}
			if !strings.Contains(ev.NextStep, tt.next) {
				t.Errorf("next step %q does not contain %q", ev.NextStep, tt.next)
			}
			if (ev.Score == nil) != (ev.Verdict == VerdictNotInstalled) {
				t.Errorf("score %v with verdict %s", ev.Score, ev.Verdict)
			}
		})
	}
}

func TestHealthyHostPassesEverything(t *testing.T) {
	ev := loadCatalog(t).Evaluate(ws2019.set(t), Options{AsOf: nov26})
	for _, ch := range ev.Checks {
		if ch.Status != StatusPass && ch.Status != StatusNotApplicable {
			t.Errorf("%s: %s %s", ch.ID, ch.Status, ch.Reason)
		}
	}
	if ev.Score == nil || *ev.Score != 100 {
		t.Errorf("score %v, want 100", ev.Score)
	}
	if got := checkByID(t, ev, "tls12-schannel").Reason; !strings.HasPrefix(got, "OS default: ") {
		t.Errorf("absent SCHANNEL values on 2019 should pass as the OS default, reason %q", got)
	}
	if got, _ := checkByID(t, ev, "dotnet-framework").Evidence.Get("dotnet.release"); got != "528049" {
		t.Errorf("evidence dotnet.release = %q", got)
	}
}

// The dated rules judge against Options.AsOf, never the clock.
func TestAsOf(t *testing.T) {
	c := loadCatalog(t)
	eval := func(h hostFacts, asOf time.Time) Evaluation { return c.Evaluate(h.set(t), Options{AsOf: asOf}) }

	t.Run("2.6.92.0 with Application identity on 2019 stays OK", func(t *testing.T) {
		for _, d := range []time.Time{nov26, apr08} {
			if ev := eval(ws2019, d); ev.Verdict != VerdictOK {
				t.Errorf("%s: %s", d.Format(dateLayout), dump(ev))
			}
		}
	})

	t.Run("2.5.190.0 on ServiceAccount: warning now, UPGRADE after 2027-04-07", func(t *testing.T) {
		h := ws2019.with(onBuild("2.5.190.0")).with(hostFacts{"adsync.connector_identity_type": "ServiceAccount"})
		ev := eval(h, nov26)
		app := checkByID(t, ev, "aadc-app-auth")
		if ev.Verdict != VerdictOK || app.Severity != SeverityWarning || app.Status != StatusFail ||
			app.Due == nil || !app.Due.Equal(date("2027-04-07")) || !strings.HasPrefix(app.Reason, "due 2027-04-07 (132 days): ") {
			t.Errorf("2026-11-26: %+v\n%s", app, dump(ev))
		}
		if !strings.HasPrefix(ev.NextStep, "before 2027-02-02 (68 days): the build is retired, recalled or near its end of support (aadc-build-support)") {
			t.Errorf("next step %q should name the coming deadline", ev.NextStep)
		}
		if s := checkByID(t, ev, "aadc-build-support"); s.Status != StatusFail || !strings.Contains(s.Reason, "2027-02-02 (68 days)") {
			t.Errorf("build support: %s %s", s.Status, s.Reason)
		}
		ev = eval(h, apr08)
		app = checkByID(t, ev, "aadc-app-auth")
		if ev.Verdict != VerdictUpgrade || !slices.Equal(ev.Blocking, []string{"aadc-app-auth", "aadc-build-support"}) || app.Severity != SeverityBlocker ||
			!strings.HasPrefix(app.Reason, "required since 2027-04-07: ") {
			t.Errorf("2027-04-08: %s", dump(ev))
		}
	})

	t.Run("Windows Server 2016: warning through 2027-01-12, MIGRATE from 2027-01-13", func(t *testing.T) {
		h := ws2019.with(hostFacts{"os.build": 14393, "os.caption": "Microsoft Windows Server 2016 Standard"})
		for _, d := range []time.Time{nov26, date("2027-01-12")} {
			ev := eval(h, d)
			if os := checkByID(t, ev, "os-ws2016-end-of-support"); ev.Verdict != VerdictOK || os.Status != StatusFail || os.Severity != SeverityWarning {
				t.Errorf("%s: %s", d.Format(dateLayout), dump(ev))
			}
		}
		ev := eval(h, date("2027-01-13"))
		if ev.Verdict != VerdictMigrate || !slices.Equal(ev.Blocking, []string{"os-ws2016-end-of-support"}) {
			t.Errorf("2027-01-13: %s", dump(ev))
		}
	})

	t.Run("2.4.x: warning on 2026-09-01, blocker after 2026-09-30", func(t *testing.T) {
		h := ws2019.with(onBuild("2.4.131.0"))
		ev := eval(h, date("2026-09-01"))
		// UPGRADE already: 2.4.131.0 left support on 2026-05-26.
		if b := checkByID(t, ev, "aadc-build-2-5-79"); ev.Verdict != VerdictUpgrade || !slices.Equal(ev.Blocking, []string{"aadc-build-support"}) ||
			b.Status != StatusFail || b.Severity != SeverityWarning ||
			!strings.HasPrefix(b.Reason, "due 2026-09-30 (29 days): ") {
			t.Errorf("2026-09-01: %+v\n%s", b, dump(ev))
		}
		// The date is a calendar day: any time on 2026-09-30, in any zone, is on or after it.
		late := time.Date(2026, 9, 30, 23, 59, 0, 0, time.FixedZone("UTC-10", -10*3600))
		for _, d := range []time.Time{date("2026-09-30"), late, date("2026-10-01")} {
			if ev := eval(h, d); ev.Verdict != VerdictUpgrade || checkByID(t, ev, "aadc-build-2-5-79").Severity != SeverityBlocker {
				t.Errorf("%s: %s", d, dump(ev))
			}
		}
	})
}

func TestBuildSupport(t *testing.T) {
	c := loadCatalog(t)
	tests := []struct {
		build  string
		status Status
		reason string
	}{
		{"2.6.92.0", StatusPass, "no end of support announced"},
		{"2.6.91.0", StatusPass, "support ends 2027-09-23 (301 days)"},
		{"2.5.190.0", StatusFail, "support ends 2027-02-02 (68 days)"},
		{"2.5.79.0", StatusFail, "support ends 2026-10-23 (ended 34 days ago)"},
		{"2.6.79.0", StatusFail, "was recalled"},
		{"2.2.8.0", StatusFail, "is retired"},
		// Not listed: 12 months after 2.5.190.0 was released (2026-11-19) comes before its end of support.
		{"2.5.100.0", StatusFail, "judged by newer build 2.5.190.0, its support ends no later than 2026-11-19 (ended 7 days ago)"},
		{"2.2.10.0", StatusFail, "support ends no later than 2025-04-30"},
		{"2.1.20.0", StatusFail, "the newer build 2.2.8.0 is already retired"},
		{"2.7.0.0", StatusPass, "newer than every build in the table"},
		{"1.6.4.0", StatusFail, "older than every build in the table"},
	}
	for _, tt := range tests {
		ch := checkByID(t, c.Evaluate(ws2019.with(onBuild(tt.build)).set(t), Options{AsOf: nov26}), "aadc-build-support")
		if ch.Status != tt.status || !strings.Contains(ch.Reason, tt.reason) {
			t.Errorf("%s: got %s %q, want %s containing %q", tt.build, ch.Status, ch.Reason, tt.status, tt.reason)
		}
	}
}

func TestWaivers(t *testing.T) {
	c := loadCatalog(t)
	h := ws2019.with(hostFacts{"tls.schannel12_client.enabled": 0}).set(t)
	waiver := func(check, expires string) Waiver {
		return Waiver{Check: check, Host: "AADC01", Justification: "CHG-1234", ApprovedBy: "CAB", Expires: date(expires)}
	}

	active := waiver("tls12-schannel", "2027-01-01")
	ev := c.Evaluate(h, Options{AsOf: nov26, Waivers: []Waiver{waiver("tls12-schannel", "2026-11-01"), active, waiver("dotnet-framework", "2027-01-01")}})
	ch := checkByID(t, ev, "tls12-schannel")
	if ev.Verdict != VerdictOK || ch.Status != StatusWaived || ch.Waiver == nil || *ch.Waiver != active || ch.WaiverExpired {
		t.Errorf("active waiver: %+v\n%s", ch, dump(ev))
	}
	if ch.Reason == "" {
		t.Error("a waived check keeps the reason it failed")
	}
	if ev.Score == nil || *ev.Score != 100 {
		t.Errorf("a waived check earns its full weight: score %v", ev.Score)
	}
	if ch := checkByID(t, ev, "dotnet-framework"); ch.Waiver != nil {
		t.Errorf("a waiver on a passing check is not attached: %+v", ch.Waiver)
	}

	ev = c.Evaluate(h, Options{AsOf: nov26, Waivers: []Waiver{waiver("tls12-schannel", "2026-11-26")}})
	ch = checkByID(t, ev, "tls12-schannel")
	if ev.Verdict != VerdictFix || ch.Status != StatusFail || ch.Waiver == nil || !ch.WaiverExpired {
		t.Errorf("expired waiver: %+v\n%s", ch, dump(ev))
	}
}

func TestScore(t *testing.T) {
	// The worked example of docs/scoring.md.
	var checks []CheckResult
	add := func(n int, sev Severity, st Status) {
		for range n {
			checks = append(checks, CheckResult{Severity: sev, Status: st})
		}
	}
	add(18, SeverityBlocker, StatusPass)
	add(1, SeverityBlocker, StatusFail)
	add(1, SeverityBlocker, StatusCouldNotCheck)
	add(10, SeverityWarning, StatusPass)
	add(2, SeverityWarning, StatusFail)
	add(4, SeverityInfo, StatusPass)
	add(1, SeverityInfo, StatusWaived)
	add(3, SeverityBlocker, StatusNotApplicable)
	// Raw 220/241 = 91.3%, placed in OK's band 80-100: 80 + floor(20 × 0.913) = 98.
	if s, partial := score(checks, VerdictOK); s == nil || *s != 98 || !partial {
		t.Errorf("score %v partial %t, want 98 and partial (a check could not be checked)", s, partial)
	}
	// The same checks on a MIGRATE host sit in its band 0-19: 0 + floor(19 × 0.913) = 17.
	if s, _ := score(checks, VerdictMigrate); s == nil || *s != 17 {
		t.Errorf("MIGRATE score %v, want 17", s)
	}
	if s, _ := score(nil, VerdictOK); s != nil {
		t.Errorf("no applicable checks: score %v, want nil", *s)
	}

	// On a real host: a dated blocker weighs as a warning before its date.
	c := loadCatalog(t)
	h := ws2019.with(onBuild("2.5.190.0")).with(hostFacts{"adsync.connector_identity_type": "ServiceAccount"}).set(t)
	for _, tt := range []struct {
		asOf time.Time
		want int
	}{{nov26, 99}, {apr08, 57}} { // OK band 80-100; UPGRADE band 40-59
		ev := c.Evaluate(h, Options{AsOf: tt.asOf})
		if ev.Score == nil || *ev.Score != tt.want {
			t.Errorf("%s: score %d, want %d\n%s", tt.asOf.Format(dateLayout), deref(ev.Score), tt.want, dump(ev))
		}
	}
}

func TestInstalledVersion(t *testing.T) {
	for _, tt := range []struct {
		host hostFacts
		want string
		ok   bool
	}{
		{ws2019, "2.6.92.0", true},
		{ws2019.with(hostFacts{"aadc.wizard_version": absent, "aadc.uninstall_entries": []string{"Microsoft Entra Connect Sync|2.6.3.0"}}), "2.6.3.0", true},
		{ws2019.with(hostFacts{"aadc.uninstall_entries": []string{"Microsoft Azure AD Connect synchronization services|2.5.79.0"}}), "2.5.79.0", true},
		{ws2019.with(hostFacts{"aadc.wizard_version": unknown("denied"), "aadc.uninstall_entries": []string{}}), "", false},
	} {
		if got, ok := InstalledVersion(tt.host.set(t)); got != tt.want || ok != tt.ok {
			t.Errorf("InstalledVersion = %q, %t; want %q, %t", got, ok, tt.want, tt.ok)
		}
	}
}

func TestVerdictHelpers(t *testing.T) {
	needs := map[Verdict]bool{VerdictFix: true, VerdictUpgrade: true, VerdictFixThenUpgrade: true, VerdictMigrate: true}
	couldNot := map[Verdict]bool{VerdictIncomplete: true, VerdictUnreachable: true, VerdictNotInstalled: true}
	order := VerdictOrder()
	if len(order) != 8 || order[0] != VerdictOK {
		t.Fatalf("VerdictOrder() = %v", order)
	}
	for _, v := range order {
		if v.NeedsAction() != needs[v] || v.CouldNotCheck() != couldNot[v] {
			t.Errorf("%s: NeedsAction %t CouldNotCheck %t", v, v.NeedsAction(), v.CouldNotCheck())
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	c := loadCatalog(b)
	hosts := map[string]hostFacts{"healthy": ws2019, "2012r2-v1": ws2012r2V1}
	for name, h := range hosts {
		set := h.set(b)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Evaluate(set, Options{AsOf: nov26})
			}
		})
	}
}

func TestJoinUnknownNamesSharedReasonOnce(t *testing.T) {
	got := joinUnknown([]string{
		"aadc.wizard_path: probe aadconnect malformed: cut short",
		"adsync.service_state: probe aadconnect malformed: cut short",
		"os.build (needed to judge absent values): unknown (x)",
		"aadc.uninstall_entries: Access is denied",
	})
	want := "aadc.wizard_path, adsync.service_state: probe aadconnect malformed: cut short; " +
		"os.build (needed to judge absent values): unknown (x); aadc.uninstall_entries: Access is denied"
	if got != want {
		t.Fatalf("joinUnknown:\n got %q\nwant %q", got, want)
	}
}

func deref(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
