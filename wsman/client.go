// Package wsman is the project's WinRM client: it runs one command in one
// WinRS shell over WS-Management, with its own HTTP transport, NTLM and
// Kerberos (gokrb5) handshakes, per-connection message sealing and strict
// response parsing.
// masterzen/winrm is used only to build the SOAP envelopes.
package wsman

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

const userAgent = "aadcready-wsman/1"

// Client talks to one WinRM endpoint. It is safe for concurrent use, but
// requests are sent one at a time: the endpoint gets at most one connection.
type Client struct {
	s         *settings
	build     builder
	transport *http.Transport
	sem       chan struct{} // one request in flight (and in unseal order)
	buf       []byte        // response body buffer, guarded by sem
	ticket    *krbTicket    // Kerberos service ticket, set under sem before the first dial
	testCB    []byte        // tests: channel binding data to send without TLS
	// negotiateOnly: a host refused the Kerberos scheme and offers
	// Negotiate; auth kerberos then uses Negotiate (see krbScheme).
	negotiateOnly atomic.Bool

	closeCtx  context.Context
	closeNow  context.CancelFunc
	mu        sync.Mutex // guards closed, conns, dials.Add
	closed    bool
	conns     map[*authConn]struct{}
	dials     sync.WaitGroup
	connIDs   atomic.Uint64
	closeOnce sync.Once
}

// New validates cfg and prepares a client; it does not connect.
func New(cfg Config) (*Client, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	c := &Client{
		s:     s,
		build: newBuilder(s),
		sem:   make(chan struct{}, 1),
		conns: make(map[*authConn]struct{}),
	}
	c.closeCtx, c.closeNow = context.WithCancel(context.Background())
	c.transport = &http.Transport{
		Proxy:                 nil, // Tier-0 hosts are reached directly, never through HTTP_PROXY
		DialContext:           c.dial,
		DialTLSContext:        c.dial,
		ResponseHeaderTimeout: s.ResponseHeaderTimeout,
		IdleConnTimeout:       s.IdleTimeout,
		MaxConnsPerHost:       1,
		MaxIdleConnsPerHost:   1,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
	return c, nil
}

// Close closes every connection, stops dials in progress and waits for
// them; the client cannot be used afterwards.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.closeNow()
		c.dials.Wait()
		c.transport.CloseIdleConnections()
		c.mu.Lock()
		conns := make([]*authConn, 0, len(c.conns))
		for ac := range c.conns {
			conns = append(conns, ac)
		}
		c.mu.Unlock()
		for _, ac := range conns {
			ac.Close()
		}
	})
	return nil
}

func (c *Client) beginDial() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.dials.Add(1)
	return true
}

func (c *Client) track(ac *authConn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.conns[ac] = struct{}{}
	return true
}

func (c *Client) untrack(ac *authConn) {
	c.mu.Lock()
	delete(c.conns, ac)
	c.mu.Unlock()
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Client) trace(step string, d time.Duration, err error) {
	if c.s.Trace != nil {
		c.s.Trace(step, d, err)
	}
}

func (c *Client) logDebug(msg string, args ...any) {
	if c.s.Logger != nil {
		c.s.Logger.Debug(msg, append(args, "host", c.s.Host)...)
	}
}
