package scanner

import (
	"runtime"
	"strings"
	"sync"

	"aadcready/inventory"
	"aadcready/wsman"
)

// krbCreds holds the run's Kerberos credentials, one per account and
// source, shared by every host that uses it: one AS exchange (or ticket
// cache) per credential per run, and a refusal seen by every host at once.
type krbCreds struct {
	mu    sync.Mutex
	creds map[string]*krbCred
}

type krbCred struct {
	k   *wsman.Kerberos
	err error // the credential could not be loaded (no ticket cache, bad keytab)
}

// krbKey identifies a credential: account, source and realm (KDCs and
// krb5.conf only say how to reach the same account's KDC).
func krbKey(h inventory.Host) string {
	src := "ticket cache"
	switch {
	case h.Keytab != "":
		src = "keytab:" + h.Keytab
	case h.Secret != (inventory.SecretRef{}):
		src = h.Secret.String()
	}
	key := "kerberos " + h.Username + " (" + src + ")"
	if h.Kerberos.Realm != "" {
		key += " realm " + h.Kerberos.Realm
	}
	return key
}

// get returns the credential of h, loading it on first use.
func (c *krbCreds) get(h inventory.Host, password string) (*wsman.Kerberos, error) {
	key := krbKey(h)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cr, ok := c.creds[key]; ok {
		return cr.k, cr.err
	}
	k, err := wsman.NewKerberos(wsman.KerberosOptions{
		Principal: principal(h.Username),
		Realm:     h.Kerberos.Realm,
		KDCs:      h.Kerberos.KDCs,
		Krb5Conf:  h.Kerberos.Krb5Conf,
		Password:  password,
		Keytab:    h.Keytab,
	})
	if c.creds == nil {
		c.creds = map[string]*krbCred{}
	}
	c.creds[key] = &krbCred{k, err}
	return k, err
}

// close ends the credentials' background ticket renewal.
func (c *krbCreds) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cr := range c.creds {
		if cr.k != nil {
			cr.k.Close()
		}
	}
}

// KDCRequests sums the AS and TGS exchanges of the run's credentials.
func (c *krbCreds) kdcRequests() (as, tgs int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cr := range c.creds {
		if cr.k != nil {
			a, t := cr.k.KDCRequests()
			as, tgs = as+a, tgs+t
		}
	}
	return as, tgs
}

// usesSSPI reports whether a host logs on as the logged-on Windows user
// (negotiate without any credential, on Windows): no Kerberos credential
// of ours is involved.
func usesSSPI(h inventory.Host) bool {
	return runtime.GOOS == "windows" && h.Auth == inventory.AuthNegotiate && h.Keytab == "" && h.Secret == (inventory.SecretRef{})
}

// principal turns an inventory user name into a Kerberos principal:
// user@REALM stays; DOMAIN\user becomes user (the realm is not the NetBIOS
// domain name: it comes from kerberos.realm or krb5.conf).
func principal(user string) string {
	if _, name, ok := strings.Cut(user, `\`); ok {
		return name
	}
	return user
}
