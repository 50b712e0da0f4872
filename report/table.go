package report

import (
	"fmt"
	"io"
	"strings"
	"time"

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

// hostColumn is one column of the host table: its header and what a host
// shows in it. A new column is one more entry in hostColumns.
type hostColumn struct {
	header string
	cell   func(h *results.Host) string
}

var hostColumns = []hostColumn{
	{"HOST", func(h *results.Host) string { return h.Name }},
	{"VERDICT", func(h *results.Host) string { return string(h.Verdict) }},
	{"SCORE", func(h *results.Host) string {
		if h.Score == nil {
			return "-"
		}
		return scoreText(*h.Score, h.ScorePartial)
	}},
	{"WHY", why},
	{"NEXT STEP", func(h *results.Host) string { return h.NextStep }},
	{"NEXT DEADLINE", func(h *results.Host) string { return deadlineText(h.NextDeadline) }},
}

// tableCellWidth is the widest a cell gets before it wraps (at spaces; the
// table never shortens a cell): five columns stay within about 130 columns.
const tableCellWidth = 36

// WriteTable prints one row per host and the fleet summary under it, in
// ASCII so it survives any console code page and a copy into an e-mail.
// Cells wrap; the CSV and JSON carry the same text on one line.
func WriteTable(w io.Writer, run *results.Run) error {
	t := newTable(w, tableCellWidth)
	headers := make([]string, len(hostColumns))
	for i, c := range hostColumns {
		headers[i] = c.header
	}
	t.Header(headers)
	for i := range run.Hosts {
		row := make([]string, len(hostColumns))
		for j, c := range hostColumns {
			row[j] = TerminalSafe(c.cell(&run.Hosts[i]))
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	return writeSummary(w, run)
}

// why is the table's reason for a verdict in the catalog's words: what
// blocks the host (the titles of its blocking checks), why it could not be
// checked, or, for a ready host, the warnings it has.
func why(h *results.Host) string {
	if h.StoppedSyncing != "" && !h.Verdict.CouldNotCheck() {
		return "HAS STOPPED SYNCING: " + h.StoppedSyncing + "; " + whyVerdict(h)
	}
	return whyVerdict(h)
}

func whyVerdict(h *results.Host) string {
	if h.Verdict.CouldNotCheck() || len(h.Blocking) == 0 && h.Verdict != catalog.VerdictOK {
		return h.Reason
	}
	titles := map[string]string{}
	var warnings []string
	for _, c := range h.Checks {
		titles[c.ID] = c.Title
		if c.Severity == catalog.SeverityWarning && c.Status == catalog.StatusFail {
			warn := c.Title
			switch {
			case c.Due != nil && c.DaysLeft != nil:
				warn += fmt.Sprintf(" (due %s, %d days)", c.Due.Format(time.DateOnly), *c.DaysLeft)
			case c.Due != nil:
				warn += " (due " + c.Due.Format(time.DateOnly) + ")"
			}
			warnings = append(warnings, warn)
		}
	}
	if len(h.Blocking) == 0 {
		if len(warnings) == 0 {
			return "nothing blocks"
		}
		return "nothing blocks; warnings, not met: " + strings.Join(warnings, "; ")
	}
	blocking := make([]string, len(h.Blocking))
	for i, id := range h.Blocking {
		blocking[i] = id
		if t := titles[id]; t != "" {
			blocking[i] = "not met: " + t
		}
	}
	return strings.Join(blocking, "; ")
}

// scoreLegend explains the SCORE column in one line (docs/scoring.md).
const scoreLegend = "SCORE 0-100: the weighted share of its checks a host passes (blocker 10, warning 3, info 1; " +
	"could not check counts half, marked ~), placed in its verdict's band (OK 80-100, FIX 60-79, UPGRADE 40-59, " +
	"FIX_THEN_UPGRADE 20-39, MIGRATE 0-19). The verdict says what to do; the score compares hosts."

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
	_, err := fmt.Fprintf(w, "%s\n%d hosts as of %s%s: %s\n",
		scoreLegend, run.Summary.Total, run.AsOf, status, strings.Join(parts, ", "))
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
	_, err = fmt.Fprintf(w, "%s\n", TerminalSafe(Provenance(run)))
	return err
}

// Provenance names what made the run: the tool's version, the requirement
// catalog and the probe bundle. Every report carries it.
func Provenance(run *results.Run) string {
	tool := run.Tool
	if tool == "" {
		tool = "aadcready"
	}
	s := tool + " " + run.ToolVersion + ", catalog " + run.CatalogVersion
	if run.BundleID != "" {
		s += ", probe bundle " + run.BundleID
	}
	return s
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
