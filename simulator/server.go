package simulator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Options tune a Server. The zero value is ready to use.
type Options struct {
	// Log receives authentication failures, injected faults and listener
	// errors; nil discards them.
	Log *slog.Logger
	// Kerberos, when set, makes every host accept Kerberos (and Negotiate
	// with Kerberos) besides NTLM; without it they refuse Kerberos tokens.
	Kerberos *KerberosOptions
}

// Server runs a fleet: one listener per host address (two with HTTPS), all
// served by one http.Server. An idle host costs its listening socket, the
// accept loop's goroutine and a few hundred bytes.
type Server struct {
	fleet  *Fleet
	hosts  []*hostState
	byName map[string]*hostState
	// byAddr maps a listener's address to its host. It is complete before
	// the first connection is accepted and read-only after.
	byAddr map[netip.AddrPort]listenerRef
	ca     *authority
	krb    *krbAcceptor // nil: Kerberos refused
	log    *slog.Logger
	http   *http.Server
	ctx    context.Context // cancelled by Close: ends every wait in a handler
	cancel context.CancelFunc
	stop   func() bool // unregisters the Start context's AfterFunc

	mu        sync.Mutex
	closed    bool
	wg        sync.WaitGroup // accept loops, handlers, held connections
	listeners []net.Listener
	held      map[net.Conn]struct{} // connections of hang hosts
}

type listenerRef struct {
	host  *hostState
	https bool
}

// Start binds every host's listeners and serves them until Close, or until
// ctx is done. The fleet is copied: later changes to it do not reach the
// server.
func Start(ctx context.Context, fleet *Fleet, opt Options) (*Server, error) {
	if fleet == nil {
		return nil, errors.New("simulator: no fleet")
	}
	f := fleet.clone()
	if err := f.resolve(); err != nil {
		return nil, err
	}
	if err := checkFileLimit(listenerCount(f)); err != nil {
		return nil, err
	}
	ca, err := newAuthority(f.Source)
	if err != nil {
		return nil, fmt.Errorf("simulator: certificate authority: %w", err)
	}
	krb, err := newKrbAcceptor(opt.Kerberos)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	s := &Server{
		krb:    krb,
		fleet:  f,
		byName: make(map[string]*hostState, len(f.Hosts)),
		byAddr: make(map[netip.AddrPort]listenerRef, len(f.Hosts)),
		ca:     ca,
		log:    opt.Log,
		held:   map[net.Conn]struct{}{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ConnContext:       s.connContext,
		ConnState:         s.connState,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       120 * time.Second, // HTTP.sys IdleConnectionTimeout
		MaxHeaderBytes:    64 << 10,
		// WinRM speaks HTTP/1.1 only, and NTLM needs one TCP connection per
		// security context.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     log.New(io.Discard, "", 0),
	}
	var serve []net.Listener
	for i := range f.Hosts {
		h := newHostState(s, &f.Hosts[i])
		s.hosts = append(s.hosts, h)
		s.byName[h.cfg.Name] = h
		ls, err := s.bind(h)
		if err != nil {
			s.Close() // every listener bound so far is tracked
			return nil, fmt.Errorf("simulator: host %q: %w", h.cfg.Name, err)
		}
		serve = append(serve, ls...)
	}
	for _, l := range serve {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.http.Serve(l) // returns when Close closes l
		}()
	}
	s.stop = context.AfterFunc(ctx, func() { s.Close() })
	return s, nil
}

func listenerCount(f *Fleet) int {
	n := 0
	for _, h := range f.Hosts {
		n++
		if h.HTTPS {
			n++
		}
	}
	return n
}

