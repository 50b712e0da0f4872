//go:build !windows

package simulator

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aadcready/test/krbtest"
	"aadcready/test/peer"
	"aadcready/wsman"
)

// The simulator's Kerberos acceptor against a real MIT KDC (started once,
// in TestMain) and two clients: ours (wsman) and pywinrm through MIT's
// GSSAPI (requests-kerberos, pykerberos, a ticket cache from kinit).
var (
	realm krbtest.Package
)

const alicePw = "Al1ce-Sim-Passw0rd!"

var krbHosts = []string{"krb1", "krb2", "krb-skew", "krb-wrongkey", "krb-nomutual"}

func TestMain(m *testing.M) { krbtest.Main(m, "simulator-krb", &realm, setupSimRealm) }

func setupSimRealm() error {
	if err := realm.KDC.AddUser("alice", alicePw); err != nil {
		return err
	}
	for _, h := range krbHosts {
		if err := realm.KDC.AddService("HTTP/"+h, filepath.Join(realm.Dir, "http.keytab")); err != nil {
			return err
		}
	}
	return nil
}

func startKrbHosts(t *testing.T) *Server {
	t.Helper()
	realm.Need(t)
	var hosts []Host
	for _, h := range append(krbHosts, "krb-nospn") { // krb-nospn: no SPN at the KDC
		hosts = append(hosts, Host{Name: h, Users: []User{{Name: testUser, Password: testPassword}}})
	}
	s, err := Start(t.Context(), &Fleet{Source: t.Name(), AddressBase: "127.3.40.1", Hosts: hosts}, Options{Kerberos: &KerberosOptions{
		Keytab: filepath.Join(realm.Dir, "http.keytab"),
		Faults: map[string]string{"krb-skew": KrbFaultSkew, "krb-wrongkey": KrbFaultWrongKey, "krb-nomutual": KrbFaultNoMutual},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func krbClient(t *testing.T, s *Server, host, auth string, cred *wsman.Kerberos, mod func(*wsman.Config)) (*wsman.Result, error) {
	addr, _ := s.Endpoint(host)
	ip, port, _ := strings.Cut(addr, ":")
	cfg := wsman.Config{Host: host, Address: ip, Port: atoi(port), Auth: auth, Kerberos: cred, OperationTimeout: 5 * time.Second, MaxEnvelopeKB: 32}
	if mod != nil {
		mod(&cfg)
	}
	c, err := wsman.New(cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Run(t.Context(), "hostname", nil)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestKerberosWsmanClient(t *testing.T) {
	s := startKrbHosts(t)
	cred, err := wsman.NewKerberos(wsman.KerberosOptions{Principal: "alice", Password: alicePw})
	if err != nil {
		t.Fatal(err)
	}
	defer cred.Close()
	for _, auth := range []string{wsman.AuthKerberos, wsman.AuthNegotiate} {
		for _, host := range []string{"krb1", "krb2"} {
			before := s.Stats().Hosts[host]
			res, err := krbClient(t, s, host, auth, cred, nil)
			if err != nil {
				t.Fatalf("%s %s: %v", auth, host, err)
			}
			if !res.Sealed || res.ExitCode != 0 || res.Requests < 5 || strings.TrimSpace(string(res.Stdout)) != host {
				t.Errorf("%s %s: %+v", auth, host, res)
			}
			after := s.Stats().Hosts[host]
			if after.AuthAttempts-before.AuthAttempts != 1 || after.AuthFailures != before.AuthFailures {
				t.Errorf("%s %s: %d AP exchanges, %d failed", auth, host, after.AuthAttempts-before.AuthAttempts, after.AuthFailures-before.AuthFailures)
			}
		}
	}
	if as, tgs := cred.KDCRequests(); as != 1 || tgs != 2 {
		t.Errorf("%d AS and %d TGS exchanges for 4 runs on 2 hosts, want 1 and 2", as, tgs)
	}
	// Faults: each a named class.
	for host, class := range map[string]wsman.Class{
		"krb-skew": wsman.ClassKrbSkew, "krb-wrongkey": wsman.ClassKrbServiceKey, "krb-nomutual": wsman.ClassKrbMutual,
	} {
		_, err := krbClient(t, s, host, wsman.AuthKerberos, cred, nil)
		if e := wsman.Classify(err); err == nil || e.Class != class {
			t.Errorf("%s: %v, want %s", host, err, class)
		} else if host == "krb-skew" && !strings.Contains(e.Message, "host clock") {
			t.Errorf("skew without the clocks: %s", e.Message)
		}
	}
	// Like Windows with AllowUnencrypted=false: Kerberos without sealing is a 401.
	_, err = krbClient(t, s, "krb1", wsman.AuthKerberos, cred, func(c *wsman.Config) { c.AllowUnencrypted = true })
	if e := wsman.Classify(err); err == nil || e.Class != wsman.ClassAuthRefused {
		t.Errorf("unsealed: %v", err)
	}
}

// pywinrm, transport kerberos with message encryption, against the
// simulator: the acceptor and its sealing interoperate with MIT's initiator.
func TestKerberosPywinrm(t *testing.T) {
	s := startKrbHosts(t)
	python, script := pywinrm(t)
	if out, err := exec.Command(python, "-c", "import requests_kerberos, kerberos").CombinedOutput(); err != nil {
		peer.Missing(t, "requests-kerberos", "sudo apt-get install -y python3-requests-kerberos", fmt.Errorf("%v: %s", err, out))
	}
	ccache := filepath.Join(t.TempDir(), "ccache")
	if err := realm.KDC.Kinit("alice", alicePw, ccache); err != nil {
		t.Fatal(err)
	}
	addr, _ := s.Endpoint("krb1")
	before := s.Stats().Hosts["krb1"]
	ctx, cancel := contextWithTimeout(t, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script, "--url", "http://"+addr+"/wsman", "--transport", "kerberos", "--hostname", "krb1", "--encryption", "always")
	cmd.Env = append(realm.KDC.Env(), "KRB5CCNAME=FILE:"+ccache, "NO_PROXY=*", "no_proxy=*")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"stdout": "krb1`) || !strings.Contains(string(out), `"code": 0`) {
		t.Fatalf("pywinrm: %v\n%s", err, out)
	}
	after := s.Stats().Hosts["krb1"]
	if after.AuthAttempts-before.AuthAttempts != 1 || after.AuthFailures != before.AuthFailures || after.ShellsOpen != 0 {
		t.Errorf("pywinrm: %+v", after)
	}
}

// negotiate with ntlm_fallback: a host whose SPN the KDC does not know, or
// one named by IP, is reached with NTLM (sealed); without the fallback,
// the Kerberos failure is reported. A KDC refusal never falls back.
func TestKerberosNegotiateFallback(t *testing.T) {
	s := startKrbHosts(t)
	cred, err := wsman.NewKerberos(wsman.KerberosOptions{Principal: "alice", Password: alicePw})
	if err != nil {
		t.Fatal(err)
	}
	defer cred.Close()
	ntlm := func(c *wsman.Config) { c.Username, c.Password, c.NTLMFallback = testUser, testPassword, true }
	res, err := krbClient(t, s, "krb-nospn", wsman.AuthNegotiate, cred, ntlm)
	if err != nil || !res.Sealed || strings.TrimSpace(string(res.Stdout)) != "krb-nospn" {
		t.Fatalf("fallback for an unknown SPN: %+v %v", res, err)
	}
	_, err = krbClient(t, s, "krb-nospn", wsman.AuthNegotiate, cred, nil)
	if e := wsman.Classify(err); err == nil || e.Class != wsman.ClassKrbSPNUnknown {
		t.Errorf("without fallback: %v", err)
	}
	addr, _ := s.Endpoint("krb1")
	ip, _, _ := strings.Cut(addr, ":")
	res, err = krbClient(t, s, "krb1", wsman.AuthNegotiate, cred, func(c *wsman.Config) { ntlm(c); c.Host = ip })
	if err != nil || !res.Sealed {
		t.Fatalf("fallback for a host named by IP: %+v %v", res, err)
	}
	bad, err := wsman.NewKerberos(wsman.KerberosOptions{Principal: "alice", Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	before := s.Stats().Hosts["krb1"].AuthAttempts
	_, err = krbClient(t, s, "krb1", wsman.AuthNegotiate, bad, ntlm)
	if e := wsman.Classify(err); err == nil || e.Class != wsman.ClassKrbPreauthFailed || s.Stats().Hosts["krb1"].AuthAttempts != before {
		t.Errorf("a refused credential fell back or reached the host: %v", err)
	}
}
