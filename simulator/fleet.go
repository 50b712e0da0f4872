package simulator

import (
	"maps"
	"slices"
	"strings"
	"time"

	"aadcready/facts"
)

// Fleet is a set of simulated Windows hosts. ParseFleet, LoadFleet and
// DemoFleet build one; tests may also build one in Go, in which case the
// zero value of a field means the Windows default (see Host).
type Fleet struct {
	// Source names where the fleet came from (a file name, "demo"); it
	// prefixes error messages.
	Source string
	// AddressBase is where sequential address allocation starts for hosts
	// without an Address (default DefaultAddressBase).
	AddressBase string
	Hosts       []Host
}

// DefaultAddressBase is the first address given to hosts without one.
const DefaultAddressBase = "127.0.10.1"

// Host is one simulated Windows server. Zero values are Windows defaults:
// AllowUnencrypted and Basic false, MaxEnvelopeKB 500 (150 on old
// profiles), MaxShellsPerUser 30, MaxTimeoutMS 60000.
type Host struct {
	Name string
	// Address is a loopback IPv4 address (127.x.y.z); empty means
	// allocated from the fleet's AddressBase.
	Address string
	// Port is the HTTP listener's port; 0 picks a free port (fleet files
	// default to 5985).
	Port int
	// HTTPS adds a listener on HTTPSPort (0 = a free port) with a
	// certificate issued by the server's CA, or the bad one TLSCert names.
	HTTPS     bool
	HTTPSPort int
	TLSCert   TLSCert
	// Users who may log on; a name is "DOMAIN\user" (a domain account) or
	// "user" (a local account).
	Users []User

	// WinRM service settings (winrm/config/service and winrs).
	AllowUnencrypted bool
	Basic            bool
	MaxEnvelopeKB    int
	MaxShellsPerUser int
	MaxTimeoutMS     int

	Behavior Behavior
	// Latency delays every HTTP response; PSRuntime is how long
	// powershell.exe "runs" after its script is complete before the output
	// is there. Behavior slow sets defaults for both.
	Latency   time.Duration
	PSRuntime time.Duration
	Faults    []Fault

	// Profile names the base facts (see Profiles); empty means
	// DefaultProfile. Facts overrides single facts.
	Profile string
	Facts   map[string]facts.Fact
	// FailProbes makes a probe throw with the given exception text;
	// OmitProbes drops probes from the output; TruncateOutput cuts stdout
	// after that many bytes (0 = never).
	FailProbes     map[string]string
	OmitProbes     []string
	TruncateOutput int
	// HangAfterProbe makes PowerShell write everything up to the end of
	// that probe, then hang (a stuck WMI provider): the command never ends.
	HangAfterProbe string
	// NoiseOutput makes PowerShell print that many bytes of noise lines
	// before the probes' output (a module dumping a huge warning).
	NoiseOutput int
	// LanguageMode is PowerShell's language mode: FullLanguage (default) or
	// ConstrainedLanguage, where the host refuses what the language-mode
	// checker (probes.CheckConstrained) finds in the scripts it receives.
	LanguageMode string
	// CorruptValues are registry values that throw when read (an 8-byte
	// REG_DWORD); UnreadableKeys are keys the account may not open. Each
	// costs the facts read from it (registry.go).
	CorruptValues  []RegValue
	UnreadableKeys []string
	// ProcessArch is what the probes' PowerShell reports as ps.process_arch:
	// AMD64 (default) or "x86 on AMD64", a 32-bit PowerShell, which reports
	// every HKLM\SOFTWARE fact unknown.
	ProcessArch string
}

// User is an account on a simulated host.
type User struct {
	Name     string
	Password string
}

// Behavior is how a host's WinRM service acts, apart from what it answers.
type Behavior string

// Behaviors.
const (
	BehaviorNormal  Behavior = "normal"
	BehaviorRefuse  Behavior = "refuse"  // nothing listens: connections are refused
	BehaviorHang    Behavior = "hang"    // connections are accepted, never answered
	BehaviorGarbage Behavior = "garbage" // the probes print random junk
	BehaviorSlow    Behavior = "slow"    // every answer is late, PowerShell is slow
	BehaviorHostile Behavior = "hostile" // the probes report planted terminal, formula and markup strings
)

var behaviors = []Behavior{BehaviorNormal, BehaviorRefuse, BehaviorHang, BehaviorGarbage, BehaviorSlow, BehaviorHostile}

// TLSCert is the certificate a host's HTTPS listener presents.
type TLSCert string

// TLS certificates.
const (
	TLSCertCA         TLSCert = "ca"          // issued by the fleet's CA for the host's name and address
	TLSCertSelfSigned TLSCert = "self_signed" // signed by its own key, as winrm quickconfig's default
	TLSCertExpired    TLSCert = "expired"     // issued by the fleet's CA, expired yesterday
	TLSCertWrongName  TLSCert = "wrong_name"  // issued by the fleet's CA for another name, no address
)

var tlsCerts = []TLSCert{TLSCertCA, TLSCertSelfSigned, TLSCertExpired, TLSCertWrongName}

// Defaults of behavior slow when Latency or PSRuntime is zero: a cold,
// overloaded VM.
const (
	SlowLatency   = 1 * time.Second
	SlowPSRuntime = 8 * time.Second
)

// Op is a WS-Management shell operation a Fault can target.
type Op string

// Ops.
const (
	OpCreate  Op = "create"
	OpCommand Op = "command"
	OpSend    Op = "send"
	OpReceive Op = "receive"
	OpSignal  Op = "signal"
	OpDelete  Op = "delete"
)

var faultOps = []Op{OpCreate, OpCommand, OpSend, OpReceive, OpSignal, OpDelete}

// Fault injects a failure into an operation.
type Fault struct {
	Op Op
	// Code answers with a WSManFault of this code (HTTP 500 unless
	// HTTPStatus says otherwise). Without a code, HTTPStatus answers with
	// that status and an empty body.
	Code       uint32
	HTTPStatus int
	// Reset closes the connection in the middle of the response instead.
	Reset bool
	// Vanish deletes the request's shell before answering, as a restart
	// of the WinRM service does: this request and every later one for
	// that shell answer fault 2150858843.
	Vanish bool
	// Times limits the fault to the first Times matching requests; 0
	// means every time.
	Times int
}

// Windows defaults (field notes §1).
const (
	defaultMaxEnvelopeKB    = 500
	defaultMaxShellsPerUser = 30
	defaultMaxTimeoutMS     = 60000
)

var languageModes = []string{"FullLanguage", "ConstrainedLanguage"}

func joinNames[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// splitAccount separates "DOMAIN\user" and "user@dns.domain"; a bare name
// has an empty domain.
func splitAccount(name string) (user, domain string) {
	if d, u, ok := strings.Cut(name, `\`); ok {
		return u, d
	}
	if u, d, ok := strings.Cut(name, "@"); ok {
		return u, d
	}
	return name, ""
}

// clone copies the fleet so the server owns what it runs.
func (f *Fleet) clone() *Fleet {
	c := *f
	c.Hosts = make([]Host, len(f.Hosts))
	for i, h := range f.Hosts {
		h.Users = slices.Clone(h.Users)
		h.Faults = slices.Clone(h.Faults)
		h.OmitProbes = slices.Clone(h.OmitProbes)
		h.CorruptValues = slices.Clone(h.CorruptValues)
		h.UnreadableKeys = slices.Clone(h.UnreadableKeys)
		h.Facts = maps.Clone(h.Facts)
		h.FailProbes = maps.Clone(h.FailProbes)
		c.Hosts[i] = h
	}
	return &c
}