// bind opens a host's listeners as its behaviour says and returns those the
// http.Server must serve.
func (s *Server) bind(h *hostState) ([]net.Listener, error) {
	var serve []net.Listener
	for _, https := range []bool{false, true} {
		port := h.cfg.Port
		if https {
			if !h.cfg.HTTPS {
				continue
			}
			port = h.cfg.HTTPSPort
		}
		where := &h.addr
		if https {
			where = &h.httpsAddr
		}
		hostPort := net.JoinHostPort(h.cfg.Address, strconv.Itoa(port))
		if h.cfg.Behavior == BehaviorRefuse && port != 0 {
			// Nothing listens, so the kernel refuses connections, as
			// Windows does when the WinRM service is stopped.
			*where = hostPort
			continue
		}
		l, err := net.Listen("tcp4", hostPort)
		if err != nil {
			return serve, err
		}
		ap := l.Addr().(*net.TCPAddr).AddrPort()
		addr := netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		*where = addr.String()
		switch h.cfg.Behavior {
		case BehaviorRefuse:
			// A free port was only reserved to learn its number.
			l.Close()
		case BehaviorHang:
			s.trackListener(l)
			s.wg.Add(1)
			go s.holdConnections(l)
		default:
			s.trackListener(l)
			s.byAddr[addr] = listenerRef{h, https}
			if https {
				l = tls.NewListener(l, s.tlsConfig(h))
			}
			serve = append(serve, l)
		}
	}
	return serve, nil
}

func (s *Server) trackListener(l net.Listener) {
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
}

func (s *Server) tlsConfig(h *hostState) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return h.certificate()
		},
	}
}

// holdConnections accepts connections for a hang host and never answers:
// each connection is read and discarded until the client gives up or Close
// ends it.
func (s *Server) holdConnections(l net.Listener) {
	defer s.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		if !s.enter() {
			c.Close()
			return
		}
		s.mu.Lock()
		s.held[c] = struct{}{}
		s.mu.Unlock()
		go func() {
			defer s.leave()
			io.Copy(io.Discard, c)
			c.Close()
			s.mu.Lock()
			delete(s.held, c)
			s.mu.Unlock()
		}()
	}
}

// enter registers work that Close must wait for; it fails once Close began.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) leave() { s.wg.Done() }

func (s *Server) lookup(c net.Conn) (listenerRef, bool) {
	ap, ok := c.LocalAddr().(*net.TCPAddr)
	if !ok {
		return listenerRef{}, false
	}
	a := ap.AddrPort()
	ref, ok := s.byAddr[netip.AddrPortFrom(a.Addr().Unmap(), a.Port())]
	return ref, ok
}

func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	ref, _ := s.lookup(c)
	return context.WithValue(ctx, connKey{}, &conn{host: ref.host, https: ref.https, remote: c.RemoteAddr()})
}

func (s *Server) connState(c net.Conn, state http.ConnState) {
	if state != http.StateNew {
		return
	}
	if ref, ok := s.lookup(c); ok {
		ref.host.counters.connections.Add(1)
	}
}

// Close stops every listener, ends every connection and waits for the
// server's goroutines. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
	s.cancel()
	err := s.http.Close()
	s.mu.Lock()
	ls := s.listeners
	held := make([]net.Conn, 0, len(s.held))
	for c := range s.held {
		held = append(held, c)
	}
	s.mu.Unlock()
	// Served listeners are closed by http.Server.Close too; closing a
	// listener twice is harmless.
	for _, l := range ls {
		l.Close()
	}
	for _, c := range held {
		c.Close()
	}
	s.wg.Wait()
	return err
}

// Endpoint returns the host's HTTP listener address and, if it has one, its
// HTTPS listener address ("" otherwise). A refuse host's address is where
// nothing listens.
func (s *Server) Endpoint(host string) (addr string, httpsAddr string) {
	h, ok := s.byName[host]
	if !ok {
		return "", ""
	}
	return h.addr, h.httpsAddr
}

// CAPEM returns the PEM certificate of the CA that issued the HTTPS
// listeners' certificates.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.ca.pem...) }

// Fleet returns the resolved fleet the server runs (addresses allocated,
// defaults filled in). Callers must not change it.
func (s *Server) Fleet() *Fleet { return s.fleet }

// Stats returns a snapshot of the counters of every host.
func (s *Server) Stats() Stats {
	st := Stats{Hosts: make(map[string]HostStats, len(s.hosts))}
	for _, h := range s.hosts {
		hs := h.counters.snapshot()
		h.mu.Lock()
		hs.ShellsOpen = len(h.shells)
		h.mu.Unlock()
		st.Hosts[h.cfg.Name] = hs
	}
	return st
}
