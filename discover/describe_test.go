package discover

import (
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

func TestParseDescription(t *testing.T) {
	const tail = " This account must have directory replication permissions in the local Active Directory and write permission on certain attributes to enable Hybrid Deployment."
	cases := []struct {
		name, desc string
		want       Wording
		ok         bool
	}{
		{"azure, unquoted",
			"Account created by Microsoft Azure Active Directory Connect with installation identifier 6F1C0E3A9B2D4C8E8A7B6C5D4E3F2A1B running on computer AADC01 configured to synchronize to tenant contoso.onmicrosoft.com." + tail,
			Wording{"Microsoft Azure Active Directory Connect", "6f1c0e3a9b2d4c8e8a7b6c5d4e3f2a1b", "AADC01", "contoso.onmicrosoft.com"}, true},
		{"entra, quoted",
			"Account created by Microsoft Entra Connect with installation identifier '0a1b2c3d4e5f60718293a4b5c6d7e8f9' running on computer 'SYNC-02' configured to synchronize to tenant 'fabrikam.onmicrosoft.com'." + tail,
			Wording{"Microsoft Entra Connect", "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "SYNC-02", "fabrikam.onmicrosoft.com"}, true},
		{"wrapped lines, fqdn",
			"Account created by Microsoft Azure Active Directory Connect with installation identifier\r\n11111111222233334444555566667777 running on computer\n aadc9.corp.contoso.com configured to synchronize to tenant contoso.onmicrosoft.com.",
			Wording{"Microsoft Azure Active Directory Connect", "11111111222233334444555566667777", "aadc9.corp.contoso.com", "contoso.onmicrosoft.com"}, true},
		{"no tenant", "Account created by Microsoft Entra Connect with installation identifier 11111111222233334444555566667777 running on computer AADC7",
			Wording{"Microsoft Entra Connect", "11111111222233334444555566667777", "AADC7", ""}, true},
		{"german", "Von Microsoft Azure Active Directory Connect erstelltes Konto mit der Installationskennung 44444444555566667777888899990000.", Wording{}, false},
		{"empty", "", Wording{}, false},
		{"hostile name", "Account created by Microsoft Entra Connect running on computer 'AADC\x1b[31m' configured", Wording{}, false},
		{"ordinary user", "an ordinary user", Wording{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseDescription(tc.desc)
			if ok != tc.ok || got != tc.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestFileTime(t *testing.T) {
	if got := fileTime("133000000000000000"); got == nil || got.Format("2006-01-02") != "2022-06-18" {
		t.Errorf("got %v", got)
	}
	for _, never := range []string{"", "0", "9223372036854775807", "x"} {
		if fileTime(never) != nil {
			t.Errorf("%q: want never", never)
		}
	}
}

func TestStaleness(t *testing.T) {
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	ago := func(days int) *time.Time { t := now.AddDate(0, 0, -days); return &t }
	cfg := Config{Now: now, StaleAfter: 90 * 24 * time.Hour}
	gc := cfg
	gc.GC = true
	for _, tc := range []struct {
		name   string
		s      Server
		cfg    Config
		forest bool
		want   string
	}{
		{"active", Server{Found: true, Enabled: true, LastLogon: ago(10)}, cfg, false, ""},
		{"missing", Server{}, cfg, false, "computer object not found in this domain (--gc searches the forest)"},
		{"missing in the forest", Server{}, gc, true, "computer object not found"},
		{"disabled", Server{Found: true, LastLogon: ago(1)}, cfg, false, "computer account disabled"},
		{"old logon", Server{Found: true, Enabled: true, LastLogon: ago(120)}, cfg, false, "computer has not logged on for 120 days"},
		{"new, no logon yet", Server{Found: true, Enabled: true, Created: ago(3)}, cfg, false, ""},
		{"old, never logged on", Server{Found: true, Enabled: true, Created: ago(400)}, cfg, false, "computer has never logged on"},
		{"gc without logon time", Server{Found: true, Enabled: true, Created: ago(400)}, gc, true, ""},
		{"found in the gc without logon time", Server{Found: true, Enabled: true, Created: ago(400), FromGC: true}, cfg, true, ""},
	} {
		if got := staleness(tc.s, tc.cfg, tc.forest); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func BenchmarkParseDescription(b *testing.B) {
	const d = "Account created by Microsoft Azure Active Directory Connect with installation identifier 6f1c0e3a9b2d4c8e8a7b6c5d4e3f2a1b running on computer AADC01 configured to synchronize to tenant contoso.onmicrosoft.com. This account must have directory replication permissions in the local Active Directory and write permission on certain attributes to enable Hybrid Deployment."
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseDescription(d); !ok {
			b.Fatal("not parsed")
		}
	}
}

// FuzzParseDescription: a description is whatever anyone with write access
// to a user object put there. Parsing never panics, and a name it returns
// is one a host name can be.
func FuzzParseDescription(f *testing.F) {
	f.Add("Account created by Microsoft Entra Connect with installation identifier '0a1b2c3d4e5f60718293a4b5c6d7e8f9' running on computer 'SYNC-02' configured to synchronize to tenant 'fabrikam.onmicrosoft.com'.")
	f.Add("running on computer AADC01 configured to synchronize to tenant x.onmicrosoft.com")
	f.Add("running on computer '' configured")
	f.Add("Von Microsoft Azure Active Directory Connect erstelltes Konto")
	f.Fuzz(func(t *testing.T, d string) {
		w, ok := ParseDescription(d)
		if ok && !validComputer(w.Computer) {
			t.Fatalf("computer %q from %q", w.Computer, d)
		}
		if !ok && w != (Wording{}) {
			t.Fatalf("not ok but %+v", w)
		}
	})
}

func TestMatchesComputer(t *testing.T) {
	entry := func(sam, dns string) *ldap.Entry {
		return ldap.NewEntry("CN=x", map[string][]string{"sAMAccountName": {sam}, "dNSHostName": {dns}})
	}
	for _, tc := range []struct {
		name string
		e    *ldap.Entry
		want bool
	}{
		{"AADC01", entry("aadc01$", "aadc01.contoso.com"), true},
		{"AADC01", entry("AADC011$", ""), false},
		{"aadc01.contoso.com", entry("AADC01$", "AADC01.contoso.com"), true},
		{"aadc01.contoso.com", entry("AADC01$", "aadc01.fabrikam.com"), false},
		{"aadc01.contoso.com", entry("AADC01$", ""), true},
	} {
		if got := matchesComputer(tc.name, tc.e); got != tc.want {
			t.Errorf("%s vs %v: %v", tc.name, tc.e.Attributes, got)
		}
	}
}
