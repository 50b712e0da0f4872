// Package discover finds Azure AD Connect (Entra Connect Sync) servers from
// Active Directory: the MSOL_ connector accounts every default installation
// creates, the server each one's description names, and that server's
// computer object (is it still there, enabled, logging on?). It reads the
// directory over LDAPS or StartTLS with a simple bind or a Kerberos (SASL
// GSSAPI) bind and changes nothing.
//
// Everything the directory returns is untrusted: callers neutralise it for
// the terminal, spreadsheets and logs.
package discover

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"aadcready/wsman"
)

// Security modes of the connection.
const (
	TLSLDAPS    = "ldaps"    // TLS from the first byte (636, global catalog 3269)
	TLSStartTLS = "starttls" // LDAP, then StartTLS before the bind (389, 3268)
	TLSNone     = "none"     // plain LDAP: the password crosses the network readably
)

// DefaultFilter finds the connector accounts of default installations.
const DefaultFilter = "(&(objectCategory=person)(objectClass=user)(sAMAccountName=MSOL_*))"

// Config says which directory to read and how.
type Config struct {
	Host       string // domain controller (or global catalog) to connect to
	Port       int    // 0: the default for TLS and GC
	TLS        string // TLSLDAPS, TLSStartTLS or TLSNone
	ServerName string // name to verify in the certificate; default Host
	CAFile     string // extra trusted CA (PEM), added to the system roots

	GC bool // search the global catalog: the whole forest in one search

	Username string // simple bind: user@domain, DOMAIN\user or a DN
	Password string

	// Kerberos, when set, binds with SASL GSSAPI instead of a simple bind,
	// with the run's one Kerberos credential (one AS exchange, shared).
	Kerberos *wsman.Kerberos
	SPN      string // default ldap/<ServerName, else Host>

	Base   string // where to look for connector accounts; default: the domain (or, with GC, the forest)
	Filter string // default DefaultFilter

	QueryTimeout time.Duration // deadline of each LDAP query (and of the connection)
	StaleAfter   time.Duration // a computer that has not logged on for this long is stale
	Now          time.Time     // for staleness; default time.Now()
}

// port is the port a config connects to.
func (c Config) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.GC && c.TLS == TLSLDAPS:
		return 3269
	case c.GC:
		return 3268
	case c.TLS == TLSLDAPS:
		return 636
	}
	return 389
}

// Result is what one discovery found.
type Result struct {
	DC        string    `json:"dc"`
	TLS       string    `json:"tls"`
	GC        bool      `json:"global_catalog,omitempty"`
	Forest    string    `json:"forest"`
	Domain    string    `json:"domain"`
	Base      string    `json:"base"`
	Filter    string    `json:"filter"`
	StaleDays int       `json:"stale_days"`
	When      time.Time `json:"when"`

	Accounts []Account `json:"accounts"`
	Servers  []Server  `json:"servers"`
	// StagingPairs lists, per tenant with more than one active server,
	// those servers (one is normally in staging mode).
	StagingPairs map[string][]string `json:"staging_pairs,omitempty"`
	// Warnings are things the operator must see (plain LDAP).
	Warnings []string `json:"warnings,omitempty"`
	// Referrals are the continuation references of the searches (other
	// partitions: DNS zones, configuration, child domains), not followed.
	// A child domain's servers are found with --gc or that domain's DC.
	Referrals []string `json:"referrals,omitempty"`
	Stats     Stats    `json:"stats"`
}

// Stats counts the LDAP work done.
type Stats struct {
	Queries int `json:"queries"`
	Pages   int `json:"pages"`
	Entries int `json:"entries"`
}

func (s *Stats) add(o Stats) {
	s.Queries += o.Queries
	s.Pages += o.Pages
	s.Entries += o.Entries
}

// Account is one connector account (or other entry the filter matched).
type Account struct {
	Name        string     `json:"name"` // sAMAccountName
	DN          string     `json:"dn"`
	Description string     `json:"description,omitempty"`
	Enabled     bool       `json:"enabled"`
	LastLogon   *time.Time `json:"last_logon,omitempty"`
	Named       *Wording   `json:"named,omitempty"` // nil: the description names no computer
	// Problem says why no server could be read from this account.
	Problem string `json:"problem,omitempty"`
}

