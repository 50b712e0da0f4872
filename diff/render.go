package diff

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// row is one line of the table and the CSV.
type row struct {
	host, change, before, now, check, detail string
}

// rows lists the changes host by host (B's order, gone hosts last): the
// verdict first, then its checks.
func (r Result) rows() []row {
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
	var out []row
	for _, h := range order {
		if v, ok := verdicts[h]; ok {
			rw := row{host: h, change: "verdict " + string(v.Direction), before: string(v.From), now: string(v.To)}
			if u, ok := unreachable[h]; ok {
				rw.change, rw.detail = "became unreachable", u.Reason
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
			out = append(out, row{host: h, change: "check " + strings.ReplaceAll(c.Change, "_", " "),
				before: from, now: to, check: c.Check, detail: c.Reason})
		}
	}
	for _, a := range r.Added {
		out = append(out, row{host: a.Host, change: "added to the inventory", now: string(a.Verdict)})
	}
	for _, g := range r.Gone {
		out = append(out, row{host: g.Host, change: "gone from the inventory", before: string(g.Verdict)})
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

func label(s Side) string {
	l := s.Label
	if l == "" {
		l = s.Started.UTC().Format("2006-01-02T15:04:05Z")
	}
	return fmt.Sprintf("%s (as of %s)", l, s.AsOf)
}

// Summary is the one-line summary under the table.
func (r Result) Summary() string {
	c := r.Counts
	return fmt.Sprintf("%d regressed, %d improved, %d changed to or from could-not-check; checks: %d newly failing, %d now blocking, %d newly passing; hosts: %d added, %d gone, %d became unreachable",
		c.Regressed, c.Improved, c.Changed, c.NewlyFailing, c.NowBlocking, c.NewlyPassing, c.Added, c.Gone, c.Unreachable)
}

// WriteTable prints the changes for people, in ASCII, with host-supplied
// text made terminal-safe.
func (r Result) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "changes from %s to %s\n", terminalSafe(label(r.From)), terminalSafe(label(r.To))); err != nil {
		return err
	}
	if r.From.CatalogVersion != r.To.CatalogVersion {
		if _, err := fmt.Fprintf(w, "note: catalog %s then, %s now: new or changed checks show as changes\n",
			terminalSafe(r.From.CatalogVersion), terminalSafe(r.To.CatalogVersion)); err != nil {
			return err
		}
	}
	if r.Empty() {
		_, err := fmt.Fprintln(w, "no changes")
		return err
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithRowMaxWidth(50),
		tablewriter.WithHeaderAutoFormat(tw.Off),
	)
	t.Header("HOST", "CHANGE", "BEFORE", "NOW", "CHECK", "DETAIL")
	for _, rw := range r.rows() {
		if err := t.Append(terminalSafe(rw.host), rw.change, rw.before, rw.now, rw.check, terminalSafe(rw.detail)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}

// CSVColumns is the diff CSV's header; new columns go at the end.
var CSVColumns = []string{"host", "change", "before", "now", "check", "detail", "from_run", "to_run"}

// WriteCSV writes one row per change, UTF-8 with a byte-order mark and CRLF
// for Excel, with free-text cells guarded against formula injection.
func (r Result) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	from, to := csvLabel(r.From), csvLabel(r.To)
	for _, rw := range r.rows() {
		if err := cw.Write([]string{spreadsheetSafe(rw.host), rw.change, rw.before, rw.now, rw.check, spreadsheetSafe(rw.detail), spreadsheetSafe(from), spreadsheetSafe(to)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvLabel(s Side) string {
	if s.Label != "" {
		return s.Label
	}
	return s.Started.UTC().Format(time.RFC3339)
}

// WriteJSON writes the result (diff.json in a run folder).
func (r Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// terminalSafe and spreadsheetSafe follow package report's rules (this
// package cannot import report, which may use Compare): no control or
// bidi characters on a terminal; a leading apostrophe on a cell that
// Excel would read as a formula.
func terminalSafe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return '?'
		}
		return r
	}, s)
}

func spreadsheetSafe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n', 0:
		return "'" + s
	}
	return s
}
