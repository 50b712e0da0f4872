package main

import (
	"io"

	"github.com/spf13/cobra"

	"aadcready/atomicfile"
	"aadcready/diff"
	"aadcready/report"
	"aadcready/results"
	"aadcready/runstore"
)

func newDiffCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff RUN_A RUN_B",
		Short: "Show what changed between two saved runs",
		Long: `Compare two saved runs (RUN_A the earlier): hosts whose verdict improved or regressed,
checks newly failing or newly passing on each host, hosts added to or gone from the
inventory, and hosts that became unreachable. A RUN is a run folder, DIR/latest, "latest"
(or a run folder name) with --out DIR, or the path of a run.json.

Verdicts are ranked OK < FIX < UPGRADE < FIX_THEN_UPGRADE < MIGRATE; moving to or from
INCOMPLETE, UNREACHABLE or NOT_INSTALLED is a change, neither better nor worse (the host
got no readiness answer). Details: docs/runs.md.

The table goes to stdout; --csv FILE and --json FILE write the changes ("-" for stdout
instead of the table).

Exit codes:
  0  nothing regressed
  1  some verdict regressed or some check newly fails
  3  usage error (a run that cannot be read)`,
		RunE: runDiff,
	}
	f := cmd.Flags()
	f.String("out", "", "the folder of runs that \"latest\" or a run folder name refers to")
	f.String("csv", "", `write the changes as CSV to this file ("-": stdout)`)
	f.String("json", "", `write the changes as JSON to this file ("-": stdout)`)
	return cmd
}

func runDiff(cmd *cobra.Command, args []string) error {
	if len(args) != 2 {
		return usage("diff takes two runs: RUN_A (earlier) RUN_B (later)")
	}
	v, err := settings(cmd)
	if err != nil {
		return err
	}
	a, refA, err := runstore.Load(args[0], v.GetString("out"))
	if err != nil {
		return usageError{err}
	}
	b, refB, err := runstore.Load(args[1], v.GetString("out"))
	if err != nil {
		return usageError{err}
	}
	res := diff.Compare(a, b)
	res.From.Label, res.To.Label = refA.Label(), refB.Label()

	stdout := cmd.OutOrStdout()
	csvPath, jsonPath := v.GetString("csv"), v.GetString("json")
	if csvPath != "-" && jsonPath != "-" {
		if err := report.WriteDiffTable(stdout, res); err != nil {
			return err
		}
	}
	if csvPath != "" {
		if err := writeOut(stdout, csvPath, func(w io.Writer) error { return report.WriteDiffCSV(w, res) }); err != nil {
			return err
		}
	}
	if jsonPath != "" {
		if err := writeOut(stdout, jsonPath, func(w io.Writer) error { return res.WriteJSON(w) }); err != nil {
			return err
		}
	}
	if res.Regressed() {
		return exitError{results.ExitNeedsAction}
	}
	return nil
}

// writeOut writes to path atomically, or to stdout when path is "-".
func writeOut(stdout io.Writer, path string, fill func(io.Writer) error) error {
	if path == "-" {
		return fill(stdout)
	}
	return atomicfile.Write(path, 0o644, fill)
}
