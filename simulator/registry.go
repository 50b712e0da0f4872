package simulator

import (
	"fmt"
	"slices"
	"strings"

	"aadcready/facts"
)

// RegValue names one registry value: its key (HKLM\...) and value name.
type RegValue struct {
	Key   string
	Value string
}

// The messages Windows PowerShell 5.1 gives for a malformed value (an
// 8-byte REG_DWORD; PowerShell#9552) and for a key the account may not open.
const (
	msgCorruptValue   = "Specified cast is not valid."
	msgUnreadableKey  = "Requested registry access is not allowed."
	uninstallRoot     = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`
	uninstallRootWow  = `HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`
	localDBVersionKey = `HKLM\SOFTWARE\Microsoft\Microsoft SQL Server Local DB\Installed Versions`
)

// regReads is what the bundle reads from the registry, value by value, and
// the facts each value feeds (probes/*.ps1). The bundle reads every value in
// its own protected call, so a malformed value costs only these facts.
var regReads = []struct {
	key, value string
	facts      []string
}{
	{`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "CurrentBuildNumber", []string{"os.build"}},
	{`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "UBR", []string{"os.ubr"}},
	{`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "InstallationType", []string{"os.installation_type"}},
	{`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "EditionID", []string{"os.edition_id"}},
	{`HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions`, "ProductType", []string{"os.product_type"}},
	{`HKLM\SOFTWARE\Microsoft\Ole`, "MachineAccessRestriction", []string{"dcom.ole_restrictions_present"}},
	{`HKLM\SOFTWARE\Microsoft\Ole`, "MachineLaunchRestriction", []string{"dcom.ole_restrictions_present"}},
	{`HKLM\SOFTWARE\Microsoft\Ole`, "DefaultLaunchPermission", []string{"dcom.ole_restrictions_present"}},
	{`HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell`, "ExecutionPolicy", []string{"ps.execution_policy_gpo"}},
	{`HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell\ScriptBlockLogging`, "EnableScriptBlockLogging", []string{"ps.script_block_logging"}},
	{`HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell\Transcription`, "EnableTranscripting", []string{"ps.transcription_enabled"}},
	{`HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full`, "Release", []string{"dotnet.release"}},
	{`HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319`, "SystemDefaultTlsVersions", []string{"tls.net4.system_default_tls_versions"}},
	{`HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319`, "SchUseStrongCrypto", []string{"tls.net4.sch_use_strong_crypto"}},
	{`HKLM\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319`, "SystemDefaultTlsVersions", []string{"tls.net4_wow.system_default_tls_versions"}},
	{`HKLM\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319`, "SchUseStrongCrypto", []string{"tls.net4_wow.sch_use_strong_crypto"}},
	{`HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Server`, "Enabled", []string{"tls.schannel12_server.enabled"}},
	{`HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Server`, "DisabledByDefault", []string{"tls.schannel12_server.disabled_by_default"}},
	{`HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client`, "Enabled", []string{"tls.schannel12_client.enabled"}},
	{`HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client`, "DisabledByDefault", []string{"tls.schannel12_client.disabled_by_default"}},
	{`HKLM\SOFTWARE\Microsoft\VisualStudio\14.0\VC\Runtimes\x64`, "Installed", []string{"vcredist.x64_installed", "vcredist.x64_version"}},
	{`HKLM\SOFTWARE\Microsoft\VisualStudio\14.0\VC\Runtimes\x64`, "Version", []string{"vcredist.x64_version"}},
	{`HKLM\SOFTWARE\Microsoft\Azure AD Connect`, "WizardPath", []string{"aadc.wizard_path", "aadc.wizard_version"}},
	{`HKLM\SOFTWARE\Microsoft\AD Sync`, "Location", []string{"adsync.install_location"}},
	{`HKLM\SYSTEM\CurrentControlSet\Services\ADSync`, "ObjectName", []string{"adsync.service_account"}},
	{`HKLM\SYSTEM\CurrentControlSet\Services\ADSync\Parameters`, "Server", []string{"adsync.db_server"}},
	{`HKLM\SYSTEM\CurrentControlSet\Services\ADSync\Parameters`, "SQLInstance", []string{"adsync.db_instance"}},
	{`HKLM\SYSTEM\CurrentControlSet\Services\ADSync\Parameters`, "DBName", []string{"adsync.db_name"}},
	{`HKLM\SYSTEM\CurrentControlSet\Services\Netlogon`, "JoinDomain", []string{"reboot.netlogon_join_domain"}},
	{`HKLM\SYSTEM\CurrentControlSet\Services\Netlogon`, "AvoidSpnSet", []string{"reboot.netlogon_avoid_spn_set"}},
	{`HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName`, "ComputerName", []string{"reboot.computer_rename_pending"}},
	{`HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`, "ComputerName", []string{"reboot.computer_rename_pending"}},
	{`HKLM\SYSTEM\CurrentControlSet\Control\Session Manager`, "PendingFileRenameOperations", []string{"reboot.file_rename_pending"}},
}

// regKeyReads are keys the bundle lists or tests for existence (no value):
// a key that cannot be opened makes these facts unknown.
var regKeyReads = map[string][]string{
	`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`:  {"reboot.cbs_reboot_pending"},
	`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`: {"reboot.wu_reboot_required"},
	uninstallRoot:     {"aadc.uninstall_entries"},
	uninstallRootWow:  {"aadc.uninstall_entries"},
	localDBVersionKey: {"localdb.installed_versions"},
}

// The process architectures a host's PowerShell may report, and what the
// prelude says for an HKLM\SOFTWARE read in a 32-bit one.
const (
	arch64      = "AMD64"
	arch32on64  = "x86 on AMD64"
	wow64Reason = `not read: this is a 32-bit PowerShell, which sees the 32-bit registry view of HKLM\SOFTWARE`
)

// applyWow64 is the prelude's Test-AadcWow64: every fact read from
// HKLM\SOFTWARE becomes unknown, and what is derived from those.
func applyWow64(set *facts.Set) {
	unknown := facts.Fact{Status: facts.StatusError, Reason: wow64Reason}
	var keys []string
	for _, r := range regReads {
		if strings.HasPrefix(r.key, `HKLM\SOFTWARE\`) {
			keys = append(keys, r.facts...)
		}
	}
	for k, fs := range regKeyReads {
		if strings.HasPrefix(k, `HKLM\SOFTWARE\`) {
			keys = append(keys, fs...)
		}
	}
	// reboot.ps1: two SOFTWARE markers unknown make "not pending" unknown.
	if pending, _ := set.Facts["reboot.pending"].Bool(); !pending {
		keys = append(keys, "reboot.pending", "reboot.reasons")
	}
	for _, k := range keys {
		set.Facts[k] = unknown
	}
}

// normKey writes a registry key as HKLM\... without a trailing backslash
// ('/' is a character of key names, not a separator); ok is false for
// anything outside HKEY_LOCAL_MACHINE.
func normKey(k string) (string, bool) {
	k = strings.TrimRight(strings.TrimSpace(k), `\`)
	for _, p := range []string{`HKLM:\`, `HKLM\`, `HKEY_LOCAL_MACHINE\`} {
		if len(k) > len(p) && strings.EqualFold(k[:len(p)], p) {
			return `HKLM\` + k[len(p):], true
		}
	}
	return k, false
}

// uninstallEntry says whether key is one entry (a direct subkey) of an
// Uninstall root, and returns the entry's name.
func uninstallEntry(key string) (string, bool) {
	for _, root := range []string{uninstallRoot, uninstallRootWow} {
		if len(key) > len(root)+1 && strings.EqualFold(key[:len(root)+1], root+`\`) {
			return key[len(root)+1:], true
		}
	}
	return "", false
}

// regFactsOf lists the facts a key (value == "": any value of it, or the key
// itself) feeds; unknown keys feed none.
func regFactsOf(key, value string) []string {
	var out []string
	for _, r := range regReads {
		if strings.EqualFold(r.key, key) && (value == "" || strings.EqualFold(r.value, value)) {
			out = append(out, r.facts...)
		}
	}
	for k, fs := range regKeyReads {
		if strings.EqualFold(k, key) && value == "" {
			out = append(out, fs...)
		}
	}
	return out
}

// checkRegFault validates one corrupt value (value != "") or unreadable
// key: the bundle must read it, or it would plant nothing.
func checkRegFault(key, value string) error {
	k, ok := normKey(key)
	if !ok {
		return fmt.Errorf("key %s: write a key under HKLM\\", key)
	}
	if _, ok := uninstallEntry(k); ok {
		return nil
	}
	if len(regFactsOf(k, value)) == 0 {
		if value != "" {
			return fmt.Errorf("the probes never read value %q of %s", value, k)
		}
		return fmt.Errorf("the probes never read key %s", k)
	}
	return nil
}

// applyRegFaults turns the host's corrupt values and unreadable keys into
// what the bundle reports: each affected fact unknown with PowerShell's
// message; an Uninstall entry whose DisplayName or DisplayVersion cannot be
// read lands in aadc.uninstall_unreadable, the list keeps the others.
func (h *hostState) applyRegFaults(set *facts.Set) {
	unreadable := []string{}
	if f, ok := set.Facts["aadc.uninstall_unreadable"].List(); ok {
		unreadable = slices.Clone(f)
	}
	fault := func(key, value, msg string) {
		k, _ := normKey(key)
		if entry, ok := uninstallEntry(k); ok {
			if value == "" || strings.EqualFold(value, "DisplayName") || strings.EqualFold(value, "DisplayVersion") {
				unreadable = append(unreadable, entry+": "+msg)
			}
			return
		}
		for _, f := range regFactsOf(k, value) {
			set.Facts[f] = facts.Fact{Status: facts.StatusError, Reason: msg}
		}
	}
	for _, cv := range h.cfg.CorruptValues {
		fault(cv.Key, cv.Value, msgCorruptValue)
	}
	for _, k := range h.cfg.UnreadableKeys {
		fault(k, "", msgUnreadableKey)
	}
	if len(h.cfg.CorruptValues)+len(h.cfg.UnreadableKeys) > 0 {
		set.Facts["aadc.uninstall_unreadable"] = facts.Fact{Status: facts.StatusOK, Value: unreadable}
		// As aadconnect.ps1: with no matching entry read, an unreadable
		// one may be the product, so the list is unknown.
		if entries, ok := set.Facts["aadc.uninstall_entries"].List(); ok && len(entries) == 0 && len(unreadable) > 0 {
			set.Facts["aadc.uninstall_entries"] = facts.Fact{Status: facts.StatusError,
				Reason: fmt.Sprintf("%d entries could not be read and none that could matches: %s", len(unreadable), unreadable[0])}
		}
	}
	// As reboot.ps1: one marker set means pending; else an unknown marker
	// makes "not pending" unknown too.
	if pending, _ := set.Facts["reboot.pending"].Bool(); !pending {
		for _, m := range rebootMarkers {
			if f := set.Facts[m]; f.Status == facts.StatusError {
				set.Facts["reboot.pending"], set.Facts["reboot.reasons"] = f, f
			}
		}
	}
}

// rebootMarkers are the facts reboot.pending is made of.
var rebootMarkers = []string{"reboot.cbs_reboot_pending", "reboot.wu_reboot_required", "reboot.netlogon_join_domain",
	"reboot.netlogon_avoid_spn_set", "reboot.computer_rename_pending"}
