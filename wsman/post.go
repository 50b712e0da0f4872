package wsman

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// errResponseTimeout is the cause when a request's own time bound (not the
// caller's context) ends it: a server that stalls mid-body.
var errResponseTimeout = errors.New("wsman: no complete response in time")

// requestTimeout bounds one request including a dial, TLS and NTLM
// handshake; ResponseHeaderTimeout alone does not cover a stalled body.
func (c *Client) requestTimeout() time.Duration {
	return c.s.DialTimeout + c.s.TLSHandshakeTimeout + 2*c.s.ResponseHeaderTimeout
}

// maxResponse bounds a response body: the server must keep envelopes within
// the MaxEnvelopeSize we announce; sealing and framing add little.
func (c *Client) maxResponse() int {
	return 2*c.s.MaxEnvelopeKB*1024 + 64<<10
}

// post sends req and returns the parsed success response, or an *Error.
// It retries once on a fresh connection when a reused one turns out to be
// dead or no longer authenticated; count is incremented per attempt.
func (c *Client) post(ctx context.Context, req *request, count *int) (*envelope, error) {
	if c.isClosed() {
		return nil, newError(ClassCancelled, req.op, "client closed", nil)
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctxError(ctx, req.op)
	}
	defer func() { <-c.sem }()
	if err := c.prepareKerberos(ctx); err != nil {
		return nil, err
	}
	env, retry, err := c.exchange(ctx, req, count)
	if retry {
		c.logDebug("wsman retry on a new connection", "op", req.op, "err", err)
		env, _, err = c.exchange(ctx, req, count)
	}
	return env, err
}

// attempt is what one HTTP exchange saw of its connection.
type attempt struct {
	conn   atomic.Pointer[authConn]
	reused atomic.Bool
}

func (c *Client) exchange(ctx context.Context, req *request, count *int) (*envelope, bool, error) {
	*count++
	start := time.Now()
	var at attempt
	rctx, cancel := context.WithTimeoutCause(ctx, c.requestTimeout(), errResponseTimeout)
	defer cancel()
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) {
			ac, _ := i.Conn.(*authConn)
			at.conn.Store(ac)
			at.reused.Store(i.Reused)
		},
	})
	rctx = context.WithValue(rctx, requestCtxKey{}, rctx)
	hreq, err := c.newHTTPRequest(rctx, req, &at)
	if err != nil {
		return nil, false, newError(ClassUnsupported, req.op, err.Error(), err)
	}
	resp, err := c.transport.RoundTrip(hreq)
	if err != nil {
		e := c.transportError(ctx, rctx, req.op, err)
		retry := at.reused.Load() && e.Class == ClassNetwork && req.op != "send" || errors.Is(err, errSchemeSwitch)
		return nil, retry, e
	}
	status := resp.StatusCode
	body, err := c.readBody(resp)
	ac := at.conn.Load()
	c.logDebug("wsman request", "op", req.op, "status", status, "ms", time.Since(start).Milliseconds(),
		"out", len(req.body), "in", len(body), "sealed", c.s.seal, "conn", connID(ac), "reused", at.reused.Load())
	if err != nil {
		return nil, false, c.transportError(ctx, rctx, req.op, err)
	}
	switch status {
	case http.StatusOK, http.StatusInternalServerError:
	case http.StatusUnauthorized:
		if c.authFunc() != nil && at.reused.Load() && ac != nil {
			ac.Close() // the server forgot this connection's authentication
			return nil, true, c.authRefused("HTTP 401 on an authenticated connection")
		}
		e := c.authRefused("HTTP 401")
		e.Op = req.op
		return nil, false, e
	default:
		return nil, false, httpStatusError(req.op, status)
	}
	if c.s.seal {
		if body, err = c.unsealResponse(resp, ac, body); err != nil {
			if ac != nil {
				ac.Close() // the RC4 streams are out of step: never reuse it
			}
			e := newError(ClassMalformed, req.op, sanitize(err.Error()), err)
			e.HTTPStatus = status
			return nil, false, e
		}
	}
	env, err := parseResponse(req, status, body)
	return env, false, err
}

func connID(ac *authConn) uint64 {
	if ac == nil {
		return 0
	}
	return ac.id
}

