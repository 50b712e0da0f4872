package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"aadcready/atomicfile"
	"aadcready/catalog"
	"aadcready/diff"
	"aadcready/report"
	"aadcready/results"
	"aadcready/runstore"
	"aadcready/waivers"
)

func newReportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Re-render and re-score a saved run without contacting any host",
		Long: `Render a saved run again: the table on stdout and, on request, the change-board CSV
(--csv), the per-check CSV (--checks-csv), the run document (--json) and the HTML report
(--html). RUN is a run folder, DIR/latest, "latest" (or a run folder name) with --out DIR,
or the path of a run.json.

The hosts' facts are scored again with this aadcready's catalog, as of --as-of (default:
the run's own date) and with --waivers FILE (default: the waivers the run recorded), so
that "what breaks by 2027-04-07?" or "does the new waiver file do what we want?" needs no
rescan. Hosts that could not be scanned (unreachable, cancelled) keep their failure.

--merge RESCAN merges a rescan (scan --only RUN:unreachable) into RUN: the rescan's hosts
replace the same hosts of RUN (a host the rescan did not finish keeps RUN's result).
--since RUN2 prints what changed since RUN2 and gives the HTML report its "what changed".

` + exitCodesHelp + `
  (130 only if this command is interrupted: a saved interrupted run's cancelled hosts
  count as could not be checked, 2.) --exit-zero-on-findings turns 1 and 2 into 0.`,
		RunE: runReport,
	}
	f := cmd.Flags()
	f.String("out", "", "the folder of runs that \"latest\" or a run folder name refers to")
	f.String("merge", "", "merge this rescan into RUN (its hosts replace RUN's)")
	f.String("as-of", "", "judge deadlines and waiver expiry as of this date (YYYY-MM-DD; default: the run's date)")
	f.String("waivers", "", "apply this waiver file instead of the waivers the run recorded")
	f.String("since", "", "compare with this earlier run and print what changed")
	f.String("csv", "", "write the change-board CSV to this file")
	f.String("checks-csv", "", "write the per-check CSV to this file")
	f.String("json", "", "write the (re-scored) run document to this file")
	f.String("html", "", "write the HTML report to this file")
	f.Bool("exit-zero-on-findings", false, "exit 0 instead of 1 or 2")
	return cmd
}

func runReport(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usage("report takes one RUN (a run folder, DIR/latest, latest with --out DIR, or a run.json)")
	}
	v, err := settings(cmd)
	if err != nil {
		return err
	}
	cat, err := catalog.Load()
	if err != nil {
		return fmt.Errorf("loading the requirement catalog: %w", err)
	}
	outDir := v.GetString("out")
	run, _, err := runstore.Load(args[0], outDir)
	if err != nil {
		return usageError{err}
	}
	if m := v.GetString("merge"); m != "" {
		rescan, ref, err := runstore.Load(m, outDir)
		if err != nil {
			return usage("--merge: %v", err)
		}
		var added []string
		run, added = mergeRuns(run, rescan)
		for _, h := range added {
			fmt.Fprintf(cmd.ErrOrStderr(), "aadcready: --merge: %s is in %s but not in %s; added\n", safeText(h), ref.Label(), args[0])
		}
	}
	asOf, err := reportAsOf(v, run)
	if err != nil {
		return err
	}
	ws, err := loadWaivers(v, cat)
	if err != nil {
		return err
	}
	since, err := loadSince(cmd.OutOrStdout(), v, outDir, nil)
	if err != nil {
		return err
	}
	rescore(run, cat, asOf, ws)

	out := cmd.OutOrStdout()
	if err := report.WriteTable(out, run); err != nil {
		return err
	}
	if err := report.WriteWaiverNotes(out, run); err != nil {
		return err
	}
	if since != nil {
		d := diff.Compare(since.run, run)
		d.From.Label, d.To.Label = since.ref.Label(), args[0]
		fmt.Fprintln(out)
		if err := d.WriteTable(out); err != nil {
			return err
		}
	}
	for _, o := range []struct {
		flag   string
		format report.Format
	}{{"csv", report.FormatCSV}, {"checks-csv", report.FormatChecksCSV}, {"json", report.FormatJSON}} {
		if path := v.GetString(o.flag); path != "" {
			if err := report.WriteFile(path, o.format, run); err != nil {
				return err
			}
		}
	}
	if path := v.GetString("html"); path != "" {
		if err := report.WriteHTMLFile(path, run, htmlOptions(cat, since)); err != nil {
			return err
		}
	}
	// The saved run's interruption is history: this command was not
	// interrupted. Its cancelled hosts still count as not checked.
	judged := *run
	judged.Interrupted = false
	return exitFor(v, judged.ExitCode())
}

