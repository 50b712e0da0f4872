package simulator

import (
	"slices"
	"strings"
	"testing"

	"aadcready/facts"
	"aadcready/probes"
)

// TestCorruptUninstallValue: a malformed value in one Uninstall entry (and
// an entry whose key cannot be opened) costs those entries only: the
// product's entries, the ADSync service, database and LocalDB facts are
// still reported, the lost entries are listed as unreadable.
func TestCorruptUninstallValue(t *testing.T) {
	f, err := ParseFleet("corrupt.yaml", []byte(`users: [{username: a, password: b}]
hosts:
  - name: corrupt
    corrupt_values:
      - {key: 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{5C6C6F0F-BAD0-4B4E-9F2A-1D3A2E4C5B6A}', value: DisplayName}
      - {key: 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\NoisyAgent', value: EstimatedSize}
    unreadable_keys: ['HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\Vendor/Tool']
`))
	if err != nil {
		t.Fatal(err)
	}
	// The registry faults as read from the file, on a host of the test range.
	s := startHosts(t, Host{Name: "corrupt", CorruptValues: f.Hosts[0].CorruptValues, UnreadableKeys: f.Hosts[0].UnreadableKeys})
	r := client(t, s, "corrupt", false).run(probes.CommandLine(), []byte(probes.Bundle()))
	set, diag := probes.Parse(r.stdout, probes.BundleID())
	if len(diag.Problems) > 0 {
		t.Fatalf("problems: %v", diag.Problems)
	}
	for _, key := range []string{"adsync.service_state", "adsync.service_start_mode", "adsync.service_account", "adsync.db_server",
		"adsync.db_instance", "adsync.db_name", "localdb.installed_versions", "localdb.mdf_path", "localdb.mdf_bytes",
		"aadc.wizard_path", "aadc.wizard_version", "adsync.install_location"} {
		if f := set.Get(key); f.Status != facts.StatusOK {
			t.Errorf("%s = %s", key, f.Display())
		}
	}
	if entries, ok := set.Get("aadc.uninstall_entries").List(); !ok || !slices.Contains(entries, "Microsoft Entra Connect Sync|2.6.92.0") {
		t.Errorf("uninstall entries %s", set.Get("aadc.uninstall_entries").Display())
	}
	got, _ := set.Get("aadc.uninstall_unreadable").List()
	want := []string{"{5C6C6F0F-BAD0-4B4E-9F2A-1D3A2E4C5B6A}: Specified cast is not valid.", "Vendor/Tool: Requested registry access is not allowed."}
	if !slices.Equal(got, want) {
		t.Errorf("unreadable %q, want %q (EstimatedSize is never read)", got, want)
	}
}

// TestCorruptEntryOnMemberServer: on a server without Connect, an
// unreadable Uninstall entry may be the product: the list is unknown and
// the host INCOMPLETE, not NOT_INSTALLED... unless the wizard path or the
// service shows the product (they are absent here).
func TestCorruptEntryOnMemberServer(t *testing.T) {
	s := startHosts(t, Host{Name: "member", Profile: "ws2019-no-aadc",
		CorruptValues: []RegValue{{Key: uninstallRoot + `\{0F0F0F0F-0000-0000-0000-000000000001}`, Value: "DisplayName"}}})
	r := client(t, s, "member", false).run(probes.CommandLine(), []byte(probes.Bundle()))
	set, _ := probes.Parse(r.stdout, probes.BundleID())
	if f := set.Get("aadc.uninstall_entries"); f.Status != facts.StatusError || !strings.Contains(f.Reason, "1 entries could not be read") {
		t.Errorf("uninstall entries %s", f.Display())
	}
}

// TestCorruptValueCostsItsFacts: a malformed value outside the Uninstall
// list makes exactly the facts read from it unknown; an unreadable reboot
// marker key makes reboot.pending unknown too (no other marker is set).
func TestCorruptValueCostsItsFacts(t *testing.T) {
	h := Host{Name: "h", CorruptValues: []RegValue{{Key: `HKLM\SYSTEM\CurrentControlSet\Services\ADSync\Parameters`, Value: "SQLInstance"}},
		UnreadableKeys: []string{`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`}}
	s := startHosts(t, h)
	r := client(t, s, "h", false).run(probes.CommandLine(), []byte(probes.Bundle()))
	set, _ := probes.Parse(r.stdout, probes.BundleID())
	for key, want := range map[string]string{
		"adsync.db_instance":        "unknown (Specified cast is not valid.)",
		"adsync.db_name":            "ADSync",
		"reboot.wu_reboot_required": "unknown (Requested registry access is not allowed.)",
		"reboot.pending":            "unknown (Requested registry access is not allowed.)",
		"reboot.cbs_reboot_pending": "false",
	} {
		if got := set.Get(key).Display(); got != want {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}
}

// TestWow64Host: a 32-bit PowerShell reports its architecture and every
// HKLM\SOFTWARE fact unknown (it would read the 32-bit view), while the
// SYSTEM hive and WMI facts stay known.
func TestWow64Host(t *testing.T) {
	f, err := ParseFleet("wow.yaml", []byte("users: [{username: a, password: b}]\nhosts:\n  - {name: wow, process_arch: x86 on AMD64}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := startHosts(t, Host{Name: "wow", ProcessArch: f.Hosts[0].ProcessArch})
	r := client(t, s, "wow", false).run(probes.CommandLine(), []byte(probes.Bundle()))
	set, _ := probes.Parse(r.stdout, probes.BundleID())
	if v, _ := set.Get("ps.process_arch").Str(); v != "x86 on AMD64" {
		t.Errorf("ps.process_arch %q", v)
	}
	for _, key := range []string{"tls.net4.sch_use_strong_crypto", "dotnet.release", "os.build", "aadc.wizard_path", "aadc.uninstall_entries", "localdb.installed_versions"} {
		if f := set.Get(key); f.Status != facts.StatusError || !strings.Contains(f.Reason, "32-bit PowerShell") {
			t.Errorf("%s = %s", key, f.Display())
		}
	}
	for _, key := range []string{"tls.schannel12_server.enabled", "adsync.db_instance", "os.caption", "adsync.service_state"} {
		if f := set.Get(key); f.Status != facts.StatusOK {
			t.Errorf("%s = %s", key, f.Display())
		}
	}
	if _, err := ParseFleet("bad.yaml", []byte("users: [{username: a, password: b}]\nhosts:\n  - {name: wow, process_arch: ia64}\n")); err == nil ||
		!strings.Contains(err.Error(), "process_arch") {
		t.Errorf("bad process_arch: %v", err)
	}
}
