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

// WriteDiscoverJSON writes the discovery as indented JSON (strings escaped
// by encoding/json; consumers must still treat them as untrusted).
func WriteDiscoverJSON(w io.Writer, r *discover.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
