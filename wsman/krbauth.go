package wsman

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// krbTicket is the client's service ticket: fetched once (before the first
// connection) and used for the AP exchange of every connection.
type krbTicket struct {
	tkt    messages.Ticket
	key    types.EncryptionKey
	hdrLen int // wrap header length of the ticket's enctype
}

// prepareKerberos gets the host's service ticket before the first request,
// so that the sealed body's length is known and a KDC problem is named
// before any connection. Runs under c.sem.
func (c *Client) prepareKerberos(ctx context.Context) error {
	if !c.s.kerberos() || c.ticket != nil {
		return nil
	}
	c.trace("kerberos-cred "+c.s.Kerberos.Source(), 0, nil)
	c.trace("kerberos-spn "+c.s.spn, 0, nil)
	tkt, key, err := c.s.Kerberos.serviceTicket(ctx, c.s.spn, c.trace)
	if err != nil {
		if ctx.Err() != nil {
			return ctxError(ctx, "connect")
		}
		if c.s.fallBackToNTLM(err) {
			c.trace("ntlm-fallback", 0, err)
			return nil
		}
		return err
	}
	if !sealable(key.KeyType) {
		return krbError(ClassKrbEtype, fmt.Sprintf("the service ticket for %s has enctype %d; only AES is used", c.s.spn, key.KeyType), errEtype)
	}
	et, _ := crypto.GetEtype(key.KeyType)
	c.ticket = &krbTicket{tkt: tkt, key: key,
		hdrLen: 16 + et.GetConfounderByteSize() + 16 + et.GetHMACBitLength()/8}
	return nil
}

// sealFraming is the multipart protocol and header length of the client's
// sealing: fixed by the auth method and (Kerberos) the ticket's enctype.
func (c *Client) sealFraming() (string, int) {
	switch {
	case !c.s.kerberos():
		return protoSPNEGO, ntlmSigLen
	case c.krbScheme() == "Kerberos":
		return protoKerberos, c.ticket.hdrLen
	}
	return protoSPNEGO, c.ticket.hdrLen
}

// krbScheme is the HTTP scheme the AP-REQ is sent with: Kerberos for auth
// kerberos (as winrs does) until a host shows it offers only Negotiate,
// then Negotiate with the raw krb5 token (as pywinrm does); Negotiate with
// SPNEGO for auth negotiate. The sealing protocol follows the scheme.
func (c *Client) krbScheme() string {
	if c.s.Auth == AuthNegotiate || c.negotiateOnly.Load() {
		return "Negotiate"
	}
	return "Kerberos"
}

// errSchemeSwitch ends a dial whose host refused the Kerberos scheme
// without offering it: the request is sent again, under Negotiate, on a
// new connection.
var errSchemeSwitch = errors.New("the host offers Negotiate, not Kerberos")

