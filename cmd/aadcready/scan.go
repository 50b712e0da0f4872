package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"aadcready/atomicfile"
	"aadcready/catalog"
	"aadcready/inventory"
	"aadcready/progress"
	"aadcready/report"
	"aadcready/results"
	"aadcready/runstore"
	"aadcready/scanner"
)

func newScanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan -i INVENTORY | --hosts a,b,c | --hosts-file FILE",
		Short: "Scan AD Connect servers over WinRM and score them",
		Long: `Scan every host of the inventory (or the hosts named with --hosts / --hosts-file, with
default settings) under a bounded worker pool, print a table with the fleet summary, and
write the change-board CSV (--csv), the per-check CSV (--checks-csv), the full JSON
record (--json) and the HTML report (--html). Nothing on the hosts is changed.

Nightly runs: --out DIR writes each run to its own folder DIR/<UTC start>/ (run.json,
hosts.csv, checks.csv, report.html, scan.log, and diff.json with --since), points
DIR/latest at it, prunes old runs (--keep N, --keep-days D) and refuses to start while
another scan writes to DIR. --since latest prints (and saves) what changed since the
previous run; --only RUN:unreachable rescans just the hosts of a saved run that were
unreachable (also :incomplete, :not-ok, :cancelled; comma-separated). --waivers FILE
applies the change board's waivers. See docs/runs.md, docs/waivers.md, docs/scheduling.md.

Credentials come from the inventory's password_env / password_file / password_prompt
(for --hosts: --password-env, --password-file or --password-prompt), never from argv.

` + exitCodesHelp + `
  --exit-zero-on-findings turns 1 and 2 into 0 (3, 4 and 130 stay), for schedulers that
  treat every non-zero code as a failure of the job.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := settings(cmd)
			if err != nil {
				return err
			}
			inv, err := loadTargets(cmd.Context(), v)
			if err != nil {
				return err
			}
			resolver := inventory.NewResolver(os.Getenv, inventory.TerminalPromptContext(cmd.Context()))
			check := func(inv *inventory.Inventory) error { return checkPasswords(resolver, inv) }
			return runScanChecked(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), v, inv, check, resolver.Password)
		},
	}
	f := cmd.Flags()
	f.StringP("inventory", "i", "", "inventory YAML file (see inventory.example.yaml)")
	f.StringSlice("hosts", nil, "comma-separated host names, scanned with the default settings below")
	f.String("hosts-file", "", "file with one host name per line, scanned with the default settings below")
	f.String("username", "", "--hosts: user name (DOMAIN\\user or user@domain)")
	f.String("auth", "ntlm", "--hosts: authentication: ntlm, kerberos, negotiate or basic (kerberos: the ticket cache after kinit, or --password-*)")
	f.String("scheme", "http", "--hosts: http (5985, sealed NTLM) or https (5986)")
	f.Int("port", 0, "--hosts: port (default 5985 for http, 5986 for https)")
	f.String("password-env", "AADCREADY_PASSWORD", "--hosts: environment variable holding the password")
	f.String("password-file", "", "--hosts: file holding the password, readable by its owner only")
	f.Bool("password-prompt", false, "--hosts: ask for the password on the terminal")
	f.String("ca-file", "", "--hosts: PEM file of an extra CA to trust for HTTPS")
	addShardFlags(f)
	addScanFlags(cmd)
	return cmd
}

// addScanFlags adds the flags `scan` and `demo` share.
func addScanFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Int("concurrency", 16, "hosts scanned at once")
	f.Duration("host-timeout", 3*time.Minute, "deadline per host, retries included")
	f.Int("retries", 2, "retries of connection errors, timeouts and WinRM quota faults (never of refused logons)")
	f.String("as-of", "", "judge deadlines (and waiver expiry) as of this date (YYYY-MM-DD; default today)")
	addOutputFlags(f)
	f.String("save-raw", "", "keep each host's raw probe output in this directory")
	f.String("out", "", "write the run to its own folder DIR/<UTC start>/ and point DIR/latest at it (docs/runs.md)")
	f.Int("keep", 0, "with --out: keep the N newest runs (0: no limit by count)")
	f.Int("keep-days", 0, "with --out: keep runs younger than D days (0: no limit by age); a run either rule keeps stays")
	f.String("since", "", "compare with an earlier run (a run folder, run.json, or latest with --out) and print what changed")
	f.String("only", "", "rescan only some hosts of a saved run: RUN:unreachable, :incomplete, :not-ok or :cancelled")
	f.Bool("resume", false, "with --out: take the finished hosts of a scan that was killed before it saved (SIGKILL, reboot) instead of scanning them again")
	f.String("waivers", "", "the change board's waiver file (docs/waivers.md); checked before any host is contacted")
	f.Bool("progress", true, "show progress on stderr: a bar on a terminal, else a status line every --progress-interval")
	f.Duration("progress-interval", progress.DefaultInterval, "how often the status line is printed when stderr is not a terminal")
}

func loadTargets(ctx context.Context, v *viper.Viper) (*inventory.Inventory, error) {
	path, names, namesFile := v.GetString("inventory"), v.GetStringSlice("hosts"), v.GetString("hosts-file")
	switch {
	case path != "" && (len(names) > 0 || namesFile != ""):
		return nil, usage("give either --inventory or --hosts/--hosts-file, not both")
	case path != "":
		inv, err := inventory.LoadContext(ctx, path)
		if err != nil {
			return nil, usageError{err}
		}
		return inv, nil
	}
	if namesFile != "" {
		more, err := inventory.ReadHostsFileContext(ctx, namesFile)
		if err != nil {
			return nil, usageError{err}
		}
		names = append(names, more...)
	}
	if len(names) == 0 {
		return nil, usage("nothing to scan: give --inventory FILE, --hosts a,b,c or --hosts-file FILE")
	}
	def := inventory.Host{
		Scheme: v.GetString("scheme"), Auth: v.GetString("auth"), Port: v.GetInt("port"),
		Username: v.GetString("username"), CAFile: v.GetString("ca-file"),
		Secret: inventory.SecretRef{Env: v.GetString("password-env"), File: v.GetString("password-file"), Prompt: v.GetBool("password-prompt")},
	}
	if def.Secret.File != "" || def.Secret.Prompt {
		def.Secret.Env = ""
	}
	kerberosFlags(v, &def)
	inv, err := inventory.FromNames(names, def)
	if err != nil {
		return nil, usageError{err}
	}
	return inv, nil
}

// checkPasswords checks the files the hosts name (password and CA files)
// and resolves the password of every host before any host is contacted: a
// missing variable or an unreadable file is a usage error, not a fleet of
// failed logons.
func checkPasswords(resolver *inventory.Resolver, inv *inventory.Inventory) error {
	if err := inventory.CheckFiles(inv); err != nil {
		return usageError{err}
	}
	for _, h := range inv.Hosts {
		if h.Kerberized() && h.Secret == (inventory.SecretRef{}) {
			continue // keytab or ticket cache
		}
		if _, err := resolver.Password(h.Secret); err != nil {
			if errors.Is(err, inventory.ErrPromptInterrupted) {
				return exitError{results.ExitInterrupted}
			}
			if h.Source == "" { // --hosts: the settings are flags
				return usage("host %q: %v", h.Name, err)
			}
			return usage("%s: host %q: %v", h.Source, h.Name, err)
		}
	}
	return nil
}

// runScan scans inv and writes the table and the requested files. Shared by
// `scan` and `demo`.
func runScan(ctx context.Context, stdout, stderr io.Writer, v *viper.Viper, inv *inventory.Inventory, password func(inventory.SecretRef) (string, error)) error {
	return runScanChecked(ctx, stdout, stderr, v, inv, nil, password)
}

// runScanChecked is runScan with check, which vets the hosts that will be
// scanned (their credentials) once --only has picked them. Everything that
// can be wrong with the flags, the waiver file, the runs named or the run
// folder's lock is found before any host is contacted.
func runScanChecked(ctx context.Context, stdout, stderr io.Writer, v *viper.Viper, inv *inventory.Inventory,
	check func(*inventory.Inventory) error, password func(inventory.SecretRef) (string, error)) error {
	cat, err := catalog.Load()
	if err != nil {
		return fmt.Errorf("loading the requirement catalog: %w", err)
	}
	asOf, err := parseAsOf(asOfSetting(v))
	if err != nil {
		return err
	}
	if v.GetInt("concurrency") < 1 {
		return usage("--concurrency must be at least 1")
	}
	outDir := v.GetString("out")
	policy := runstore.Policy{Keep: v.GetInt("keep"), KeepDays: v.GetInt("keep-days")}
	if err := policy.Validate(); err != nil {
		return usageError{err}
	}
	switch {
	case policy.Active() && outDir == "":
		return usage("--keep and --keep-days prune the runs of --out DIR; give --out")
	case v.GetBool("resume") && outDir == "":
		return usage("--resume takes the finished hosts of a killed scan from --out DIR; give --out")
	}
	// The stderr handler is built now so that a bad --log-level or
	// --log-file is a usage error before anything else happens.
	prog := progress.New(stderr, progress.Options{
		Enabled:  v.GetBool("progress"),
		Terminal: progress.IsTerminal(stderr),
		Interval: v.GetDuration("progress-interval"),
	})
	base, closeLog, err := newLogHandler(v, prog.LogWriter(stderr))
	if err != nil {
		return err
	}
	defer closeLog()
	logger := slog.New(base)

	ws, err := loadWaivers(v, cat)
	if err != nil {
		return err
	}
	whole := inv.Names()
	inv, shard, err := pickShard(v, inv)
	if err != nil {
		return err
	}
	var rescanned []string
	if spec := v.GetString("only"); spec != "" {
		picked, err := selectRescan(stderr, logger, inv, spec, outDir)
		if err != nil {
			return err
		}
		if len(picked.Hosts) == 0 {
			return nil
		}
		inv, rescanned = picked, picked.Names()
	}
	if check != nil {
		if err := check(inv); err != nil {
			return err
		}
	}
	if raw := v.GetString("save-raw"); raw != "" {
		if err := atomicfile.MkdirAll(raw); err != nil {
			return usage("--save-raw: %v", err)
		}
	}

	var out *runstore.Writer
	if outDir != "" {
		if out, err = openRunFolder(outDir, rescanned != nil); err != nil {
			return err
		}
		defer out.Close()
		level, err := runLogLevel(v)
		if err != nil {
			return err
		}
		h, err := out.LogHandler(level)
		if err != nil {
			return err
		}
		logger = slog.New(slog.NewMultiHandler(base, h))
	}
	var resumed []results.Host
	order := inv.Names()
	if v.GetBool("resume") {
		if inv, resumed, err = resume(stderr, logger, out, inv); err != nil {
			return err
		}
	}
	// The earlier run is read after the lock is taken: "latest" cannot
	// move under us.
	since, err := loadSince(stdout, v, outDir, rescanned)
	if err != nil {
		return err
	}
	if rescanned == nil && shard == nil { // a rescan or a shard covers some hosts: no news there
		for _, w := range ws.Unmatched(inv.Names()) {
			logger.Warn("waiver matches no host of this scan", "file", ws.Path, "line", w.Line, "check", w.Check, "host", w.Host)
		}
	}

	opt := scanner.Options{
		Concurrency: v.GetInt("concurrency"),
		HostTimeout: v.GetDuration("host-timeout"),
		Retries:     retries(v.GetInt("retries")),
		AsOf:        asOf,
		Catalog:     cat,
		Password:    password,
		SaveRawDir:  v.GetString("save-raw"),
		Logger:      logger,
		OnHostDone:  prog.HostDone,
		ToolVersion: toolVersion(),
	}
	if out != nil {
		opt.OnHostDone = func(h results.Host) {
			out.Record(h)
			prog.HostDone(h)
		}
	}
	if ws != nil {
		opt.Waivers = ws.For
	}
	if shard != nil {
		logger.Info("scanning one shard", "shard", shard.String())
	}
	logger.Info("scan started", "hosts", len(inv.Hosts), "inventory", inv.Path, "as_of", asOf.Format(time.DateOnly),
		"catalog", cat.Version, "waivers", v.GetString("waivers"), "out", outDir)
	prog.Start(len(inv.Hosts))
	run := scanner.Scan(ctx, inv, opt)
	prog.Finish()
	if resumed != nil {
		run = withResumed(run, resumed, opt, order)
	}
	if shard != nil {
		run.Shard = shard
		recordPositions(run, whole)
	}
	logger.Info("scan finished", "hosts", len(run.Hosts), "interrupted", run.Interrupted, "duration_ms", run.DurationMS)
	return finish(ctx, stdout, stderr, v, run, cat, out, since, logger, policy)
}

// resume takes the finished hosts of the newest killed scan of the run
// folder (when it is newer than the last saved run) that are still in the
// inventory, records them in this run's journal (so a second kill loses
// them neither) and returns the hosts left to scan. Each host taken over
// carries a warning saying so and since when, which every output shows.
func resume(stderr io.Writer, logger *slog.Logger, out *runstore.Writer, inv *inventory.Inventory) (*inventory.Inventory, []results.Host, error) {
	rs, err := out.Resumable()
	if err != nil {
		return nil, nil, fmt.Errorf("--resume: %w", err)
	}
	if rs.From == "" {
		fmt.Fprintf(stderr, "aadcready: --resume: %s; scanning every host\n", rs.Why)
		logger.Info("nothing to resume", "why", rs.Why)
		return inv, nil, nil
	}
	done := map[string]bool{}
	var kept []results.Host
	for _, h := range rs.Hosts {
		if _, missing := inv.Only([]string{h.Name}); len(missing) == 0 {
			done[strings.ToLower(h.Name)] = true
			h.Warnings = append(h.Warnings, fmt.Sprintf("taken over with --resume from the scan killed after it started %s (%s): scanned %s, not again in this run",
				rs.Started.UTC().Format(time.RFC3339), rs.From, h.Started.UTC().Format(time.RFC3339)))
			kept = append(kept, h)
			out.Record(h)
		}
	}
	var rest []string
	for _, h := range inv.Hosts {
		if !done[strings.ToLower(h.Name)] {
			rest = append(rest, h.Name)
		}
	}
	left, _ := inv.Only(rest)
	fmt.Fprintf(stderr, "aadcready: --resume: %d finished hosts taken from the scan started %s (%s), %d left to scan\n",
		len(kept), rs.Started.UTC().Format(time.RFC3339), rs.From, len(left.Hosts))
	logger.Info("resuming a killed scan", "from", rs.From, "started", rs.Started, "finished", len(kept), "left", len(left.Hosts))
	return left, kept, nil
}

// withResumed adds the hosts taken from a killed scan to run, judged again
// with this run's catalog, date and waivers, in inventory order.
func withResumed(run *results.Run, resumed []results.Host, opt scanner.Options, order []string) *results.Run {
	taken := &results.Run{Hosts: resumed}
	taken.Rescore(opt.Catalog, opt.AsOf, opt.Waivers)
	merged, _ := results.Merge(run, taken)
	pos := make(map[string]int, len(order))
	for i, n := range order {
		pos[strings.ToLower(n)] = i
	}
	slices.SortStableFunc(merged.Hosts, func(a, b results.Host) int {
		return pos[strings.ToLower(a.Name)] - pos[strings.ToLower(b.Name)]
	})
	return merged
}

// selectRescan applies --only RUN:SELECTOR[,SELECTOR]: the hosts of the
// saved run that match, with their settings from the current inventory.
// Hosts no longer in the inventory are reported and skipped. An empty
// result is not an error: there is nothing to rescan.
func selectRescan(stderr io.Writer, logger *slog.Logger, inv *inventory.Inventory, spec, outDir string) (*inventory.Inventory, error) {
	sel, err := runstore.ParseRescan(spec)
	if err != nil {
		return nil, usage("--only %v", err)
	}
	saved, ref, err := runstore.Load(sel.Run, outDir)
	if err != nil {
		return nil, usage("--only: %v", err)
	}
	hosts := sel.Hosts(saved)
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	picked, missing := inv.Only(names)
	for _, i := range missing {
		h := hosts[i]
		fmt.Fprintf(stderr, "aadcready: --only: %s (%s in %s) is no longer in the inventory; skipped\n", report.TerminalSafe(h.Name), h.Verdict, ref.Label())
		logger.Warn("rescan host not in the inventory; skipped", "host", h.Name, "run", ref.Label())
	}
	if len(picked.Hosts) == 0 {
		fmt.Fprintf(stderr, "aadcready: --only: no host of %s is %s (and in the inventory); nothing to rescan\n", ref.Label(), strings.Join(sel.Selectors, " or "))
	}
	return picked, nil
}

// openRunFolder takes the lock of --out DIR and starts the run's folder.
func openRunFolder(dir string, rescan bool) (*runstore.Writer, error) {
	store, err := runstore.Open(dir)
	if err != nil {
		return nil, usage("--out: %v", err)
	}
	out, err := store.Create(time.Now(), rescan)
	if err != nil {
		return nil, usageError{err}
	}
	return out, nil
}

// runLogLevel is the level of the run folder's scan.log: info, unless
// --log-level was set.
func runLogLevel(v *viper.Viper) (slog.Level, error) {
	level := slog.LevelInfo
	if v.IsSet("log-level") {
		if err := level.UnmarshalText([]byte(v.GetString("log-level"))); err != nil {
			return level, usage("--log-level: %v", err)
		}
	}
	return level, nil
}

// retries maps the flag (0 = none) to scanner.Options (0 = default).
func retries(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// finish saves the run folder (first: it matters most to a nightly job),
// writes the requested files, prints the run and the changes since the
// earlier run, and turns the run into the exit code. Every output is
// attempted whatever happened to the others; one that failed is named on
// stderr and the exit code is 4 (results.ExitOutput), unless the run was
// interrupted: a SIGTERM that came while the run was being saved still
// ends with 130, once everything is written.
func finish(ctx context.Context, stdout, stderr io.Writer, v *viper.Viper, run *results.Run, cat *catalog.Catalog, out *runstore.Writer,
	since *sinceRun, logger *slog.Logger, policy runstore.Policy) error {
	changes := since.compare(run, "this run")
	html := htmlOptions(cat, since)
	saved := ""
	var errs []error
	if out != nil {
		if changes != nil {
			if name, err := out.Name(run.Started); err == nil {
				changes.To.Label = name
			}
		}
		var err error
		if saved, err = out.Save(run, changes, html, policy, logger); err != nil {
			errs = append(errs, fmt.Errorf("--out: saving the run: %w", err))
		}
	}
	if err := writeOutputs(stdout, stderr, v, run, changes, html); err != nil {
		errs = append(errs, err)
	}
	if saved != "" {
		fmt.Fprintf(stderr, "aadcready: run saved in %s\n", saved)
	}
	if run.Interrupted || ctx.Err() != nil {
		for _, err := range errs {
			fmt.Fprintln(stderr, "aadcready:", err)
		}
		return exitError{results.ExitInterrupted}
	}
	if len(errs) > 0 {
		return outputError{errors.Join(errs...)}
	}
	return exitFor(v, run.ExitCode())
}