func (c *Client) newHTTPRequest(ctx context.Context, req *request, at *attempt) (*http.Request, error) {
	var hreq *http.Request
	var err error
	if c.s.seal {
		// Sealed on first Read, once the Transport has picked the connection
		// whose NTLM session must seal it; GetBody lets it re-seal for a
		// new connection if the Transport retries.
		proto, hdrLen := c.sealFraming()
		newBody := func() (io.ReadCloser, error) { return &sealedBody{plain: req.body, at: at, hdrLen: hdrLen}, nil }
		body, _ := newBody()
		hreq, err = http.NewRequestWithContext(ctx, http.MethodPost, c.s.endpoint, body)
		if err != nil {
			return nil, err
		}
		hreq.GetBody = newBody
		hreq.ContentLength = int64(sealedLen(proto, hdrLen, len(req.body)))
		hreq.Header.Set("Content-Type", sealContentType(proto))
	} else {
		hreq, err = http.NewRequestWithContext(ctx, http.MethodPost, c.s.endpoint, bytes.NewReader(req.body))
		if err != nil {
			return nil, err
		}
		hreq.Header.Set("Content-Type", soapContentType)
	}
	if c.s.Auth == AuthBasic {
		hreq.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.s.Username+":"+c.s.Password)))
	}
	hreq.Header.Set("User-Agent", userAgent)
	return hreq, nil
}

// sealedBody seals its message with the security context of the
// connection the Transport chose for this attempt.
type sealedBody struct {
	plain  []byte
	at     *attempt
	hdrLen int // announced in Content-Length before the connection was chosen
	out    []byte
	err    error
	done   bool
}

func (b *sealedBody) Read(p []byte) (int, error) {
	if !b.done {
		b.done = true
		ac := b.at.conn.Load()
		switch {
		case ac == nil:
			b.err = errors.New("sealing: no connection chosen")
		case ac.hdrLen != b.hdrLen:
			b.err = fmt.Errorf("sealing: the connection's context writes %d-byte headers, %d expected", ac.hdrLen, b.hdrLen)
		default:
			b.out, b.err = ac.seal(make([]byte, 0, sealedLen(ac.proto, ac.hdrLen, len(b.plain))), b.plain)
		}
	}
	if b.err != nil {
		return 0, b.err
	}
	if len(b.out) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

func (b *sealedBody) Close() error { return nil }

// readBody reads the response into the client's reusable buffer (requests
// are serialised by sem) and rejects bodies larger than maxResponse.
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	limit := c.maxResponse()
	buf := bytes.NewBuffer(c.buf[:0])
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, int64(limit)+1))
	c.buf = buf.Bytes()
	if err != nil {
		return nil, err
	}
	if buf.Len() > limit {
		return nil, fmt.Errorf("%w: response larger than %d bytes", errTooLarge, limit)
	}
	return c.buf, nil
}

var errTooLarge = errors.New("response too large")

func (c *Client) unsealResponse(resp *http.Response, ac *authConn, body []byte) ([]byte, error) {
	if ac == nil {
		return nil, errors.New("no connection to unseal with")
	}
	ct := resp.Header.Get("Content-Type")
	if isSealedContentType(ct, ac.proto) {
		return ac.unseal(body)
	}
	// A Kerberos context is the same under either name: accept a host
	// that labels its replies with the other protocol.
	if _, krb := ac.sess.(*krbInitiator); krb {
		for _, p := range []string{protoKerberos, protoSPNEGO} {
			if p != ac.proto && isSealedContentType(ct, p) {
				return ac.unsealAs(p, body)
			}
		}
	}
	return nil, fmt.Errorf("unsealed response (%q) on a sealed session", ct)
}

func httpStatusError(op string, status int) *Error {
	msg := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	if status == http.StatusRequestEntityTooLarge {
		msg += ": the envelope exceeds the host's MaxEnvelopeSizekb"
	}
	e := newError(ClassHTTPStatus, op, msg, nil)
	e.HTTPStatus = status
	return e
}

// transportError classifies a failed round trip or body read: the caller's
// context first, then this request's own time bound, then the error itself.
func (c *Client) transportError(ctx, rctx context.Context, op string, err error) *Error {
	if ctx.Err() != nil {
		return ctxError(ctx, op)
	}
	if errors.Is(context.Cause(rctx), errResponseTimeout) {
		return newError(ClassResponseTimeout, op, "no complete response within "+c.requestTimeout().String(), errResponseTimeout)
	}
	var e *Error
	switch {
	case errors.As(err, &e): // from the dial: already classified
	case errors.Is(err, errTooLarge):
		return newError(ClassMalformed, op, err.Error(), err)
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		// ResponseHeaderTimeout: net/http's error also claims to be DeadlineExceeded
		return newError(ClassResponseTimeout, op, sanitize(err.Error()), err)
	default:
		e = Classify(err)
	}
	if e.Op == "" {
		e.Op = op
	}
	return e
}

// ctxError turns the caller's ended context into a deadline or cancelled error.
func ctxError(ctx context.Context, op string) *Error {
	err := ctx.Err()
	class := ClassCancelled
	if errors.Is(err, context.DeadlineExceeded) {
		class = ClassDeadline
	}
	return newError(class, op, err.Error(), err)
}
