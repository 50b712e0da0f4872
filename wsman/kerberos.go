package wsman

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"aadcready/safefile"
)

// KerberosOptions say where one Kerberos credential comes from. Exactly
// one source is used: Keytab, else Password, else the ticket cache.
type KerberosOptions struct {
	Principal string   // user@REALM or user (realm from Realm or krb5.conf); "" with a ticket cache: its principal
	Realm     string   // overrides krb5.conf's default_realm
	KDCs      []string // host[:port] for Realm, overriding krb5.conf
	Krb5Conf  string   // "" = $KRB5_CONFIG, else /etc/krb5.conf, else none (Realm and KDCs then required)
	Password  string
	Keytab    string // path of a keytab holding Principal's keys
	CCache    string // ticket cache path; "" = $KRB5CCNAME (FILE: only), else /tmp/krb5cc_<uid>
}

// Kerberos is one Kerberos credential shared by every host that uses it
// in a run: one AS exchange (password or keytab) or one ticket cache, and
// one service ticket per SPN, reused for every connection and message. A
// refusal by the KDC is final for the credential: no later call repeats
// the pre-authentication (a wrong password counts toward lockout).
type Kerberos struct {
	cl     *client.Client
	source string // "ticket cache FILE", "keytab FILE", "password"
	realm  string

	loginMu sync.Mutex
	cur     *loginState // the AS exchange made (or the ticket cache's); nil before the first use

	tgsMu sync.Mutex // one TGS exchange at a time, so concurrent hosts do not race for the same SPN
	as    atomic.Int64
	tgs   atomic.Int64
}

// aesOnly are the enctypes requested from the KDC: RC4 and DES are never
// asked for (Protected Users may not use them; RFC 4121 sealing is AES).
var aesOnly = []int32{etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA1_96,
	etypeID.AES256_CTS_HMAC_SHA384_192, etypeID.AES128_CTS_HMAC_SHA256_128}

// NewKerberos loads krb5.conf and the credential's source. It talks to no
// KDC: the AS exchange happens on first use.
func NewKerberos(o KerberosOptions) (*Kerberos, error) {
	cfg, confPath, err := loadKrb5ConfPath(o)
	if err != nil {
		return nil, err
	}
	k := &Kerberos{}
	user, realm, _ := strings.Cut(o.Principal, "@")
	if realm == "" {
		realm = cfg.LibDefaults.DefaultRealm
	}
	switch {
	case o.Keytab != "":
		if fi, err := os.Stat(o.Keytab); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			return nil, krbError(ClassKrbKeytab, fmt.Sprintf("keytab %s is readable by others (mode %v): a keytab is a password; chmod 600 it", o.Keytab, fi.Mode().Perm()), nil)
		}
		kt, err := loadKeytab(o.Keytab)
		if err != nil {
			return nil, krbError(ClassKrbKeytab, "keytab "+o.Keytab+": "+err.Error(), err)
		}
		if user == "" || realm == "" {
			return nil, krbError(ClassKrbConfig, "a keytab needs a principal (user@REALM) and a realm", nil)
		}
		if err := keytabHas(kt, user, realm); err != nil {
			return nil, krbError(ClassKrbKeytab, fmt.Sprintf("keytab %s: %v", o.Keytab, err), err)
		}
		k.cl = client.NewWithKeytab(user, realm, kt, cfg, client.DisablePAFXFAST(true))
		k.source = "keytab " + o.Keytab
	case o.Password != "":
		if user == "" || realm == "" {
			return nil, krbError(ClassKrbConfig, "no realm for "+o.Principal+": write user@REALM or set kerberos.realm (or default_realm in krb5.conf)", nil)
		}
		k.cl = client.NewWithPassword(user, realm, o.Password, cfg, client.DisablePAFXFAST(true))
		k.source = "password"
	default:
		path := ccachePath(o.CCache, confPath)
		if typ, _, ok := strings.Cut(path, ":"); ok && !strings.Contains(typ, "/") {
			return nil, krbError(ClassKrbNoTicket, fmt.Sprintf("ticket cache %s: only file caches can be read; run kinit -c FILE:/tmp/krb5cc_%d and set KRB5CCNAME to it", path, os.Getuid()), nil)
		}
		cc, err := loadCCache(path)
		if err != nil {
			return nil, krbError(ClassKrbNoTicket, fmt.Sprintf("no ticket cache at %s (%v)", path, sanitize(err.Error())), err)
		}
		if o.Principal != "" && !strings.EqualFold(o.Principal, cc.DefaultPrincipal.PrincipalName.PrincipalNameString()+"@"+cc.DefaultPrincipal.Realm) &&
			!strings.EqualFold(o.Principal, cc.DefaultPrincipal.PrincipalName.PrincipalNameString()) {
			return nil, krbError(ClassKrbNoTicket, fmt.Sprintf("the ticket cache %s holds tickets of %s@%s, not %s", path,
				cc.DefaultPrincipal.PrincipalName.PrincipalNameString(), cc.DefaultPrincipal.Realm, o.Principal), nil)
		}
		tgt, ok := cc.GetEntry(types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", cc.DefaultPrincipal.Realm}})
		if !ok {
			return nil, krbError(ClassKrbNoTicket, "the ticket cache "+path+" holds no TGT", nil)
		}
		if !tgt.EndTime.After(time.Now()) {
			return nil, krbError(ClassKrbNoTicket, fmt.Sprintf("the TGT in %s expired at %s", path, tgt.EndTime.UTC().Format(time.RFC3339)), nil)
		}
		if k.cl, err = client.NewFromCCache(cc, cfg, client.DisablePAFXFAST(true)); err != nil {
			return nil, krbError(ClassKrbNoTicket, "ticket cache "+path+": "+sanitize(err.Error()), err)
		}
		realm = cc.DefaultPrincipal.Realm
		k.source = "ticket cache " + path
		k.cur = &loginState{done: make(chan struct{})}
		close(k.cur.done)
	}
	k.realm = realm
	return k, nil
}

