package inventory

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"aadcready/yamlloc"
)

// KerberosSettings are a host's kerberos: block. Empty fields come from
// krb5.conf (KRB5_CONFIG) and, for SPN, from the host name (HTTP/<name>).
type KerberosSettings struct {
	Realm    string   // e.g. CONTOSO.COM
	KDCs     []string // host[:port] of the realm's KDCs
	Krb5Conf string   // krb5.conf to read instead of $KRB5_CONFIG or /etc/krb5.conf
	SPN      string   // service principal, e.g. HTTP/aadc01.contoso.com or WSMAN/aadc01.contoso.com
}

// Kerberized reports whether the host logs on with Kerberos (auth kerberos
// or negotiate), where a password source is optional.
func (h Host) Kerberized() bool { return h.Auth == AuthKerberos || h.Auth == AuthNegotiate }

// usesTicketCache reports whether a Kerberos host uses the ticket cache
// (KRB5CCNAME, after kinit): no keytab and no password source.
func (h Host) usesTicketCache() bool {
	return h.Kerberized() && h.Keytab == "" && h.Secret == (SecretRef{})
}

var kerberosKeys = []string{"kdc", "krb5_conf", "realm", "spn"}

// krbLayer is the Kerberos settings written in one mapping; each key of
// the kerberos: block inherits on its own, so a host can override spn and
// keep the realm of its defaults.
type krbLayer struct {
	keytab, realm, krb5Conf, spn opt[string]
	kdcs                         opt[[]string]
	ntlmFallback                 opt[bool]
	block                        origin // where kerberos: was written
}

func (l krbLayer) over(parent krbLayer) krbLayer {
	m := krbLayer{
		keytab:       pick(parent.keytab, l.keytab),
		realm:        pick(parent.realm, l.realm),
		krb5Conf:     pick(parent.krb5Conf, l.krb5Conf),
		spn:          pick(parent.spn, l.spn),
		kdcs:         pick(parent.kdcs, l.kdcs),
		ntlmFallback: pick(parent.ntlmFallback, l.ntlmFallback),
		block:        parent.block,
	}
	if l.block.line != 0 {
		m.block = l.block
	}
	return m
}

func (l krbLayer) settings() KerberosSettings {
	return KerberosSettings{Realm: l.realm.v, KDCs: slices.Clone(l.kdcs.v), Krb5Conf: l.krb5Conf.v, SPN: l.spn.v}
}

func (l krbLayer) blame(field string, hostLine int, hostScope string) (int, string) {
	at := l.block
	switch field {
	case "keytab":
		at = l.keytab.at
	case "ntlm_fallback":
		at = l.ntlmFallback.at
	}
	if at.line == 0 || at.scope == hostScope {
		if at.line == 0 {
			return hostLine, ""
		}
		return at.line, ""
	}
	return hostLine, fmt.Sprintf(" (%s is set in %s at line %d)", field, at.scope, at.line)
}

// kerberosSetting reads keytab:, ntlm_fallback: or the kerberos: block.
func (p *parser) kerberosSetting(l *krbLayer, scope string, f field) {
	switch f.key {
	case "keytab":
		l.keytab = p.strOpt(scope, f, p.filePath)
		return
	case "ntlm_fallback":
		l.ntlmFallback = p.boolOpt(scope, f)
		return
	}
	v := p.expect(f.v, yaml.MappingNode, scope, "kerberos", "a mapping with realm, kdc, krb5_conf and spn")
	if v == nil {
		return
	}
	l.block = origin{f.k.Line, scope}
	for _, kf := range p.fields(v, scope, "kerberos.") {
		name := "kerberos." + kf.key
		sub := field{name, kf.k, kf.v}
		switch kf.key {
		case "realm":
			l.realm = p.strOpt(scope, sub, checkRealm)
		case "krb5_conf":
			l.krb5Conf = p.strOpt(scope, sub, p.filePath)
		case "spn":
			l.spn = p.strOpt(scope, sub, checkSPN)
		case "kdc":
			l.kdcs = p.kdcList(scope, sub)
		default:
			p.add(kf.k.Line, scope, "kerberos", fmt.Sprintf("unknown key %q; valid keys: %s", kf.key, strings.Join(kerberosKeys, ", ")))
		}
	}
}

// kdcList reads kdc: as one host[:port] or a list of them.
func (p *parser) kdcList(scope string, f field) opt[[]string] {
	o := opt[[]string]{at: origin{f.v.Line, scope}, set: true}
	items := []*yaml.Node{f.v}
	if n := yamlloc.Deref(f.v); n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, it := range items {
		s, ok := p.checkedStr(scope, f.key, it, checkKDC)
		if !ok {
			o.bad = true
			continue
		}
		o.v = append(o.v, s)
	}
	if len(o.v) == 0 && !o.bad {
		p.add(f.v.Line, scope, f.key, "is empty; give the realm's KDCs (domain controllers) as host or host:port")
		o.bad = true
	}
	return o
}

func checkRealm(s string) (string, error) {
	if s == "" || strings.ContainsAny(s, " \t/@") {
		return "", fmt.Errorf("%q is not a realm name (for Active Directory: the DNS domain in capitals, e.g. CONTOSO.COM)", s)
	}
	return s, nil
}

func checkSPN(s string) (string, error) {
	svc, host, ok := strings.Cut(s, "/")
	if !ok || svc == "" || host == "" || strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("%q is not a service principal name; write HTTP/<host fqdn> (or WSMAN/<host fqdn>)", s)
	}
	return s, nil
}

func checkKDC(s string) (string, error) {
	host := s
	if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	}
	if host == "" || validateName(host) != nil && net.ParseIP(host) == nil {
		return "", fmt.Errorf("%q is not a host or host:port", s)
	}
	return s, nil
}

// checkKerberos applies the rules for keytab:, kerberos: and ntlm_fallback:
// on a host's merged settings.
func checkKerberos(h *Host) []problem {
	var ps []problem
	krbSet := h.Kerberos.Realm != "" || len(h.Kerberos.KDCs) > 0 || h.Kerberos.Krb5Conf != "" || h.Kerberos.SPN != ""
	if !h.Kerberized() {
		if h.Keytab != "" {
			ps = append(ps, problem{"keytab", "only applies to auth: kerberos or negotiate"})
		}
		if krbSet {
			ps = append(ps, problem{"kerberos", "only applies to auth: kerberos or negotiate"})
		}
		if h.NTLMFallback {
			ps = append(ps, problem{"ntlm_fallback", "only applies to auth: negotiate"})
		}
		return ps
	}
	if h.Keytab != "" && h.Secret != (SecretRef{}) {
		ps = append(ps, problem{"keytab", "a keytab and a password source are both given; give one (a keytab for unattended runs, a password only if there is no keytab)"})
	}
	if h.NTLMFallback {
		switch {
		case h.Auth != AuthNegotiate:
			ps = append(ps, problem{"ntlm_fallback", "only applies to auth: negotiate (auth: kerberos never falls back)"})
		case h.Secret == (SecretRef{}):
			ps = append(ps, problem{"ntlm_fallback", "NTLM needs a password: set password_env, password_file or password_prompt, or remove ntlm_fallback"})
		}
	}
	return ps
}
