package catalog

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"aadcready/facts"
)

// Test fact sets: a map of fact key to value, where int stands for int64,
// absent for a known-absent fact and unknown("reason") for an unreadable one.
type absentValue struct{}

type unknown string

var absent = absentValue{}

type hostFacts map[string]any

// with returns a copy of h with changes applied.
func (h hostFacts) with(changes hostFacts) hostFacts {
	out := maps.Clone(h)
	maps.Copy(out, changes)
	return out
}

func (h hostFacts) set(tb testing.TB) *facts.Set {
	tb.Helper()
	s := facts.NewSet()
	for _, p := range facts.Probes() {
		s.Probes[p] = facts.ProbeStatus{Status: facts.ProbeOK}
	}
	for k, v := range h {
		if _, ok := facts.Lookup(k); !ok {
			tb.Fatalf("test host uses unknown fact %q", k)
		}
		switch v := v.(type) {
		case absentValue:
			s.Facts[k] = facts.Fact{Status: facts.StatusAbsent}
		case unknown:
			s.Facts[k] = facts.Fact{Status: facts.StatusError, Reason: string(v)}
		case int:
			s.Facts[k] = facts.Fact{Status: facts.StatusOK, Value: int64(v)}
		case string, bool, []string:
			s.Facts[k] = facts.Fact{Status: facts.StatusOK, Value: v}
		default:
			tb.Fatalf("fact %s: unsupported test value %T", k, v)
		}
	}
	return s
}

const gib = 1 << 30

