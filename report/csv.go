package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"aadcready/catalog"
	"aadcready/results"
)

// utf8BOM makes Excel read the file as UTF-8 (localized Windows error text,
// display names) instead of the ANSI code page.
const utf8BOM = "\uFEFF"

// HostColumns is the change-board CSV's header. The order is stable: new
// columns go at the end.
var HostColumns = []string{
	"host", "address", "group", "verdict", "next_step", "score", "blocking_checks", "reason",
	"os", "os_build", "aadc_version", "connector_identity", "dotnet_release", "failure_class",
	"warnings", "waivers", "owner", "environment", "change_board",
	"scanned_at", "duration_ms", "catalog_version", "as_of", "tool_version", "bundle_id",
	"score_partial", "next_deadline", "days_left", "deadline_action", "deadline_check", "stopped_syncing",
}

// WriteHostsCSV writes one row per host for the change board.
func WriteHostsCSV(w io.Writer, run *results.Run) error {
	cw, err := newCSV(w, HostColumns)
	if err != nil {
		return err
	}
	for _, h := range run.Hosts {
		score := ""
		if h.Score != nil {
			score = strconv.Itoa(*h.Score)
		}
		failure := ""
		if h.Failure != nil {
			failure = h.Failure.Class
		}
		row := []string{
			text(h.Name), text(h.Address), text(h.Group), string(h.Verdict), text(h.NextStep), score,
			strings.Join(h.Blocking, " "), text(h.Reason),
			text(fact(h, "os.caption")), fact(h, "os.build"), text(installedVersion(h)),
			text(fact(h, "adsync.connector_identity_type")), fact(h, "dotnet.release"), failure,
			text(strings.Join(h.Warnings, "; ")), text(waivers(h)),
			text(h.Tags["owner"]), text(h.Tags["environment"]), text(h.Tags["change_board"]),
			h.Started.Format("2006-01-02T15:04:05Z"), strconv.FormatInt(h.DurationMS, 10),
			run.CatalogVersion, run.AsOf, run.ToolVersion, run.BundleID,
			strconv.FormatBool(h.ScorePartial),
		}
		if d := h.NextDeadline; d != nil {
			// A run document read back is untrusted: its text goes through text().
			row = append(row, text(d.Date), strconv.Itoa(d.DaysLeft), text(d.Action), text(d.Check))
		} else {
			row = append(row, "", "", "", "")
		}
		row = append(row, text(h.StoppedSyncing))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CheckColumns is the per-check CSV's header, for engineers.
var CheckColumns = []string{
	"host", "verdict", "check", "title", "severity", "status", "evidence", "reason", "remediation",
	"due", "waived_by", "waiver_expires", "source", "days_left",
}

// WriteChecksCSV writes one row per host and check.
func WriteChecksCSV(w io.Writer, run *results.Run) error {
	cw, err := newCSV(w, CheckColumns)
	if err != nil {
		return err
	}
	for _, h := range run.Hosts {
		for _, c := range h.Checks {
			due, by, expires, left := "", "", "", ""
			if c.Due != nil {
				due = c.Due.Format("2006-01-02")
			}
			if c.DaysLeft != nil {
				left = strconv.Itoa(*c.DaysLeft)
			}
			if c.Waiver != nil {
				by, expires = c.Waiver.ApprovedBy, c.Waiver.Expires.Format("2006-01-02")
			}
			row := []string{
				text(h.Name), string(h.Verdict), c.ID, text(c.Title), string(c.Severity), string(c.Status),
				text(c.Evidence.String()), text(c.Reason), text(c.Remediation), due, text(by), expires, text(c.Source), left,
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func newCSV(w io.Writer, header []string) (*csvWriter, error) {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return nil, err
	}
	cw := &csvWriter{csv.NewWriter(w)}
	cw.UseCRLF = true
	return cw, cw.Write(header)
}

// csvWriter writes every cell of every CSV through FileSafe: `cat
// hosts.csv` must not run the escape sequences a host planted.
type csvWriter struct{ *csv.Writer }

func (c *csvWriter) Write(row []string) error {
	for i, cell := range row {
		row[i] = FileSafe(cell)
	}
	return c.Writer.Write(row)
}

// text prepares a free-text cell; numbers and our own enums skip it.
func text(s string) string { return spreadsheetSafe(s) }

func fact(h results.Host, key string) string {
	if h.Facts == nil {
		return ""
	}
	f := h.Facts.Get(key)
	if f.Status == "ok" {
		return f.Display()
	}
	return ""
}

func installedVersion(h results.Host) string {
	if h.Facts == nil {
		return ""
	}
	v, _ := catalog.InstalledVersion(h.Facts)
	return v
}

func waivers(h results.Host) string {
	var out []string
	for _, c := range h.Checks {
		switch {
		case c.Waiver != nil && c.WaiverExpired:
			out = append(out, c.ID+" (waiver expired "+c.Waiver.Expires.Format("2006-01-02")+")")
		case c.Waiver != nil:
			out = append(out, c.ID+" (waived until "+c.Waiver.Expires.Format("2006-01-02")+")")
		}
	}
	return strings.Join(out, "; ")
}
