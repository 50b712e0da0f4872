//go:build !windows

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aadcready/results"
	"aadcready/test/interop"
	"aadcready/test/krbtest"
)

// `aadcready connect` with Kerberos against real MIT components: a KDC on
// loopback (started once, in TestMain), kinit, and MIT's GSSAPI acceptor
// in the Python WinRM responder.
var (
	realm krbtest.Package
)

const (
	krbHost  = "winrm1.aadcready.test"
	alicePw  = "Al1ce-Cli-Passw0rd!"
	carolPw  = "C4rol-Cli-Passw0rd!"
	bobPwCLI = "B0b-Cli-Passw0rd!"
)

func TestMain(m *testing.M) { krbtest.Main(m, "cli-krb", &realm, setupCLIRealm) }

func setupCLIRealm() error {
	for _, u := range [][2]string{{"alice", alicePw}, {"bob", bobPwCLI}, {"carol", carolPw}} {
		if err := realm.KDC.AddUser(u[0], u[1]); err != nil {
			return err
		}
	}
	if err := realm.KDC.AddService("HTTP/"+krbHost, filepath.Join(realm.Dir, "http.keytab")); err != nil {
		return err
	}
	return realm.KDC.Keytab("bob", filepath.Join(realm.Dir, "bob.keytab"))
}

func TestConnectKerberosMIT(t *testing.T) {
	k := realm.Need(t)
	r := interop.Start(t, append(k.Env(), "KRB5_KTNAME=FILE:"+filepath.Join(realm.Dir, "http.keytab")), "--mech", "kerberos")
	ccache := filepath.Join(t.TempDir(), "ccache")
	if err := k.Kinit("alice", alicePw, ccache); err != nil {
		t.Fatal(err)
	}
	// No KRB5_CONFIG: realm and KDC come from the inventory.
	t.Setenv("KRB5_CONFIG", filepath.Join(t.TempDir(), "none"))
	t.Setenv("KRB5CCNAME", "FILE:"+ccache)
	t.Setenv("AADCREADY_TEST_KRB_PW", alicePw)
	cases := map[string]string{
		"ticket cache": "",
		"keytab":       "    username: bob@" + krbtest.Realm + "\n    keytab: " + filepath.Join(realm.Dir, "bob.keytab") + "\n",
		"password":     "    username: alice\n    password_env: AADCREADY_TEST_KRB_PW\n",
	}
	for name, cred := range cases {
		for _, auth := range []string{"kerberos", "negotiate"} {
			t.Run(name+"/"+auth, func(t *testing.T) {
				inv := filepath.Join(t.TempDir(), "inv.yaml")
				yaml := fmt.Sprintf("defaults:\n  auth: %s\n  kerberos:\n    realm: %s\n    kdc: %s\nhosts:\n  - name: %s\n    address: 127.0.0.1\n    port: %d\n%s",
					auth, krbtest.Realm, k.Addr, krbHost, r.Port, cred)
				if err := os.WriteFile(inv, []byte(yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				stdout, stderr, code := run(t, "connect", "-i", inv, krbHost, "--host-timeout", "20s")
				if code != 0 {
					t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
				}
				for _, w := range []string{"kerberos-spn", "HTTP/" + krbHost, "kerberos-tgs", "kerberos-ap", "kerberos-mutual", "authenticate", "messages sealed", "SIMHOST"} {
					if !strings.Contains(stdout, w) {
						t.Errorf("output lacks %q:\n%s", w, stdout)
					}
				}
				if name != "ticket cache" && !strings.Contains(stdout, "kerberos-as") {
					t.Errorf("no AS exchange shown:\n%s", stdout)
				}
				// Large stdin, every byte value, over several sealed Sends:
				// the command's stdout comes back byte for byte.
				in, got := filepath.Join(t.TempDir(), "in.bin"), filepath.Join(t.TempDir(), "out.bin")
				data := make([]byte, 200<<10)
				for i := range data {
					data[i] = byte(i*7 + i/256)
				}
				if err := os.WriteFile(in, data, 0o600); err != nil {
					t.Fatal(err)
				}
				stdout, stderr, code = run(t, "connect", "-i", inv, krbHost, "--host-timeout", "20s", "--stdin", in, "--stdout", got, "--", "echo-stdin")
				if code != 0 {
					t.Fatalf("with --stdin: exit %d\n%s%s", code, stdout, stderr)
				}
				if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, data) {
					t.Errorf("--stdout holds %d bytes (%v), want the %d bytes sent", len(b), err, len(data))
				}
			})
		}
	}
}

// A wrong password for 20 hosts in a pre-flight: one failed
// pre-authentication at the KDC for the whole run.
func TestConnectKerberosPreflightWrongPassword(t *testing.T) {
	k := realm.Need(t)
	t.Setenv("AADCREADY_TEST_KRB_PW", "not-carols-password")
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  auth: kerberos\n  username: carol\n  password_env: AADCREADY_TEST_KRB_PW\n  kerberos:\n    realm: %s\n    kdc: %s\nhosts:\n", krbtest.Realm, k.Addr)
	for i := range 20 {
		fmt.Fprintf(&b, "  - name: aadc%02d.aadcready.test\n    address: 127.0.0.1\n    port: 9\n", i+1)
	}
	inv := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(inv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, "connect", "-i", inv, "--retries", "3")
	if code != results.ExitNotChecked || !strings.Contains(strings.ToLower(stdout), "kerberos_preauth_failed") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if n, err := k.FailedAttempts("carol"); err != nil || n != 1 {
		t.Errorf("KDC counted %d failed pre-authentications (%v), want 1", n, err)
	}
}
