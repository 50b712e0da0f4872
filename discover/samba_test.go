//go:build linux

// Samba's self-generated certificate has a negative serial number, which Go
// refuses unless told otherwise; the aadcready binary is (cmd/aadcready).
//
//go:debug x509negativeserial=1

package discover

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"aadcready/test/peer"
	"aadcready/test/sambadc"
)

// dc is the Samba AD DC of this package's tests (nil: not available, see
// dcSkip). Provisioning takes seconds to a minute, so it happens once.
var (
	dc     *sambadc.DC
	dcSkip error
	dcNow  = time.Now()
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if flag.Lookup("test.run").Value.String() == "^$" { // benchmarks and fuzzing only: no DC needed
			dcSkip = errors.New("not needed")
			return m.Run()
		}
		if err := sambadc.Available(); err != nil {
			dcSkip = err
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "aadcready-samba-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		dc, err = sambadc.Start(ctx, dir, "127.0.12.1", sambadc.Fixture(dcNow), sambadc.SambaCertificate)
		if err != nil {
			fmt.Fprintln(os.Stderr, "samba AD DC:", err)
			return 1
		}
		defer dc.Stop()
		return m.Run()
	}()
	os.Exit(code)
}

// needDC fails in CI and skips visibly elsewhere when Samba is missing.
func needDC(t *testing.T) {
	t.Helper()
	if dcSkip != nil {
		peer.Missing(t, "a Samba AD DC", sambadc.Install, dcSkip)
	}
}

func baseConfig() Config {
	return Config{
		Host: dc.IP, TLS: TLSLDAPS, ServerName: sambadc.ServerName, CAFile: dc.CAFile,
		Username: sambadc.AdminUPN, Password: sambadc.AdminPassword,
		QueryTimeout: 20 * time.Second, StaleAfter: 90 * 24 * time.Hour, Now: dcNow,
	}
}

func TestDiscoverSamba(t *testing.T) {
	needDC(t)
	for _, mode := range []struct {
		name string
		mut  func(*Config)
	}{
		{"ldaps", func(*Config) {}},
		{"starttls", func(c *Config) { c.TLS = TLSStartTLS }},
		{"global catalog over TLS", func(c *Config) { c.GC = true }},
	} {
		t.Run(mode.name, func(t *testing.T) {
			cfg := baseConfig()
			mode.mut(&cfg)
			r, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "only in its Common Name") }) {
				t.Errorf("no warning about Samba's Common Name-only certificate: %q", r.Warnings)
			}
			if r.Forest != "aadc.test" || r.Domain != "aadc.test" {
				t.Errorf("forest %q domain %q", r.Forest, r.Domain)
			}
			var active []string
			stale := map[string]string{}
			for _, s := range r.Servers {
				if s.Active() {
					active = append(active, s.Host())
				} else {
					stale[s.Name] = s.Stale
				}
			}
			slices.Sort(active)
			if !slices.Equal(active, sambadc.ActiveServers) {
				t.Errorf("active servers %v, want %v", active, sambadc.ActiveServers)
			}
			for name, why := range sambadc.StaleServers {
				if !strings.HasPrefix(stale[name], why[:20]) {
					t.Errorf("%s: stale %q, want %q", name, stale[name], why)
				}
			}
			if len(stale) != len(sambadc.StaleServers) {
				t.Errorf("stale %v, want %v", stale, sambadc.StaleServers)
			}
			var localised *Account
			for i, a := range r.Accounts {
				if a.Name == sambadc.Localised {
					localised = &r.Accounts[i]
				}
			}
			if localised == nil || localised.Problem == "" || localised.Named != nil {
				t.Errorf("localised account not reported with a problem: %+v", localised)
			}
			if len(r.Accounts) != 9 {
				t.Errorf("%d accounts, want 9", len(r.Accounts))
			}
			want := []string{"aadc01.aadc.test", "aadc02.aadc.test"}
			if got := r.StagingPairs["contoso.onmicrosoft.com"]; !slices.Equal(got, want) || len(r.StagingPairs) != 1 {
				t.Errorf("staging pairs %v, want contoso: %v", r.StagingPairs, want)
			}
			for _, s := range r.Servers {
				if s.Name == "AADC02" && (s.OS != "Windows Server 2019 Datacenter" || s.OSVersion != "10.0 (17763)" || !strings.Contains(s.DN, "OU=Tier0") || s.LastLogon == nil) {
					t.Errorf("AADC02's computer object not read in full: %+v", s)
				}
			}
		})
	}
}

