package wsman

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// authConn is one TCP (or TLS) connection of a Client. With NTLM or
// Kerberos it is authenticated when dialled, and with sealing it carries
// the security context (NTLM's RC4 streams, Kerberos' wrap keys) and
// sequence numbers that belong to this connection alone.
type authConn struct {
	net.Conn
	id     uint64
	owner  *Client
	mu     sync.Mutex // serialises Wrap/Unwrap (write loop vs. caller)
	sess   sealer     // nil unless sealing
	proto  string     // multipart/encrypted protocol of sess
	hdrLen int        // header length sess writes (NTLM signature, Kerberos wrap header)
	closed sync.Once
}

func (ac *authConn) Close() error {
	var err error
	ac.closed.Do(func() {
		err = ac.Conn.Close()
		ac.owner.untrack(ac)
	})
	return err
}

func (ac *authConn) seal(dst, plain []byte) ([]byte, error) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if ac.sess == nil {
		return dst, errors.New("connection has no security context to seal with")
	}
	return appendSealed(dst, ac.sess, ac.proto, plain)
}

func (ac *authConn) unseal(body []byte) ([]byte, error) { return ac.unsealAs(ac.proto, body) }

// unsealAs unseals a body framed with protocol proto.
func (ac *authConn) unsealAs(proto string, body []byte) ([]byte, error) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if ac.sess == nil {
		return nil, errors.New("connection has no security context to unseal with")
	}
	return unseal(ac.sess, proto, body)
}

// requestCtxKey carries a request's own context into the dial: net/http
// detaches dials from request cancellation, but a handshake for a request
// that is gone should stop, freeing the single connection slot.
type requestCtxKey struct{}

// dialContext returns a context for one dial that ends when the request that
// started it ends or the client is closed.
func (c *Client) dialContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stops := []func() bool{context.AfterFunc(c.closeCtx, cancel)}
	if rctx, ok := ctx.Value(requestCtxKey{}).(context.Context); ok {
		stops = append(stops, context.AfterFunc(rctx, cancel))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// dial is the Transport's DialContext (HTTP) and DialTLSContext (HTTPS):
// resolve, connect, TLS, then the NTLM or Kerberos handshake, each traced.
func (c *Client) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	if !c.beginDial() {
		return nil, newError(ClassCancelled, "connect", "client closed", net.ErrClosed)
	}
	defer c.dials.Done()
	ctx, cancel := c.dialContext(ctx)
	defer cancel()

	raw, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	nc := raw
	if c.s.HTTPS {
		if nc, err = c.handshakeTLS(ctx, raw); err != nil {
			raw.Close()
			return nil, err
		}
	}
	ac := &authConn{Conn: nc, id: c.connIDs.Add(1), owner: c}
	if auth := c.authFunc(); auth != nil {
		start := time.Now()
		err := auth(ctx, ac)
		if err == nil {
			err = context.Cause(ctx) // ended during the handshake: its deadline may be poisoned
		}
		c.trace("authenticate", time.Since(start), err)
		if err != nil {
			nc.Close()
			return nil, err
		}
	}
	if !c.track(ac) {
		nc.Close()
		return nil, newError(ClassCancelled, "connect", "client closed", net.ErrClosed)
	}
	c.logDebug("wsman connected", "conn", ac.id, "addr", nc.RemoteAddr().String(), "sealed", ac.sess != nil)
	return ac, nil
}

// authFunc is the connection-bound handshake of the auth method, if any.
func (c *Client) authFunc() func(context.Context, *authConn) error {
	switch {
	case c.s.sspiSPN != "":
		return c.authenticateSSPI
	case c.s.kerberos():
		return c.authenticateKerberos
	case c.s.Auth == AuthNTLM, c.s.Auth == AuthNegotiate:
		return c.authenticate
	}
	return nil
}

// connect resolves the address (if it is a name) and opens a TCP
// connection, trying each address in turn within DialTimeout.
func (c *Client) connect(ctx context.Context) (net.Conn, error) {
	host, port, err := net.SplitHostPort(c.s.dialAddr)
	if err != nil {
		return nil, newError(ClassUnsupported, "connect", err.Error(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.s.DialTimeout)
	defer cancel()
	ips := []string{host}
	if net.ParseIP(host) == nil {
		start := time.Now()
		addrs, err := net.DefaultResolver.LookupHost(ctx, host)
		err = c.dialError(ctx, err, ClassDNS)
		c.trace("resolve", time.Since(start), err)
		if err != nil {
			return nil, err
		}
		ips = addrs
	}
	start := time.Now()
	var d net.Dialer
	var conn net.Conn
	for _, ip := range ips {
		if conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(ip, port)); err == nil {
			break
		}
	}
	err = c.dialError(ctx, err, "")
	c.trace("connect", time.Since(start), err)
	return conn, err
}

// dialError classifies a failed dial step. class, when set, overrides the
// type-based class (a resolver error is always DNS).
func (c *Client) dialError(ctx context.Context, err error, class Class) error {
	if err == nil {
		return nil
	}
	if cerr := context.Cause(ctx); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
		return cerr // the request or the client ended; the caller classifies
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && class == "" {
		class = ClassConnectTimeout
	}
	if class == "" {
		class = classOf(err)
	}
	return newError(class, "connect", sanitize(err.Error()), err)
}

func (c *Client) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         c.s.serverName,
		RootCAs:            c.s.roots,
		InsecureSkipVerify: c.s.Insecure, //nolint:gosec // only when the inventory says so
		MinVersion:         tls.VersionTLS12,
		NextProtos:         []string{"http/1.1"}, // NTLM is connection-bound: never HTTP/2
	}
}

func (c *Client) handshakeTLS(ctx context.Context, raw net.Conn) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.s.TLSHandshakeTimeout)
	defer cancel()
	start := time.Now()
	tc := tls.Client(raw, c.tlsConfig())
	err := tc.HandshakeContext(ctx)
	if err != nil {
		err = c.dialError(ctx, err, "")
		// A reset, EOF or timeout mid-handshake is a TLS failure too: the
		// peer accepted TCP but does not complete TLS on this port.
		if e, ok := err.(*Error); ok && e.Class != ClassTLSUnknownAuthority && e.Class != ClassTLSNameMismatch {
			e.Class, e.Hint = ClassTLSHandshake, hints[ClassTLSHandshake]
		}
	}
	c.trace("tls", time.Since(start), err)
	return tc, err
}
