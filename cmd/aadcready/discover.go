package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"aadcready/atomicfile"
	"aadcready/discover"
	"aadcready/inventory"
	"aadcready/report"
	"aadcready/results"
	"aadcready/wsman"
)

func newDiscoverCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "discover --dc HOST [--username USER | --auth kerberos] [--inventory FILE]",
		Short: "Find the AD Connect servers of a forest from Active Directory",
		Long: `Read Active Directory (read-only) for the MSOL_ connector accounts that every default
AD Connect installation creates, the server each account's description names, and that
server's computer object: DNS name, OS, last logon, enabled. Prints a table; --json FILE
writes everything ("-" for stdout), --csv FILE a spreadsheet; --inventory FILE writes or merges an inventory: new
servers go to the group "discovered" (tags tenant, forest, staging_pair, ad_status), hosts
already listed are never changed, and discovered hosts AD no longer names get their
ad_status tag set, never deleted. See docs/discover.md.

Stale traces (likely decommissioned): the computer object is missing, disabled, or has
not logged on for --stale-days (default 90). Tenants with more than one active server
are shown as staging pairs. An account whose description names no server (localised,
rewritten) is listed with its text, never dropped.

The connection is LDAPS (636) by default, or StartTLS on 389 (--tls starttls); the
certificate is verified (--ca-file adds a CA, --server-name the name to check). --tls none
sends the password readably and is shown as a warning. --gc searches the global
catalog (3269/3268): every domain of the forest. The bind is a simple bind over TLS, tried
once; --auth kerberos binds with Kerberos (SASL GSSAPI) instead: a ticket cache (KRB5CCNAME,
after kinit), --keytab, or --username user@REALM with the password sources; krb5.conf from
KRB5_CONFIG or /etc/krb5.conf; the SPN is ldap/<--server-name or --dc> (--spn overrides).
Installs with a custom connector account leave no MSOL_ account: use --filter (it may
match computer objects directly) and --base.

Exit codes: 0 discovery done; 3 usage, connection, certificate, logon or LDAP error.`,
		Args: cobra.NoArgs,
		RunE: runDiscover,
	}
	f := cmd.Flags()
	f.String("dc", "", "domain controller (or global catalog server) to read")
	f.Int("port", 0, "port (default 636 for ldaps, 389 for starttls and none; 3269/3268 with --gc)")
	f.String("tls", discover.TLSLDAPS, "ldaps, starttls, or none (plain LDAP: the password crosses the network readably)")
	f.String("server-name", "", "name to verify in the DC's certificate (default --dc)")
	f.String("ca-file", "", "PEM file of an extra CA to trust for the DC's certificate")
	f.Bool("gc", false, "search the global catalog: every domain of the forest")
	f.String("username", "", "account to bind as (user@domain, DOMAIN\\user or a DN); any authenticated user can read descriptions")
	f.String("auth", "simple", "simple (bind DN or UPN and password) or kerberos (SASL GSSAPI)")
	f.String("keytab", "", "kerberos: keytab holding --username's keys (default: the password sources when one is set, else the ticket cache)")
	f.String("spn", "", "kerberos: service principal of the DC (default ldap/<--server-name or --dc>)")
	f.String("password-env", "AADCREADY_LDAP_PASSWORD", "environment variable holding the bind password")
	f.String("password-file", "", "file holding the bind password, readable by its owner only")
	f.Bool("password-prompt", false, "ask for the bind password on the terminal")
	f.String("base", "", "where to search for connector accounts (default: the domain; with --gc the forest)")
	f.String("filter", discover.DefaultFilter, "LDAP filter for connector accounts (or computer objects)")
	f.Int("stale-days", 90, "a server whose computer has not logged on for this many days is stale (lastLogonTimestamp lags up to 14 days)")
	f.Duration("query-timeout", 30*time.Second, "deadline of the connection and of each LDAP query")
	f.String("json", "", "write the discovery as JSON to this file (- for stdout)")
	f.String("csv", "", "write the servers (and the accounts that name none) as CSV to this file")
	f.String("inventory", "", "write or merge the servers found into this inventory file")
	f.Bool("include-stale", false, "--inventory: add stale servers too (tagged ad_status: stale: ...), not only active ones")
	f.String("scan-username", "", "--inventory: account the new discovered group scans with (when the file's defaults have none)")
	f.String("scan-password-env", "", "--inventory: environment variable of that account's password")
	f.String("scan-password-file", "", "--inventory: password file of that account")
	f.Bool("scan-password-prompt", false, "--inventory: prompt for that account's password at scan time")
	return cmd
}

