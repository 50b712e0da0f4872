//go:build !windows

package wsman

// Kerberos against real MIT components: a KDC on loopback (test/krbtest,
// started once in TestMain), kinit for the ticket cache, and MIT's GSSAPI
// acceptor in the Python WinRM responder. Missing packages skip the tests
// locally and fail them in CI.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"aadcready/test/interop"
	"aadcready/test/krbtest"
)

var (
	realm krbtest.Package
)

const (
	krbHost1 = "winrm1.aadcready.test"
	krbHost2 = "winrm2.aadcready.test"
	alicePw  = "Al1ce-Passw0rd!"
	bobPw    = "B0b-Passw0rd!"
)

func TestMain(m *testing.M) { krbtest.Main(m, "wsman-krb", &realm, setupRealm) }

func setupRealm() error {
	for _, u := range [][2]string{{"alice", alicePw}, {"bob", bobPw}, {"carol", "C4rol-Passw0rd!"}} {
		if err := realm.KDC.AddUser(u[0], u[1]); err != nil {
			return err
		}
	}
	for _, h := range []string{krbHost1, krbHost2} {
		if err := realm.KDC.AddService("HTTP/"+h, filepath.Join(realm.Dir, "http.keytab")); err != nil {
			return err
		}
	}
	return realm.KDC.Keytab("bob", filepath.Join(realm.Dir, "bob.keytab"))
}

func startKrbResponder(t testing.TB) *interop.Responder {
	k := realm.Need(t)
	env := append(k.Env(), "KRB5_KTNAME=FILE:"+filepath.Join(realm.Dir, "http.keytab"))
	return interop.Start(t, env, "--mech", "kerberos")
}

