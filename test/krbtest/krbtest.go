// Package krbtest runs a throwaway MIT Kerberos KDC on loopback for tests:
// a realm in a temporary directory, configured only through KRB5_CONFIG and
// KRB5_KDC_PROFILE (nothing under /etc changes), principals with a lockout
// policy, keytabs and kinit. Start it once per test package (TestMain).
package krbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"aadcready/test/peer"
)

// Realm is the test realm.
const Realm = "AADCREADY.TEST"

// LockoutPolicy locks a principal after this many failed pre-authentications.
const LockoutPolicy = "lockout"

const maxFailures = 10

// KDC is a running krb5kdc with its realm.
type KDC struct {
	Dir      string // temporary directory holding everything
	Conf     string // krb5.conf for clients (KRB5_CONFIG)
	Addr     string // 127.0.0.1:port, TCP and UDP
	Realm    string
	kdcConf  string
	cmd      *exec.Cmd
	exited   chan struct{}
	stderr   bytes.Buffer
	kdcPaths struct{ krb5kdc, kdb5util, kadmin string }
}

// Install is the command that installs what this package needs.
const Install = "sudo apt-get install -y krb5-kdc krb5-admin-server krb5-user"

// Unavailable fails (in CI) or skips the test when the realm could not be
// started (err from Tools or Start).
func Unavailable(t testing.TB, err error) {
	t.Helper()
	peer.Missing(t, "an MIT KDC", Install, err)
}

// Tools reports whether the MIT KDC packages are installed.
func Tools() error {
	for _, p := range []string{"/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local", "/usr/bin/kinit"} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s missing: %w", p, err)
		}
	}
	return nil
}

