//go:build windows

package wsman

import (
	"bufio"
	"context"
	"net/http"
	"time"

	"github.com/alexbrainman/sspi"
	"github.com/alexbrainman/sspi/negotiate"
)

// SSPI: on a Windows jump box, auth negotiate without any credential logs
// on as the logged-on user (Kerberos, or NTLM where Windows falls back to
// it), with no password anywhere. Built and vetted here, never run: there
// is no Windows in this project's CI (docs/transport.md).

// maxSSPILegs bounds the Negotiate exchange (Kerberos: 1, NTLM: 2).
const maxSSPILegs = 4

// applySSPI accepts SSPI over HTTPS (or with allow_unencrypted): sealing
// SOAP with an SSPI context over HTTP is not implemented.
func (s *settings) applySSPI() error {
	if s.seal {
		return newError(ClassUnsupported, "connect", "the logged-on user (SSPI) is only supported over HTTPS here: message sealing with SSPI over HTTP is not implemented; use scheme https, or a keytab or password with auth kerberos", nil)
	}
	return nil
}

// authenticateSSPI runs the Negotiate exchange of the logged-on user's
// credentials on a fresh connection; SSPI checks the server's final token
// (mutual authentication with Kerberos).
func (c *Client) authenticateSSPI(ctx context.Context, ac *authConn) error {
	cred, err := negotiate.AcquireCurrentUserCredentials()
	if err != nil {
		return newError(ClassKrbNoTicket, "connect", "SSPI: no credentials of the logged-on user: "+sanitize(err.Error()), err)
	}
	defer cred.Release()
	flags := uint32(sspi.ISC_REQ_MUTUAL_AUTH | sspi.ISC_REQ_CONNECTION | sspi.ISC_REQ_INTEGRITY | sspi.ISC_REQ_SEQUENCE_DETECT | sspi.ISC_REQ_REPLAY_DETECT)
	sc, tok, err := negotiate.NewClientContextWithFlags(cred, c.s.sspiSPN, flags)
	if err != nil {
		return newError(ClassKrbConfig, "connect", "SSPI: "+sanitize(err.Error()), err)
	}
	defer sc.Release()
	stop := context.AfterFunc(ctx, func() { ac.Conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	br := bufio.NewReaderSize(ac.Conn, 4096)
	for range maxSSPILegs {
		status, hdr, err := c.authLeg(ctx, ac, br, "Negotiate", tok)
		if err != nil {
			return err
		}
		reply, _, err := authToken(hdr, "Negotiate")
		if err != nil {
			return newError(ClassMalformed, "connect", err.Error(), err)
		}
		switch {
		case status >= 200 && status <= 299:
			if len(reply) > 0 {
				if done, _, err := sc.Update(reply); err != nil || !done {
					return newError(ClassKrbMutual, "connect", "SSPI did not accept the server's final token", err)
				}
			}
			return nil
		case status == http.StatusUnauthorized && len(reply) > 0:
			_, out, err := sc.Update(reply)
			if err != nil {
				return c.authRefused("SSPI refused the server's token: " + sanitize(err.Error()))
			}
			tok = out
		case status == http.StatusUnauthorized:
			return c.authRefused("the host refused the logged-on user's Negotiate token for " + c.s.sspiSPN)
		default:
			return c.authStatusError(status, "answered the Negotiate token")
		}
	}
	return c.authRefused("the Negotiate exchange did not finish")
}
