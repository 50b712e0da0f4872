package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Row is one change as the table and the CSV list it (package report
// renders them): a host's verdict, one of its checks, or the host itself
// added or gone. Host and Detail are untrusted host text.
type Row struct {
	Host, Change, Before, Now, Check, Detail string
}

// Rows lists the changes host by host (B's order, added and gone hosts
// last): the verdict first, then its checks.
func (r Result) Rows() []Row {
	unreachable := map[string]Unreachable{}
	for _, u := range r.Unreachable {
		unreachable[u.Host] = u
	}
	verdicts := map[string]VerdictChange{}
	for _, v := range r.Verdicts {
		verdicts[v.Host] = v
	}
	checks := map[string][]CheckChange{}
	for _, c := range r.Checks {
		checks[c.Host] = append(checks[c.Host], c)
	}
	order := r.order
	if order == nil { // a Result not made by Compare (read back from JSON)
		seen := map[string]bool{}
		for _, h := range append(hostsOf(r.Verdicts), hostsOfChecks(r.Checks)...) {
			if !seen[h] {
				seen[h] = true
				order = append(order, h)
			}
		}
	}
	var out []Row
	for _, h := range order {
		if v, ok := verdicts[h]; ok {
			rw := Row{Host: h, Change: "verdict " + string(v.Direction), Before: string(v.From), Now: string(v.To)}
			if u, ok := unreachable[h]; ok {
				rw.Change, rw.Detail = "became unreachable", u.Reason
			}
			out = append(out, rw)
		}
		for _, c := range checks[h] {
			from, to := string(c.From), string(c.To)
			switch {
			case from == "":
				from = "(new check)"
			case c.Change == NowBlocking:
				from, to = "fail (warning)", "fail (blocker)"
			}
			out = append(out, Row{Host: h, Change: "check " + strings.ReplaceAll(c.Change, "_", " "),
				Before: from, Now: to, Check: c.Check, Detail: c.Reason})
		}
	}
	for _, a := range r.Added {
		out = append(out, Row{Host: a.Host, Change: "added to the inventory", Now: string(a.Verdict)})
	}
	for _, g := range r.Gone {
		out = append(out, Row{Host: g.Host, Change: "gone from the inventory", Before: string(g.Verdict)})
	}
	return out
}

func hostsOf(vs []VerdictChange) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Host
	}
	return out
}

func hostsOfChecks(cs []CheckChange) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Host
	}
	return out
}

// Summary is the one-line summary under the table.
func (r Result) Summary() string {
	c := r.Counts
	return fmt.Sprintf("%d regressed, %d improved, %d changed to or from could-not-check; checks: %d newly failing, %d now blocking, %d newly passing; hosts: %d added, %d gone, %d became unreachable",
		c.Regressed, c.Improved, c.Changed, c.NewlyFailing, c.NowBlocking, c.NewlyPassing, c.Added, c.Gone, c.Unreachable)
}

// WriteJSON writes the result (diff.json in a run folder).
func (r Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
