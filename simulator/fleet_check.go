package simulator

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"aadcready/facts"
)

// resolve fills defaults and allocates addresses in place, and returns every
// problem it finds. Errors name the host and field; files add lines.
func (f *Fleet) resolve() error {
	var errs []error
	bad := func(i int, field, format string, args ...any) {
		errs = append(errs, &FieldError{Source: f.Source, Host: f.Hosts[i].Name, Index: i, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	names := map[string]int{}
	for i := range f.Hosts {
		h := &f.Hosts[i]
		if h.Name == "" {
			bad(i, "name", "a host needs a name")
		} else if j, dup := names[strings.ToLower(h.Name)]; dup {
			bad(i, "name", "%q is also host %d", h.Name, j+1)
		} else {
			names[strings.ToLower(h.Name)] = i
		}
		h.resolveDefaults()
		for _, p := range h.problems() {
			bad(i, p.field, "%s", p.msg)
		}
	}
	if err := f.allocate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, f.checkListeners()...)
	return errors.Join(errs...)
}

func (h *Host) resolveDefaults() {
	if h.Behavior == "" {
		h.Behavior = BehaviorNormal
	}
	if h.Profile == "" {
		h.Profile = DefaultProfile
	}
	if h.MaxEnvelopeKB == 0 {
		h.MaxEnvelopeKB = defaultMaxEnvelopeKB
		if p, ok := profiles[h.Profile]; ok && p.envelopeKB != 0 {
			h.MaxEnvelopeKB = p.envelopeKB
		}
	}
	if h.MaxShellsPerUser == 0 {
		h.MaxShellsPerUser = defaultMaxShellsPerUser
	}
	if h.MaxTimeoutMS == 0 {
		h.MaxTimeoutMS = defaultMaxTimeoutMS
	}
	if h.LanguageMode == "" {
		h.LanguageMode = "FullLanguage"
	}
	if h.ProcessArch == "" {
		h.ProcessArch = arch64
	}
	if h.TLSCert == "" {
		h.TLSCert = TLSCertCA
	}
	if h.Behavior == BehaviorSlow {
		if h.Latency == 0 {
			h.Latency = SlowLatency
		}
		if h.PSRuntime == 0 {
			h.PSRuntime = SlowPSRuntime
		}
	}
}

type problem struct{ field, msg string }

// problems checks one host's fields on their own.
func (h *Host) problems() []problem {
	var out []problem
	add := func(field, format string, args ...any) {
		out = append(out, problem{field, fmt.Sprintf(format, args...)})
	}
	if h.Address != "" {
		if err := checkLoopback(h.Address); err != nil {
			add("address", "%v", err)
		}
	}
	for _, p := range []struct {
		field string
		port  int
	}{{"port", h.Port}, {"https_port", h.HTTPSPort}} {
		if p.port < 0 || p.port > 65535 {
			add(p.field, "%d is not a TCP port", p.port)
		}
	}
	if len(h.Users) == 0 {
		add("users", "no users: nobody could log on")
	}
	for _, u := range h.Users {
		if user, _ := splitAccount(u.Name); user == "" || u.Password == "" {
			add("users", "user %q needs a name and a password", u.Name)
		}
	}
	if h.MaxEnvelopeKB < 32 {
		add("max_envelope_kb", "%d is below the Windows minimum of 32", h.MaxEnvelopeKB)
	}
	if h.MaxShellsPerUser < 1 {
		add("max_shells_per_user", "%d: must be at least 1", h.MaxShellsPerUser)
	}
	if h.MaxTimeoutMS < 500 {
		add("max_timeout_ms", "%d is below the Windows minimum of 500", h.MaxTimeoutMS)
	}
	if !slices.Contains(behaviors, h.Behavior) {
		add("behavior", "%q is not one of %s", h.Behavior, joinNames(behaviors))
	}
	if h.Latency < 0 {
		add("latency", "%v: cannot be negative", h.Latency)
	}
	if h.PSRuntime < 0 {
		add("ps_runtime", "%v: cannot be negative", h.PSRuntime)
	}
	for _, ft := range h.Faults {
		out = append(out, ft.problems()...)
	}
	if _, ok := profiles[h.Profile]; !ok {
		add("profile", "unknown profile %q; known: %s", h.Profile, strings.Join(ProfileNames(), ", "))
	}
	for _, key := range slices.Sorted(maps.Keys(h.Facts)) {
		if err := checkFact(key, h.Facts[key]); err != nil {
			add("facts", "%v", err)
		}
	}
	known := facts.Probes()
	for _, p := range slices.Sorted(maps.Keys(h.FailProbes)) {
		if !slices.Contains(known, p) {
			add("fail_probes", "unknown probe %q; known: %s", p, strings.Join(known, ", "))
		}
	}
	for _, p := range h.OmitProbes {
		if !slices.Contains(known, p) {
			add("omit_probes", "unknown probe %q; known: %s", p, strings.Join(known, ", "))
		}
	}
	if h.HangAfterProbe != "" && !slices.Contains(known, h.HangAfterProbe) {
		add("hang_after_probe", "unknown probe %q; known: %s", h.HangAfterProbe, strings.Join(known, ", "))
	}
	if h.TruncateOutput < 0 {
		add("truncate_output", "%d: must be 0 (never) or a byte count", h.TruncateOutput)
	}
	if h.NoiseOutput < 0 || h.NoiseOutput > maxNoiseOutput {
		add("noise_output", "%d: must be a byte count up to %d", h.NoiseOutput, maxNoiseOutput)
	}
	switch {
	case !slices.Contains(tlsCerts, h.TLSCert):
		add("tls_cert", "%q is not one of %s", h.TLSCert, joinNames(tlsCerts))
	case h.TLSCert != TLSCertCA && !h.HTTPS:
		add("tls_cert", "%s does nothing without an HTTPS listener: give https_port", h.TLSCert)
	}
	if !slices.Contains(languageModes, h.LanguageMode) {
		add("language_mode", "%q is not one of %s", h.LanguageMode, strings.Join(languageModes, ", "))
	}
	for _, cv := range h.CorruptValues {
		if cv.Value == "" {
			add("corrupt_values", "key %q: give the value's name (value:)", cv.Key)
		} else if err := checkRegFault(cv.Key, cv.Value); err != nil {
			add("corrupt_values", "%v", err)
		}
	}
	if h.ProcessArch != arch64 && h.ProcessArch != arch32on64 {
		add("process_arch", "%q is not %s or %s", h.ProcessArch, arch64, arch32on64)
	}
	for _, k := range h.UnreadableKeys {
		if err := checkRegFault(k, ""); err != nil {
			add("unreadable_keys", "%v", err)
		}
	}
	return out
}

func (ft Fault) problems() []problem {
	var out []problem
	if !slices.Contains(faultOps, ft.Op) {
		out = append(out, problem{"faults", fmt.Sprintf("op %q is not one of %s", ft.Op, joinNames(faultOps))})
	}
	switch {
	case ft.Code == 0 && ft.HTTPStatus == 0 && !ft.Reset && !ft.Vanish:
		out = append(out, problem{"faults", fmt.Sprintf("fault on %s does nothing: give a code, an http_status, reset: true or vanish: true", ft.Op)})
	case ft.Vanish && (ft.Code != 0 || ft.HTTPStatus != 0 || ft.Reset):
		out = append(out, problem{"faults", fmt.Sprintf("vanish on %s answers fault 2150858843 itself: give no code, http_status or reset with it", ft.Op)})
	case ft.Vanish && ft.Op == OpCreate:
		out = append(out, problem{"faults", "vanish on create: there is no shell yet to lose"})
	}
	if ft.HTTPStatus != 0 && (ft.HTTPStatus < 400 || ft.HTTPStatus > 599) {
		out = append(out, problem{"faults", fmt.Sprintf("http_status %d is not an error status (400-599)", ft.HTTPStatus)})
	}
	if ft.Times < 0 {
		out = append(out, problem{"faults", fmt.Sprintf("times %d: must be 0 (always) or a count", ft.Times)})
	}
	return out
}

// checkFact validates an override against the registry: the key exists and
// a known value has the key's kind.
func checkFact(key string, f facts.Fact) error {
	def, ok := facts.Lookup(key)
	if !ok {
		return fmt.Errorf("unknown fact %q", key)
	}
	switch f.Status {
	case facts.StatusAbsent:
		return nil
	case facts.StatusError:
		if f.Reason == "" {
			return fmt.Errorf("fact %s: an error needs its text", key)
		}
		return nil
	case facts.StatusOK:
	default:
		return fmt.Errorf("fact %s: unknown status %q", key, f.Status)
	}
	var fits bool
	switch def.Kind {
	case facts.String:
		_, fits = f.Value.(string)
	case facts.Int:
		_, fits = f.Value.(int64)
	case facts.Bool:
		_, fits = f.Value.(bool)
	case facts.List:
		_, fits = f.Value.([]string)
	}
	if !fits {
		return fmt.Errorf("fact %s is %s, not %T", key, kindName(def.Kind), f.Value)
	}
	return nil
}

// usable skips x.y.z.0 and x.y.z.255, which look like network and
// broadcast addresses to tools even on loopback.
func usable(a netip.Addr) bool { last := a.As4()[3]; return last != 0 && last != 255 }

func checkLoopback(addr string) error {
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Is4() {
		return fmt.Errorf("%q is not an IPv4 address", addr)
	}
	if !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address (127.0.0.0/8): the simulator only listens on this machine", addr)
	}
	return nil
}

// allocate gives hosts without an address the next free loopback address
// from AddressBase, skipping .0 and .255 and addresses other hosts name.
func (f *Fleet) allocate() error {
	base := f.AddressBase
	if base == "" {
		base = DefaultAddressBase
	}
	if err := checkLoopback(base); err != nil {
		return &FieldError{Source: f.Source, Index: -1, Field: "address_base", Msg: err.Error()}
	}
	taken := map[string]bool{}
	for _, h := range f.Hosts {
		taken[h.Address] = true
	}
	next, _ := netip.ParseAddr(base)
	for i := range f.Hosts {
		if f.Hosts[i].Address != "" {
			continue
		}
		for taken[next.String()] || !usable(next) {
			next = next.Next()
		}
		if !next.IsLoopback() {
			return &FieldError{Source: f.Source, Index: -1, Field: "address_base", Msg: fmt.Sprintf("loopback addresses run out after %d hosts from %s", i, base)}
		}
		f.Hosts[i].Address = next.String()
		taken[next.String()] = true
	}
	return nil
}

// checkListeners refuses two listeners on one address and port.
func (f *Fleet) checkListeners() []error {
	var errs []error
	seen := map[string]int{}
	for i, h := range f.Hosts {
		for _, l := range []struct {
			field string
			port  int
			on    bool
		}{{"port", h.Port, true}, {"https_port", h.HTTPSPort, h.HTTPS}} {
			if !l.on || l.port == 0 || h.Address == "" {
				continue
			}
			key := netip.AddrPortFrom(netip.MustParseAddr(h.Address), uint16(l.port)).String()
			if j, dup := seen[key]; dup {
				errs = append(errs, &FieldError{Source: f.Source, Host: h.Name, Index: i, Field: l.field, Msg: fmt.Sprintf("%s is also a listener of host %q", key, f.Hosts[j].Name)})
				continue
			}
			seen[key] = i
		}
	}
	return errs
}
