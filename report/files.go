package report

import (
	"fmt"
	"io"

	"aadcready/atomicfile"
	"aadcready/results"
)

// Format names a file renderer.
type Format string

const (
	FormatCSV       Format = "csv"
	FormatChecksCSV Format = "checks-csv"
	FormatJSON      Format = "json"
	FormatHTML      Format = "html" // WriteHTML with zero HTMLOptions; see WriteHTMLFile
	FormatProm      Format = "prom" // Prometheus text format (node_exporter's textfile collector)
)

// WriteFile renders run in format to path atomically.
func WriteFile(path string, format Format, run *results.Run) error {
	if format == FormatHTML {
		return WriteHTMLFile(path, run, HTMLOptions{})
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		switch format {
		case FormatCSV:
			return WriteHostsCSV(w, run)
		case FormatChecksCSV:
			return WriteChecksCSV(w, run)
		case FormatProm:
			return WritePrometheus(w, run)
		default:
			return run.WriteJSON(w)
		}
	})
}

// WriteHTMLFile renders the HTML report to path atomically.
func WriteHTMLFile(path string, run *results.Run, opt HTMLOptions) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return WriteHTML(w, run, opt) })
}

// WriteWaiverNotes lists, under the table, the waivers the run applied and
// those that expired (whose failures count again), so that neither goes
// unnoticed on a terminal or in a mailed log. It writes nothing when no
// check carries a waiver.
func WriteWaiverNotes(w io.Writer, run *results.Run) error {
	for _, h := range run.Hosts {
		for _, c := range h.Checks {
			if c.Waiver == nil {
				continue
			}
			wv := c.Waiver
			var err error
			if c.WaiverExpired {
				_, err = fmt.Fprintf(w, "WAIVER EXPIRED: %s %s: expired %s (approved by %s); the failure counts again\n",
					TerminalSafe(h.Name), c.ID, wv.Expires.Format("2006-01-02"), TerminalSafe(wv.ApprovedBy))
			} else {
				_, err = fmt.Fprintf(w, "waived: %s %s (waiver expires %s, approved by %s)\n",
					TerminalSafe(h.Name), c.ID, wv.Expires.Format("2006-01-02"), TerminalSafe(wv.ApprovedBy))
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
