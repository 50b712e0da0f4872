package simulator

import "time"

// The demo account. DemoPassword is published here and works only against
// the simulator: it is for the demo, never a real secret.
const (
	DemoUser     = `CONTOSO\svc-aadcready`
	DemoPassword = "Demo-Only-Not-A-Secret-1"
)

// DemoFleet is a small built-in fleet on 127.0.10.x, port 5985, with every
// verdict a scan can reach: ready, upgrade, fix then upgrade, migrate,
// incomplete (denied and garbled output), not installed, and unreachable
// (refused and hanging), plus a slow host and one reached over HTTPS.
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
		"os":     "Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))",
		"adsync": "Access is denied. The ADSync cmdlets need membership of ADSyncAdmins.",
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
	return &Fleet{Source: "demo", Hosts: []Host{
		host("aadc-ready", "1", "ws2019-v2-current"),
		host("aadc-old", "2", "ws2016-v2-old"),
		host("aadc-appauth", "3", "ws2022-v2-needs-appauth"),
		host("aadc-tls", "4", "ws2019-tls-missing"),
		host("aadc-v1", "5", "ws2012r2-v1"),
		host("aadc-core", "6", "server-core"),
		denied,
		host("member-01", "8", "ws2019-no-aadc"),
		refuse, hang, garbled, slow, https,
	}}
}
