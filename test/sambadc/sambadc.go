//go:build linux

// Package sambadc runs a real Samba Active Directory domain controller for
// tests: provisioned into a temporary directory, populated from LDIF while
// it is offline (ldbadd: thousands of entries in a second), then started in
// the foreground on one loopback address with LDAP, LDAPS and the global
// catalog. Tests that need it call Start once from TestMain.
package sambadc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Domain facts of every provisioned DC.
const (
	Realm         = "AADC.TEST"
	NetBIOSDomain = "AADC"
	BaseDN        = "DC=aadc,DC=test"
	ServerName    = "DC1.aadc.test" // the name in Samba's generated certificate
	AdminPassword = "Adm1n!Passw0rd-Test"
	AdminUPN      = "Administrator@aadc.test"
)

// DC is a running domain controller.
type DC struct {
	Dir    string // provisioned directory
	IP     string // loopback address it listens on
	CAFile string // CA of its generated LDAPS certificate
	cmd    *exec.Cmd
	done   chan error
	out    *bytes.Buffer
}

// Install is how to get what Start needs (.ci/run installs it).
const Install = "sudo apt-get install -y samba samba-ad-dc samba-ad-provision samba-dsdb-modules ldb-tools"

// ErrMissing means Samba is not installed.
var ErrMissing = errors.New("samba-tool, samba or ldbadd not found")

// Available reports whether the Samba tools are installed.
func Available() error {
	for _, p := range []string{"samba-tool", "samba", "ldbadd"} {
		if _, err := exec.LookPath(p); err != nil {
			if _, err := os.Stat("/usr/sbin/" + p); err != nil {
				return ErrMissing
			}
		}
	}
	return nil
}

func tool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return "/usr/sbin/" + name
}

// Certificates a DC can serve LDAPS with.
type Certificate int

const (
	// SambaCertificate is the one Samba generates at its first start: a
	// CA (CAFile) and a server certificate naming ServerName only in its
	// Common Name, with a negative serial number, as in labs and small
	// sites that never replaced it.
	SambaCertificate Certificate = iota
	// OwnCertificate is a server certificate for ServerName with a
	// subjectAltName, from a CA the harness makes: what a DC enrolled from
	// an enterprise CA has.
	OwnCertificate
)

// Start provisions a DC in dir listening on ip (a 127.x.y.z address not
// used by another test package), adds ldif (entries under BaseDN) and starts
// it, serving LDAPS with cert.
func Start(ctx context.Context, dir, ip, ldif string, cert Certificate) (*DC, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "636"), time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("something already listens on %s:636 (another Samba?); pick another loopback address", ip)
	}
	dc := &DC{Dir: dir, IP: ip, CAFile: filepath.Join(dir, "private", "tls", "ca.pem")}
	opts := []string{
		"interfaces = " + ip + "/8", // with a mask Samba takes the address as given: it need not be on an interface
		"bind interfaces only = yes",
		"server services = ldap, kdc", // the KDC answers on ip:88 (discover's Kerberos bind)
		"dns forwarder = none",
		"pid directory = " + filepath.Join(dir, "run"), // nothing shared with another Samba on the machine
		"ncalrpc dir = " + filepath.Join(dir, "ncalrpc"),
		"log file = " + filepath.Join(dir, "samba.log"),
		"logging = file",
		"netbios name = DC1",
		"tls enabled = yes",
		// As Active Directory does, accept a Kerberos (SASL GSSAPI) bind
		// without a SASL security layer when TLS protects the connection
		// (Samba's default, yes, insists on SASL signing even inside TLS).
		// Simple binds without TLS are refused either way.
		"ldap server require strong auth = allow_sasl_over_tls",
	}
	if cert == OwnCertificate {
		dc.CAFile = filepath.Join(dir, "ca.pem")
		certFile, keyFile := filepath.Join(dir, "dc-cert.pem"), filepath.Join(dir, "dc-key.pem")
		if err := writeCerts(dc.CAFile, certFile, keyFile); err != nil {
			return nil, err
		}
		opts = append(opts, "tls certfile = "+certFile, "tls keyfile = "+keyFile, "tls cafile = "+dc.CAFile)
	}
	args := []string{"domain", "provision", "--use-rfc2307", "--server-role=dc", "--dns-backend=SAMBA_INTERNAL",
		"--realm=" + Realm, "--domain=" + NetBIOSDomain, "--adminpass=" + AdminPassword,
		"--targetdir=" + dir, "--host-ip=" + ip, "--host-name=DC1"} // SPNs ldap/DC1.aadc.test, not this machine's name
	for _, o := range opts {
		args = append(args, "--option="+o)
	}
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o700); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, tool("samba-tool"), args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("samba-tool domain provision: %v\n%s", err, tail(out))
	}
	// With a lockout threshold Samba counts failed logons (badPwdCount),
	// so tests can prove a wrong password is tried once; 0 would not count.
	lockout := exec.CommandContext(ctx, tool("samba-tool"), "domain", "passwordsettings", "set",
		"--account-lockout-threshold=5", "-H", filepath.Join(dir, "private", "sam.ldb"))
	if out, err := lockout.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("samba-tool domain passwordsettings: %v\n%s", err, tail(out))
	}
	// A Windows DC registers ldap/<its FQDN> itself; Samba leaves that to
	// samba_spnupdate (the dnsupdate service, not run here), so a Kerberos
	// bind would find no service principal without it.
	spn := exec.CommandContext(ctx, tool("samba-tool"), "spn", "add", "ldap/"+ServerName, "DC1$", "-H", filepath.Join(dir, "private", "sam.ldb"))
	if out, err := spn.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("samba-tool spn add: %v\n%s", err, tail(out))
	}
	if ldif != "" {
		path := filepath.Join(dir, "fixture.ldif")
		if err := os.WriteFile(path, []byte(ldif), 0o600); err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, tool("ldbadd"), "-H", filepath.Join(dir, "private", "sam.ldb"), path)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ldbadd fixture: %v\n%s", err, tail(out))
		}
	}
	dc.out = &bytes.Buffer{}
	dc.cmd = exec.Command(tool("samba"), "-i", "-s", filepath.Join(dir, "etc", "smb.conf"))
	dc.cmd.Stdout, dc.cmd.Stderr = dc.out, dc.out
	// Its own process group, so Stop ends the prefork workers too; and
	// SIGTERM if the test binary dies first (a test timeout), so no DC is
	// left behind on the shared machine.
	dc.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := dc.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting samba: %w", err)
	}
	dc.done = make(chan error, 1)
	go func() { dc.done <- dc.cmd.Wait() }()
	if err := dc.waitReady(ctx); err != nil {
		dc.Stop()
		return nil, err
	}
	return dc, nil
}

// waitReady waits until LDAPS answers and the CA file is there.
func (dc *DC) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-dc.done:
			return fmt.Errorf("samba exited: %v\n%s", err, tail(dc.out.Bytes()))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(dc.IP, "636"), time.Second)
		if err != nil {
			continue
		}
		c.Close()
		if _, err := os.Stat(dc.CAFile); err == nil { // Samba writes its own before it listens
			return nil
		}
	}
	return fmt.Errorf("samba did not listen on %s:636 within 90s\n%s", dc.IP, tail(dc.out.Bytes()))
}

// Stop ends the DC and its worker processes.
func (dc *DC) Stop() {
	if dc.cmd == nil || dc.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-dc.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-dc.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-dc.cmd.Process.Pid, syscall.SIGKILL)
		<-dc.done
	}
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 3000 {
		s = "..." + s[len(s)-3000:]
	}
	return s
}
