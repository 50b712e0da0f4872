// Package inventory reads the list of Azure AD Connect servers to scan and
// the WinRM settings and credentials to reach each of them.
//
// An inventory comes from a YAML file (Load, Parse) or from plain host names
// given on the command line or in a hosts file (FromNames, ReadHostsFile).
// Loading is strict, like blackbox_exporter's configuration: an unknown key,
// a bad value or a password written into the file is refused at start, with
// every problem in the file reported at once as "file:line: host "x": field:
// message", so that a mistake never surfaces halfway through a fleet run.
//
// Credentials are never read from the file or from argv. A host only carries
// a SecretRef saying where its password comes from (an environment variable,
// a file only its owner can read, or a prompt); a Resolver turns references
// into passwords once per run.
package inventory

import (
	"fmt"
	"maps"
	"strings"
	"unicode"
)

// Host is one server to scan, with every default already applied.
type Host struct {
	Name    string // FQDN or IP as written; what reports show
	Address string // where to connect when it differs from Name; empty otherwise
	Port    int
	Scheme  string // "http" or "https"
	Auth    string // "ntlm", "basic", "kerberos", "negotiate" or "certificate"

	Username string
	Secret   SecretRef

	CAFile     string // HTTPS: extra trusted CA, added to the system roots
	ServerName string // HTTPS: name to verify in the certificate, when not Name

	Insecure         bool // HTTPS: skip certificate verification
	AllowUnencrypted bool // HTTP: send NTLM/Basic messages unsealed

	MaxEnvelopeKB int
	Tags          map[string]string // never nil

	// Kerberos and negotiate (see kerberos.go).
	Keytab       string // keytab holding Username's keys; "" = password source or ticket cache
	Kerberos     KerberosSettings
	NTLMFallback bool // negotiate: NTLM where Kerberos cannot work

	Group  string // name of the inventory group; empty outside groups
	Source string // "file:line" of the host's entry, for messages
}

// DialAddress is the host to connect to: Address when set, else Name.
func (h Host) DialAddress() string {
	if h.Address != "" {
		return h.Address
	}
	return h.Name
}

// HTTPS reports whether the host is reached over TLS.
func (h Host) HTTPS() bool { return h.Scheme == SchemeHTTPS }

// SecretRef says where a password comes from. Exactly one field is set.
// It is comparable, so a Resolver can key its cache on it.
type SecretRef struct {
	Env    string // name of an environment variable
	File   string // path of a file only its owner can read
	Prompt bool   // ask on the terminal, once per run
}

// String names the source, never the value, so a SecretRef is safe in logs
// and reports.
func (s SecretRef) String() string {
	switch {
	case s.Env != "":
		return "env:" + s.Env
	case s.File != "":
		return "file:" + s.File
	case s.Prompt:
		return "prompt"
	}
	return "none"
}

// Inventory is the list of hosts to scan, in the order they were written.
type Inventory struct {
	Path  string // file the inventory came from; empty for FromNames
	Hosts []Host
}

// Names lists the names of the hosts, in inventory order.
func (inv *Inventory) Names() []string {
	names := make([]string, len(inv.Hosts))
	for i, h := range inv.Hosts {
		names[i] = h.Name
	}
	return names
}

// Only returns the inventory of the named hosts (names compared ignoring
// case, as Windows does), in the order named, and the indexes of the names
// it has no host for.
func (inv *Inventory) Only(names []string) (only *Inventory, missing []int) {
	byName := make(map[string]Host, len(inv.Hosts))
	for _, h := range inv.Hosts { // unique ignoring case: Parse and FromNames refuse repeats
		byName[strings.ToLower(h.Name)] = h
	}
	only = &Inventory{Path: inv.Path}
	for i, name := range names {
		h, ok := byName[strings.ToLower(name)]
		if !ok {
			missing = append(missing, i)
			continue
		}
		only.Hosts = append(only.Hosts, h)
	}
	return only, missing
}

// Values accepted for Host.Scheme and Host.Auth.
const (
	SchemeHTTP  = "http"
	SchemeHTTPS = "https"

	AuthNTLM        = "ntlm"
	AuthBasic       = "basic"
	AuthKerberos    = "kerberos"
	AuthNegotiate   = "negotiate"
	AuthCertificate = "certificate"
)

// Defaults applied when neither the file nor the caller sets a value.
const (
	DefaultHTTPPort  = 5985
	DefaultHTTPSPort = 5986
	// DefaultMaxEnvelopeKB is the WinRM service default on older Windows
	// (newer ones allow 500). A client envelope above the server's limit is
	// refused, so the smaller value is the one that works everywhere.
	DefaultMaxEnvelopeKB = 150
)

// Bounds for max_envelope_kb. Windows refuses a MaxEnvelopeSizekb below 32
// (MS-WSMV 2.2.4.10); the upper bound only keeps the value sane, since the
// server caps the envelope at its own setting anyway.
const (
	minEnvelopeKB = 32
	maxEnvelopeKB = 1 << 20
)

