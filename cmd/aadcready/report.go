package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"aadcready/catalog"
	"aadcready/report"
	"aadcready/results"
	"aadcready/runstore"
)

func newReportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "report RUN [RUN...]",
		Aliases: []string{"merge"}, // aadcready merge RUN...: the same join
		Short:   "Re-render and re-score saved runs (one, or the shards of a fleet joined) without contacting any host",
		Long: `Render a saved run again: the table on stdout and, on request, the change-board CSV
(--csv), the per-check CSV (--checks-csv), the run document (--json) and the HTML report
(--html). RUN is a run folder, DIR/latest, "latest" (or a run folder name) with --out DIR,
or the path of a run.json.

The hosts' facts are scored again with this aadcready's catalog, as of --as-of (default:
the run's own date) and with --waivers FILE (default: the waivers the run recorded), so
that "what breaks by 2027-04-07?" or "does the new waiver file do what we want?" needs no
rescan. Hosts that could not be scanned (unreachable, cancelled) keep their failure.

Several RUNs are joined into one (also as "aadcready merge RUN..."): the shards of a sharded scan (scan --shard i/N) or the
runs of several jump boxes or network zones. Runs judged with another catalog or as-of
date are refused unless --rescore (every host is then judged as of --as-of, default the
latest run's date). A shard none of the runs covers is reported (and exits 2: its hosts
were not checked); a host in more than one run keeps the result of the run that finished
last, with a note. The joined run's JSON and HTML list the runs it came from.

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
	f.StringArray("merge", nil, "merge this rescan into RUN (its hosts replace RUN's); once")
	f.String("as-of", "", "judge deadlines and waiver expiry as of this date (YYYY-MM-DD; default: the run's date)")
	f.String("waivers", "", "apply this waiver file instead of the waivers the run recorded")
	f.String("since", "", "compare with this earlier run and print what changed")
	f.Bool("rescore", false, "join runs judged with different catalogs or as-of dates, judging every host again")
	addOutputFlags(f)
	return cmd
}

func runReport(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usage("report takes a RUN (a run folder, DIR/latest, latest with --out DIR, or a run.json), or several to join")
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
	run, err := loadJoined(cmd.ErrOrStderr(), args, outDir, v.GetBool("rescore"))
	if err != nil {
		return err
	}
	merges := v.GetStringSlice("merge")
	if len(merges) > 1 {
		return usage("--merge takes one rescan; to join the runs of several shards or runners, give them all as RUN arguments")
	}
	if len(merges) == 1 {
		m := merges[0]
		rescan, ref, err := runstore.Load(m, outDir)
		if err != nil {
			return usage("--merge: %v", err)
		}
		var added []string
		run, added = results.Merge(run, rescan)
		for _, h := range added {
			fmt.Fprintf(cmd.ErrOrStderr(), "aadcready: --merge: %s is in %s but not in %s; added\n", report.TerminalSafe(h), ref.Label(), strings.Join(args, " "))
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
	var waived func(string) []catalog.Waiver // nil: the waivers the run recorded
	if ws != nil {
		waived = ws.For
	}
	run.Rescore(cat, asOf, waived)
	if err := writeOutputs(cmd.OutOrStdout(), cmd.ErrOrStderr(), v, run, since.compare(run, args[0]), htmlOptions(cat, since)); err != nil {
		return err
	}
	// The saved run's interruption is history: this command was not
	// interrupted. Its cancelled hosts still count as not checked.
	judged := *run
	judged.Interrupted = false
	return exitFor(v, judged.ExitCode())
}

// loadJoined reads the RUNs and, when there are several, joins them
// (results.Join), saying on stderr what the join decided.
func loadJoined(stderr io.Writer, args []string, outDir string, rescore bool) (*results.Run, error) {
	runs := make([]*results.Run, len(args))
	for i, a := range args {
		r, _, err := runstore.Load(a, outDir)
		if err != nil {
			return nil, usageError{err}
		}
		runs[i] = r
	}
	if len(runs) == 1 {
		return runs[0], nil
	}
	if m := results.Mismatch(runs, args); m != "" && !rescore {
		return nil, usage("the runs were judged differently (%s): give --rescore to judge every host again with this aadcready's catalog, as of --as-of (default: the latest run's date)", m)
	}
	run, notes, err := results.Join(runs, args)
	if err != nil {
		return nil, usageError{err}
	}
	fmt.Fprintf(stderr, "aadcready: joined %d runs: %d hosts\n", len(runs), len(run.Hosts))
	for _, n := range notes {
		fmt.Fprintf(stderr, "aadcready: %s\n", report.TerminalSafe(n))
	}
	return run, nil
}

// reportAsOf is --as-of, else the run's own date.
func reportAsOf(v *viper.Viper, run *results.Run) (time.Time, error) {
	if s := asOfSetting(v); s != "" {
		return parseAsOf(s)
	}
	if t, err := time.Parse(time.DateOnly, run.AsOf); err == nil {
		return t, nil
	}
	return parseAsOf("")
}
