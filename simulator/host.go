package simulator

import (
	"crypto/tls"
	"maps"
	"strings"
	"sync"

	"aadcready/facts"
	"aadcready/simulator/ntlmsrv"
)

// hostState is a host at run time. Shells exist only while a client holds
// them, so an idle host is this struct and its listener.
type hostState struct {
	srv             *Server
	cfg             *Host
	profile         profile
	addr, httpsAddr string
	ntlm            ntlmsrv.Config
	counters        counters

	certOnce sync.Once
	cert     *tls.Certificate
	bindings []byte // channel bindings of cert, for NTLM over TLS
	certErr  error

	mu         sync.Mutex
	shells     map[string]*shell
	faultsUsed []int // per entry of cfg.Faults, how often it fired
}

func newHostState(s *Server, h *Host) *hostState {
	hs := &hostState{srv: s, cfg: h, profile: profiles[h.Profile], faultsUsed: make([]int, len(h.Faults))}
	dnsDomain := hs.factString("domain.name")
	computer := netbiosName(h.Name)
	hs.ntlm = ntlmsrv.Config{
		NetBIOSDomain:   netbiosName(strings.Split(dnsDomain, ".")[0]),
		NetBIOSComputer: computer,
		DNSComputer:     strings.ToLower(h.Name) + "." + dnsDomain,
		DNSDomain:       dnsDomain,
		Password:        hs.ntlmPassword,
	}
	if dnsDomain == "" { // a workgroup server is its own authority
		hs.ntlm.NetBIOSDomain, hs.ntlm.DNSComputer = computer, strings.ToLower(h.Name)
	}
	return hs
}

// netbiosName is the upper-cased, 15-character form Windows uses for
// computer and domain names in NTLM.
func netbiosName(s string) string {
	s = strings.ToUpper(s)
	if len(s) > 15 {
		s = s[:15]
	}
	return s
}

func (h *hostState) factString(key string) string {
	f, ok := h.cfg.Facts[key]
	if !ok {
		f = h.profile.facts[key]
	}
	s, _ := f.Str()
	return s
}

// isLocalDomain says whether a domain part names this computer rather than
// an Active Directory domain.
func (h *hostState) isLocalDomain(d string) bool {
	return d == "" || d == "." || strings.EqualFold(d, h.ntlm.NetBIOSComputer) || strings.EqualFold(d, h.cfg.Name)
}

// domainMatches says whether the domain a client sent names the configured
// account's domain: its NetBIOS name or DNS name, either case. An empty
// domain is accepted for any account (a member server passes it on to its
// domain); documented as an approximation.
func (h *hostState) domainMatches(configured, sent string) bool {
	if h.isLocalDomain(configured) {
		return h.isLocalDomain(sent)
	}
	return sent == "" || strings.EqualFold(configured, sent) ||
		strings.EqualFold(sent, h.ntlm.DNSDomain) && strings.EqualFold(configured, h.ntlm.NetBIOSDomain)
}

// ntlmPassword finds the account an AUTHENTICATE message names.
func (h *hostState) ntlmPassword(user, domain string) (string, bool) {
	if domain == "" {
		if u, d, ok := strings.Cut(user, "@"); ok { // a UPN: svc@contoso.com
			user, domain = u, strings.Split(d, ".")[0]
		}
	}
	for _, acct := range h.cfg.Users {
		u, d := splitAccount(acct.Name)
		if strings.EqualFold(u, user) && h.domainMatches(d, domain) {
			return acct.Password, true
		}
	}
	return "", false
}

// basicAccount checks Basic credentials. WinRM accepts Basic for local
// accounts only, so a domain account never matches.
func (h *hostState) basicAccount(name, password string) bool {
	user, domain := splitAccount(name)
	if !h.isLocalDomain(domain) {
		return false
	}
	for _, acct := range h.cfg.Users {
		u, d := splitAccount(acct.Name)
		if h.isLocalDomain(d) && strings.EqualFold(u, user) && acct.Password == password {
			return true
		}
	}
	return false
}

// certificate issues the host's HTTPS certificate on first use, so a large
// fleet pays for certificates only on the hosts a client reaches.
func (h *hostState) certificate() (*tls.Certificate, error) {
	h.certOnce.Do(func() {
		h.cert, h.certErr = h.srv.ca.issue(h.cfg.Name, h.cfg.Address, h.cfg.TLSCert)
		if h.certErr == nil {
			h.bindings = ntlmsrv.TLSServerEndPoint(h.cert.Leaf)
		}
	})
	return h.cert, h.certErr
}

// factSet is what the probes read on this host: the profile, then what the
// host itself determines, then the fleet file's overrides.
func (h *hostState) factSet() *facts.Set {
	set := facts.NewSet()
	maps.Copy(set.Facts, h.profile.facts)
	set.Facts["host.name"] = facts.Fact{Status: facts.StatusOK, Value: h.cfg.Name}
	set.Facts["ps.language_mode"] = facts.Fact{Status: facts.StatusOK, Value: h.cfg.LanguageMode}
	h.applyRegFaults(set)
	if h.cfg.ProcessArch != "" {
		set.Facts["ps.process_arch"] = facts.Fact{Status: facts.StatusOK, Value: h.cfg.ProcessArch}
	}
	if h.cfg.ProcessArch == arch32on64 {
		applyWow64(set)
	}
	maps.Copy(set.Facts, h.cfg.Facts)
	return set
}