// loadKeytab and loadCCache read through safefile: a regular file of
// bounded size, never a pipe or a device that would hang the run.
func loadKeytab(path string) (*keytab.Keytab, error) {
	b, err := safefile.Read(context.Background(), path, safefile.MaxSecret)
	if err != nil {
		return nil, err
	}
	kt := keytab.New()
	return kt, kt.Unmarshal(b)
}

func loadCCache(path string) (*credentials.CCache, error) {
	b, err := safefile.Read(context.Background(), path, safefile.MaxSmall)
	if err != nil {
		return nil, err
	}
	cc := new(credentials.CCache)
	return cc, cc.Unmarshal(b)
}

// keytabHas checks that kt holds a key of an AES enctype for user@realm.
func keytabHas(kt *keytab.Keytab, user, realm string) error {
	pn := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, user)
	for _, et := range aesOnly {
		if _, _, err := kt.GetEncryptionKey(pn, realm, 0, et); err == nil {
			return nil
		}
	}
	return fmt.Errorf("no AES key for %s@%s in it", user, realm)
}

// ccachePath is where MIT's kinit put the ticket cache: p, else
// $KRB5CCNAME, else krb5.conf's default_ccache_name, else /tmp/krb5cc_<uid>.
func ccachePath(p, krb5conf string) string {
	if p == "" {
		p = os.Getenv("KRB5CCNAME")
	}
	if p == "" {
		p = defaultCCacheName(krb5conf)
	}
	if p == "" {
		p = "/tmp/krb5cc_%{uid}"
	}
	p = strings.NewReplacer("%{uid}", strconv.Itoa(os.Getuid()), "%{TEMP}", os.TempDir()).Replace(p)
	return strings.TrimPrefix(p, "FILE:")
}

// defaultCCacheName reads default_ccache_name from [libdefaults] (gokrb5's
// parser does not keep it).
func defaultCCacheName(krb5conf string) string {
	b, err := safefile.Read(context.Background(), krb5conf, safefile.MaxSmall)
	if err != nil {
		return ""
	}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && section == "[libdefaults]" && strings.TrimSpace(k) == "default_ccache_name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadKrb5Conf(o KerberosOptions) (*config.Config, error) {
	cfg, _, err := loadKrb5ConfPath(o)
	return cfg, err
}

