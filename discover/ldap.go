package discover

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/go-ldap/ldap/v3/gssapi"

	"aadcready/wsman"
)

// Kind classifies a discovery failure; every kind is the operator's to fix.
type Kind string

// Kinds of Error.
const (
	KindUsage       Kind = "usage"
	KindUnreachable Kind = "unreachable"
	KindUntrusted   Kind = "untrusted-certificate"
	KindLogon       Kind = "logon-refused"
	KindReferral    Kind = "referral"
	KindTimeout     Kind = "timeout"
	KindLDAP        Kind = "ldap"
)

// Error is a discovery failure with the step that failed and what to do.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}
func (e *Error) Unwrap() error { return e.Err }

// PageSize is the paging control's page: Active Directory's default
// MaxPageSize, so no DC truncates a page.
const PageSize = 1000

type conn struct {
	l        *ldap.Conn
	timeout  time.Duration
	stats    Stats
	legacyCN bool        // the certificate names the DC only in its Common Name
	stop     func() bool // unregisters the close on interrupt
}

func (c *conn) close() {
	c.stop()
	_ = c.l.Close()
}

// connect dials, secures the connection as configured and binds once: a
// refused password is never retried (one failed logon per run).
func connect(ctx context.Context, cfg Config) (*conn, error) {
	if cfg.Username == "" && cfg.Kerberos == nil {
		return nil, &Error{Kind: KindUsage, Msg: "no --username to bind as (Active Directory refuses anonymous searches)"}
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.port()))
	var spn string
	if cfg.Kerberos != nil {
		var err error
		if spn, err = cfg.ServicePrincipal(); err != nil {
			return nil, err
		}
	}
	var legacyCN bool
	tc, err := tlsConfig(cfg, &legacyCN)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.QueryTimeout)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, &Error{Kind: KindUnreachable, Msg: fmt.Sprintf("cannot reach the domain controller %s (check --dc, --port and the firewall)", addr), Err: err}
	}
	if cfg.TLS == TLSLDAPS {
		t := tls.Client(raw, tc)
		if err := t.HandshakeContext(dctx); err != nil {
			_ = raw.Close()
			return nil, tlsError(addr, err)
		}
		raw = t
	}
	l := ldap.NewConn(raw, cfg.TLS == TLSLDAPS)
	l.Start()
	l.SetTimeout(cfg.QueryTimeout)
	c := &conn{l: l, timeout: cfg.QueryTimeout}
	c.stop = context.AfterFunc(ctx, func() { _ = l.Close() }) // an interrupt ends a waiting request
	ok := false
	defer func() {
		if !ok {
			c.close()
		}
	}()
	if cfg.TLS == TLSStartTLS {
		if err := l.StartTLS(tc); err != nil {
			var le *ldap.Error
			if errors.As(err, &le) && le.ResultCode != ldap.ErrorNetwork {
				return nil, &Error{Kind: KindLDAP, Msg: fmt.Sprintf("%s refused StartTLS (use --tls ldaps, or give the DC a certificate)", addr), Err: err}
			}
			return nil, tlsError(addr, err)
		}
	}
	if cfg.Kerberos != nil {
		err = gssapiBind(ctx, l, cfg, spn, addr)
	} else if err = l.Bind(cfg.Username, cfg.Password); err != nil {
		err = bindError(addr, cfg, err)
	}
	if err != nil {
		return nil, err
	}
	ok = true
	c.legacyCN = legacyCN
	return c, nil
}

// tlsConfig verifies the DC's certificate against the system roots and
// --ca-file. legacyCN is set when the certificate names the DC only in its
// subject's Common Name (no subjectAltName), as Samba's self-generated
// certificate does: Go's verifier no longer reads the Common Name, so that
// one case is checked here, the chain still verified in full.
func tlsConfig(cfg Config, legacyCN *bool) (*tls.Config, error) {
	name := cfg.ServerName
	if name == "" {
		name = cfg.Host
	}
	var roots *x509.CertPool // nil: the system's
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, &Error{Kind: KindUsage, Msg: "--ca-file", Err: err}
		}
		if roots, err = x509.SystemCertPool(); err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, &Error{Kind: KindUsage, Msg: fmt.Sprintf("--ca-file %s holds no PEM certificate", cfg.CAFile)}
		}
	}
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the server sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		opts := x509.VerifyOptions{Roots: roots, DNSName: name, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := leaf.Verify(opts)
		var he x509.HostnameError
		if errors.As(err, &he) {
			// Go checks the name before the chain: an untrusted chain is
			// the more basic problem, so it is the one reported.
			opts.DNSName = ""
			_, chainErr := leaf.Verify(opts)
			switch {
			case chainErr != nil:
				err = chainErr
			case len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 && leaf.Subject.CommonName != "" &&
				strings.EqualFold(leaf.Subject.CommonName, name):
				*legacyCN = true
				return nil
			}
		}
		if err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
	return &tls.Config{
		ServerName: name,
		MinVersion: tls.VersionTLS12,
		// Not skipped: VerifyConnection does the whole verification (chain
		// and name) itself, to accept the one legacy form above.
		InsecureSkipVerify: true,
		VerifyConnection:   verify,
	}, nil
}