func newKerberos(t testing.TB, o KerberosOptions) *Kerberos {
	t.Helper()
	k, err := NewKerberos(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// kinitAlice gets alice's TGT with MIT's kinit into a fresh ccache.
func kinitAlice(t testing.TB) string {
	cc := filepath.Join(t.TempDir(), "ccache")
	if err := realm.Need(t).Kinit("alice", alicePw, cc); err != nil {
		t.Fatal(err)
	}
	return cc
}

func TestKerberosInteropMIT(t *testing.T) {
	r := startKrbResponder(t)
	sources := map[string]func(t *testing.T) KerberosOptions{
		"ticket cache from kinit": func(t *testing.T) KerberosOptions { return KerberosOptions{CCache: kinitAlice(t)} },
		"keytab": func(*testing.T) KerberosOptions {
			return KerberosOptions{Principal: "bob", Keytab: filepath.Join(realm.Dir, "bob.keytab")}
		},
		"password": func(*testing.T) KerberosOptions {
			return KerberosOptions{Principal: "alice@" + krbtest.Realm, Password: alicePw}
		},
	}
	for name, opts := range sources {
		for _, auth := range []string{AuthKerberos, AuthNegotiate} {
			t.Run(name+"/"+auth, func(t *testing.T) {
				before := strings.Count(r.Log(), "HANDSHAKE ")
				k := newKerberos(t, opts(t))
				var mu sync.Mutex
				var steps []string
				c := newClient(t, Config{Host: krbHost1, Address: "127.0.0.1", Port: r.Port, Auth: auth, Kerberos: k,
					MaxEnvelopeKB: 16, // several Send requests for the stdin below
					Trace: func(step string, _ time.Duration, err error) {
						mu.Lock()
						defer mu.Unlock()
						steps = append(steps, fmt.Sprintf("%s err=%v", step, err))
					}})
				for i := range 3 {
					res, err := c.Run(t.Context(), "hostname", nil)
					if err != nil {
						t.Fatalf("run %d: %v", i, err)
					}
					if string(res.Stdout) != "SIMHOST\r\n" || res.ExitCode != 0 || !res.Sealed {
						t.Fatalf("run %d: %+v", i, res)
					}
				}
				stdin := bytes.Repeat([]byte("Write-Output 'probe' # ünïcödé\r\n"), 1800) // 63 KB
				res, err := c.Run(t.Context(), "echo-stdin", stdin)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(res.Stdout, stdin) || res.ExitCode != 0 || res.Requests < 9 {
					t.Fatalf("echo-stdin: %d bytes back of %d, exit %d, %d requests", len(res.Stdout), len(stdin), res.ExitCode, res.Requests)
				}
				as, tgs := k.KDCRequests()
				if tgs != 1 || as > 1 {
					t.Errorf("KDC exchanges: %d AS, %d TGS; want at most one AS and one TGS for 4 commands", as, tgs)
				}
				mu.Lock()
				defer mu.Unlock()
				joined := strings.Join(steps, "\n")
				for _, want := range []string{"kerberos-spn HTTP/" + krbHost1, "kerberos-tgs", "kerberos-ap", "kerberos-mutual err=<nil>", "authenticate err=<nil>"} {
					if !strings.Contains(joined, want) {
						t.Errorf("trace lacks %q:\n%s", want, joined)
					}
				}
				log := r.LogAfter(20)
				if n := strings.Count(log, "HANDSHAKE ") - before; n != 1 {
					t.Errorf("%d handshakes for one client, want 1:\n%s", n, log)
				}
				if !strings.Contains(log, "mutual=True") || strings.Contains(log, "BADSEAL") || strings.Contains(log, "UNSEALED") {
					t.Errorf("responder log:\n%s", log)
				}
			})
		}
	}
}

func TestKerberosWrongPasswordOneFailure(t *testing.T) {
	k := realm.Need(t)
	if err := k.ResetFailures("carol"); err != nil {
		t.Fatal(err)
	}
	r := startKrbResponder(t)
	cred := newKerberos(t, KerberosOptions{Principal: "carol", Password: "wrong"})
	for i := range 5 { // five hosts, one shared credential
		host := krbHost1
		if i%2 == 1 {
			host = krbHost2
		}
		_, err := newClient(t, Config{Host: host, Address: "127.0.0.1", Port: r.Port, Auth: AuthKerberos, Kerberos: cred}).Run(t.Context(), "hostname", nil)
		e := wantClass(t, err, ClassKrbPreauthFailed)
		if !CredentialRefused(e) || !strings.Contains(e.Hint, "lockout") {
			t.Errorf("refusal %v, hint %q", CredentialRefused(e), e.Hint)
		}
	}
	if n, err := k.FailedAttempts("carol"); err != nil || n != 1 {
		t.Errorf("KDC counted %d failed pre-authentications (%v), want 1", n, err)
	}
	if as, tgs := cred.KDCRequests(); as != 1 || tgs != 0 {
		t.Errorf("%d AS and %d TGS exchanges, want 1 and 0", as, tgs)
	}
	if strings.Contains(r.Log(), "CONNECT") {
		t.Errorf("a host was contacted with a credential the KDC refused:\n%s", r.Log())
	}
}

func TestKerberosFailureClasses(t *testing.T) {
	r := startKrbResponder(t)
	cred := newKerberos(t, KerberosOptions{Principal: "alice", Password: alicePw})
	run := func(cfg Config) error {
		cfg.Address, cfg.Port, cfg.Kerberos = "127.0.0.1", r.Port, cred
		c, err := New(cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Run(t.Context(), "hostname", nil)
		return err
	}
	e := wantClass(t, run(Config{Host: "127.0.0.1", Auth: AuthKerberos}), ClassKrbNoSPN)
	if !strings.Contains(e.Hint, "spn") || !strings.Contains(e.Message, "IP address") {
		t.Errorf("no-SPN error %q hint %q", e.Message, e.Hint)
	}
	e = wantClass(t, run(Config{Host: "nosuch.aadcready.test", Auth: AuthKerberos}), ClassKrbSPNUnknown)
	if !strings.Contains(e.Hint, "setspn") {
		t.Errorf("hint %q", e.Hint)
	}
	// A host answering with the key of another SPN: the KDC's ticket is for
	// winrm2 but the host only has... the same keytab; ask for an SPN the
	// host has but route it by name: it works. An explicit spn: override.
	if err := run(Config{Host: "alias.example", SPN: "HTTP/" + krbHost2, Auth: AuthKerberos}); err != nil {
		t.Errorf("spn override: %v", err)
	}
	// Negotiate falls back to NTLM only when allowed; the responder here
	// speaks Kerberos only, so the fallback is refused by the host.
	e = wantClass(t, run(Config{Host: "127.0.0.1", Auth: AuthNegotiate, NTLMFallback: true, Username: "alice", Password: alicePw}), ClassAuthRefused)
	_ = e
	// Unreachable KDC.
	dead := newKerberos(t, KerberosOptions{Principal: "alice", Password: alicePw, Realm: krbtest.Realm, KDCs: []string{"127.0.0.1:1"}})
	_, err := newClient(t, Config{Host: krbHost1, Address: "127.0.0.1", Port: r.Port, Auth: AuthKerberos, Kerberos: dead}).Run(t.Context(), "hostname", nil)
	e = wantClass(t, err, ClassKDCUnreachable)
	if !strings.Contains(e.Message, "127.0.0.1:1") {
		t.Errorf("message %q does not name the KDC", e.Message)
	}
	// Missing, expired or unreadable ticket caches and keytabs without the
	// principal fail at once, naming what to do.
	_, err = NewKerberos(KerberosOptions{CCache: filepath.Join(t.TempDir(), "none")})
	wantClass(t, err, ClassKrbNoTicket)
	_, err = NewKerberos(KerberosOptions{CCache: "KEYRING:persistent:0"})
	if e := wantClass(t, err, ClassKrbNoTicket); !strings.Contains(e.Message, "kinit -c FILE:") {
		t.Errorf("keyring cache: %q", e.Message)
	}
	short := filepath.Join(t.TempDir(), "short")
	if err := realm.KDC.Kinit("alice", alicePw, short, "-l", "1s"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	_, err = NewKerberos(KerberosOptions{CCache: short})
	if e := wantClass(t, err, ClassKrbNoTicket); !strings.Contains(e.Message, "expired") || !strings.Contains(e.Hint, "kinit") {
		t.Errorf("expired cache: %q / %q", e.Message, e.Hint)
	}
	_, err = NewKerberos(KerberosOptions{Principal: "alice", Keytab: filepath.Join(realm.Dir, "bob.keytab")})
	wantClass(t, err, ClassKrbKeytab)
}

func TestKerberosKeytabMustBeOwnerOnly(t *testing.T) {
	realm.Need(t)
	kt := filepath.Join(t.TempDir(), "bob.keytab")
	b, err := os.ReadFile(filepath.Join(realm.Dir, "bob.keytab"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kt, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = NewKerberos(KerberosOptions{Principal: "bob", Keytab: kt})
	if e := wantClass(t, err, ClassKrbKeytab); !strings.Contains(e.Message, "readable by others") {
		t.Errorf("message %q", e.Message)
	}
}

// The channel binding sent over HTTPS (RFC 4121 Bnd), checked by MIT's
// acceptor: matching data is accepted, other data refused. The data is
// injected without TLS; over TLS it is the certificate hash (the same
// RFC 5929 data NTLM binds, tested in tls_test.go).
func TestKerberosChannelBindingMIT(t *testing.T) {
	k := realm.Need(t)
	const data = "tls-server-end-point:0123456789abcdef0123456789abcdef"
	env := append(k.Env(), "KRB5_KTNAME=FILE:"+filepath.Join(realm.Dir, "http.keytab"))
	r := interop.Start(t, env, "--mech", "kerberos", "--cb-data", data)
	cred := newKerberos(t, KerberosOptions{Principal: "alice", Password: alicePw})
	for _, tc := range []struct {
		cb string
		ok bool
	}{{data, true}, {data + "x", false}} {
		c := newClient(t, Config{Host: krbHost1, Address: "127.0.0.1", Port: r.Port, Auth: AuthNegotiate, Kerberos: cred})
		c.testCB = []byte(tc.cb)
		res, err := c.Run(t.Context(), "hostname", nil)
		if tc.ok && (err != nil || string(res.Stdout) != "SIMHOST\r\n") {
			t.Errorf("matching binding: %v", err)
		}
		if !tc.ok {
			wantClass(t, err, ClassAuthRefused)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(r.Log(), "AUTHFAIL") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // the responder's log arrives asynchronously
	}
	if !strings.Contains(r.Log(), "Incorrect channel bindings") {
		t.Errorf("MIT did not refuse the wrong binding:\n%s", r.Log())
	}
}

// A host that labels its Kerberos-sealed replies with the SPNEGO protocol
// (the same context under the other name) is understood.
func TestKerberosReplyLabelledSPNEGO(t *testing.T) {
	k := realm.Need(t)
	r := interop.Start(t, append(k.Env(), "KRB5_KTNAME=FILE:"+filepath.Join(realm.Dir, "http.keytab")), "--mech", "kerberos", "--reply-spnego")
	cred := newKerberos(t, KerberosOptions{Principal: "alice", Password: alicePw})
	res, err := newClient(t, Config{Host: krbHost1, Address: "127.0.0.1", Port: r.Port, Auth: AuthKerberos, Kerberos: cred}).Run(t.Context(), "hostname", nil)
	if err != nil || string(res.Stdout) != "SIMHOST\r\n" {
		t.Fatalf("%+v %v", res, err)
	}
}

// auth kerberos against a host that offers only Negotiate: the first
// AP-REQ (Kerberos scheme) is refused, the request goes again under
// Negotiate with the raw krb5 token, and later connections start there.
// Still one service ticket; no KDC traffic for the switch.
func TestKerberosHostOffersOnlyNegotiate(t *testing.T) {
	k := realm.Need(t)
	r := interop.Start(t, append(k.Env(), "KRB5_KTNAME=FILE:"+filepath.Join(realm.Dir, "http.keytab")), "--mech", "kerberos", "--negotiate-only")
	cred := newKerberos(t, KerberosOptions{Principal: "alice", Password: alicePw})
	c := newClient(t, Config{Host: krbHost1, Address: "127.0.0.1", Port: r.Port, Auth: AuthKerberos, Kerberos: cred})
	for i := range 2 {
		res, err := c.Run(t.Context(), "hostname", nil)
		if err != nil || string(res.Stdout) != "SIMHOST\r\n" || !res.Sealed {
			t.Fatalf("run %d: %+v %v", i, res, err)
		}
	}
	log := r.LogAfter(10)
	if strings.Count(log, "SCHEME ") != 1 || strings.Count(log, "HANDSHAKE ") != 1 || !strings.Contains(log, "scheme=Negotiate") {
		t.Errorf("responder log:\n%s", log)
	}
	if _, tgs := cred.KDCRequests(); tgs != 1 {
		t.Errorf("%d TGS exchanges", tgs)
	}
}

// Kerberos over HTTPS with the channel binding of the real TLS
// certificate, which MIT's acceptor requires (as CbtHardeningLevel=Strict).
func TestKerberosHTTPSChannelBindingMIT(t *testing.T) {
	k := realm.Need(t)
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, krbHost1)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	r := interop.Start(t, append(k.Env(), "KRB5_KTNAME=FILE:"+filepath.Join(realm.Dir, "http.keytab")), "--mech", "kerberos", "--tls", certFile, keyFile)
	cred := newKerberos(t, KerberosOptions{Principal: "alice", Password: alicePw})
	for _, auth := range []string{AuthKerberos, AuthNegotiate} {
		c := newClient(t, Config{Host: krbHost1, Address: "127.0.0.1", Port: r.Port, HTTPS: true, CAPEM: certPEM, Auth: auth, Kerberos: cred})
		res, err := c.Run(t.Context(), "hostname", nil)
		if err != nil || string(res.Stdout) != "SIMHOST\r\n" || res.Sealed {
			t.Fatalf("%s over HTTPS: %+v %v", auth, res, err)
		}
	}
	if log := r.LogAfter(10); strings.Count(log, "HANDSHAKE ") != 2 || strings.Contains(log, "AUTHFAIL") {
		t.Errorf("responder log:\n%s", log)
	}
	// MIT accepts an AP-REQ without bindings; one expecting other bindings
	// refuses ours, which shows they are sent and checked.
	wrong := interop.Start(t, append(k.Env(), "KRB5_KTNAME=FILE:"+filepath.Join(realm.Dir, "http.keytab")), "--mech", "kerberos", "--tls", certFile, keyFile, "--cb-data", "tls-server-end-point:other")
	_, err := newClient(t, Config{Host: krbHost1, Address: "127.0.0.1", Port: wrong.Port, HTTPS: true, CAPEM: certPEM, Auth: AuthKerberos, Kerberos: cred}).Run(t.Context(), "hostname", nil)
	wantClass(t, err, ClassAuthRefused)
}

func selfSigned(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: x509.ECDSAWithSHA256,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}
