//go:build linux

package discover

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"aadcready/test/peer"
	"aadcready/test/sambadc"
	"aadcready/wsman"
)

// activeServers runs a discovery and returns the active servers found.
func activeServers(t *testing.T, cfg Config) ([]string, *Result) {
	t.Helper()
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var active []string
	for _, s := range r.Servers {
		if s.Active() {
			active = append(active, s.Host())
		}
	}
	slices.Sort(active)
	return active, r
}

// A SASL GSSAPI bind with Samba's own KDC, from a password and from a
// ticket cache MIT's kinit wrote, finds what the simple bind finds.
func TestDiscoverKerberosSamba(t *testing.T) {
	needDC(t)
	dir := t.TempDir()
	conf, err := dc.Krb5Conf(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5_CONFIG", conf)
	simple, _ := activeServers(t, baseConfig())

	sources := map[string]func(t *testing.T) wsman.KerberosOptions{
		"password": func(*testing.T) wsman.KerberosOptions {
			return wsman.KerberosOptions{Principal: "Administrator@" + sambadc.Realm, Password: sambadc.AdminPassword}
		},
		"keytab from the DC": func(t *testing.T) wsman.KerberosOptions {
			kt := filepath.Join(t.TempDir(), "reader.keytab")
			if err := dc.ExportKeytab(sambadc.Reader+"@"+sambadc.Realm, kt); err != nil {
				t.Fatal(err)
			}
			return wsman.KerberosOptions{Principal: sambadc.Reader + "@" + sambadc.Realm, Keytab: kt}
		},
		"ticket cache from kinit": func(t *testing.T) wsman.KerberosOptions {
			if _, err := exec.LookPath("kinit"); err != nil {
				peer.Missing(t, "MIT kinit", "sudo apt-get install -y krb5-user", err)
			}
			cc := filepath.Join(t.TempDir(), "cc")
			if err := sambadc.Kinit(conf, sambadc.Reader, sambadc.ReaderPassword, cc); err != nil {
				t.Fatal(err)
			}
			return wsman.KerberosOptions{CCache: cc}
		},
	}
	for name, opts := range sources {
		t.Run(name, func(t *testing.T) {
			k, err := wsman.NewKerberos(opts(t))
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			for _, mode := range []string{TLSLDAPS, TLSStartTLS} {
				cfg := baseConfig()
				cfg.Username, cfg.Password, cfg.Kerberos, cfg.TLS = "", "", k, mode
				got, r := activeServers(t, cfg)
				if !slices.Equal(got, simple) || !slices.Equal(got, sambadc.ActiveServers) {
					t.Errorf("%s: active servers %v, want %v as with a simple bind", mode, got, simple)
				}
				if r.Stats.Queries != 4 { // the global catalog bind too
					t.Errorf("%s: stats %+v", mode, r.Stats)
				}
			}
			// One AS exchange (none from a ticket cache) and one service
			// ticket for ldap/DC1.aadc.test, for four binds.
			as, tgs := k.KDCRequests()
			if wantAS := map[string]int64{"password": 1, "keytab from the DC": 1}[name]; as != wantAS || tgs != 1 {
				t.Errorf("KDC requests: %d AS, %d TGS; want %d and 1", as, tgs, wantAS)
			}
		})
	}
}

func TestDiscoverKerberosErrors(t *testing.T) {
	needDC(t)
	conf, err := dc.Krb5Conf(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5_CONFIG", conf)
	cred := func(password string) *wsman.Kerberos {
		k, err := wsman.NewKerberos(wsman.KerberosOptions{Principal: "Administrator@" + sambadc.Realm, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(k.Close)
		return k
	}
	good, wrong := cred(sambadc.AdminPassword), cred("not-the-password")
	cases := []struct {
		name string
		mut  func(*Config)
		kind Kind
		says string
	}{
		{"wrong password", func(c *Config) { c.Kerberos = wrong }, KindLogon, "kerberos_preauth_failed (tried once, not retried)"},
		{"wrong password, second run", func(c *Config) { c.Kerberos = wrong }, KindLogon, "kerberos_preauth_failed"},
		{"DC by IP", func(c *Config) { c.ServerName = "" }, KindUsage, "is an IP address: Kerberos cannot ask the KDC for a ticket to ldap/127.0.12.1"},
		{"unknown SPN", func(c *Config) { c.SPN = "ldap/nosuch.aadc.test" }, KindLogon, "kerberos_spn_unknown"},
		{"plain LDAP", func(c *Config) { c.TLS = TLSNone }, KindLogon, "refuses a Kerberos bind without TLS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Username, cfg.Password, cfg.Kerberos = "", "", good
			tc.mut(&cfg)
			_, err := Run(context.Background(), cfg)
			var de *Error
			if !errors.As(err, &de) || de.Kind != tc.kind || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want kind %s saying %q", err, tc.kind, tc.says)
			}
		})
	}
	if as, _ := wrong.KDCRequests(); as != 1 {
		t.Errorf("the refused password was sent %d times, want once", as)
	}
}