func tlsError(addr string, err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &hostname):
		return &Error{Kind: KindUntrusted, Msg: fmt.Sprintf("the certificate of %s is not for this name (give --server-name with the name it was issued to)", addr), Err: err}
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &verify):
		return &Error{Kind: KindUntrusted, Msg: fmt.Sprintf("the certificate of %s is not trusted (give its CA with --ca-file)", addr), Err: err}
	case strings.Contains(err.Error(), "x509: certificate is valid for"), strings.Contains(err.Error(), "x509: certificate relies on legacy Common Name"),
		strings.Contains(err.Error(), "x509: cannot validate certificate for"):
		// go-ldap's StartTLS keeps only the message of the handshake error.
		return &Error{Kind: KindUntrusted, Msg: fmt.Sprintf("the certificate of %s is not for this name (give --server-name with the name it was issued to)", addr), Err: err}
	case strings.Contains(err.Error(), "x509: negative serial number"):
		return &Error{Kind: KindUntrusted, Msg: fmt.Sprintf("the certificate of %s cannot be parsed (negative serial number, as in Samba's self-generated certificate): give the DC a certificate from a CA", addr), Err: err}
	case strings.Contains(err.Error(), "x509:"):
		return &Error{Kind: KindUntrusted, Msg: fmt.Sprintf("the certificate of %s is not trusted (give its CA with --ca-file)", addr), Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindTimeout, Msg: fmt.Sprintf("TLS handshake with %s timed out", addr), Err: err}
	}
	return &Error{Kind: KindUnreachable, Msg: fmt.Sprintf("TLS handshake with %s failed (is it an LDAPS port? try --tls starttls on 389)", addr), Err: err}
}

// ServicePrincipal is the SPN of a Kerberos bind: SPN, else ldap/<the
// DC's name>. Tickets are issued to registered names, never to an address,
// so a DC given by IP needs ServerName (or SPN).
func (c Config) ServicePrincipal() (string, error) {
	if c.SPN != "" {
		return c.SPN, nil
	}
	name := c.ServerName
	if name == "" {
		name = c.Host
	}
	if net.ParseIP(strings.Trim(name, "[]")) != nil {
		return "", &Error{Kind: KindUsage, Msg: fmt.Sprintf("--dc %s is an IP address: Kerberos cannot ask the KDC for a ticket to ldap/%s (tickets are issued to host names registered as SPNs); give the DC's DNS name with --server-name (it is also the name checked in its certificate) or --spn ldap/<name>", name, name)}
	}
	return "ldap/" + name, nil
}

// gssapiBind binds with SASL GSSAPI (RFC 4752) using the run's Kerberos
// credential: its one AS exchange, a service ticket for spn, then the
// AP exchange with the DC. No SASL security layer is negotiated; TLS
// protects the connection (or, with --tls none, nothing does).
func gssapiBind(ctx context.Context, l *ldap.Conn, cfg Config, spn, addr string) error {
	cl, err := cfg.Kerberos.ServiceClient(ctx, spn, nil)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return kerberosError(cfg, spn, err)
	}
	// A fresh wrapper per bind: it holds this exchange's session keys.
	if err := l.GSSAPIBind(&gssapi.Client{Client: cl}, spn, ""); err != nil {
		var le *ldap.Error
		switch {
		case errors.As(err, &le) && le.ResultCode == ldap.ErrorNetwork:
			return bindError(addr, cfg, err)
		case errors.As(err, &le) && le.ResultCode == ldap.LDAPResultStrongAuthRequired && cfg.TLS == TLSNone:
			return &Error{Kind: KindLogon, Msg: fmt.Sprintf("%s refuses a Kerberos bind without TLS: it wants a SASL security layer (signing), which this tool does not negotiate; use --tls ldaps or starttls", addr), Err: err}
		}
		return &Error{Kind: KindLogon, Msg: fmt.Sprintf("%s refused the Kerberos bind with a ticket for %s (check that %s is the DC's SPN: setspn -Q %s; and the clocks)", addr, spn, spn, spn), Err: err}
	}
	return nil
}

