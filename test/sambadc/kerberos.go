//go:build linux

package sambadc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Krb5Conf writes a krb5.conf for the DC's realm into dir and returns its
// path: Samba's built-in KDC answers on the DC's address, port 88. The
// realm's names map to it without DNS.
func (dc *DC) Krb5Conf(dir string) (string, error) {
	conf := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	udp_preference_limit = 1

[realms]
	%[1]s = {
		kdc = %[2]s:88
	}

[domain_realm]
	.%[3]s = %[1]s
	%[3]s = %[1]s
`, Realm, dc.IP, strings.ToLower(Realm))
	path := filepath.Join(dir, "krb5.conf")
	return path, os.WriteFile(path, []byte(conf), 0o600)
}

// Kinit gets a TGT for user@Realm into the file ccache with MIT's kinit
// against the DC's KDC, the password on stdin.
func Kinit(krb5conf, user, password, ccache string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kinit", "-c", "FILE:"+ccache, user+"@"+Realm)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+krb5conf)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kinit: %v: %s", err, out)
	}
	return nil
}

// ExportKeytab writes principal's keys (user@Realm) into an owner-only
// keytab at path, read from the DC's own database.
func (dc *DC) ExportKeytab(principal, path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool("samba-tool"), "domain", "exportkeytab", path, "--principal="+principal,
		"-s", filepath.Join(dc.Dir, "etc", "smb.conf"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("samba-tool domain exportkeytab: %v: %s", err, tail(out))
	}
	return os.Chmod(path, 0o600)
}
