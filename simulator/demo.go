package simulator

import (
	"time"

	"aadcready/facts"
)

// The demo account. DemoPassword is published here and works only against
// the simulator: it is for the demo, never a real secret.
const (
	DemoUser     = `CONTOSO\svc-aadcready`
	DemoPassword = "Demo-Only-Not-A-Secret-1"
)

// DemoFleet is a small built-in fleet on 127.0.10.x, port 5985, with every
// verdict a scan can reach: ready (one of them with the 2027-04-07 deadline
// ahead), fix, upgrade (a retired build), fix then upgrade, migrate,
// incomplete (denied and garbled output), not installed, and unreachable
// (refused and hanging), plus a slow host, one reached over HTTPS and a
// hardened Tier-0 server that still gets its full verdict.
func DemoFleet() *Fleet {
	users := []User{{Name: DemoUser, Password: DemoPassword}}
	host := func(name, last, profile string) Host {
		return Host{
			Name: name, Address: "127.0.10." + last, Port: defaultPort, Users: users, Profile: profile,
			PSRuntime: 400 * time.Millisecond, // a healthy server starting powershell.exe
		}
	}
	denied := host("aadc-denied", "7", "ws2019-v2-current")
	// An account outside Administrators: WMI and the ADSync cmdlets refuse.
	denied.FailProbes = map[string]string{
		"os":        "Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))",
		"adsync":    "Access is denied. The ADSync cmdlets need membership of ADSyncAdmins.",
		"syncstate": "Access is denied. The ADSync cmdlets need membership of ADSyncAdmins.",
	}
	slow := host("aadc-slow", "12", "ws2019-v2-current")
	slow.Behavior, slow.Latency, slow.PSRuntime = BehaviorSlow, 200*time.Millisecond, time.Second
	https := host("aadc-https", "13", "ws2025-v2-current")
	https.HTTPS, https.HTTPSPort = true, 5986
	refuse := host("aadc-down", "9", "ws2019-v2-current")
	refuse.Behavior = BehaviorRefuse
	hang := host("aadc-hung", "10", "ws2019-v2-current")
	hang.Behavior = BehaviorHang
	garbled := host("aadc-garbled", "11", "ws2019-v2-current")
	garbled.Behavior = BehaviorGarbage
	hardened := Hardened("aadc-hardened", "127.0.10.14")
	hardened.Users, hardened.Port, hardened.PSRuntime = users, defaultPort, 400*time.Millisecond
	return &Fleet{Source: "demo", Hosts: []Host{
		host("aadc-ready", "1", "ws2019-v2-current"),
		host("aadc-old", "2", "ws2016-v2-old"),
		host("aadc-appauth", "3", "ws2022-v2-needs-appauth"),
		host("aadc-tls", "4", "ws2019-tls-missing"),
		host("aadc-v1", "5", "ws2012r2-v1"),
		host("aadc-core", "6", "server-core"),
		denied,
		host("member-01", "8", "ws2019-no-aadc"),
		refuse, hang, garbled, slow, https, hardened,
		host("aadc-legacy-id", "15", "ws2022-legacy-identity"),
		host("aadc-tls-off", "16", "ws2019-tls12-disabled"),
		host("aadc-retired", "17", "ws2019-retired-2-5-79"),
	}}
}

// Hardened is a Tier-0 sync server as Microsoft tells owners to harden
// it: WDAC puts PowerShell in ConstrainedLanguage mode, group policy sets
// AllSigned, transcription and script block logging; WMI does not list the
// ADSync service to the scan account (its key says it exists); an agent's
// Uninstall entry has a malformed value. Connect itself is current, so the
// verdict is READY with warnings.
func Hardened(name, address string) Host {
	ok := func(v any) facts.Fact { return facts.Fact{Status: facts.StatusOK, Value: v} }
	return Host{
		Name: name, Address: address, Profile: "ws2019-v2-current", LanguageMode: "ConstrainedLanguage",
		Facts: map[string]facts.Fact{
			"ps.execution_policy": ok("AllSigned"), "ps.execution_policy_gpo": ok("AllSigned"),
			"ps.execution_policy_machine_policy": ok("AllSigned"), "ps.execution_policy_machine": ok("AllSigned"),
			"ps.transcription_enabled": ok(true), "ps.script_block_logging": ok(true),
			"adsync.service_state": {Status: facts.StatusError, Reason: "WMI Win32_Service has no ADSync service; its registry key exists, " +
				"so the service does (the account may not query it): state unknown"},
			"adsync.service_source": ok("registry"),
		},
		CorruptValues: []RegValue{{Key: uninstallRoot + `\{6A1C2D3E-0000-4F5A-9B8C-7D6E5F4A3B2C}`, Value: "DisplayName"}},
	}
}
