package simulator

import (
	"fmt"
	"maps"
	"slices"

	"aadcready/facts"
)

// A profile is a named, complete set of facts: what the probes would read on
// a typical server of one kind. Values are plausible, taken from
// ../shared/reference/aadc-requirements.md, not captured from real hosts.
type profile struct {
	doc        string
	envelopeKB int // MaxEnvelopeSizekb when the host sets none (0 = 500)
	facts      map[string]facts.Fact
}

// DefaultProfile is the profile of hosts that name none.
const DefaultProfile = "ws2019-v2-current"

// ProfileNames lists the built-in profiles, sorted.
func ProfileNames() []string { return slices.Sorted(maps.Keys(profiles)) }

// ProfileDoc describes a built-in profile in one line.
func ProfileDoc(name string) string { return profiles[name].doc }

// absent and failed mark facts in profile literals.
type absentFact struct{}

type failedFact string

var absent absentFact

// derive copies base and applies changes. TestProfilesComplete checks the
// result against the registry (a renamed key there must not crash every
// program that links the simulator).
func derive(base map[string]facts.Fact, changes map[string]any) map[string]facts.Fact {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]facts.Fact{}
	}
	for k, v := range changes {
		var f facts.Fact
		switch v := v.(type) {
		case absentFact:
			f = facts.Fact{Status: facts.StatusAbsent}
		case failedFact:
			f = facts.Fact{Status: facts.StatusError, Reason: string(v)}
		case int:
			f = facts.Fact{Status: facts.StatusOK, Value: int64(v)}
		default:
			f = facts.Fact{Status: facts.StatusOK, Value: v}
		}
		out[k] = f
	}
	return out
}

