package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"aadcready/catalog"
	"aadcready/results"
)

// newTable is the one table style of the CLI: ASCII borders (any console
// code page, pastes into e-mail), wrapped cells.
func newTable(w io.Writer, maxWidth int) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithRowMaxWidth(maxWidth),
		tablewriter.WithHeaderAutoFormat(tw.Off),
	)
}

// WriteTable prints one row per host and the fleet summary under it, in
// ASCII so it survives any console code page and a copy into an e-mail.
func WriteTable(w io.Writer, run *results.Run) error {
	t := newTable(w, 60)
	t.Header("HOST", "VERDICT", "SCORE", "WHAT TO DO / REASON", "NEXT DEADLINE")
	for _, h := range run.Hosts {
		score := "-"
		if h.Score != nil {
			score = scoreText(*h.Score, h.ScorePartial)
		}
		// What to do, in words, for a host that needs work; why, for the rest.
		why := h.NextStep
		if !h.Verdict.NeedsAction() || why == "" {
			why = h.Reason
		} else if h.StoppedSyncing != "" {
			why = "HAS STOPPED SYNCING; " + why
		}
		if err := t.Append(TerminalSafe(h.Name), string(h.Verdict), score, TerminalSafe(shorten(why, maxWhy)), TerminalSafe(deadlineText(h.NextDeadline))); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	return writeSummary(w, run)
}

// maxWhy keeps a table row readable; the CSV and JSON carry the whole reason.
const maxWhy = 160

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func writeSummary(w io.Writer, run *results.Run) error {
	var parts []string
	for _, v := range catalog.VerdictOrder() {
		if n := run.Summary.ByVerdict[string(v)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, n))
		}
	}
	status := ""
	if run.Interrupted {
		status = " (interrupted: unfinished hosts are marked cancelled)"
	}
	_, err := fmt.Fprintf(w, "%d hosts as of %s (catalog %s)%s: %s\n",
		run.Summary.Total, run.AsOf, run.CatalogVersion, status, strings.Join(parts, ", "))
	if err != nil {
		return err
	}
	for _, c := range run.CredentialsDisabled {
		if _, err := fmt.Fprintf(w, "credential %s was refused by the first hosts and not used again\n", TerminalSafe(c)); err != nil {
			return err
		}
	}
	// Security decisions the inventory made (insecure TLS, unencrypted
	// traffic) are repeated under every table, not only in the files.
	for _, h := range run.Hosts {
		for _, warn := range h.Warnings {
			if _, err := fmt.Fprintf(w, "warning: %s: %s\n", TerminalSafe(h.Name), TerminalSafe(warn)); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteCatalog lists the requirement catalog.
func WriteCatalog(w io.Writer, cat *catalog.Catalog) error {
	t := newTable(w, 50)
	t.Header("ID", "SEVERITY", "ACTION", "EFFECTIVE", "TITLE")
	for _, r := range cat.Requirements {
		eff := ""
		if !r.Effective.IsZero() {
			eff = r.Effective.Format("2006-01-02")
		}
		if err := t.Append(r.ID, string(r.Severity), r.Action, eff, r.Title); err != nil {
			return err
		}
	}
	return t.Render()
}