func runDiscover(cmd *cobra.Command, _ []string) error {
	v, err := settings(cmd)
	if err != nil {
		return err
	}
	cfg, err := discoverConfig(v)
	if err != nil {
		return err
	}
	ref := inventory.SecretRef{Env: v.GetString("password-env"), File: v.GetString("password-file"), Prompt: v.GetBool("password-prompt")}
	if ref.File != "" || ref.Prompt {
		ref.Env = ""
	}
	kerberos := v.GetString("auth") == "kerberos"
	if kerberos && ref.File == "" && !ref.Prompt && (v.GetString("keytab") != "" || os.Getenv(ref.Env) == "") {
		ref = inventory.SecretRef{} // a keytab or the ticket cache: no password
	}
	if ref != (inventory.SecretRef{}) {
		resolver := inventory.NewResolver(os.Getenv, inventory.TerminalPromptContext(cmd.Context()))
		if cfg.Password, err = resolver.Password(ref); err != nil {
			if errors.Is(err, inventory.ErrPromptInterrupted) {
				return exitError{results.ExitInterrupted}
			}
			return usage("bind password: %v", err)
		}
	}
	if kerberos {
		if cfg.Kerberos, err = discoverKerberos(cfg.Username, cfg.Password, v.GetString("keytab")); err != nil {
			return usage("discover: %s", report.TerminalSafe(err.Error()))
		}
		defer cfg.Kerberos.Close()
		cfg.Username, cfg.Password = "", ""
	}
	logger, closeLog, err := newLogger(v, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer closeLog()
	switch {
	case cfg.TLS == discover.TLSNone && kerberos:
		fmt.Fprintln(cmd.ErrOrStderr(), "aadcready: WARNING: --tls none: no SASL security layer is negotiated, so the directory's answers cross the network unsigned and readable")
	case cfg.TLS == discover.TLSNone:
		fmt.Fprintln(cmd.ErrOrStderr(), "aadcready: WARNING: --tls none: the bind password crosses the network readably")
	}

	r, err := discover.Run(cmd.Context(), cfg)
	if err != nil {
		if ctxErr := cmd.Context().Err(); ctxErr != nil {
			return exitError{results.ExitInterrupted}
		}
		return usage("discover: %s", report.TerminalSafe(err.Error()))
	}
	attrs := []any{"dc", r.DC, "accounts", len(r.Accounts), "servers", len(r.Servers), "queries", r.Stats.Queries, "pages", r.Stats.Pages}
	if kerberos {
		as, tgs := cfg.Kerberos.KDCRequests()
		attrs = append(attrs, "kerberos", cfg.Kerberos.Source(), "kdc_as", as, "kdc_tgs", tgs)
	}
	logger.Info("discovery finished", attrs...)

	if path := v.GetString("json"); path == "-" {
		if err := report.WriteDiscoverJSON(cmd.OutOrStdout(), r); err != nil {
			return err
		}
	} else {
		if err := report.WriteDiscoverTable(cmd.OutOrStdout(), r); err != nil {
			return err
		}
		if path != "" {
			if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return report.WriteDiscoverJSON(w, r) }); err != nil {
				return fmt.Errorf("--json: %w", err)
			}
		}
	}
	if path := v.GetString("csv"); path != "" {
		if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return report.WriteDiscoverCSV(w, r) }); err != nil {
			return fmt.Errorf("--csv: %w", err)
		}
	}
	if path := v.GetString("inventory"); path != "" {
		return writeDiscoveredInventory(cmd.ErrOrStderr(), v, path, r)
	}
	return nil
}