const (
	wizardPath    = `C:\Program Files\Microsoft Azure Active Directory Connect\AzureADConnect.exe`
	syncLocation  = `C:\Program Files\Microsoft Azure AD Sync\`
	mdfV2         = `C:\Program Files\Microsoft Azure AD Sync\Data\ADSync2019\ADSync.mdf`
	mdfV1         = `C:\Program Files\Microsoft Azure AD Sync\Data\ADSync.mdf`
	cmdletMissing = "The term 'Get-ADSyncEntraConnectorCredential' is not recognized as the name of a cmdlet, function, script file, or operable program."
	noModule      = `no ADSync module at C:\Program Files\Microsoft Azure AD Sync\Bin\ADSync`
)

// healthy is Windows Server 2019 with the newest Connect build, app-based
// authentication and TLS 1.2 configured: every check passes.
var healthy = derive(nil, map[string]any{
	"host.name": "AADC01", "os.caption": "Microsoft Windows Server 2019 Standard", "os.version": "10.0.17763",
	"os.build": 17763, "os.ubr": 6414, "os.installation_type": "Server", "os.edition_id": "ServerStandard",
	"os.product_type": "ServerNT", "domain.part_of_domain": true, "domain.name": "contoso.com", "domain.role": 3,
	"dcom.ole_restrictions_present": true,

	"ps.version": "5.1.17763.6414", "ps.clr_version": "4.0.30319.42000", "ps.language_mode": "FullLanguage",
	"ps.process_arch": "AMD64", "ps.execution_policy": "RemoteSigned", "ps.execution_policy_gpo": absent,
	"ps.execution_policy_machine_policy": "Undefined", "ps.execution_policy_user_policy": "Undefined",
	"ps.execution_policy_local_machine": "RemoteSigned", "ps.execution_policy_machine": "RemoteSigned",
	"ps.script_block_logging": false, "ps.transcription_enabled": false,

	"dotnet.release": 528049,

	"tls.net4.system_default_tls_versions": 1, "tls.net4.sch_use_strong_crypto": 1,
	"tls.net4_wow.system_default_tls_versions": 1, "tls.net4_wow.sch_use_strong_crypto": 1,
	"tls.schannel12_server.enabled": 1, "tls.schannel12_server.disabled_by_default": 0,
	"tls.schannel12_client.enabled": 1, "tls.schannel12_client.disabled_by_default": 0,

	"vcredist.x64_installed": true, "vcredist.x64_version": "v14.38.33135.00",

	"aadc.wizard_path": wizardPath, "aadc.wizard_version": "2.6.92.0",
	"aadc.uninstall_entries":    []string{"Microsoft Entra Connect Sync|2.6.92.0", "Microsoft Entra Connect synchronization services|2.6.92.0"},
	"aadc.uninstall_unreadable": []string{},
	"adsync.install_location":   syncLocation,
	"adsync.service_state":      "Running", "adsync.service_start_mode": "Auto", "adsync.service_source": "wmi",
	"adsync.service_account": `NT SERVICE\ADSync`,
	"adsync.db_server":       "(localdb)", "adsync.db_instance": "ADSync2019", "adsync.db_name": "ADSync",
	"localdb.installed_versions": []string{"15.0"}, "localdb.mdf_path": mdfV2, "localdb.mdf_bytes": 1342177280,

	"adsync.staging_mode": false, "adsync.sync_cycle_enabled": true, "adsync.scheduler_suspended": false,
	"adsync.auto_upgrade": "Enabled", "adsync.connector_identity_type": "Application",

	"autoupgrade.detail": "Enabled", "certrot.warning_events": 0, "certrot.error_events": 0,
	"tpm.present": true, "tpm.ready": true,
	"sync.entra_connector": "contoso.onmicrosoft.com - AAD", "sync.running": []string{},
	"sync.last_runs": []string{
		"contoso.com|Delta Synchronization|success|2026-12-03T08:00:41Z",
		"contoso.onmicrosoft.com - AAD|Export|success|2026-12-03T08:01:12Z",
	},
	"sync.last_export_utc": "2026-12-03T08:01:12Z", "sync.last_export_age_hours": 0,

	"hw.memory_bytes": 17179332608, "hw.cpu_max_mhz": 2594, "hw.cpu_logical_count": 4, "hw.system_drive": "C:",
	"hw.system_drive_size_bytes": 136365211648, "hw.system_drive_free_bytes": 71940689920,

	"reboot.cbs_reboot_pending": false, "reboot.wu_reboot_required": false, "reboot.netlogon_join_domain": false,
	"reboot.netlogon_avoid_spn_set": false, "reboot.computer_rename_pending": false,
	"reboot.pending": false, "reboot.reasons": []string{}, "reboot.file_rename_pending": false,
})

func connect(build string, identity any) map[string]any {
	return map[string]any{
		"aadc.wizard_version":            build,
		"aadc.uninstall_entries":         []string{"Microsoft Entra Connect Sync|" + build, "Microsoft Entra Connect synchronization services|" + build},
		"adsync.connector_identity_type": identity,
	}
}

func ws2016(ubr int) map[string]any {
	return map[string]any{
		"os.caption": "Microsoft Windows Server 2016 Standard", "os.version": "10.0.14393", "os.build": 14393,
		"os.ubr": ubr, "ps.version": fmt.Sprintf("5.1.14393.%d", ubr),
	}
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

var noConnect = map[string]any{
	"aadc.wizard_path": absent, "aadc.wizard_version": absent, "aadc.uninstall_entries": []string{},
	"adsync.install_location": absent, "adsync.service_state": absent, "adsync.service_start_mode": absent,
	"adsync.service_source": absent, "adsync.service_account": absent, "adsync.db_server": absent, "adsync.db_instance": absent, "adsync.db_name": absent,
	"localdb.installed_versions": []string{}, "localdb.mdf_path": absent, "localdb.mdf_bytes": absent,
	"adsync.staging_mode": absent, "adsync.sync_cycle_enabled": absent, "adsync.scheduler_suspended": absent,
	"adsync.auto_upgrade": absent, "adsync.connector_identity_type": absent,
	"autoupgrade.detail": failedFact(noModule), "sync.entra_connector": failedFact(noModule),
	"sync.last_runs": failedFact(noModule), "sync.running": failedFact(noModule),
	"sync.last_export_utc": failedFact(noModule), "sync.last_export_age_hours": failedFact(noModule),
}

// lastExport is a host whose last successful export to Entra ID ended at
// end, age hours before the scan: the sync stopped then.
func lastExport(end string, age int) map[string]any {
	return map[string]any{
		"sync.last_runs": []string{
			"contoso.com|Delta Import|success|" + end,
			"contoso.onmicrosoft.com - AAD|Export|success|" + end,
		},
		"sync.last_export_utc": end, "sync.last_export_age_hours": age,
	}
}

var profiles = map[string]profile{
	"ws2019-v2-current": {doc: "Windows Server 2019, Connect 2.6.92.0 with application identity, TLS 1.2 configured: ready", facts: healthy},
	"ws2016-v2-current": {doc: "Windows Server 2016 (extended support ends 2027-01-12), Connect 2.6.92.0 with application identity",
		facts: derive(healthy, ws2016(7428))},
	"ws2016-v2-old": {doc: "Windows Server 2016, Connect 2.4.18.0 (retired) with a service account, no export since 2026-09-30: upgrade in place",
		facts: derive(healthy, merge(ws2016(7159), connect("2.4.18.0", "ServiceAccount"), lastExport("2026-09-29T23:31:02Z", 1544)))},
	"ws2022-v2-needs-appauth": {doc: "Windows Server 2022, Connect 2.5.190.0 still on a service account: needs 2.6.84.0+ with application identity",
		facts: derive(healthy, merge(map[string]any{
			"os.caption": "Microsoft Windows Server 2022 Standard", "os.version": "10.0.20348", "os.build": 20348,
			"os.ubr": 3807, "ps.version": "5.1.20348.3807",
		}, connect("2.5.190.0", "ServiceAccount")))},
	"ws2025-v2-current": {doc: "Windows Server 2025 with KB5070773 (UBR 6905), .NET 4.8.1, Connect 2.6.92.0 with application identity",
		facts: derive(healthy, map[string]any{
			"os.caption": "Microsoft Windows Server 2025 Standard", "os.version": "10.0.26100", "os.build": 26100,
			"os.ubr": 6905, "ps.version": "5.1.26100.6905", "dotnet.release": 533325,
		})},
	"ws2019-tls-missing": {doc: "Windows Server 2019, Connect 2.4.129.0, the four .NET TLS values absent: fix TLS, then upgrade",
		facts: derive(healthy, merge(connect("2.4.129.0", "ServiceAccount"), map[string]any{
			"tls.net4.system_default_tls_versions": absent, "tls.net4.sch_use_strong_crypto": absent,
			"tls.net4_wow.system_default_tls_versions": absent, "tls.net4_wow.sch_use_strong_crypto": absent,
		}))},
	"ws2019-no-aadc": {doc: "Windows Server 2019 member server without Azure AD Connect", facts: derive(healthy, noConnect)},
	"ws2019-dc": {doc: "Windows Server 2019 domain controller running Connect 2.6.92.0 (supported, not recommended)",
		facts: derive(healthy, map[string]any{"domain.role": 5, "os.product_type": "LanmanNT"})},
	"ws2019-staging": {doc: "Windows Server 2019, Connect 2.6.92.0 in staging mode", facts: derive(healthy, map[string]any{"adsync.staging_mode": true})},
	"ws2019-localdb-full": {doc: "Windows Server 2019, Connect 2.6.92.0 with a 9 GiB LocalDB database (auto-upgrade refuses at 8 GB)",
		facts: derive(healthy, map[string]any{"localdb.mdf_bytes": 9663676416})},
	"ws2019-reboot-pending": {doc: "Windows Server 2019, Connect 2.6.92.0, a reboot pending after TLS changes",
		facts: derive(healthy, map[string]any{"reboot.pending": true, "reboot.reasons": []string{"CBS RebootPending"},
			"reboot.cbs_reboot_pending": true, "reboot.file_rename_pending": true})},
	"server-core": {doc: "Windows Server 2019 Datacenter, Server Core installation, Connect 2.6.92.0: the OS is not supported",
		facts: derive(healthy, map[string]any{
			"os.caption": "Microsoft Windows Server 2019 Datacenter", "os.edition_id": "ServerDatacenter",
			"os.installation_type": "Server Core",
		})},
	"ws2012r2-v1": {doc: "Windows Server 2012 R2, PowerShell 4.0, .NET 4.8, Connect 1.6.16.0 (V1, retired): migrate to a new server",
		envelopeKB: 150,
		facts: derive(healthy, map[string]any{
			"os.caption": "Microsoft Windows Server 2012 R2 Standard", "os.version": "6.3.9600", "os.build": 9600, "os.ubr": 21620,
			"ps.version": "4.0", "hw.memory_bytes": 8589393920,
			"tls.net4.system_default_tls_versions": absent, "tls.net4.sch_use_strong_crypto": absent,
			"tls.net4_wow.system_default_tls_versions": absent, "tls.net4_wow.sch_use_strong_crypto": absent,
			"tls.schannel12_server.enabled": absent, "tls.schannel12_server.disabled_by_default": absent,
			"tls.schannel12_client.enabled": absent, "tls.schannel12_client.disabled_by_default": absent,
			"vcredist.x64_installed": absent, "vcredist.x64_version": absent,
			"aadc.wizard_version":    "1.6.16.0",
			"aadc.uninstall_entries": []string{"Microsoft Azure AD Connect|1.6.16.0", "Microsoft Azure AD Connect synchronization services|1.6.16.0"},
			"adsync.db_instance":     "ADSync", "localdb.installed_versions": []string{"11.0"}, "localdb.mdf_path": mdfV1,
			"adsync.auto_upgrade": "Suspended", "adsync.connector_identity_type": failedFact(cmdletMissing),
			"autoupgrade.detail": "Suspended (UpgradeNotSupportedTLSVersionIncorrect)",
			"tpm.present":        false, "tpm.ready": false,
			"sync.last_runs":       []string{"contoso.com|Delta Import|success|2022-08-30T22:00:07Z"},
			"sync.last_export_utc": absent, "sync.last_export_age_hours": absent,
		})},
	"ws2019-retired-2-5-79": {doc: "Windows Server 2019, Connect 2.5.79.0 (end of support 2026-10-23) with application identity: upgrade in place",
		facts: derive(healthy, connect("2.5.79.0", "Application"))},
	"ws2019-recalled-2-6-79": {doc: "Windows Server 2019, Connect 2.6.79.0 (recalled) with application identity: replace it with 2.6.84.0 or later",
		facts: derive(healthy, connect("2.6.79.0", "Application"))},
	"ws2019-os-default-tls": {doc: "Windows Server 2019, Connect 2.6.92.0, none of the eight TLS values set (OS default): ready, auto-upgrade would refuse",
		facts: derive(healthy, map[string]any{
			"tls.net4.system_default_tls_versions": absent, "tls.net4.sch_use_strong_crypto": absent,
			"tls.net4_wow.system_default_tls_versions": absent, "tls.net4_wow.sch_use_strong_crypto": absent,
			"tls.schannel12_server.enabled": absent, "tls.schannel12_server.disabled_by_default": absent,
			"tls.schannel12_client.enabled": absent, "tls.schannel12_client.disabled_by_default": absent,
			"adsync.auto_upgrade": "Suspended", "autoupgrade.detail": "Suspended (UpgradeNotSupportedTLSVersionIncorrect)",
		})},
	"ws2019-tls12-disabled": {doc: "Windows Server 2019, Connect 2.6.92.0, TLS 1.2 turned off for the SCHANNEL client: fix, no upgrade",
		facts: derive(healthy, map[string]any{"tls.schannel12_client.enabled": 0, "tls.schannel12_client.disabled_by_default": 1})},
	"ws2022-legacy-identity": {doc: "Windows Server 2022, Connect 2.6.84.0 still on the legacy service account: switch by hand before 2027-04-07",
		facts: derive(healthy, merge(map[string]any{
			"os.caption": "Microsoft Windows Server 2022 Standard", "os.version": "10.0.20348", "os.build": 20348,
			"os.ubr": 3807, "ps.version": "5.1.20348.3807",
		}, connect("2.6.84.0", "ServiceAccount")))},
	"ws2019-scheduler-suspended": {doc: "Windows Server 2019, Connect 2.6.92.0, sync scheduler suspended (no sync, no certificate rotation): fix",
		facts: derive(healthy, merge(map[string]any{"adsync.scheduler_suspended": true}, lastExport("2026-11-30T14:02:51Z", 65)))},
	"ws2019-sync-stale": {doc: "Windows Server 2019, Connect 2.6.92.0, last successful export to Entra ID 9 days ago: it has stopped syncing",
		facts: derive(healthy, lastExport("2026-11-24T07:31:12Z", 216))},
}