// Server is one server named by a connector account (or a computer the
// filter matched), with its computer object when AD has one.
type Server struct {
	Name        string     `json:"name"` // as the description names it
	Found       bool       `json:"found"`
	DNSHostName string     `json:"dns_host_name,omitempty"`
	DN          string     `json:"dn,omitempty"`
	Domain      string     `json:"domain,omitempty"`
	OS          string     `json:"os,omitempty"`
	OSVersion   string     `json:"os_version,omitempty"`
	Enabled     bool       `json:"enabled"`
	LastLogon   *time.Time `json:"last_logon,omitempty"`
	Created     *time.Time `json:"created,omitempty"`
	// FromGC: the computer object was read from the global catalog, which
	// may not carry every attribute (lastLogonTimestamp).
	FromGC   bool     `json:"from_global_catalog,omitempty"`
	Accounts []string `json:"accounts,omitempty"`
	Tenants  []string `json:"tenants,omitempty"`
	// Stale is why this trace is likely a decommissioned server: computer
	// missing, disabled, or not logged on for too long. Empty: active.
	Stale string `json:"stale,omitempty"`
}

// Active reports whether the server looks alive in AD.
func (s Server) Active() bool { return s.Stale == "" }

// Host is the name to scan: the DNS host name, else the name as written.
func (s Server) Host() string {
	if s.DNSHostName != "" {
		return s.DNSHostName
	}
	return s.Name
}

// Run connects, binds once and discovers.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	if cfg.Filter == "" {
		cfg.Filter = DefaultFilter
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 30 * time.Second
	}
	if _, err := ldap.CompileFilter(cfg.Filter); err != nil {
		return nil, &Error{Kind: KindUsage, Msg: fmt.Sprintf("--filter %q is not an LDAP filter", cfg.Filter), Err: err}
	}
	c, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer c.close()

	r := &Result{
		DC: fmt.Sprintf("%s:%d", cfg.Host, cfg.port()), TLS: cfg.TLS, GC: cfg.GC, Filter: cfg.Filter,
		StaleDays: int(cfg.StaleAfter.Hours() / 24), When: cfg.Now.UTC(),
	}
	switch {
	case cfg.TLS == TLSNone && cfg.Kerberos != nil:
		r.Warnings = append(r.Warnings, "plain LDAP (--tls none) with Kerberos: no SASL security layer is negotiated, so every answer crossed the network unsigned and unencrypted (a man in the middle could change them)")
	case cfg.TLS == TLSNone:
		r.Warnings = append(r.Warnings, "plain LDAP (--tls none): the bind password and every answer crossed the network unencrypted")
	}
	if c.legacyCN {
		r.Warnings = append(r.Warnings, "the DC's certificate names it only in its Common Name, without a subjectAltName (as Samba's self-generated certificate does); it was accepted because it chains to a trusted CA and the name matches. Give the DC a certificate with a subjectAltName")
	}
	root, err := c.rootDSE(ctx)
	if err != nil {
		return nil, err
	}
	r.Forest = dnToDNS(root.GetAttributeValue("rootDomainNamingContext"))
	r.Domain = dnToDNS(root.GetAttributeValue("defaultNamingContext"))
	domainBase := root.GetAttributeValue("defaultNamingContext")
	if cfg.GC {
		domainBase = "" // the global catalog's root: every domain of the forest
	}
	r.Base = cfg.Base
	if r.Base == "" {
		r.Base = domainBase
		if !cfg.GC && r.Domain != r.Forest {
			r.Warnings = append(r.Warnings, fmt.Sprintf("this DC's domain %s is not the forest root %s, where MSOL_ accounts usually are: use --gc, or a DC of %s", r.Domain, r.Forest, r.Forest))
		}
	}

	entries, refs, err := c.search(ctx, r.Base, cfg.Filter,
		[]string{"sAMAccountName", "description", "userAccountControl", "lastLogonTimestamp", "objectClass",
			"dNSHostName", "operatingSystem", "operatingSystemVersion", "cn", "whenCreated"})
	if err != nil {
		return nil, err
	}
	r.noteReferrals(refs)

	servers, order := r.readEntries(entries)

	var lookup []*Server
	for _, k := range order {
		if s := servers[k]; !s.Found {
			lookup = append(lookup, s)
		}
	}
	if err := c.findComputers(ctx, domainBase, lookup, r); err != nil {
		return nil, err
	}
	forest := cfg.GC
	if !cfg.GC {
		forest = r.searchForest(ctx, cfg, servers, order)
	}
	for _, k := range order {
		s := servers[k]
		s.Stale = staleness(*s, cfg, forest)
		r.Servers = append(r.Servers, *s)
	}
	slices.SortStableFunc(r.Servers, func(a, b Server) int { return strings.Compare(strings.ToLower(a.Host()), strings.ToLower(b.Host())) })
	r.StagingPairs = stagingPairs(r.Servers)
	r.Stats.add(c.stats)
	return r, nil
}

