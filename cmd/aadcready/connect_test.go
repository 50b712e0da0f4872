package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aadcready/catalog"
	"aadcready/results"
	"aadcready/simulator"
)

// connectFleet serves a Windows-default host, a hung one, a closed port
// and an HTTPS host, with an inventory that also lists the HTTPS listener
// as its own entry (no CA: the scanner does not trust the fleet's CA).
func connectFleet(t *testing.T) (*fleet, string) {
	t.Helper()
	ok := simHost("win-default", "ws2019-v2-current", fleetPassword)
	ok.HTTPS = true
	hung := simHost("hung", "ws2019-v2-current", fleetPassword)
	hung.Behavior = simulator.BehaviorHang
	down := simHost("down", "ws2019-v2-current", fleetPassword)
	down.Behavior = simulator.BehaviorRefuse
	f := startFleet(t, ok, hung, down)
	_, httpsAddr := f.srv.Endpoint("win-default")
	ip, port := splitHostPort(httpsAddr)
	inv, err := os.ReadFile(f.inv)
	if err != nil {
		t.Fatal(err)
	}
	// The certificate names win-default: an entry of that name over HTTPS.
	inv = append(inv, fmt.Sprintf("  - name: win-default.https\n    address: %s\n    port: %d\n    scheme: https\n    server_name: win-default\n", ip, port)...)
	if err := os.WriteFile(f.inv, inv, 0o600); err != nil {
		t.Fatal(err)
	}
	return f, httpsAddr
}

