package wsman

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config describes one WinRM endpoint and how to talk to it.
type Config struct {
	Host    string // name used for TLS verification and the URL Host
	Address string // where to dial (IP or name); "" = Host
	Port    int    // default 5985 http / 5986 https
	HTTPS   bool

	Auth               string // "basic" | "ntlm" ("kerberos", "certificate" -> ErrUnsupportedAuth for now)
	Username, Password string // DOMAIN\user, user@domain or user
	AllowUnencrypted   bool   // HTTP only: send NTLM/Basic without sealing (warning territory)
	Insecure           bool   // HTTPS: skip verification (only when the inventory says so)
	CAPEM              []byte // extra roots ADDED to the system pool (not replacing it)
	ServerName         string // TLS server-name override

	DialTimeout, TLSHandshakeTimeout, ResponseHeaderTimeout, IdleTimeout time.Duration // defaults 10s, 10s, OperationTimeout+15s, 30s
	OperationTimeout                                                     time.Duration // WS-Man OperationTimeout header, default 20s

	MaxEnvelopeKB  int   // default 150 (works on old hosts); stdin chunks sized to fit
	MaxOutputBytes int64 // default 8 MiB: beyond it, stop and fail with ClassOutputTooLarge

	Logger *slog.Logger // debug-level per request; never credentials or bodies
	// Trace, if set, gets the steps resolve, connect, tls, authenticate,
	// create-shell, command, receive and cleanup. The connection steps run
	// on the transport's dial goroutine and may arrive after Run returned
	// (never after Close returned): Trace must be safe for concurrent use.
	Trace func(step string, d time.Duration, err error)
}

// Defaults.
const (
	DefaultHTTPPort         = 5985
	DefaultHTTPSPort        = 5986
	DefaultDialTimeout      = 10 * time.Second
	DefaultTLSTimeout       = 10 * time.Second
	DefaultIdleTimeout      = 30 * time.Second
	DefaultOperationTimeout = 20 * time.Second
	DefaultMaxEnvelopeKB    = 150
	DefaultMaxOutputBytes   = 8 << 20

	// maxOperationTimeout is Windows' default MaxTimeoutms: a larger
	// OperationTimeout header is rejected with a fault.
	maxOperationTimeout = 60 * time.Second
	// responseHeaderMargin keeps the HTTP read timeout above OperationTimeout
	// so a Receive that legitimately waits is not cut off (the two race in
	// masterzen/winrm's defaults).
	responseHeaderMargin = 15 * time.Second
	minEnvelopeKB        = 16
	maxEnvelopeKB        = 4096
)

// Auth methods.
const (
	AuthBasic       = "basic"
	AuthNTLM        = "ntlm"
	AuthKerberos    = "kerberos"
	AuthCertificate = "certificate"
)

// settings is a validated Config with defaults applied.
type settings struct {
	Config
	endpoint   string // URL of the /wsman resource
	dialAddr   string // host:port to dial
	serverName string
	roots      *x509.CertPool
	seal       bool // NTLM over HTTP with message encryption
	user       ntlmUser
}

type ntlmUser struct{ domain, name string }

func configError(msg string) *Error {
	return newError(ClassUnsupported, "connect", msg, nil)
}