// loadKrb5ConfPath loads krb5.conf (and says which file it was) with the
// inventory's realm and KDCs over it, AES enctypes only.
func loadKrb5ConfPath(o KerberosOptions) (*config.Config, string, error) {
	path := o.Krb5Conf
	if path == "" {
		for _, p := range strings.Split(os.Getenv("KRB5_CONFIG"), ":") {
			if _, err := os.Stat(p); p != "" && err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		if _, err := os.Stat("/etc/krb5.conf"); err == nil {
			path = "/etc/krb5.conf"
		}
	}
	cfg := config.New()
	if path != "" {
		var c *config.Config
		b, err := safefile.Read(context.Background(), path, safefile.MaxSmall)
		if err == nil {
			c, err = config.NewFromString(string(b))
		}
		var unsupported config.UnsupportedDirective
		if err != nil && !(c != nil && errors.As(err, &unsupported)) { // MIT-only directives (v4) are skipped
			return nil, "", krbError(ClassKrbConfig, "krb5.conf "+path+": "+sanitize(err.Error()), err)
		}
		cfg = c
	}
	if o.Realm != "" {
		cfg.LibDefaults.DefaultRealm = o.Realm
	}
	if len(o.KDCs) > 0 {
		realm := o.Realm
		if realm == "" {
			realm = cfg.LibDefaults.DefaultRealm
		}
		kdcs := make([]string, len(o.KDCs))
		for i, kdc := range o.KDCs {
			if _, _, err := net.SplitHostPort(kdc); err != nil {
				kdc = net.JoinHostPort(kdc, "88")
			}
			kdcs[i] = kdc
		}
		found := false
		for i := range cfg.Realms {
			if strings.EqualFold(cfg.Realms[i].Realm, realm) {
				cfg.Realms[i].KDC, found = kdcs, true
			}
		}
		if !found {
			cfg.Realms = append(cfg.Realms, config.Realm{Realm: realm, KDC: kdcs})
		}
	}
	cfg.LibDefaults.DefaultTktEnctypeIDs = aesOnly
	cfg.LibDefaults.DefaultTGSEnctypeIDs = aesOnly
	cfg.LibDefaults.PermittedEnctypeIDs = aesOnly
	return cfg, path, nil
}

// Source names where the credential comes from (never its value).
func (k *Kerberos) Source() string { return k.source }

// KDCRequests returns the AS and TGS exchanges made so far.
func (k *Kerberos) KDCRequests() (as, tgs int64) { return k.as.Load(), k.tgs.Load() }

// Close stops gokrb5's TGT renewal goroutine.
func (k *Kerberos) Close() { k.cl.Destroy() }

// kdcs names the KDCs of the credential's realm, for messages.
func (k *Kerberos) kdcs() string {
	_, m, err := k.cl.Config.GetKDCs(k.realm, true)
	if err != nil || len(m) == 0 {
		return "none configured for " + k.realm
	}
	var out []string
	for i := 1; i <= len(m); i++ {
		out = append(out, m[i])
	}
	return strings.Join(out, ", ")
}

// login makes the credential's one AS exchange. Concurrent callers wait
// for the first; its result, a refusal included, is every later caller's
// without asking the KDC again. Only a KDC that was not reached at all
// (nothing counted there) is tried again, by one caller.
func (k *Kerberos) login(ctx context.Context, trace func(string, time.Duration, error)) error {
	k.loginMu.Lock()
	if st := k.cur; st != nil {
		k.loginMu.Unlock()
		if err := st.wait(ctx); ctx.Err() != nil || err == nil || Classify(err).Class != ClassKDCUnreachable {
			return err
		}
		k.loginMu.Lock()
		if nst := k.cur; nst != st { // another caller is already trying again
			k.loginMu.Unlock()
			return nst.wait(ctx)
		}
	}
	st := &loginState{done: make(chan struct{})}
	k.cur = st
	k.loginMu.Unlock()

	start := time.Now()
	go func() { // gokrb5 has no context; its own network timeouts bound it
		err := k.cl.Login()
		k.as.Add(1)
		if err != nil {
			st.err = k.classify(err, "AS exchange")
		}
		close(st.done)
	}()
	err := st.wait(ctx)
	if ctx.Err() == nil {
		trace("kerberos-as kdc="+k.kdcs()+" source="+k.source, time.Since(start), err)
	}
	return err
}

// loginState is one AS exchange: err is set before done is closed.
type loginState struct {
	done chan struct{}
	err  error
}

// wait returns the exchange's error, or ctx's if it ends first.
func (st *loginState) wait(ctx context.Context) error {
	select {
	case <-st.done:
		return st.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serviceTicket returns a ticket for spn, from the cache after the first.
func (k *Kerberos) serviceTicket(ctx context.Context, spn string, trace func(string, time.Duration, error)) (messages.Ticket, types.EncryptionKey, error) {
	if err := k.login(ctx, trace); err != nil {
		return messages.Ticket{}, types.EncryptionKey{}, err
	}
	type result struct {
		tkt    messages.Ticket
		key    types.EncryptionKey
		err    error
		d      time.Duration
		cached bool
	}
	rc := make(chan result, 1)
	go func() { // gokrb5 has no context; its own network timeouts bound it
		k.tgsMu.Lock()
		defer k.tgsMu.Unlock()
		if tkt, key, ok := k.cl.GetCachedTicket(spn); ok {
			rc <- result{tkt: tkt, key: key, cached: true}
			return
		}
		start := time.Now()
		tkt, key, err := k.cl.GetServiceTicket(spn)
		k.tgs.Add(1)
		if err != nil {
			err = k.classify(err, "TGS exchange for "+spn)
		}
		rc <- result{tkt, key, err, time.Since(start), false}
	}()
	select {
	case r := <-rc:
		if !r.cached { // traced here, never after the caller gave up
			trace("kerberos-tgs spn="+spn, r.d, r.err)
		}
		return r.tkt, r.key, r.err
	case <-ctx.Done():
		return messages.Ticket{}, types.EncryptionKey{}, ctx.Err()
	}
}

var krbErrCode = regexp.MustCompile(`KRB Error: \((\d+)\)`)

// classify turns a gokrb5 error (whose KRB-ERROR survives only as text)
// into an *Error of a Kerberos class.
func (k *Kerberos) classify(err error, what string) *Error {
	msg := sanitize(err.Error())
	if m := krbErrCode.FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		return krbCodeError(int32(code), what+": "+errorcode.Lookup(int32(code)), err)
	}
	switch {
	case strings.Contains(msg, "password/keytab incorrect"):
		return krbError(ClassKrbPreauthFailed, what+": the KDC's reply could not be decrypted with the password or keytab", err)
	case strings.Contains(msg, "matching key not found in keytab"):
		return krbError(ClassKrbKeytab, what+": the keytab has no key of the enctype the KDC asked for", err)
	case strings.Contains(msg, "Networking_Error"), strings.Contains(msg, "communicat"), strings.Contains(msg, "no KDC"),
		strings.Contains(msg, "error getting KDCs"):
		return krbError(ClassKDCUnreachable, what+": no answer from the KDC ("+k.kdcs()+")", err)
	}
	return krbError(ClassKrbConfig, what+": "+msg, err)
}

// krbCodeError maps a KRB-ERROR code to a class.
func krbCodeError(code int32, msg string, err error) *Error {
	class := ClassAuthRefused
	switch code {
	case errorcode.KDC_ERR_PREAUTH_FAILED, errorcode.KRB_AP_ERR_BAD_INTEGRITY:
		class = ClassKrbPreauthFailed
	case errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
		class = ClassKrbClientUnknown
	case errorcode.KDC_ERR_CLIENT_REVOKED, errorcode.KDC_ERR_KEY_EXPIRED:
		class = ClassKrbRevoked
	case errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
		class = ClassKrbSPNUnknown
	case errorcode.KRB_AP_ERR_SKEW:
		class = ClassKrbSkew
	case errorcode.KDC_ERR_ETYPE_NOSUPP, errorcode.KDC_ERR_SUMTYPE_NOSUPP:
		class = ClassKrbEtype
	case errorcode.KRB_AP_ERR_MODIFIED, errorcode.KRB_AP_ERR_BADKEYVER, errorcode.KRB_AP_ERR_NOKEY:
		class = ClassKrbServiceKey
	case errorcode.KRB_AP_ERR_TKT_EXPIRED:
		class = ClassKrbNoTicket
	}
	return krbError(class, msg, err)
}

func krbError(class Class, msg string, err error) *Error {
	return newError(class, "connect", msg, err)
}

// CredentialRefused reports whether err is the KDC refusing the credential
// itself (wrong password, unknown or locked account): every host that
// shares it would be refused too, and trying again counts toward lockout.
func CredentialRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Class {
	case ClassKrbPreauthFailed, ClassKrbClientUnknown, ClassKrbRevoked, ClassKrbKeytab, ClassKrbNoTicket:
		return true
	}
	return false
}

// ServiceClient makes the credential's one AS exchange (or uses the ticket
// cache's TGT), gets a service ticket for spn into the client's cache, and
// returns the gokrb5 client holding both, for another protocol's GSS-API
// exchange (discover's LDAP SASL GSSAPI bind). A refusal is the same final
// one the WinRM hosts of the run would get; the caller must not Destroy the
// client (Close does, once).
func (k *Kerberos) ServiceClient(ctx context.Context, spn string, trace func(string, time.Duration, error)) (*client.Client, error) {
	if trace == nil {
		trace = func(string, time.Duration, error) {}
	}
	if _, _, err := k.serviceTicket(ctx, spn, trace); err != nil {
		return nil, err
	}
	return k.cl, nil
}