// applyDefaults fills the settings a host may leave out. The port depends on
// the final scheme, so it is chosen after inheritance, not per layer.
func applyDefaults(h *Host) {
	if h.Scheme == "" {
		h.Scheme = SchemeHTTP
	}
	if h.Auth == "" {
		h.Auth = AuthNTLM
	}
	if h.Port == 0 {
		h.Port = DefaultHTTPPort
		if h.HTTPS() {
			h.Port = DefaultHTTPSPort
		}
	}
	if h.MaxEnvelopeKB == 0 {
		h.MaxEnvelopeKB = DefaultMaxEnvelopeKB
	}
	if h.Tags == nil {
		h.Tags = map[string]string{}
	}
}

// problem is something wrong with a host's settings, named by the field to
// change. Where it is reported (file:line or not) is up to the caller.
type problem struct{ field, msg string }

// checkHost applies the rules that need a host's final, merged settings.
// skip reports fields whose value was invalid and has already been reported,
// so that a bad "username: 42" is not also reported as a missing username.
func checkHost(h *Host, skip func(field string) bool) []problem {
	var ps []problem
	switch {
	case skip("username"):
	case h.Username == "" && h.usesTicketCache():
		// Kerberos from the ticket cache: the account is kinit's.
	case h.Username == "":
		ps = append(ps, problem{"username", "not set; give the account to connect as (for example 'CONTOSO\\svc-aadcready')"})
	case strings.IndexFunc(h.Username, unicode.IsControl) >= 0:
		// A YAML quoted string can carry line breaks and escapes; no
		// account name has them, and they would garble every message.
		ps = append(ps, problem{"username", fmt.Sprintf("%q contains control characters (line breaks, tabs, escapes)", h.Username)})
	}
	ps = append(ps, checkKerberos(h)...)
	if h.Secret == (SecretRef{}) && !h.Kerberized() && !skip("password") {
		ps = append(ps, problem{"password", "no password source; set one of password_env: VARIABLE, password_file: PATH or password_prompt: true"})
	}
	// WinRM over HTTP only accepts messages sealed by NTLM or Kerberos. Basic
	// cannot seal, so Windows answers 401 unless the service was switched to
	// AllowUnencrypted, which puts the password on the wire readably. Making
	// the operator say so here beats a puzzling 401 on every host.
	if h.Auth == AuthBasic && !h.HTTPS() && !h.AllowUnencrypted && !skip("auth") {
		ps = append(ps, problem{"auth", "basic over http is refused by Windows unless its WinRM service allows unencrypted traffic, which sends the password readably; use scheme: https, or auth: ntlm, or set allow_unencrypted: true if that is really wanted"})
	}
	if h.Insecure && !h.HTTPS() && !skip("insecure") {
		ps = append(ps, problem{"insecure", "only applies to https (it turns off certificate checks); remove it or set scheme: https"})
	}
	return ps
}

// checkValues validates a Host built by a caller rather than by the parser,
// which checks each value as it reads it.
func checkValues(h *Host) []problem {
	var ps []problem
	add := func(field string, err error) {
		if err != nil {
			ps = append(ps, problem{field, err.Error()})
		}
	}
	add("port", checkPort(int64(h.Port)))
	_, err := normScheme(h.Scheme)
	add("scheme", err)
	_, err = normAuth(h.Auth)
	add("auth", err)
	add("max_envelope_kb", checkEnvelope(int64(h.MaxEnvelopeKB)))
	if h.Secret.Env != "" {
		add("password_env", checkEnvName(h.Secret.Env))
	}
	n := 0
	for _, set := range []bool{h.Secret.Env != "", h.Secret.File != "", h.Secret.Prompt} {
		if set {
			n++
		}
	}
	if n > 1 {
		ps = append(ps, problem{"password", "more than one password source; give exactly one of an environment variable, a file or a prompt"})
	}
	for k := range h.Tags {
		if k == "" {
			ps = append(ps, problem{"tags", "a tag has an empty name"})
		}
	}
	return ps
}

func checkPort(n int64) error {
	if n < 1 || n > 65535 {
		return fmt.Errorf("%d is not between 1 and 65535", n)
	}
	return nil
}

func checkEnvelope(n int64) error {
	if n < minEnvelopeKB || n > maxEnvelopeKB {
		return fmt.Errorf("%d is not between %d (the Windows minimum) and %d", n, minEnvelopeKB, maxEnvelopeKB)
	}
	return nil
}

// normScheme and normAuth accept any letter case, since "HTTPS" or "NTLM"
// is an obvious spelling, and return the canonical lower-case form.
func normScheme(s string) (string, error) {
	switch l := strings.ToLower(s); l {
	case SchemeHTTP, SchemeHTTPS:
		return l, nil
	}
	return "", fmt.Errorf("%q is not http or https", s)
}

func normAuth(s string) (string, error) {
	switch l := strings.ToLower(s); l {
	case AuthNTLM, AuthBasic, AuthKerberos, AuthNegotiate, AuthCertificate:
		return l, nil
	}
	return "", fmt.Errorf("%q is not one of ntlm, basic, kerberos, negotiate, certificate", s)
}

// checkEnvName never echoes the value: a common slip is to write the
// password itself where the variable's name belongs.
func checkEnvName(s string) error {
	ok := s != ""
	for i, r := range s {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("is not an environment variable name (letters, digits and _, not starting with a digit); it must name the variable that holds the password, not the password itself")
	}
	return nil
}

// clone gives each host its own tag map, so that a caller changing one
// host's tags does not change its neighbours'.
func (h Host) clone() Host {
	h.Tags = maps.Clone(h.Tags)
	return h
}
