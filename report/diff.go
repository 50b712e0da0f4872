package report

import (
	"fmt"
	"io"
	"time"

	"aadcready/diff"
)

// WriteDiffTable prints what changed between two runs (aadcready diff, scan
// and report --since): a heading naming the runs, one row per change and
// the counts under it.
func WriteDiffTable(w io.Writer, r diff.Result) error {
	if _, err := fmt.Fprintf(w, "changes from %s to %s\n", TerminalSafe(sideLabel(r.From)), TerminalSafe(sideLabel(r.To))); err != nil {
		return err
	}
	if r.From.CatalogVersion != r.To.CatalogVersion {
		if _, err := fmt.Fprintf(w, "note: catalog %s then, %s now: new or changed checks show as changes\n",
			TerminalSafe(r.From.CatalogVersion), TerminalSafe(r.To.CatalogVersion)); err != nil {
			return err
		}
	}
	if r.Empty() {
		_, err := fmt.Fprintln(w, "no changes")
		return err
	}
	t := newTable(w, 50)
	t.Header("HOST", "CHANGE", "BEFORE", "NOW", "CHECK", "DETAIL")
	for _, rw := range r.Rows() {
		if err := t.Append(TerminalSafe(rw.Host), rw.Change, rw.Before, rw.Now, rw.Check, TerminalSafe(rw.Detail)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}

// sideLabel names a run in the table's heading: its label (run folder or
// file), else its start, with the day it was judged on.
func sideLabel(s diff.Side) string {
	l := s.Label
	if l == "" {
		l = s.Started.UTC().Format("2006-01-02T15:04:05Z")
	}
	return fmt.Sprintf("%s (as of %s)", l, s.AsOf)
}

// DiffColumns is the diff CSV's header; new columns go at the end.
var DiffColumns = []string{"host", "change", "before", "now", "check", "detail", "from_run", "to_run"}

// WriteDiffCSV writes one row per change, each naming the two runs.
func WriteDiffCSV(w io.Writer, r diff.Result) error {
	cw, err := newCSV(w, DiffColumns)
	if err != nil {
		return err
	}
	from, to := text(csvLabel(r.From)), text(csvLabel(r.To))
	for _, rw := range r.Rows() {
		if err := cw.Write([]string{text(rw.Host), rw.Change, rw.Before, rw.Now, rw.Check, text(rw.Detail), from, to}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvLabel(s diff.Side) string {
	if s.Label != "" {
		return s.Label
	}
	return s.Started.UTC().Format(time.RFC3339)
}
