//go:build linux

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"aadcready/discover"
	"aadcready/inventory"
	"aadcready/test/ldapreferral"
	"aadcready/test/peer"
	"aadcready/test/sambadc"
)

const ldapPasswordEnv = "AADCREADY_TEST_LDAP_PASSWORD"

// TestDiscoverCLI runs `aadcready discover` against a real Samba AD DC,
// provisioned once for all its subtests: the servers found, the inventory
// written and merged, and every error that must exit 3.
func TestDiscoverCLI(t *testing.T) {
	if err := sambadc.Available(); err != nil {
		peer.Missing(t, "a Samba AD DC", sambadc.Install, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dc, err := sambadc.Start(ctx, t.TempDir(), "127.0.12.2", sambadc.Fixture(time.Now()), sambadc.OwnCertificate)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dc.Stop)
	t.Setenv(ldapPasswordEnv, sambadc.AdminPassword)
	args := func(extra ...string) []string {
		return append([]string{"discover", "--dc", dc.IP, "--server-name", sambadc.ServerName, "--ca-file", dc.CAFile,
			"--username", sambadc.AdminUPN, "--password-env", ldapPasswordEnv}, extra...)
	}

	t.Run("table and json", func(t *testing.T) {
		jsonPath, csvPath := filepath.Join(t.TempDir(), "d.json"), filepath.Join(t.TempDir(), "d.csv")
		res := runCLI(t, args("--json", jsonPath, "--csv", csvPath)...)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		for _, want := range []string{"aadc01.aadc.test", "STALE: computer object not found", "STALE: computer account disabled",
			"STALE: computer has not logged on for 200 days", "staging pair with aadc02.aadc.test", sambadc.Localised, "Installationskennung"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("table lacks %q:\n%s", want, res.stdout)
			}
		}
		if strings.ContainsAny(res.stdout+res.stderr, "\x1b\x07") || !strings.Contains(res.stdout, sambadc.Hostile) {
			t.Errorf("directory text reached the terminal unneutralised, or the hostile account is not listed:\n%q", res.stdout)
		}
		csvData, _ := os.ReadFile(csvPath)
		if !strings.Contains(string(csvData), "AADC04,stale,computer has not logged on for 200 days,aadc04.aadc.test") ||
			!strings.Contains(string(csvData), sambadc.Hostile) || strings.ContainsAny(string(csvData), "\x1b\x07") || !strings.Contains(string(csvData), "OLDSYNC01,stale,computer object not found,,,,,,,,contoso.onmicrosoft.com,,MSOL_5a5a5a5a5a5a") {
			t.Errorf("CSV:\n%q", csvData)
		}
		var r discover.Result
		data, _ := os.ReadFile(jsonPath)
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Servers) != 7 || len(r.Accounts) != 9 {
			t.Errorf("json: %d servers, %d accounts", len(r.Servers), len(r.Accounts))
		}
	})

	t.Run("inventory written, validated, merged", func(t *testing.T) {
		dir := t.TempDir()
		fresh := filepath.Join(dir, "fresh.yaml")
		res := runCLI(t, args("--inventory", fresh, "--scan-username", `AADC\svc-scan`, "--scan-password-env", "SCAN_PASSWORD")...)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if v := runCLI(t, "inventory", "validate", "-i", fresh); v.code != 0 || !strings.Contains(v.stdout, "4 hosts, valid") {
			t.Fatalf("inventory validate: %d %s %s", v.code, v.stdout, v.stderr)
		}
		inv, err := inventory.Load(fresh)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(slices.Values(inv.Names())); !slices.Equal(got, sambadc.ActiveServers) {
			t.Errorf("hosts %v, want the active servers %v", got, sambadc.ActiveServers)
		}
		only, _ := inv.Only([]string{"aadc01.aadc.test"})
		a1 := only.Hosts[0]
		if a1.Group != "discovered" || a1.Tags["tenant"] != "contoso.onmicrosoft.com" || a1.Tags["forest"] != "aadc.test" ||
			a1.Tags["staging_pair"] != "aadc02.aadc.test" || a1.Username != `AADC\svc-scan` || a1.Secret.Env != "SCAN_PASSWORD" {
			t.Errorf("aadc01: %+v", a1)
		}

		// A hand-written inventory that already lists one server with its
		// own credential and tags.
		existing := filepath.Join(dir, "existing.yaml")
		hand := `# hand-written
defaults:
  username: 'AADC\svc-aadcready'
  password_env: AADCREADY_PASSWORD
hosts:
  - name: aadc01.aadc.test
    scheme: https
    password_file: aadc01.pw
    tags:
      owner: sync-team
      role: active
  - name: other.example.com
    tags: {owner: someone}
groups:
  - name: discovered
    hosts:
      - name: gone01.aadc.test
        password_prompt: true
        tags: {forest: aadc.test, ad_status: active, owner: sync-team}
`
		if err := os.WriteFile(existing, []byte(hand), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "aadc01.pw"), []byte("not used\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		before, err := inventory.Load(existing)
		if err != nil {
			t.Fatal(err)
		}
		res = runCLI(t, args("--inventory", existing)...)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if !strings.Contains(res.stderr, "aadc01.aadc.test already in the inventory; left as it is") ||
			!strings.Contains(res.stderr, "aadc02.aadc.test added to group discovered") {
			t.Errorf("merge report:\n%s", res.stderr)
		}
		if v := runCLI(t, "inventory", "validate", "-i", existing); v.code != 0 {
			t.Fatalf("inventory validate: %s %s", v.stdout, v.stderr)
		}
		after, err := inventory.Load(existing)
		if err != nil {
			t.Fatal(err)
		}
		gone, _ := after.Only([]string{"gone01.aadc.test"})
		if st := gone.Hosts[0].Tags["ad_status"]; !strings.HasPrefix(st, "not named in AD since ") || !strings.Contains(res.stderr, "gone01.aadc.test ad_status tag updated") {
			t.Errorf("a discovered host AD no longer names: ad_status %q\n%s", st, res.stderr)
		}
		for _, h := range before.Hosts {
			got, _ := after.Only([]string{h.Name})
			h.Source, got.Hosts[0].Source = "", ""
			delete(h.Tags, "ad_status") // the one thing discover may change, in its own group
			delete(got.Hosts[0].Tags, "ad_status")
			if !reflect.DeepEqual(got.Hosts[0], h) {
				t.Errorf("%s changed:\n%+v\n%+v", h.Name, h, got.Hosts[0])
			}
		}
		if len(after.Hosts) != 6 {
			t.Errorf("%d hosts after the merge, want 6: %v", len(after.Hosts), after.Names())
		}
		data, _ := os.ReadFile(existing)
		if !strings.Contains(string(data), "# hand-written") {
			t.Error("the file's comments were lost")
		}
	})

	// A DC port that refuses connections.
	ln, err := net.Listen("tcp", dc.IP+":0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	refHost, refPort, _ := net.SplitHostPort(ldapreferral.Start(t))

	t.Run("wrong password tried once", func(t *testing.T) {
		before := badPwdCount(t, dc, sambadc.Reader)
		t.Setenv(ldapPasswordEnv, "not-the-password")
		res := runCLI(t, append(args(), "--username", sambadc.Reader+"@aadc.test")...)
		if res.code != 3 || !strings.Contains(res.stderr, `refused the password of "`+sambadc.Reader+`@aadc.test" (tried once`) {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if after := badPwdCount(t, dc, sambadc.Reader); after != before+1 {
			t.Errorf("badPwdCount went from %d to %d: want exactly one failed logon", before, after)
		}
	})
	t.Run("kerberos", func(t *testing.T) { discoverKerberosCLI(t, dc) })
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"unreachable", args("--port", strconv.Itoa(closed)), "cannot reach the domain controller"},
		{"untrusted certificate", []string{"discover", "--dc", dc.IP, "--server-name", sambadc.ServerName, "--username", sambadc.AdminUPN, "--password-env", ldapPasswordEnv}, "is not trusted (give its CA with --ca-file)"},
		{"referral", []string{"discover", "--dc", refHost, "--port", refPort, "--tls", "none", "--username", "u@contoso.com", "--password-env", ldapPasswordEnv, "--base", "DC=emea,DC=contoso,DC=com"}, "referred to " + ldapreferral.Referral},
		{"no dc", []string{"discover", "--username", "x"}, "needs --dc"},
		{"bad tls", args("--tls", "ssl"), "--tls must be"},
		{"missing password", args("--password-env", "AADCREADY_TEST_UNSET_VARIABLE"), "AADCREADY_TEST_UNSET_VARIABLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, tc.args...)
			if res.code != 3 || !strings.Contains(res.stderr, tc.says) {
				t.Fatalf("exit %d, want 3 saying %q: %s", res.code, tc.says, res.stderr)
			}
			if strings.Contains(res.stderr+res.stdout, sambadc.AdminPassword) {
				t.Error("the password appears in the output")
			}
		})
	}
}