func discoverConfig(v *viper.Viper) (discover.Config, error) {
	cfg := discover.Config{
		Host: v.GetString("dc"), Port: v.GetInt("port"), TLS: strings.ToLower(v.GetString("tls")),
		ServerName: v.GetString("server-name"), CAFile: v.GetString("ca-file"), GC: v.GetBool("gc"),
		Username: v.GetString("username"), SPN: v.GetString("spn"), Base: v.GetString("base"), Filter: v.GetString("filter"),
		QueryTimeout: v.GetDuration("query-timeout"),
		StaleAfter:   time.Duration(v.GetInt("stale-days")) * 24 * time.Hour,
	}
	switch {
	case cfg.Host == "":
		return cfg, usage("discover needs --dc HOST (a domain controller; --gc for the global catalog)")
	case v.GetString("auth") != "simple" && v.GetString("auth") != "kerberos":
		return cfg, usage("--auth must be simple or kerberos, not %q", v.GetString("auth"))
	case cfg.Username == "" && v.GetString("auth") == "simple":
		return cfg, usage("discover needs --username (any authenticated account can read the connector accounts), or --auth kerberos with a ticket cache")
	case v.GetString("auth") == "simple" && (v.GetString("keytab") != "" || v.GetString("spn") != ""):
		return cfg, usage("--keytab and --spn are for --auth kerberos")
	case cfg.TLS != discover.TLSLDAPS && cfg.TLS != discover.TLSStartTLS && cfg.TLS != discover.TLSNone:
		return cfg, usage("--tls must be ldaps, starttls or none, not %q", cfg.TLS)
	case cfg.Port < 0 || cfg.Port > 65535:
		return cfg, usage("--port %d is not between 1 and 65535", cfg.Port)
	case v.GetInt("stale-days") < 1:
		return cfg, usage("--stale-days must be at least 1")
	case cfg.QueryTimeout <= 0:
		return cfg, usage("--query-timeout must be positive")
	}
	if v.GetString("auth") == "kerberos" { // before any credential is loaded
		if _, err := cfg.ServicePrincipal(); err != nil {
			return cfg, usage("discover: %v", err)
		}
	}
	return cfg, nil
}

// discoverKerberos loads the Kerberos credential of a discover run: the
// keytab, else the password, else the ticket cache. A UPN's suffix is
// taken as the realm, in capitals as Active Directory's realm always is.
func discoverKerberos(username, password, keytab string) (*wsman.Kerberos, error) {
	if strings.Contains(username, `\`) || strings.Contains(username, "=") {
		return nil, fmt.Errorf("--auth kerberos needs --username as user@REALM (or none, with a ticket cache), not %q", username)
	}
	if (keytab != "" || password != "") && username == "" {
		return nil, errors.New("--auth kerberos with a keytab or password needs --username user@REALM")
	}
	if user, realm, ok := strings.Cut(username, "@"); ok {
		username = user + "@" + strings.ToUpper(realm)
	}
	k, err := wsman.NewKerberos(wsman.KerberosOptions{Principal: username, Password: password, Keytab: keytab})
	if err != nil {
		e := wsman.Classify(err)
		return nil, fmt.Errorf("Kerberos: %s: %s (%s)", e.Class, e.Message, e.Hint)
	}
	return k, nil
}

// writeDiscoveredInventory merges the active servers into the inventory
// file and says what it did.
func writeDiscoveredInventory(stderr io.Writer, v *viper.Viper, path string, r *discover.Result) error {
	var found []inventory.Found
	for _, s := range r.Servers {
		short, _, _ := strings.Cut(s.Name, ".")
		tags := map[string]string{"forest": r.Forest}
		if s.Domain != "" {
			tags["domain"] = s.Domain
		}
		if len(s.Tenants) > 0 {
			tags["tenant"] = strings.Join(s.Tenants, ",")
		}
		if peers := r.StagingPeers(s); len(peers) > 0 {
			tags["staging_pair"] = strings.Join(peers, ",")
		}
		found = append(found, inventory.Found{Name: s.Host(), Short: short, Tags: tags, Stale: s.Stale})
	}
	secret := inventory.SecretRef{Env: v.GetString("scan-password-env"), File: v.GetString("scan-password-file"), Prompt: v.GetBool("scan-password-prompt")}
	rep, err := inventory.WriteDiscovered(path, found, inventory.MergeOptions{
		Scope: map[string]string{"forest": r.Forest}, Today: r.When.Format(time.DateOnly),
		Username: v.GetString("scan-username"), Secret: secret, IncludeStale: v.GetBool("include-stale"),
	})
	if err != nil {
		return usage("--inventory %s: %v", path, err)
	}
	say := func(what string, names []string) {
		for _, n := range names {
			fmt.Fprintf(stderr, "aadcready: %s: %s %s\n", path, report.TerminalSafe(n), what)
		}
	}
	say("added to group "+inventory.DiscoveredGroup, rep.Added)
	say("already in the inventory; left as it is", rep.Listed)
	say("not added: stale in AD (--include-stale adds it)", rep.Skipped)
	say("ad_status tag updated", rep.Marked)
	say("not added: not a valid host name", rep.Invalid)
	// Password files are checked where the scan runs, which need not be
	// here: a missing one is worth a warning, not a refusal.
	if inv, err := inventory.Load(path); err == nil {
		if err := inventory.CheckFiles(inv); err != nil {
			fmt.Fprintf(stderr, "aadcready: warning: %s: %v\n(inventory validate refuses the file until that is fixed where the scan runs)\n", path, err)
		}
	}
	return nil
}
