package main

import (
	"errors"
	"fmt"
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
	// Files first, each on its own; then stdout (the table, or a file
	// written to "-"), whose failure costs only what it would have shown.
	outs := []struct {
		flag, path string
		fill       func(io.Writer) error
	}{
		{"csv", csvPath, func(w io.Writer) error { return report.WriteDiffCSV(w, res) }},
		{"json", jsonPath, func(w io.Writer) error { return res.WriteJSON(w) }},
	}
	var errs []error
	for _, o := range outs {
		if o.path != "" && o.path != "-" {
			if err := atomicfile.Write(o.path, 0o644, o.fill); err != nil {
				errs = append(errs, fmt.Errorf("--%s: %w", o.flag, err))
			}
		}
	}
	for _, o := range outs {
		if o.path == "-" {
			printTable(cmd.ErrOrStderr(), func() error { return o.fill(stdout) })
		}
	}
	if csvPath != "-" && jsonPath != "-" {
		printTable(cmd.ErrOrStderr(), func() error { return report.WriteDiffTable(stdout, res) })
	}
	if len(errs) > 0 {
		return outputError{errors.Join(errs...)}
	}
	if res.Regressed() {
		return exitError{results.ExitNeedsAction}
	}
	return nil
}