// Start creates the realm in dir and starts the KDC on a free loopback port.
func Start(dir string) (*KDC, error) {
	if err := Tools(); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	k := &KDC{Dir: dir, Realm: Realm, Addr: "127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{})}
	k.Conf = filepath.Join(dir, "krb5.conf")
	k.kdcConf = filepath.Join(dir, "kdc.conf")
	krb5conf := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
[realms]
	%[1]s = {
		kdc = %[2]s
	}
`, Realm, k.Addr)
	kdcconf := fmt.Sprintf(`[kdcdefaults]
	kdc_ports = %[2]d
	kdc_tcp_ports = %[2]d
[realms]
	%[1]s = {
		database_name = %[3]s/principal
		key_stash_file = %[3]s/stash
		acl_file = %[3]s/kadm5.acl
		max_life = 10h
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:%[3]s/kdc.log
`, Realm, port, dir)
	if err := os.WriteFile(k.Conf, []byte(krb5conf), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(k.kdcConf, []byte(kdcconf), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "kadm5.acl"), nil, 0o600); err != nil {
		return nil, err
	}
	if out, err := k.run("/usr/sbin/kdb5_util", "create", "-s", "-r", Realm, "-P", "master-"+strconv.Itoa(port)); err != nil {
		return nil, fmt.Errorf("kdb5_util create: %v: %s", err, out)
	}
	if _, err := k.Kadmin(fmt.Sprintf("addpol -maxfailure %d -failurecountinterval 0 -lockoutduration 0 %s", maxFailures, LockoutPolicy)); err != nil {
		return nil, err
	}
	k.cmd = exec.Command("/usr/sbin/krb5kdc", "-n", "-r", Realm)
	k.cmd.Env = k.Env()
	k.cmd.Stderr = &k.stderr
	if err := k.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { k.cmd.Wait(); close(k.exited) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", k.Addr, time.Second)
		if err == nil {
			c.Close()
			return k, nil
		}
		select {
		case <-k.exited:
			return nil, fmt.Errorf("krb5kdc exited: %s", k.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			k.Stop()
			return nil, errors.New("krb5kdc did not listen within 10s")
		}
	}
}

// Env is the environment for the KDC tools and for clients of the realm.
func (k *KDC) Env() []string {
	return append(os.Environ(), "KRB5_CONFIG="+k.Conf, "KRB5_KDC_PROFILE="+k.kdcConf)
}

// Stop ends the KDC.
func (k *KDC) Stop() {
	if k.cmd != nil && k.cmd.Process != nil {
		k.cmd.Process.Kill()
		<-k.exited
	}
}

func (k *KDC) run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = k.Env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Kadmin runs one kadmin.local query.
func (k *KDC) Kadmin(query string) (string, error) {
	out, err := k.run("/usr/sbin/kadmin.local", "-r", Realm, "-q", query)
	if err != nil || strings.Contains(out, " while ") {
		return out, fmt.Errorf("kadmin.local %q: %v: %s", query, err, out)
	}
	return out, nil
}

// KadminBatch runs many kadmin.local queries in one process (they are read
// from its standard input), for realms with thousands of principals.
func (k *KDC) KadminBatch(queries []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/sbin/kadmin.local", "-r", Realm)
	cmd.Env = k.Env()
	cmd.Stdin = strings.NewReader(strings.Join(queries, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil || bytes.Contains(out, []byte(" while ")) {
		return fmt.Errorf("kadmin.local batch: %v: %s", err, lastLines(string(out), 5))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Requests counts the AS and TGS requests the KDC has logged so far.
func (k *KDC) Requests() (as, tgs int, err error) {
	b, err := os.ReadFile(filepath.Join(k.Dir, "kdc.log"))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(line, " AS_REQ "):
			as++
		case strings.Contains(line, " TGS_REQ "):
			tgs++
		}
	}
	return as, tgs, nil
}

// AddUser adds user@REALM with password under the lockout policy,
// requiring pre-authentication (as Active Directory does).
func (k *KDC) AddUser(user, password string) error {
	_, err := k.Kadmin(fmt.Sprintf("addprinc -policy %s +requires_preauth -pw %s %s", LockoutPolicy, password, user))
	return err
}

// AddService adds a service principal with a random key and writes its keys
// to keytab (appending).
func (k *KDC) AddService(spn, keytab string) error {
	if _, err := k.Kadmin("addprinc -randkey " + spn); err != nil {
		return err
	}
	_, err := k.Kadmin(fmt.Sprintf("ktadd -k %s %s", keytab, spn))
	return err
}

// Keytab writes a keytab with user's current keys (changing them: ktadd
// randomises, so use -norandkey semantics via a new password).
func (k *KDC) Keytab(user, keytab string) error {
	_, err := k.Kadmin(fmt.Sprintf("ktadd -norandkey -k %s %s", keytab, user))
	return err
}

var failedRE = regexp.MustCompile(`Failed password attempts: (\d+)`)

// FailedAttempts is the KDC's count of failed pre-authentications for user.
func (k *KDC) FailedAttempts(user string) (int, error) {
	out, err := k.Kadmin("getprinc " + user)
	if err != nil {
		return 0, err
	}
	m := failedRE.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no failure count in getprinc %s: %s", user, out)
	}
	return strconv.Atoi(m[1])
}

// ResetFailures clears user's failure count.
func (k *KDC) ResetFailures(user string) error {
	_, err := k.Kadmin("modprinc -unlock " + user)
	return err
}

// Kinit gets a TGT for user into ccache with MIT's kinit, the password on
// stdin; args are more kinit options (-l 2s).
func (k *KDC) Kinit(user, password, ccache string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/kinit", append(append([]string{"-c", "FILE:" + ccache}, args...), user+"@"+Realm)...)
	cmd.Env = k.Env()
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kinit: %v: %s", err, out)
	}
	return nil
}

func freePort() (int, error) {
	// The KDC needs the same port free for TCP and UDP.
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free loopback port for TCP and UDP")
}

// Package is a test package's KDC: started once by Main, or the reason it
// could not be, which Need reports in each test that needs it.
type Package struct {
	KDC *KDC
	Dir string // the KDC's temporary folder, for keytabs and ticket caches
	Err error
}

// Main starts a KDC in a new temporary folder (named after name), runs
// setup on it, then the package's tests, and exits with their code.
func Main(m *testing.M, name string, p *Package, setup func() error) {
	os.Exit(func() int {
		if p.Err = Tools(); p.Err != nil {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", name)
		if err != nil {
			p.Err = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		p.Dir = dir
		if p.KDC, p.Err = Start(dir); p.Err == nil {
			defer p.KDC.Stop()
			p.Err = setup()
		}
		return m.Run()
	}())
}

// Need fails (in CI) or skips t when the package has no KDC, and points
// the Kerberos library at the realm's krb5.conf for the test.
func (p *Package) Need(t testing.TB) *KDC {
	t.Helper()
	if p.Err != nil {
		Unavailable(t, p.Err)
	}
	t.Setenv("KRB5_CONFIG", p.KDC.Conf)
	return p.KDC
}