// readEntries turns what the filter matched into accounts and the servers
// they name (keyed by lower-case name, in order of first mention).
func (r *Result) readEntries(entries []*ldap.Entry) (map[string]*Server, []string) {
	servers := map[string]*Server{}
	var order []string
	addServer := func(name string) *Server {
		key := strings.ToLower(name)
		if s, ok := servers[key]; ok {
			return s
		}
		s := &Server{Name: name}
		servers[key] = s
		order = append(order, key)
		return s
	}
	for _, e := range entries {
		if isComputer(e) { // a custom --filter that matches computers names them directly
			s := addServer(e.GetAttributeValue("cn"))
			fillComputer(s, e)
			continue
		}
		a := Account{
			Name:        e.GetAttributeValue("sAMAccountName"),
			DN:          e.DN,
			Description: e.GetAttributeValue("description"),
			Enabled:     enabled(e),
			LastLogon:   fileTime(e.GetAttributeValue("lastLogonTimestamp")),
		}
		switch w, ok := ParseDescription(a.Description); {
		case ok:
			a.Named = &w
			s := addServer(w.Computer)
			s.Accounts = append(s.Accounts, a.Name)
			if w.Tenant != "" && !slices.Contains(s.Tenants, w.Tenant) {
				s.Tenants = append(s.Tenants, w.Tenant)
			}
		case a.Description == "":
			a.Problem = "no description: the server cannot be read from this account"
		default:
			a.Problem = "description names no computer (localised or rewritten): find the server by hand"
		}
		r.Accounts = append(r.Accounts, a)
	}
	return servers, order
}

// findComputers looks the servers' computer objects up, a batch of names
// per query, in the domain (or with GC the forest).
func (c *conn) findComputers(ctx context.Context, base string, ss []*Server, r *Result) error {
	const batch = 50
	for len(ss) > 0 {
		n := min(batch, len(ss))
		part := ss[:n]
		ss = ss[n:]
		var or strings.Builder
		for _, s := range part {
			short, _, _ := strings.Cut(s.Name, ".")
			fmt.Fprintf(&or, "(sAMAccountName=%s$)", ldap.EscapeFilter(short))
			if strings.Contains(s.Name, ".") {
				fmt.Fprintf(&or, "(dNSHostName=%s)", ldap.EscapeFilter(s.Name))
			}
		}
		filter := "(&(objectCategory=computer)(|" + or.String() + "))"
		entries, refs, err := c.search(ctx, base, filter,
			[]string{"cn", "sAMAccountName", "dNSHostName", "operatingSystem", "operatingSystemVersion", "userAccountControl", "lastLogonTimestamp", "whenCreated"})
		if err != nil {
			return err
		}
		r.noteReferrals(refs)
		for _, s := range part {
			for _, e := range entries {
				if matchesComputer(s.Name, e) {
					fillComputer(s, e)
					break
				}
			}
		}
	}
	return nil
}

// matchesComputer: a NetBIOS name matches sAMAccountName; a DNS name
// matches dNSHostName, or the first label when the object has no
// dNSHostName (pre-staged, or never registered).
func matchesComputer(name string, e *ldap.Entry) bool {
	sam := strings.TrimSuffix(e.GetAttributeValue("sAMAccountName"), "$")
	short, _, isDNS := strings.Cut(name, ".")
	if !isDNS {
		return strings.EqualFold(sam, name)
	}
	if dns := e.GetAttributeValue("dNSHostName"); dns != "" {
		return strings.EqualFold(dns, name)
	}
	return strings.EqualFold(sam, short)
}

func fillComputer(s *Server, e *ldap.Entry) {
	s.Found = true
	s.DN = e.DN
	s.Domain = dnToDNS(e.DN)
	s.DNSHostName = e.GetAttributeValue("dNSHostName")
	s.OS = e.GetAttributeValue("operatingSystem")
	s.OSVersion = e.GetAttributeValue("operatingSystemVersion")
	s.Enabled = enabled(e)
	s.LastLogon = fileTime(e.GetAttributeValue("lastLogonTimestamp"))
	if t, err := time.Parse("20060102150405.0Z0700", e.GetAttributeValue("whenCreated")); err == nil {
		s.Created = &t
	}
}