// ws2019 is a healthy Windows Server 2019 sync server on 2.6.92.0 with
// application-based authentication: it reports every fact in the registry.
var ws2019 = hostFacts{
	"host.name":                     "AADC01",
	"os.caption":                    "Microsoft Windows Server 2019 Standard",
	"os.version":                    "10.0.17763",
	"os.build":                      17763,
	"os.ubr":                        6054,
	"os.installation_type":          "Server",
	"os.edition_id":                 "ServerStandard",
	"os.product_type":               "ServerNT",
	"domain.part_of_domain":         true,
	"domain.name":                   "corp.example.com",
	"domain.role":                   3,
	"dcom.ole_restrictions_present": true,

	"ps.version":                         "5.1.17763.6054",
	"ps.clr_version":                     "4.0.30319.42000",
	"ps.language_mode":                   "FullLanguage",
	"ps.execution_policy":                "RemoteSigned",
	"ps.script_block_logging":            false,
	"ps.process_arch":                    "AMD64",
	"ps.execution_policy_machine_policy": "Undefined",
	"ps.execution_policy_user_policy":    "Undefined",
	"ps.execution_policy_local_machine":  "RemoteSigned",
	"ps.execution_policy_machine":        "RemoteSigned",
	"ps.execution_policy_gpo":            absent,
	"ps.transcription_enabled":           absent,
	"dotnet.release":                     528049,
	"vcredist.x64_installed":             true,
	"vcredist.x64_version":               "v14.38.33135.00",
	"reboot.pending":                     false,
	"reboot.cbs_reboot_pending":          false,
	"reboot.wu_reboot_required":          false,
	"reboot.netlogon_join_domain":        false,
	"reboot.netlogon_avoid_spn_set":      false,
	"reboot.computer_rename_pending":     false,
	"reboot.file_rename_pending":         false,
	"reboot.reasons":                     []string{},
	"hw.memory_bytes":                    16*gib - 4<<20,
	"hw.cpu_max_mhz":                     2394,
	"hw.cpu_logical_count":               4,
	"hw.system_drive":                    "C:",
	"hw.system_drive_size_bytes":         127 * gib,
	"hw.system_drive_free_bytes":         80 * gib,

	"tls.net4.system_default_tls_versions":      1,
	"tls.net4.sch_use_strong_crypto":            1,
	"tls.net4_wow.system_default_tls_versions":  1,
	"tls.net4_wow.sch_use_strong_crypto":        1,
	"tls.schannel12_server.enabled":             absent,
	"tls.schannel12_server.disabled_by_default": absent,
	"tls.schannel12_client.enabled":             absent,
	"tls.schannel12_client.disabled_by_default": absent,

	"aadc.wizard_path":    `C:\Program Files\Microsoft Azure Active Directory Connect\AzureADConnect.exe`,
	"aadc.wizard_version": "2.6.92.0",
	"aadc.uninstall_entries": []string{
		"Microsoft Azure AD Connect|2.6.92.0",
		"Microsoft Azure AD Connect synchronization services|2.6.92.0",
		"Microsoft Azure AD Connect Health agent for sync|4.5.2466.0",
	},
	"adsync.install_location":        `C:\Program Files\Microsoft Azure AD Sync\`,
	"adsync.service_state":           "Running",
	"adsync.service_source":          "wmi",
	"aadc.uninstall_unreadable":      []string{},
	"adsync.service_start_mode":      "Auto",
	"adsync.service_account":         `NT SERVICE\ADSync`,
	"adsync.db_server":               "(localdb)",
	"adsync.db_instance":             `.\ADSync2019`,
	"adsync.db_name":                 "ADSync",
	"localdb.installed_versions":     []string{"15.0"},
	"localdb.mdf_path":               `C:\Program Files\Microsoft Azure AD Sync\Data\ADSync2019\ADSync.mdf`,
	"localdb.mdf_bytes":              1200 << 20,
	"adsync.staging_mode":            false,
	"adsync.sync_cycle_enabled":      true,
	"adsync.scheduler_suspended":     false,
	"adsync.auto_upgrade":            "Enabled",
	"adsync.connector_identity_type": "Application",

	"autoupgrade.detail":         "Enabled",
	"certrot.warning_events":     0,
	"certrot.error_events":       0,
	"tpm.present":                true,
	"tpm.ready":                  true,
	"sync.entra_connector":       "contoso.onmicrosoft.com - AAD",
	"sync.last_runs":             []string{"contoso.onmicrosoft.com - AAD|Export|success|2026-11-26T06:31:12Z"},
	"sync.running":               []string{},
	"sync.last_export_utc":       "2026-11-26T06:31:12Z",
	"sync.last_export_age_hours": 1,
}

// onBuild puts ws2019 on another AD Connect build.
func onBuild(b string) hostFacts {
	return hostFacts{
		"aadc.wizard_version": b,
		"aadc.uninstall_entries": []string{
			"Microsoft Azure AD Connect|" + b,
			"Microsoft Azure AD Connect synchronization services|" + b,
		},
	}
}

// ws2012r2V1 is a Windows Server 2012 R2 server still on V1 1.6.4.0.
var ws2012r2V1 = ws2019.with(onBuild("1.6.4.0")).with(hostFacts{
	"os.caption":                           "Microsoft Windows Server 2012 R2 Standard",
	"os.version":                           "6.3.9600",
	"os.build":                             9600,
	"os.ubr":                               21620,
	"ps.version":                           "4.0",
	"ps.clr_version":                       "4.0.30319.42000",
	"dotnet.release":                       394802,
	"tls.net4.system_default_tls_versions": absent,
	"tls.net4.sch_use_strong_crypto":       absent,
	"tls.net4_wow.system_default_tls_versions": absent,
	"tls.net4_wow.sch_use_strong_crypto":       absent,
	"vcredist.x64_installed":                   absent,
	"vcredist.x64_version":                     absent,
	"adsync.db_instance":                       `.\ADSync`,
	"localdb.installed_versions":               []string{"11.0"},
	"localdb.mdf_path":                         `C:\Program Files\Microsoft Azure AD Sync\Data\ADSync.mdf`,
	"adsync.connector_identity_type":           unknown("Get-ADSyncEntraConnectorCredential is not recognized"),
})

var (
	nov26 = date("2026-11-26")
	apr08 = date("2027-04-08")
)

func date(s string) time.Time {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func loadCatalog(tb testing.TB) *Catalog {
	tb.Helper()
	c, err := Load()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func checkByID(tb testing.TB, ev Evaluation, id string) CheckResult {
	tb.Helper()
	for _, ch := range ev.Checks {
		if ch.ID == id {
			return ch
		}
	}
	tb.Fatalf("no check %s", id)
	return CheckResult{}
}

// dump renders an evaluation for failure messages.
func dump(ev Evaluation) string {
	s := fmt.Sprintf("verdict %s blocking %v\n  reason: %s\n  next: %s\n", ev.Verdict, ev.Blocking, ev.Reason, ev.NextStep)
	for _, ch := range ev.Checks {
		if ch.Status != StatusPass && ch.Status != StatusNotApplicable {
			s += fmt.Sprintf("  %-26s %-8s %-15s %s\n", ch.ID, ch.Severity, ch.Status, ch.Reason)
		}
	}
	return s
}

func TestFixtureReportsEveryFact(t *testing.T) {
	for _, d := range facts.Registry {
		if _, ok := ws2019[d.Key]; !ok {
			t.Errorf("ws2019 lacks %s", d.Key)
		}
	}
}
