//go:build !windows

package scanner

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"aadcready/inventory"
	"aadcready/test/krbtest"
	"aadcready/wsman"
)

// The scanner's Kerberos tests run against a real MIT KDC, started once.
var (
	realm krbtest.Package
)

func TestMain(m *testing.M) { krbtest.Main(m, "scanner-krb", &realm, setupScanRealm) }

func setupScanRealm() error { return realm.KDC.AddUser("svc-scan", "Right-Passw0rd!") }

// A wrong Kerberos password shared by 20 hosts: the KDC sees exactly one
// failed pre-authentication for the whole run, no host is contacted, and
// the hosts after the first are never tried.
func TestScanKerberosWrongPasswordOneFailedPreauth(t *testing.T) {
	k := realm.Need(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var contacted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			contacted.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	inv := &inventory.Inventory{Path: "test"}
	for i := range 20 {
		inv.Hosts = append(inv.Hosts, inventory.Host{
			Name: "aadc" + strconv.Itoa(i+1) + ".aadcready.test", Address: "127.0.0.1", Port: port, Scheme: "http",
			Auth: "kerberos", Username: "svc-scan@" + krbtest.Realm, Secret: inventory.SecretRef{Env: "TEST_PW"},
		})
	}
	opt := options(t)
	opt.Concurrency = 8
	opt.Password = func(inventory.SecretRef) (string, error) { return "Wrong-Passw0rd!", nil }
	run := Scan(t.Context(), inv, opt)

	if n, err := k.FailedAttempts("svc-scan"); err != nil || n != 1 {
		t.Errorf("the KDC counted %d failed pre-authentications (%v), want 1 for 20 hosts", n, err)
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("%d connections to hosts with a refused credential", n)
	}
	classes := map[string]int{}
	for _, h := range run.Hosts {
		if h.Failure == nil {
			t.Fatalf("%s: no failure", h.Name)
		}
		classes[h.Failure.Class]++
		if h.Failure.Class == string(wsman.ClassKrbPreauthFailed) && len(h.Attempts) != 1 {
			t.Errorf("%s: %d attempts", h.Name, len(h.Attempts))
		}
		if h.Failure.Class == classCredentialDisabled && (len(h.Attempts) != 0 || !strings.Contains(h.Failure.Message, "the KDC refused")) {
			t.Errorf("%s: %+v", h.Name, h.Failure)
		}
	}
	if classes[string(wsman.ClassKrbPreauthFailed)] < 1 || classes[string(wsman.ClassKrbPreauthFailed)]+classes[classCredentialDisabled] != 20 {
		t.Errorf("failure classes %v", classes)
	}
	if len(run.CredentialsDisabled) != 1 || !strings.HasPrefix(run.CredentialsDisabled[0], "kerberos svc-scan@") {
		t.Errorf("credentials disabled: %v", run.CredentialsDisabled)
	}
}

// negotiate with ntlm_fallback where no Kerberos realm is configured at
// all: the hosts are scanned with NTLM instead of failing.
func TestScanNegotiateFallsBackWithoutRealm(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5_CONFIG", empty)
	inv, _ := startFleet(t, `hosts:
  - name: aadc-neg
    address: 127.0.83.10
    profile: ws2019-v2-current
    users: [{username: 'CONTOSO\svc', password: 'Scanner-Test-Pw-1'}]
`)
	for i := range inv.Hosts {
		inv.Hosts[i].Auth, inv.Hosts[i].NTLMFallback = inventory.AuthNegotiate, true
	}
	run := Scan(t.Context(), inv, options(t))
	if h := run.Hosts[0]; h.Failure != nil || !h.Sealed {
		t.Fatalf("%s: %+v sealed %v", h.Name, h.Failure, h.Sealed)
	}
}