// authenticateKerberos runs the AP exchange on a fresh connection: one
// empty POST with the AP-REQ (raw for the Kerberos scheme, in SPNEGO for
// Negotiate), answered with 200 and the AP-REP, which must prove the
// server holds the service key (mutual authentication).
func (c *Client) authenticateKerberos(ctx context.Context, ac *authConn) error {
	scheme := c.krbScheme()
	creds := c.s.Kerberos.cl.Credentials
	cb := c.testCB
	if b := channelBindings(ac); b != nil {
		cb = b.ApplicationData
	}
	init, tok, err := newKrbInitiator(creds.CName(), creds.Domain(), c.ticket.tkt, c.ticket.key, c.s.Auth == AuthNegotiate, cb)
	if err != nil {
		if errors.Is(err, errEtype) {
			return krbError(ClassKrbEtype, err.Error(), err)
		}
		return krbError(ClassKrbConfig, "AP-REQ: "+err.Error(), err)
	}
	stop := context.AfterFunc(ctx, func() { ac.Conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	br := bufio.NewReaderSize(ac.Conn, 4096)
	start := time.Now()
	status, hdr, err := c.authLeg(ctx, ac, br, scheme, tok)
	if err != nil {
		return err
	}
	reply, offered, err := authToken(hdr, scheme)
	if err == nil && reply == nil { // some servers answer one scheme under the other's name
		other := map[string]string{"Kerberos": "Negotiate", "Negotiate": "Kerberos"}[scheme]
		if r, _, e := authToken(hdr, other); e == nil && r != nil {
			reply = r
		}
	}
	if err != nil {
		return newError(ClassMalformed, "connect", err.Error(), err)
	}
	switch {
	case status == http.StatusUnauthorized && len(reply) == 0 && scheme == "Kerberos" && !offers(offered, "Kerberos"):
		c.negotiateOnly.Store(true)
		e := c.authRefused("the host does not offer the Kerberos scheme; retrying under Negotiate")
		e.Err = errSchemeSwitch
		return e
	case status == http.StatusUnauthorized:
		return c.krbRefused(init, reply, offered, scheme)
	case status < 200 || status > 299:
		return c.authStatusError(status, "answered the Kerberos AP-REQ")
	case br.Buffered() > 0:
		return newError(ClassMalformed, "connect", "unexpected data after the authentication response", nil)
	}
	c.trace("kerberos-ap", time.Since(start), nil)
	if err := init.accept(reply); err != nil {
		var ae *apError
		if errors.As(err, &ae) {
			return krbCodeError(ae.ErrorCode, "the host answered the AP-REQ with "+sanitize(ae.Error()), err)
		}
		if errors.Is(err, errEtype) {
			return krbError(ClassKrbEtype, sanitize(err.Error()), err)
		}
		e := krbError(ClassKrbMutual, sanitize(err.Error()), err)
		c.trace("kerberos-mutual", 0, e)
		return e
	}
	c.trace("kerberos-mutual", 0, nil)
	if c.s.seal {
		if init.HeaderLen() != c.ticket.hdrLen {
			return krbError(ClassKrbEtype, fmt.Sprintf("the host's subkey enctype %d differs from the ticket's %d", init.KeyType(), c.ticket.key.KeyType), errEtype)
		}
		proto := protoSPNEGO // the sealing protocol follows the HTTP scheme
		if scheme == "Kerberos" {
			proto = protoKerberos
		}
		ac.sess, ac.proto, ac.hdrLen = init, proto, init.HeaderLen()
	}
	return nil
}

func offers(offered []string, scheme string) bool {
	return slices.ContainsFunc(offered, func(s string) bool { return strings.EqualFold(s, scheme) })
}

// krbRefused explains a 401 to the AP-REQ: the KRB-ERROR the host sent,
// if any (skew with the offset, a service key out of step), else a refusal.
func (c *Client) krbRefused(init *krbInitiator, reply []byte, offered []string, scheme string) error {
	if len(reply) > 0 {
		if err := init.accept(reply); err != nil {
			var ae *apError
			if errors.As(err, &ae) {
				msg := "the host refused the AP-REQ: " + sanitize(ae.Error())
				if !ae.STime.IsZero() {
					msg += fmt.Sprintf(" (host clock %s, ours %s)", ae.STime.UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339))
				}
				e := krbCodeError(ae.ErrorCode, msg, err)
				e.HTTPStatus = http.StatusUnauthorized
				return e
			}
		}
	}
	msg := fmt.Sprintf("the host refused the Kerberos AP-REQ for %s", c.s.spn)
	if len(reply) == 0 && len(offered) > 0 {
		msg += fmt.Sprintf(" (it offers %v; is %s enabled in WinRM/Config/Service/Auth?", offered, scheme)
		msg += ")"
	}
	e := c.authRefused(msg)
	e.Hint = "the host did not accept the service ticket: check that the SPN " + c.s.spn + " belongs to this host's computer account (setspn -Q), the host's clock, and that the account may log on to it"
	return e
}