// discoverKerberosCLI binds with --auth kerberos against the Samba DC's
// KDC: a password, a kinit ticket cache, a wrong password (one failed
// pre-authentication, counted once by the DC) and a DC named by IP.
func discoverKerberosCLI(t *testing.T, dc *sambadc.DC) {
	dir := t.TempDir()
	conf, err := dc.Krb5Conf(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5_CONFIG", conf)
	t.Setenv("KRB5CCNAME", "FILE:"+filepath.Join(dir, "no-such-cache"))
	base := []string{"discover", "--auth", "kerberos", "--dc", dc.IP, "--server-name", sambadc.ServerName, "--ca-file", dc.CAFile}
	found := func(t *testing.T, res cliResult) {
		t.Helper()
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		for _, host := range sambadc.ActiveServers {
			if !strings.Contains(res.stdout, host) {
				t.Errorf("table lacks %s:\n%s", host, res.stdout)
			}
		}
	}
	t.Run("password", func(t *testing.T) {
		t.Setenv(ldapPasswordEnv, sambadc.AdminPassword)
		found(t, runCLI(t, append(base, "--username", sambadc.AdminUPN, "--password-env", ldapPasswordEnv)...))
	})
	t.Run("ticket cache", func(t *testing.T) {
		if _, err := exec.LookPath("kinit"); err != nil {
			peer.Missing(t, "MIT kinit", "sudo apt-get install -y krb5-user", err)
		}
		cc := filepath.Join(t.TempDir(), "cc")
		if err := sambadc.Kinit(conf, sambadc.Reader, sambadc.ReaderPassword, cc); err != nil {
			t.Fatal(err)
		}
		t.Setenv("KRB5CCNAME", "FILE:"+cc)
		found(t, runCLI(t, base...))
	})
	t.Run("wrong password tried once", func(t *testing.T) {
		before := badPwdCount(t, dc, sambadc.Reader)
		t.Setenv(ldapPasswordEnv, "not-the-password")
		res := runCLI(t, append(base, "--username", sambadc.Reader+"@aadc.test", "--password-env", ldapPasswordEnv)...)
		if res.code != 3 || !strings.Contains(res.stderr, "kerberos_preauth_failed (tried once, not retried)") {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if after := badPwdCount(t, dc, sambadc.Reader); after != before+1 {
			t.Errorf("badPwdCount went from %d to %d: want exactly one failed logon", before, after)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"DC by IP", []string{"discover", "--auth", "kerberos", "--dc", dc.IP, "--ca-file", dc.CAFile}, "is an IP address: Kerberos cannot ask the KDC for a ticket to ldap/" + dc.IP},
		{"no ticket cache", base, "kerberos_no_ticket"},
		{"keytab with simple", []string{"discover", "--dc", dc.IP, "--username", "u", "--keytab", "/nonexistent"}, "--keytab and --spn are for --auth kerberos"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := runCLI(t, tc.args...); res.code != 3 || !strings.Contains(res.stderr, tc.says) {
				t.Fatalf("exit %d, want 3 saying %q: %s", res.code, tc.says, res.stderr)
			}
		})
	}
}

// badPwdCount reads an account's failed-logon counter, bound as the
// Administrator (a successful bind resets only the binding account's).
func badPwdCount(t *testing.T, dc *sambadc.DC, account string) int {
	t.Helper()
	pem, err := os.ReadFile(dc.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	l, err := ldap.DialURL("ldaps://"+dc.IP, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: sambadc.ServerName}))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Bind(sambadc.AdminUPN, sambadc.AdminPassword); err != nil {
		t.Fatal(err)
	}
	res, err := l.Search(ldap.NewSearchRequest(sambadc.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 10, false,
		"(sAMAccountName="+ldap.EscapeFilter(account)+")", []string{"badPwdCount"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("reading %s: %v", account, err)
	}
	n, _ := strconv.Atoi(res.Entries[0].GetAttributeValue("badPwdCount"))
	return n
}
