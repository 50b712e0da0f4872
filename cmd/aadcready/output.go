package main

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"aadcready/catalog"
	"aadcready/diff"
	"aadcready/report"
	"aadcready/results"
	"aadcready/runstore"
	"aadcready/waivers"
)

// What `scan` (and `demo`) and `report` share: reading --as-of, --waivers
// and --since, and the output stage.

// parseAsOf reads a YYYY-MM-DD date; empty means today (UTC).
func parseAsOf(s string) (time.Time, error) {
	if s == "" {
		y, m, d := time.Now().UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usage("--as-of must be a date like 2027-04-07, not %q", s)
	}
	return t, nil
}

// asOfSetting is --as-of as written: a flag or variable is text, but YAML
// reads an unquoted date in a --config file as a timestamp.
func asOfSetting(v *viper.Viper) string {
	if t, ok := v.Get("as-of").(time.Time); ok {
		return t.Format(time.DateOnly)
	}
	return v.GetString("as-of")
}

// loadWaivers reads --waivers; a bad file is a usage error.
func loadWaivers(v *viper.Viper, cat *catalog.Catalog) (*waivers.Set, error) {
	path := v.GetString("waivers")
	if path == "" {
		return nil, nil
	}
	ws, err := waivers.Load(path, cat)
	if err != nil {
		return nil, usageError{err}
	}
	return ws, nil
}

// sinceRun is the earlier run --since compares with.
type sinceRun struct {
	run *results.Run
	ref runstore.Ref
}

// loadSince reads --since. "latest" with --out is the run before this one;
// on the first run of a folder there is none, which is not an error. With
// --only, only the rescanned hosts are compared.
func loadSince(stdout io.Writer, v *viper.Viper, outDir string, rescanned []string) (*sinceRun, error) {
	arg := v.GetString("since")
	if arg == "" {
		return nil, nil
	}
	run, ref, err := runstore.Load(arg, outDir)
	if errors.Is(err, runstore.ErrNoLatest) && arg == runstore.LatestName {
		fmt.Fprintf(stdout, "no earlier run in %s to compare with: this is the first\n", outDir)
		return nil, nil
	}
	if err != nil {
		return nil, usage("--since: %v", err)
	}
	if rescanned != nil {
		run = diff.Restrict(run, rescanned)
	}
	return &sinceRun{run: run, ref: ref}, nil
}

// compare is what changed from the earlier run to run, which label names;
// nil without --since.
func (s *sinceRun) compare(run *results.Run, label string) *diff.Result {
	if s == nil {
		return nil
	}
	d := diff.Compare(s.run, run)
	d.From.Label, d.To.Label = s.ref.Label(), label
	return &d
}

func htmlOptions(cat *catalog.Catalog, since *sinceRun) report.HTMLOptions {
	opt := report.HTMLOptions{Catalog: cat, Now: time.Now()}
	if since != nil {
		opt.Previous = since.run
	}
	return opt
}

// addOutputFlags adds the flags writeOutputs and exitFor read.
func addOutputFlags(f *pflag.FlagSet) {
	f.String("csv", "", "write the change-board CSV (one row per host) to this file")
	f.String("checks-csv", "", "write the per-check CSV (one row per host and check) to this file")
	f.String("json", "", "write the run document (facts, checks, verdicts, run metadata) to this file")
	f.String("html", "", "write the HTML report (one self-contained page) to this file")
	f.String("prom", "", "write the run's metrics for node_exporter's textfile collector to this file (docs/monitoring.md)")
	f.Bool("exit-zero-on-findings", false, "exit 0 instead of 1 or 2 (usage errors still exit 3, output failures 4, interrupts 130)")
}

// writeOutputs is the output stage of `scan` and `report`. The files of
// --csv, --checks-csv, --json, --prom and --html come first, each on its
// own and named on stderr as it is written: one that fails (a full disk, a
// folder that is gone) is reported and the others are still written. Then
// the table, the waiver notes and, with --since, the changes on stdout. A
// stdout that cannot be written (a pipe closed by `head`, /dev/full, a
// terminal that went away) only means no table: it is said on stderr (not
// for a closed pipe, whose reader left on purpose) and costs no result.
// The error, when not nil, is an outputError naming every file that could
// not be written.
func writeOutputs(stdout, stderr io.Writer, v *viper.Viper, run *results.Run, changes *diff.Result, html report.HTMLOptions) error {
	var errs []error
	for _, o := range []struct {
		flag, what string
		format     report.Format
	}{
		{"csv", "change-board CSV", report.FormatCSV},
		{"checks-csv", "per-check CSV", report.FormatChecksCSV},
		{"json", "run document", report.FormatJSON},
		{"prom", "metrics", report.FormatProm},
		{"html", "HTML report", report.FormatHTML},
	} {
		path := v.GetString(o.flag)
		if path == "" {
			continue
		}
		var err error
		if o.format == report.FormatHTML {
			err = report.WriteHTMLFile(path, run, html)
		} else {
			err = report.WriteFile(path, o.format, run)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", o.flag, err))
			continue
		}
		fmt.Fprintf(stderr, "aadcready: %s written to %s\n", o.what, report.TerminalSafe(path))
	}
	printTable(stderr, func() error { return writeTable(stdout, run, changes) })
	if len(errs) > 0 {
		return outputError{errors.Join(errs...)}
	}
	return nil
}

// printTable prints a table with fn, after the files are written. A
// stdout that fails costs the table only: the failure is said on stderr,
// except for a closed pipe, whose reader left on purpose (`| head`).
func printTable(stderr io.Writer, fn func() error) {
	if err := fn(); err != nil && !errors.Is(err, syscall.EPIPE) {
		fmt.Fprintf(stderr, "aadcready: the table was not printed: standard output: %v\n", err)
	}
}

// writeTable prints the table, the waiver notes and the changes.
func writeTable(stdout io.Writer, run *results.Run, changes *diff.Result) error {
	if err := report.WriteTable(stdout, run); err != nil {
		return err
	}
	if err := report.WriteWaiverNotes(stdout, run); err != nil {
		return err
	}
	if changes != nil {
		if _, err := fmt.Fprintln(stdout); err != nil {
			return err
		}
		return report.WriteDiffTable(stdout, *changes)
	}
	return nil
}

// outputError is a scan (or report) whose results could not all be
// written: exit 4, not 3, which says nothing was scanned.
type outputError struct{ err error }

func (e outputError) Error() string { return e.err.Error() }
func (e outputError) Unwrap() error { return e.err }

// exitFor applies --exit-zero-on-findings to an exit code.
func exitFor(v *viper.Viper, code int) error {
	if v.GetBool("exit-zero-on-findings") && (code == results.ExitNeedsAction || code == results.ExitNotChecked) {
		code = results.ExitOK
	}
	if code != results.ExitOK {
		return exitError{code}
	}
	return nil
}