// reportAsOf is --as-of, else the run's own date.
func reportAsOf(v *viper.Viper, run *results.Run) (time.Time, error) {
	if s := v.GetString("as-of"); s != "" {
		return parseAsOf(s)
	}
	if t, err := time.Parse(time.DateOnly, run.AsOf); err == nil {
		return t, nil
	}
	return parseAsOf("")
}

// rescore judges every host that has facts again with cat, as of asOf. With
// ws nil the waivers recorded in the run apply again (so a re-render
// reproduces the run, and a later --as-of lets them expire). Hosts without
// facts (unreachable) keep their verdict; every host keeps its failure.
func rescore(run *results.Run, cat *catalog.Catalog, asOf time.Time, ws *waivers.Set) {
	for i := range run.Hosts {
		h := &run.Hosts[i]
		if h.Facts == nil {
			continue
		}
		var wv []catalog.Waiver
		if ws != nil {
			wv = ws.For(h.Name)
		} else {
			wv = recordedWaivers(h)
		}
		ev := cat.Evaluate(h.Facts, catalog.Options{AsOf: asOf, Waivers: wv})
		h.Checks, h.Verdict, h.Score, h.Blocking, h.Reason, h.NextStep = ev.Checks, ev.Verdict, ev.Score, ev.Blocking, ev.Reason, ev.NextStep
	}
	run.AsOf = asOf.Format(time.DateOnly)
	run.CatalogVersion = cat.Version
	run.Summarize()
}

func recordedWaivers(h *results.Host) []catalog.Waiver {
	var out []catalog.Waiver
	for _, c := range h.Checks {
		if c.Waiver != nil {
			out = append(out, *c.Waiver)
		}
	}
	return out
}

// mergeRuns returns base with the hosts of rescan in place of the same
// hosts (matched ignoring case). A host the rescan did not finish
// (cancelled) keeps base's result; hosts only in the rescan are appended
// and returned. The run counts as interrupted while any host is cancelled.
func mergeRuns(base, rescan *results.Run) (*results.Run, []string) {
	out := *base
	out.Hosts = append([]results.Host(nil), base.Hosts...)
	index := map[string]int{}
	for i, h := range out.Hosts {
		index[strings.ToLower(h.Name)] = i
	}
	var added []string
	for _, h := range rescan.Hosts {
		i, ok := index[strings.ToLower(h.Name)]
		switch {
		case !ok:
			index[strings.ToLower(h.Name)] = len(out.Hosts)
			out.Hosts = append(out.Hosts, h)
			added = append(added, h.Name)
		case cancelled(h) && !cancelled(out.Hosts[i]):
			// keep the finished result
		default:
			out.Hosts[i] = h
		}
	}
	if rescan.Finished.After(out.Finished) {
		out.Finished = rescan.Finished
	}
	if rescan.AsOf > out.AsOf {
		out.AsOf = rescan.AsOf // the newer date; rescore judges all hosts on it
	}
	out.Interrupted = false
	for _, h := range out.Hosts {
		out.Interrupted = out.Interrupted || cancelled(h)
	}
	creds := append([]string(nil), base.CredentialsDisabled...)
	for _, c := range rescan.CredentialsDisabled {
		if !contains(creds, c) {
			creds = append(creds, c)
		}
	}
	out.CredentialsDisabled = creds
	out.Summarize()
	return &out, added
}

func cancelled(h results.Host) bool { return h.Failure != nil && h.Failure.Class == "cancelled" }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeOut writes to path atomically, or to stdout when path is "-".
func writeOut(stdout io.Writer, path string, fill func(io.Writer) error) error {
	if path == "-" {
		return fill(stdout)
	}
	return atomicfile.Write(path, 0o644, fill)
}
