package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"aadcready/discover"
)

// WriteDiscoverTable prints the servers discovery found, then the accounts
// whose description names no server, then warnings. Everything in it came
// from the directory and is made terminal-safe.
func WriteDiscoverTable(w io.Writer, r *discover.Result) error {
	t := newTable(w, 60)
	t.Header("SERVER", "STATE", "OS", "LAST LOGON", "TENANT", "ACCOUNTS")
	for _, s := range r.Servers {
		state := "active"
		if !s.Active() {
			state = "STALE: " + s.Stale
		} else if peers := r.StagingPeers(s); len(peers) > 0 {
			state = "active, staging pair with " + strings.Join(peers, ", ")
		}
		logon := "-"
		if s.LastLogon != nil {
			logon = s.LastLogon.Format(time.DateOnly)
		}
		os := strings.TrimSpace(s.OS + " " + s.OSVersion)
		if err := t.Append(TerminalSafe(s.Host()), TerminalSafe(state), TerminalSafe(os), logon,
			TerminalSafe(strings.Join(s.Tenants, ", ")), TerminalSafe(accountList(r, s))); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	active := 0
	for _, s := range r.Servers {
		if s.Active() {
			active++
		}
	}
	fmt.Fprintf(w, "%d servers (%d active, %d stale) from %d accounts in %s (forest %s), %d LDAP queries, %d pages\n",
		len(r.Servers), active, len(r.Servers)-active, len(r.Accounts), TerminalSafe(r.Domain), TerminalSafe(r.Forest), r.Stats.Queries, r.Stats.Pages)
	unread := 0
	for _, a := range r.Accounts {
		if a.Problem == "" {
			continue
		}
		if unread == 0 {
			fmt.Fprintln(w, "\nAccounts that name no server (check each by hand):")
		}
		unread++
		if unread > 50 {
			continue
		}
		fmt.Fprintf(w, "  %s: %s\n    description: %q\n", TerminalSafe(a.Name), a.Problem, TerminalSafe(ellipsis(a.Description, 160)))
	}
	if unread > 50 {
		fmt.Fprintf(w, "  ... and %d more (all in --json)\n", unread-50)
	}
	if len(r.Referrals) > 0 {
		fmt.Fprintf(w, "\n%d referrals to other partitions were not followed (listed in --json); servers of another domain: use --gc or that domain's DC\n", len(r.Referrals))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", TerminalSafe(warn))
	}
	return nil
}

// accountList names a server's connector accounts, marking disabled ones.
func accountList(r *discover.Result, s discover.Server) string {
	var out []string
	for _, name := range s.Accounts {
		for _, a := range r.Accounts {
			if a.Name == name && !a.Enabled {
				name += " (disabled)"
				break
			}
		}
		out = append(out, name)
	}
	return strings.Join(out, ", ")
}

// DiscoverColumns is the header of discover's CSV: one row per server, then
// one per account that names no server (server columns empty).
var DiscoverColumns = []string{
	"server", "state", "stale_reason", "dns_host_name", "computer_dn", "domain", "os", "os_version",
	"last_logon", "created", "tenants", "staging_pair", "accounts", "account_problem", "description",
}

// WriteDiscoverCSV writes the discovery for a spreadsheet: every cell that
// came from the directory is neutralised against formula injection and
// control characters (a CSV also gets printed on terminals; the JSON keeps
// the raw text).
func WriteDiscoverCSV(w io.Writer, r *discover.Result) error {
	text := func(s string) string { return text(TerminalSafe(s)) }
	cw, err := newCSV(w, DiscoverColumns)
	if err != nil {
		return err
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	for _, s := range r.Servers {
		state := "active"
		if !s.Active() {
			state = "stale"
		}
		row := []string{text(s.Name), state, text(s.Stale), text(s.DNSHostName), text(s.DN), text(s.Domain), text(s.OS), text(s.OSVersion),
			day(s.LastLogon), day(s.Created), text(strings.Join(s.Tenants, " ")), text(strings.Join(r.StagingPeers(s), " ")),
			text(accountList(r, s)), "", ""}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	for _, a := range r.Accounts {
		if a.Problem == "" {
			continue
		}
		row := make([]string, len(DiscoverColumns))
		row[12], row[13], row[14] = text(a.Name), text(a.Problem), text(a.Description)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteDiscoverJSON writes the discovery as indented JSON (strings escaped
// by encoding/json; consumers must still treat them as untrusted).
func WriteDiscoverJSON(w io.Writer, r *discover.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