// searchForest looks the servers the DC's domain does not hold up in the
// global catalog of the same DC (the servers of a multi-domain forest are
// often joined to another domain than the connector account's). It reports
// whether the whole forest was searched; when the DC is no global catalog
// or --port was given (no guessing the GC's), a warning says what to do.
func (r *Result) searchForest(ctx context.Context, cfg Config, servers map[string]*Server, order []string) bool {
	var missing []*Server
	for _, k := range order {
		if !servers[k].Found {
			missing = append(missing, servers[k])
		}
	}
	if len(missing) == 0 {
		return true
	}
	if cfg.Port != 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d servers are not in domain %s; with --port the global catalog was not searched: run again with --gc", len(missing), r.Domain))
		return false
	}
	gcfg := cfg
	gcfg.GC = true
	gc, err := connect(ctx, gcfg)
	if err == nil {
		defer gc.close()
		err = gc.findComputers(ctx, "", missing, r)
		r.Stats.add(gc.stats)
	}
	if err != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d servers are not in domain %s, and the global catalog on port %d could not be searched (%v): run with --gc against a global catalog", len(missing), r.Domain, gcfg.port(), err))
		return false
	}
	for _, s := range missing {
		s.FromGC = s.Found
	}
	return true
}

// staleness says why a server's trace in AD looks decommissioned; forest
// tells whether a missing computer was looked for in the whole forest.
// lastLogonTimestamp replicates only every 9 to 14 days, so the threshold
// should be well above that (default 90 days).
func staleness(s Server, cfg Config, forest bool) string {
	switch {
	case !s.Found && !forest:
		return "computer object not found in this domain (--gc searches the forest)"
	case !s.Found:
		return "computer object not found"
	case !s.Enabled:
		return "computer account disabled"
	case cfg.StaleAfter <= 0:
		return ""
	case s.LastLogon == nil && (cfg.GC || s.FromGC):
		// The global catalog may not carry lastLogonTimestamp (it holds a
		// partial attribute set): absent there is unknown, not never.
		return ""
	case s.LastLogon == nil && s.Created != nil && cfg.Now.Sub(*s.Created) <= cfg.StaleAfter:
		return "" // a new computer object that has not logged on yet
	case s.LastLogon == nil:
		return "computer has never logged on"
	case cfg.Now.Sub(*s.LastLogon) > cfg.StaleAfter:
		return fmt.Sprintf("computer has not logged on for %d days", int(cfg.Now.Sub(*s.LastLogon).Hours()/24))
	}
	return ""
}

// stagingPairs groups the active servers by tenant: a tenant with more
// than one is an active server and its staging server(s).
func stagingPairs(ss []Server) map[string][]string {
	by := map[string][]string{}
	for _, s := range ss {
		if !s.Active() {
			continue
		}
		for _, t := range s.Tenants {
			by[t] = append(by[t], s.Host())
		}
	}
	for t, names := range by {
		if len(names) < 2 {
			delete(by, t)
			continue
		}
		slices.Sort(names)
	}
	if len(by) == 0 {
		return nil
	}
	return by
}

// StagingPeers returns the other active servers of an active server's
// tenants (none for a stale one).
func (r *Result) StagingPeers(s Server) []string {
	if !s.Active() {
		return nil
	}
	var out []string
	for _, t := range s.Tenants {
		for _, n := range r.StagingPairs[t] {
			if n != s.Host() && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

func (r *Result) noteReferrals(refs []string) {
	for _, u := range refs {
		if !slices.Contains(r.Referrals, u) {
			r.Referrals = append(r.Referrals, u)
		}
	}
}

func isComputer(e *ldap.Entry) bool {
	return slices.ContainsFunc(e.GetAttributeValues("objectClass"), func(c string) bool { return strings.EqualFold(c, "computer") })
}

// userAccountControl bit ACCOUNTDISABLE (MS-ADTS 2.2.16).
const uacDisabled = 0x2

func enabled(e *ldap.Entry) bool {
	uac, err := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64)
	return err == nil && uac&uacDisabled == 0
}

// fileTime reads an AD large-integer time (100 ns since 1601-01-01 UTC);
// 0 and absent mean never.
func fileTime(s string) *time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n == 1<<63-1 {
		return nil
	}
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	t := time.Unix(0, (n-epochDiff)*100).UTC()
	return &t
}

// dnToDNS turns the DC= parts of a DN into a DNS name.
func dnToDNS(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return ""
	}
	var labels []string
	for _, rdn := range parsed.RDNs {
		for _, a := range rdn.Attributes {
			if strings.EqualFold(a.Type, "DC") {
				labels = append(labels, a.Value)
			}
		}
	}
	return strings.ToLower(strings.Join(labels, "."))
}