func (cfg Config) settings() (*settings, error) {
	s := &settings{Config: cfg}
	if s.Host == "" {
		return nil, configError("config: host is empty")
	}
	if s.Address == "" {
		s.Address = s.Host
	}
	if s.Port == 0 {
		s.Port = DefaultHTTPPort
		if s.HTTPS {
			s.Port = DefaultHTTPSPort
		}
	}
	if s.Port < 1 || s.Port > 65535 {
		return nil, configError(fmt.Sprintf("config: port %d out of range", s.Port))
	}
	if err := s.applyTimeouts(); err != nil {
		return nil, err
	}
	if s.MaxEnvelopeKB == 0 {
		s.MaxEnvelopeKB = DefaultMaxEnvelopeKB
	}
	if s.MaxEnvelopeKB < minEnvelopeKB || s.MaxEnvelopeKB > maxEnvelopeKB {
		return nil, configError(fmt.Sprintf("config: max envelope %d KB outside %d..%d", s.MaxEnvelopeKB, minEnvelopeKB, maxEnvelopeKB))
	}
	if s.MaxOutputBytes == 0 {
		s.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if s.MaxOutputBytes < 0 {
		return nil, configError("config: max output bytes is negative")
	}
	if err := s.applyAuth(); err != nil {
		return nil, err
	}
	if err := s.applyTLS(); err != nil {
		return nil, err
	}
	scheme := "http"
	if s.HTTPS {
		scheme = "https"
	}
	port := strconv.Itoa(s.Port)
	// url.URL writes the % of an IPv6 zone (fe80::1%eth0) as %25, which
	// an HTTP client requires.
	s.endpoint = (&url.URL{Scheme: scheme, Host: net.JoinHostPort(s.Host, port), Path: "/wsman"}).String()
	s.dialAddr = net.JoinHostPort(s.Address, port)
	return s, nil
}

func (s *settings) applyTimeouts() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&s.OperationTimeout, DefaultOperationTimeout)
	def(&s.DialTimeout, DefaultDialTimeout)
	def(&s.TLSHandshakeTimeout, DefaultTLSTimeout)
	def(&s.IdleTimeout, DefaultIdleTimeout)
	def(&s.ResponseHeaderTimeout, s.OperationTimeout+responseHeaderMargin)
	switch {
	case s.OperationTimeout < time.Second || s.OperationTimeout > maxOperationTimeout:
		return configError(fmt.Sprintf("config: operation timeout %v outside 1s..%v", s.OperationTimeout, maxOperationTimeout))
	case s.ResponseHeaderTimeout <= s.OperationTimeout:
		return configError(fmt.Sprintf("config: response header timeout %v must exceed the operation timeout %v", s.ResponseHeaderTimeout, s.OperationTimeout))
	case s.DialTimeout < 0 || s.TLSHandshakeTimeout < 0 || s.IdleTimeout < 0:
		return configError("config: negative timeout")
	}
	return nil
}

func (s *settings) applyAuth() error {
	s.Auth = strings.ToLower(strings.TrimSpace(s.Auth))
	switch s.Auth {
	case AuthBasic:
		if !s.HTTPS && !s.AllowUnencrypted {
			return configError("config: basic auth over HTTP sends the password in clear text; use HTTPS or ntlm (set allow_unencrypted only if you accept that)")
		}
	case AuthNTLM:
		s.seal = !s.HTTPS && !s.AllowUnencrypted
		s.user = splitUser(s.Username)
	case AuthKerberos, AuthCertificate:
		e := configError("config: auth method " + s.Auth + " is not supported yet")
		e.Err = ErrUnsupportedAuth
		return e
	default:
		e := configError(fmt.Sprintf("config: unknown auth method %q", s.Auth))
		e.Err = ErrUnsupportedAuth
		return e
	}
	if s.Username == "" {
		return configError("config: username is empty")
	}
	return nil
}

func (s *settings) applyTLS() error {
	if !s.HTTPS {
		return nil
	}
	s.serverName = s.ServerName
	if s.serverName == "" {
		s.serverName = s.Host
	}
	if len(s.CAPEM) == 0 {
		return nil // nil RootCAs means the system pool
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(s.CAPEM) {
		return configError("config: ca_pem holds no PEM certificate")
	}
	s.roots = pool
	return nil
}

// splitUser turns the inventory's user name into NTLM's user and domain.
// user@domain stays whole with an empty domain: NTLM accepts the UPN form.
func splitUser(u string) ntlmUser {
	if dom, name, ok := strings.Cut(u, `\`); ok {
		return ntlmUser{domain: dom, name: name}
	}
	return ntlmUser{name: u}
}