// kerberosError names a failure of the credential or of the ticket request,
// with wsman's class and hint: a refused pre-authentication is final.
func kerberosError(cfg Config, spn string, err error) error {
	e := wsman.Classify(err)
	kind := KindLogon
	if e.Class == wsman.ClassKDCUnreachable {
		kind = KindUnreachable
	}
	msg := fmt.Sprintf("Kerberos (%s) for %s: %s", cfg.Kerberos.Source(), spn, e.Class)
	if e.Class == wsman.ClassKrbPreauthFailed {
		msg += " (tried once, not retried)"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return &Error{Kind: kind, Msg: msg}
}

func bindError(addr string, cfg Config, err error) error {
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultInvalidCredentials:
			return &Error{Kind: KindLogon, Msg: fmt.Sprintf("%s refused the password of %q (tried once, not retried, so the account is not locked out)", addr, cfg.Username), Err: err}
		case ldap.LDAPResultStrongAuthRequired, ldap.LDAPResultConfidentialityRequired:
			return &Error{Kind: KindLogon, Msg: fmt.Sprintf("%s refuses a simple bind without TLS (use --tls ldaps or starttls)", addr), Err: err}
		case ldap.ErrorNetwork:
			if timedOut(err) {
				return &Error{Kind: KindTimeout, Msg: fmt.Sprintf("%s did not answer the bind within %s (--query-timeout)", addr, cfg.QueryTimeout), Err: err}
			}
			return &Error{Kind: KindUnreachable, Msg: fmt.Sprintf("%s closed the connection during the bind", addr), Err: err}
		}
	}
	return &Error{Kind: KindLogon, Msg: fmt.Sprintf("bind as %q at %s failed", cfg.Username, addr), Err: err}
}

func (c *conn) rootDSE(ctx context.Context) (*ldap.Entry, error) {
	es, _, err := c.search(ctx, "", "(objectClass=*)", []string{"defaultNamingContext", "rootDomainNamingContext", "dnsHostName"}, ldap.ScopeBaseObject)
	if err != nil {
		return nil, err
	}
	if len(es) != 1 {
		return nil, &Error{Kind: KindLDAP, Msg: "the domain controller returned no rootDSE"}
	}
	return es[0], nil
}

// search runs one query in pages of PageSize entries under one deadline,
// returning the entries and the continuation references (referrals to other
// partitions, not followed). A referral instead of a result (the base is
// held elsewhere) is an error naming where it points.
func (c *conn) search(ctx context.Context, base, filter string, attrs []string, scope ...int) ([]*ldap.Entry, []string, error) {
	sc := ldap.ScopeWholeSubtree
	if len(scope) > 0 {
		sc = scope[0]
	}
	deadline := time.Now().Add(c.timeout)
	c.stats.Queries++
	paging := ldap.NewControlPaging(PageSize)
	var (
		entries []*ldap.Entry
		refs    []string
	)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil, &Error{Kind: KindTimeout, Msg: fmt.Sprintf("search of %q with %s took longer than %s (--query-timeout)", base, filter, c.timeout)}
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		c.l.SetTimeout(left)
		req := ldap.NewSearchRequest(base, sc, ldap.NeverDerefAliases, 0, int(left.Seconds())+1, false, filter, attrs, []ldap.Control{paging})
		res, err := c.l.Search(req)
		if err != nil {
			return nil, nil, searchError(ctx, base, filter, c.timeout, err)
		}
		c.stats.Pages++
		c.stats.Entries += len(res.Entries)
		entries = append(entries, res.Entries...)
		refs = append(refs, res.Referrals...)
		next, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if next == nil || len(next.Cookie) == 0 {
			return entries, refs, nil
		}
		paging.SetCookie(next.Cookie)
	}
}

func searchError(ctx context.Context, base, filter string, timeout time.Duration, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultReferral:
			to := referralURLs(le.Packet)
			return &Error{Kind: KindReferral, Msg: fmt.Sprintf("the domain controller does not hold %q and referred to %s: point --dc at a domain controller of that domain, or use --gc", base, strings.Join(to, ", ")), Err: err}
		case ldap.LDAPResultTimeLimitExceeded, ldap.ErrorNetwork:
			if timedOut(err) || le.ResultCode == ldap.LDAPResultTimeLimitExceeded {
				return &Error{Kind: KindTimeout, Msg: fmt.Sprintf("search of %q with %s took longer than %s (--query-timeout)", base, filter, timeout), Err: err}
			}
		case ldap.LDAPResultNoSuchObject:
			return &Error{Kind: KindLDAP, Msg: fmt.Sprintf("--base %q does not exist on this domain controller", base), Err: err}
		}
	}
	return &Error{Kind: KindLDAP, Msg: fmt.Sprintf("search of %q with %s failed", base, filter), Err: err}
}

// timedOut recognises go-ldap's request timeout, which it reports as a
// network error with this text only.
func timedOut(err error) bool { return strings.Contains(err.Error(), "timed out") }

// referralURLs digs the referral URIs out of an LDAPResult (RFC 4511
// 4.1.10: [3] context tag after the diagnostic message). go-ldap keeps
// only the packet.
func referralURLs(p *ber.Packet) []string {
	if p == nil || len(p.Children) < 2 {
		return []string{"(no address given)"}
	}
	var out []string
	for _, child := range p.Children[1].Children {
		if child.ClassType == ber.ClassContext && child.Tag == 3 {
			for _, u := range child.Children {
				if s, ok := u.Value.(string); ok {
					out = append(out, s)
				} else {
					out = append(out, u.Data.String())
				}
			}
		}
	}
	if len(out) == 0 {
		return []string{"(no address given)"}
	}
	return out
}
