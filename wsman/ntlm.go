package wsman

import (
	"bufio"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bodgit/ntlmssp"
)

// NTLM negotiate flags (MS-NLMP 2.2.2.5) that sealing depends on.
const (
	flagSign       = 0x00000010
	flagSeal       = 0x00000020
	flagESS        = 0x00080000 // extended session security
	flag128        = 0x20000000
	flagKeyExch    = 0x40000000
	sealFlags      = flagSign | flagSeal | flagESS | flag128 | flagKeyExch
	maxAuthBodyLen = 64 << 10
)

// authenticate runs the NTLM handshake on a fresh connection, as pywinrm
// does: NEGOTIATE and AUTHENTICATE each ride an empty POST, and the
// connection stays authenticated for the requests the Transport sends on it.
// With sealing, the connection keeps the resulting security session.
func (c *Client) authenticate(ctx context.Context, ac *authConn) error {
	nc, err := ntlmssp.NewClient(
		ntlmssp.SetUserInfo(c.s.user.name, c.s.Password),
		ntlmssp.SetDomain(c.s.user.domain),
	)
	if err != nil {
		return newError(ClassUnsupported, "connect", "ntlm client: "+err.Error(), err)
	}
	negotiate, err := nc.Authenticate(nil, nil)
	if err != nil {
		return newError(ClassUnsupported, "connect", "ntlm negotiate: "+err.Error(), err)
	}
	// Unblock the handshake's reads when the dial is abandoned; the caller
	// discards the connection whenever ctx has ended.
	stop := context.AfterFunc(ctx, func() { ac.Conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	br := bufio.NewReaderSize(ac.Conn, 4096)

	status, hdr, err := c.authLeg(ctx, ac, br, "Negotiate", negotiate)
	if err != nil {
		return err
	}
	if status != http.StatusUnauthorized {
		return c.authStatusError(status, "answered the NTLM negotiate without a challenge")
	}
	challenge, err := negotiateToken(hdr)
	if err != nil {
		return c.authRefused(err.Error())
	}
	if c.s.seal {
		if err := checkSealFlags(challenge); err != nil {
			return newError(ClassAuthRefused, "connect", err.Error(), err)
		}
	}
	authMsg, err := nc.Authenticate(challenge, channelBindings(ac))
	if err != nil {
		return newError(ClassMalformed, "connect", "ntlm challenge: "+sanitize(err.Error()), err)
	}
	status, _, err = c.authLeg(ctx, ac, br, "Negotiate", authMsg)
	switch {
	case err != nil:
		return err
	case status == http.StatusUnauthorized:
		return c.authRefused("the NTLM credentials were rejected")
	case status < 200 || status > 299:
		return c.authStatusError(status, "answered the NTLM authenticate")
	case br.Buffered() > 0:
		return newError(ClassMalformed, "connect", "unexpected data after the authentication response", nil)
	}
	if c.s.seal {
		sess := nc.SecuritySession()
		if sess == nil {
			return newError(ClassAuthRefused, "connect", "the NTLM exchange produced no security session for sealing", nil)
		}
		ac.sess, ac.proto, ac.hdrLen = sess, protoSPNEGO, ntlmSigLen
	}
	return nil
}

// authLeg sends one empty POST carrying an authentication token and reads the answer.
func (c *Client) authLeg(ctx context.Context, ac *authConn, br *bufio.Reader, scheme string, token []byte) (int, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.s.endpoint, http.NoBody)
	if err != nil {
		return 0, nil, newError(ClassUnsupported, "connect", err.Error(), err)
	}
	req.Header.Set("Authorization", scheme+" "+base64.StdEncoding.EncodeToString(token))
	req.Header.Set("Content-Type", soapContentType)
	req.Header.Set("User-Agent", userAgent)
	req.ContentLength = 0
	if err := ac.Conn.SetDeadline(time.Now().Add(c.s.ResponseHeaderTimeout)); err != nil {
		return 0, nil, c.authIOError(ctx, err)
	}
	// Checked after setting the deadline: a cancellation that raced with it
	// would otherwise be overwritten.
	if err := context.Cause(ctx); err != nil {
		return 0, nil, err
	}
	if err := req.Write(ac.Conn); err != nil {
		return 0, nil, c.authIOError(ctx, err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return 0, nil, c.authIOError(ctx, err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxAuthBodyLen+1))
	switch {
	case err != nil:
		return 0, nil, c.authIOError(ctx, err)
	case n > maxAuthBodyLen:
		return 0, nil, newError(ClassMalformed, "connect", "authentication response body too large", nil)
	case resp.Close:
		return 0, nil, c.authStatusError(resp.StatusCode, "closed the connection during authentication")
	}
	if err := ac.Conn.SetDeadline(time.Time{}); err != nil {
		return 0, nil, c.authIOError(ctx, err)
	}
	return resp.StatusCode, resp.Header, nil
}

func (c *Client) authIOError(ctx context.Context, err error) error {
	if cerr := context.Cause(ctx); cerr != nil {
		return cerr
	}
	class := classOf(err)
	if isTimeout(err) {
		class = ClassResponseTimeout
	}
	return newError(class, "connect", "during authentication: "+sanitize(err.Error()), err)
}

func (c *Client) authRefused(msg string) *Error {
	e := newError(ClassAuthRefused, "connect", msg, nil)
	e.HTTPStatus = http.StatusUnauthorized
	if !c.s.HTTPS && !c.s.seal {
		e.Hint += hintUnsealed401
	}
	return e
}

func (c *Client) authStatusError(status int, what string) *Error {
	e := newError(ClassHTTPStatus, "connect", fmt.Sprintf("the server %s (HTTP %d)", what, status), nil)
	e.HTTPStatus = status
	return e
}

// negotiateToken extracts the NTLM token of a "WWW-Authenticate: Negotiate x" header.
func negotiateToken(h http.Header) ([]byte, error) {
	b, offered, err := authToken(h, "Negotiate")
	if err == nil && b == nil {
		err = fmt.Errorf("no NTLM challenge in the 401 (offered: %s): is Negotiate enabled on the WinRM service?", strings.Join(offered, ", "))
	}
	return b, err
}

// authToken extracts the token of a "WWW-Authenticate: <scheme> x" header:
// nil (and the schemes offered) when there is none.
func authToken(h http.Header, scheme string) ([]byte, []string, error) {
	var offered []string
	for _, v := range h.Values("Www-Authenticate") {
		s, tok, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(s, scheme) || strings.TrimSpace(tok) == "" {
			offered = append(offered, sanitize(s))
			continue
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok))
		if err != nil {
			return nil, nil, fmt.Errorf("the %s token is not base64: %w", scheme, err)
		}
		return b, nil, nil
	}
	return nil, offered, nil
}

// checkSealFlags refuses a CHALLENGE that would weaken sealing (no SEAL, no
// 128-bit keys, no key exchange): the client must not fall back to sending
// SOAP bodies a network observer can read or alter.
func checkSealFlags(challenge []byte) error {
	const sigType = "NTLMSSP\x00\x02\x00\x00\x00"
	if len(challenge) < 24 || string(challenge[:12]) != sigType {
		return fmt.Errorf("the server's Negotiate challenge is not an NTLM CHALLENGE message")
	}
	flags := binary.LittleEndian.Uint32(challenge[20:24])
	if flags&sealFlags != sealFlags {
		return fmt.Errorf("the server's NTLM challenge does not offer 128-bit sealing (flags %#08x)", flags)
	}
	return nil
}

// channelBindings binds NTLM to the TLS certificate (RFC 5929
// tls-server-end-point), which hosts with CbtHardeningLevel=Strict require.
func channelBindings(ac *authConn) *ntlmssp.ChannelBindings {
	tc, ok := ac.Conn.(*tls.Conn)
	if !ok {
		return nil
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil
	}
	h := crypto.SHA256
	switch certs[0].SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = crypto.SHA512
	}
	d := h.New()
	d.Write(certs[0].Raw)
	return &ntlmssp.ChannelBindings{ApplicationData: append([]byte(ntlmssp.TLSServerEndPoint+":"), d.Sum(nil)...)}
}