func TestConnectDiagnostic(t *testing.T) {
	f, _ := connectFleet(t)
	t.Setenv(testPasswordEnv, fleetPassword)
	cases := []struct {
		name, host string
		code       int
		want       []string
	}{
		{"windows defaults: sealed NTLM over HTTP", "win-default", 0,
			[]string{"connect", "authenticate", "create-shell", "cleanup", "OK: connected, logged on and ran the command", "messages sealed", "stdout:\n  win-default"}},
		{"closed port", "down", results.ExitNotChecked,
			[]string{"FAILED (refused", "check: nothing listens on that port"}},
		{"hung listener", "hung", results.ExitNotChecked,
			[]string{"FAILED (", "check:"}},
		{"HTTPS with an unknown CA", "win-default.https", results.ExitNotChecked,
			[]string{"FAILED (tls_unknown_authority", "ca_file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "connect", "-i", f.inv, c.host, "--host-timeout", "3s")
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.code, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
}

// A command that fails on the host is shown with its exit code and stderr:
// the connection works, the diagnostic says why the command did not.
func TestConnectShowsAFailingCommandsStderr(t *testing.T) {
	f, _ := connectFleet(t)
	t.Setenv(testPasswordEnv, fleetPassword)
	stdout, _, code := run(t, "connect", "-i", f.inv, "win-default", "--", "whoami")
	if code != 0 {
		t.Fatalf("exit %d: the connection itself worked\n%s", code, stdout)
	}
	for _, w := range []string{"the command exited with code 9009", "stderr:", "'whoami' is not recognized"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
}

// A wrong password is reported as such after exactly one logon attempt on
// the host: retrying a refused Tier-0 credential only brings a lockout closer.
func TestConnectWrongPasswordIsTriedOnce(t *testing.T) {
	f, _ := connectFleet(t)
	t.Setenv(testPasswordEnv, "not-the-password")
	stdout, _, code := run(t, "connect", "-i", f.inv, "win-default", "--retries", "3")
	if code != results.ExitNotChecked || !strings.Contains(stdout, "FAILED (auth_refused") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
	if n := f.srv.Stats().Hosts["win-default"].AuthAttempts; n != 1 {
		t.Errorf("%d logon attempts on the host, want exactly 1", n)
	}
}

func TestConnectInventoryPreflight(t *testing.T) {
	f, _ := connectFleet(t)
	t.Setenv(testPasswordEnv, fleetPassword)
	csvPath := filepath.Join(t.TempDir(), "preflight.csv")
	stdout, _, code := run(t, "connect", "-i", f.inv, "--host-timeout", "3s", "--csv", csvPath)
	if code != results.ExitNotChecked {
		t.Fatalf("exit %d, want %d (three hosts fail)\n%s", code, results.ExitNotChecked, stdout)
	}
	if !strings.Contains(stdout, "1 of 4 hosts connected and logged on") {
		t.Errorf("no summary line:\n%s", stdout)
	}
	raw, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]string{}
	for _, r := range rows[1:] {
		results[r[0]] = r[5]
		if r[0] == "win-default" && (r[11] == "0" || r[10] != "true") {
			t.Errorf("win-default: duration_ms %s sealed %s; want the time it took, sealed", r[11], r[10])
		}
	}
	want := map[string]string{"win-default": "OK", "down": "REFUSED", "win-default.https": "TLS_UNKNOWN_AUTHORITY"}
	for h, w := range want {
		if results[h] != w {
			t.Errorf("%s: %q, want %q (all: %v)", h, results[h], w, results)
		}
	}
	if len(rows) != 5 {
		t.Errorf("%d CSV rows, want a header and 4 hosts", len(rows))
	}
}

// Sealed NTLM over HTTP (the Windows default) and HTTPS judge a fleet alike.
func TestSealedHTTPAndHTTPSGiveTheSameVerdicts(t *testing.T) {
	var hosts []simulator.Host
	for _, p := range []string{"ws2019-v2-current", "ws2012r2-v1", "ws2019-tls-missing", "ws2019-no-aadc", "ws2022-v2-needs-appauth"} {
		h := simHost("h-"+p, p, fleetPassword)
		h.HTTPS = true
		hosts = append(hosts, h)
	}
	f := startFleet(t, hosts...)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, f.srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  scheme: https\n  auth: ntlm\n  password_env: %s\n  username: '%s'\n  ca_file: %s\nhosts:\n", testPasswordEnv, testUser, ca)
	for _, h := range hosts {
		_, addr := f.srv.Endpoint(h.Name)
		ip, port := splitHostPort(addr)
		fmt.Fprintf(&b, "  - name: %s\n    address: %s\n    port: %d\n", h.Name, ip, port)
	}
	httpsInv := filepath.Join(dir, "https.yaml")
	if err := os.WriteFile(httpsInv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(testPasswordEnv, fleetPassword)
	verdicts := func(inv string) map[string]catalog.Verdict {
		out := filepath.Join(t.TempDir(), "run.json")
		if _, stderr, code := run(t, "scan", "-i", inv, "--json", out, "--as-of", "2026-11-26", "--progress=false"); code == results.ExitUsage {
			t.Fatalf("scan %s: %s", inv, stderr)
		}
		doc := readRun(t, out)
		m := map[string]catalog.Verdict{}
		for _, h := range doc.Hosts {
			if h.Failure != nil {
				t.Errorf("%s over %s: %+v", h.Name, inv, h.Failure)
			}
			if strings.HasSuffix(inv, "https.yaml") == h.Sealed {
				t.Errorf("%s over %s: sealed=%v", h.Name, inv, h.Sealed)
			}
			m[h.Name] = h.Verdict
		}
		return m
	}
	overHTTP, overHTTPS := verdicts(f.inv), verdicts(httpsInv)
	if len(overHTTP) != len(hosts) {
		t.Fatalf("HTTP verdicts %v", overHTTP)
	}
	for name, v := range overHTTP {
		if overHTTPS[name] != v {
			t.Errorf("%s: %s over sealed HTTP, %s over HTTPS", name, v, overHTTPS[name])
		}
	}
	seen := map[catalog.Verdict]bool{}
	for _, v := range overHTTP {
		seen[v] = true
	}
	if len(seen) < 4 {
		t.Errorf("the fleet should span several verdicts, got %v", overHTTP)
	}
}

// Kerberos to a host named by its IP address cannot work (no SPN): connect
// says so and what to do before touching any ticket source or host, both
// for --hosts flags and for an inventory entry.
func TestConnectKerberosByIP(t *testing.T) {
	t.Setenv("KRB5CCNAME", filepath.Join(t.TempDir(), "no-ccache"))
	inv := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(inv, []byte("hosts:\n  - name: 192.0.2.10\n    auth: kerberos\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"connect", "192.0.2.10", "--auth", "kerberos"},
		{"connect", "-i", inv, "192.0.2.10"},
	} {
		stdout, stderr, code := run(t, args...)
		if code != results.ExitNotChecked {
			t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
		for _, w := range []string{"FAILED (kerberos_no_spn", "192.0.2.10 is an IP address", "put the FQDN in the inventory", "kerberos.spn (--spn)", "ntlm_fallback"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: output lacks %q:\n%s", args, w, stdout)
			}
		}
		if strings.Contains(stdout, "  connect ") || strings.Contains(stdout, "kerberos_no_ticket") {
			t.Errorf("%v: tried more than it needed:\n%s", args, stdout)
		}
	}
	// negotiate with ntlm_fallback is allowed to go on (and here fails to
	// connect: nothing listens on the documentation address).
	t.Setenv("AADCREADY_PASSWORD", "x")
	stdout, stderr, code := run(t, "connect", "192.0.2.10", "--auth", "negotiate", "--ntlm-fallback", "--username", `D\u`, "--host-timeout", "1s")
	if code != results.ExitNotChecked || strings.Contains(stdout, "kerberos_no_spn") || !strings.Contains(stdout, "(http, negotiate)") {
		t.Errorf("fallback: exit %d\n%s%s", code, stdout, stderr)
	}
}