// More than one 1,000-entry page: the custom filter matches the bulk users.
func TestDiscoverPagesCustomFilter(t *testing.T) {
	needDC(t)
	cfg := baseConfig()
	cfg.Base = "OU=Bulk," + sambadc.BaseDN
	cfg.Filter = "(&(objectClass=user)(sAMAccountName=bulk*))"
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Accounts) != sambadc.BulkUsers {
		t.Errorf("%d accounts, want %d", len(r.Accounts), sambadc.BulkUsers)
	}
	if r.Stats.Pages < 3 { // rootDSE + 2 pages of the bulk search
		t.Errorf("stats %+v: the search was not paged", r.Stats)
	}
	for _, a := range r.Accounts {
		if a.Problem == "" {
			t.Fatalf("%s: an ordinary description must be reported as naming no computer", a.Name)
		}
	}
}

// A custom filter can match computer objects directly (installs with a
// custom connector account leave no MSOL_ account).
func TestDiscoverComputerFilter(t *testing.T) {
	needDC(t)
	cfg := baseConfig()
	cfg.Filter = "(&(objectCategory=computer)(cn=AADC0*))"
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range r.Servers {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"AADC01", "AADC02", "AADC03", "AADC04"}) {
		t.Errorf("servers %v", names)
	}
}

func TestDiscoverErrors(t *testing.T) {
	needDC(t)
	// A port that refuses: listen, take the address, close.
	ln, err := net.Listen("tcp", "127.0.12.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	other := otherCA(t)
	cases := []struct {
		name string
		mut  func(*Config)
		kind Kind
		says string
	}{
		{"wrong password", func(c *Config) { c.Password = "wrong" }, KindLogon, `refused the password of "Administrator@aadc.test" (tried once`},
		{"unreachable", func(c *Config) { c.Port = closed }, KindUnreachable, "cannot reach the domain controller"},
		{"untrusted certificate", func(c *Config) { c.CAFile = other }, KindUntrusted, "not trusted (give its CA with --ca-file)"},
		{"untrusted via starttls", func(c *Config) { c.CAFile = other; c.TLS = TLSStartTLS }, KindUntrusted, "not trusted"},
		{"wrong name", func(c *Config) { c.ServerName = "other.aadc.test" }, KindUntrusted, "not for this name"},
		{"no such base", func(c *Config) { c.Base = "DC=elsewhere,DC=example" }, KindLDAP, "does not exist"},
		{"plain bind refused", func(c *Config) { c.TLS = TLSNone }, KindLogon, "without TLS"},
		{"bad filter", func(c *Config) { c.Filter = "(&(broken" }, KindUsage, "not an LDAP filter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			tc.mut(&cfg)
			_, err := Run(context.Background(), cfg)
			var de *Error
			if !errors.As(err, &de) || de.Kind != tc.kind || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v (%#v), want kind %s saying %q", err, de, tc.kind, tc.says)
			}
		})
	}
}

// otherCA writes a self-signed CA that did not sign the DC's certificate.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The bind names accepted for --username: UPN, DOMAIN\user and a DN.
func TestDiscoverBindNames(t *testing.T) {
	needDC(t)
	for _, user := range []string{sambadc.AdminUPN, sambadc.NetBIOSDomain + `\Administrator`, "CN=Administrator,CN=Users," + sambadc.BaseDN} {
		cfg := baseConfig()
		cfg.Username = user
		if _, err := Run(context.Background(), cfg); err != nil {
			t.Errorf("bind as %s: %v", user, err)
		}
	}
}

// A computer the DC's domain does not hold is looked for in the forest
// through the same DC's global catalog; with --port nothing is guessed.
func TestDiscoverForestLookup(t *testing.T) {
	needDC(t)
	reasons := func(cfg Config) (string, []string, Stats) {
		r, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range r.Servers {
			if s.Name == "OLDSYNC01" {
				return s.Stale, r.Warnings, r.Stats
			}
		}
		t.Fatal("OLDSYNC01 not reported")
		return "", nil, Stats{}
	}
	why, _, stats := reasons(baseConfig())
	if why != "computer object not found" || stats.Queries != 4 { // rootDSE, accounts, computers, computers in the GC
		t.Errorf("default port: %q, %+v", why, stats)
	}
	cfg := baseConfig()
	cfg.Port = 636
	why, warnings, _ := reasons(cfg)
	if !strings.Contains(why, "in this domain") || !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "run again with --gc") }) {
		t.Errorf("--port: %q, %q", why, warnings)
	}
}
