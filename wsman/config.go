package wsman

import (
	"cmp"
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

	Auth               string // "basic" | "ntlm" | "kerberos" | "negotiate" ("certificate" -> ErrUnsupportedAuth)
	Username, Password string // DOMAIN\user, user@domain or user
	AllowUnencrypted   bool   // HTTP only: send NTLM/Basic without sealing (warning territory)

	// Kerberos is the credential for kerberos and negotiate, shared by the
	// hosts that use it in a run (one AS exchange, one ticket per SPN).
	Kerberos *Kerberos
	SPN      string // default HTTP/<Host>
	// NTLMFallback lets negotiate use NTLM (with Username and Password)
	// where Kerberos cannot work: a host named by IP without SPN, an SPN
	// the KDC does not know, no KDC reachable. Never after a refusal.
	NTLMFallback bool
	Insecure     bool   // HTTPS: skip verification (only when the inventory says so)
	CAPEM        []byte // extra roots ADDED to the system pool (not replacing it)
	ServerName   string // TLS server-name override

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
	AuthNegotiate   = "negotiate"
	AuthCertificate = "certificate"
)

// settings is a validated Config with defaults applied.
type settings struct {
	Config
	endpoint   string // URL of the /wsman resource
	dialAddr   string // host:port to dial
	serverName string
	roots      *x509.CertPool
	seal       bool // NTLM or Kerberos over HTTP with message encryption
	user       ntlmUser
	spn        string // Kerberos: the service principal; "" when NTLM is used
	sspiSPN    string // Windows SSPI (the logged-on user): the target name; "" otherwise
}

// kerberos reports whether the settings authenticate with Kerberos.
func (s *settings) kerberos() bool { return s.spn != "" }

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
	case AuthKerberos, AuthNegotiate:
		return s.applyKerberos()
	case AuthCertificate:
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

// applyKerberos picks Kerberos or, for negotiate with NTLMFallback, NTLM
// where Kerberos cannot work from the start (no SPN, no credential).
func (s *settings) applyKerberos() error {
	s.seal = !s.HTTPS && !s.AllowUnencrypted
	s.spn = s.SPN
	if s.spn == "" && net.ParseIP(strings.Trim(s.Host, "[]")) == nil {
		s.spn = "HTTP/" + strings.ToLower(s.Host)
	}
	switch {
	case s.spn != "" && s.Kerberos != nil:
		return nil
	case s.Auth == AuthNegotiate && s.Kerberos == nil && s.Username == "" && s.Password == "":
		// No credential at all: the logged-on Windows user, through SSPI.
		s.sspiSPN = cmp.Or(s.SPN, "HTTP/"+strings.ToLower(s.Host))
		s.spn = ""
		return s.applySSPI()
	case s.Auth == AuthNegotiate && s.NTLMFallback && s.Username != "" && s.Password != "":
		s.spn, s.user = "", splitUser(s.Username)
		return nil
	case s.spn == "":
		return NoSPNError(s.Host)
	}
	return newError(ClassKrbConfig, "connect", "no Kerberos credential (ticket cache, keytab or password) for this host", nil)
}

// NoSPNError is the failure of Kerberos to a host named by an IP address
// without an explicit SPN: the KDC issues tickets to names, never to IPs.
func NoSPNError(host string) *Error {
	return newError(ClassKrbNoSPN, "connect", fmt.Sprintf("%s is an IP address: Kerberos cannot ask the KDC for a ticket to HTTP/%s (tickets are issued to host names registered as SPNs)", host, host), nil)
}

// fallBackToNTLM switches negotiate to NTLM after a Kerberos failure that
// says Kerberos cannot work for this host, if the inventory allows it.
func (s *settings) fallBackToNTLM(err error) bool {
	if s.Auth != AuthNegotiate || !s.NTLMFallback || s.Username == "" || s.Password == "" || !s.kerberos() {
		return false
	}
	switch Classify(err).Class {
	case ClassKrbSPNUnknown, ClassKDCUnreachable, ClassKrbNoSPN:
		s.spn, s.user = "", splitUser(s.Username)
		return true
	}
	return false
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
