package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"aadcready/atomicfile"
	"aadcready/catalog"
	"aadcready/diff"
	"aadcready/inventory"
	"aadcready/progress"
	"aadcready/report"
	"aadcready/results"
	"aadcready/runstore"
	"aadcready/scanner"
	"aadcready/waivers"
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
  --exit-zero-on-findings turns 1 and 2 into 0 (3 and 130 stay), for schedulers that
  treat every non-zero code as a failure of the job.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := settings(cmd)
			if err != nil {
				return err
			}
			inv, err := loadTargets(v)
			if err != nil {
				return err
			}
			resolver := inventory.NewResolver(os.Getenv, inventory.TerminalPrompt)
			check := func(inv *inventory.Inventory) error {
				for _, h := range inv.Hosts {
					if _, err := resolver.Password(h.Secret); err != nil {
						return usage("host %q: %v", h.Name, err)
					}
				}
				return nil
			}
			return runScanChecked(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), v, inv, check, resolver.Password)
		},
	}
	f := cmd.Flags()
	f.StringP("inventory", "i", "", "inventory YAML file (see inventory.example.yaml)")
	f.StringSlice("hosts", nil, "comma-separated host names, scanned with the default settings below")
	f.String("hosts-file", "", "file with one host name per line, scanned with the default settings below")
	f.String("username", "", "--hosts: user name (DOMAIN\\user or user@domain)")
	f.String("auth", "ntlm", "--hosts: authentication: ntlm or basic")
	f.String("scheme", "http", "--hosts: http (5985, sealed NTLM) or https (5986)")
	f.Int("port", 0, "--hosts: port (default 5985 for http, 5986 for https)")
	f.String("password-env", "AADCREADY_PASSWORD", "--hosts: environment variable holding the password")
	f.String("password-file", "", "--hosts: file holding the password, readable by its owner only")
	f.Bool("password-prompt", false, "--hosts: ask for the password on the terminal")
	f.String("ca-file", "", "--hosts: PEM file of an extra CA to trust for HTTPS")
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
	f.String("csv", "", "write the change-board CSV (one row per host) to this file")
	f.String("checks-csv", "", "write the per-check CSV (one row per host and check) to this file")
	f.String("json", "", "write the full JSON record (facts, checks, verdicts, run metadata) to this file")
	f.String("html", "", "write the HTML report (one self-contained page) to this file")
	f.String("save-raw", "", "keep each host's raw probe output in this directory")
	f.String("out", "", "write the run to its own folder DIR/<UTC start>/ and point DIR/latest at it (docs/runs.md)")
	f.Int("keep", 0, "with --out: keep the N newest runs (0: no limit by count)")
	f.Int("keep-days", 0, "with --out: keep runs younger than D days (0: no limit by age); a run either rule keeps stays")
	f.String("since", "", "compare with an earlier run (a run folder, run.json, or latest with --out) and print what changed")
	f.String("only", "", "rescan only some hosts of a saved run: RUN:unreachable, :incomplete, :not-ok or :cancelled")
	f.String("waivers", "", "the change board's waiver file (docs/waivers.md); checked before any host is contacted")
	f.Bool("progress", true, "show progress on stderr: a bar on a terminal, else a status line every --progress-interval")
	f.Duration("progress-interval", progress.DefaultInterval, "how often the status line is printed when stderr is not a terminal")
	f.Bool("exit-zero-on-findings", false, "exit 0 instead of 1 or 2 (usage errors still exit 3, interrupts 130)")
}

func loadTargets(v *viper.Viper) (*inventory.Inventory, error) {
	path, names, namesFile := v.GetString("inventory"), v.GetStringSlice("hosts"), v.GetString("hosts-file")
	switch {
	case path != "" && (len(names) > 0 || namesFile != ""):
		return nil, usage("give either --inventory or --hosts/--hosts-file, not both")
	case path != "":
		inv, err := inventory.Load(path)
		if err != nil {
			return nil, usageError{err}
		}
		return inv, nil
	}
	if namesFile != "" {
		more, err := inventory.ReadHostsFile(namesFile)
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
	inv, err := inventory.FromNames(names, def)
	if err != nil {
		return nil, usageError{err}
	}
	return inv, nil
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
	asOf, err := parseAsOf(v.GetString("as-of"))
	if err != nil {
		return err
	}
	if v.GetInt("concurrency") < 1 {
		return usage("--concurrency must be at least 1")
	}
	outDir := v.GetString("out")
	policy := runstore.Policy{Keep: v.GetInt("keep"), KeepDays: v.GetInt("keep-days")}
	switch {
	case policy.Keep < 0 || policy.KeepDays < 0:
		return usage("--keep and --keep-days must not be negative")
	case policy.Active() && outDir == "":
		return usage("--keep and --keep-days prune the runs of --out DIR; give --out")
	case v.GetDuration("progress-interval") <= 0:
		return usage("--progress-interval must be positive")
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
	var rescanned []string
	if spec := v.GetString("only"); spec != "" {
		picked, err := selectRescan(stderr, logger, inv, spec, outDir)
		if err != nil {
			return err
		}
		if len(picked.Hosts) == 0 {
			return nil
		}
		inv = picked
		for _, h := range inv.Hosts {
			rescanned = append(rescanned, h.Name)
		}
	}
	if check != nil {
		if err := check(inv); err != nil {
			return err
		}
	}
	if raw := v.GetString("save-raw"); raw != "" {
		if err := os.MkdirAll(raw, 0o700); err != nil {
			return usage("--save-raw: %v", err)
		}
	}

	var out *runOutput
	if outDir != "" {
		if out, err = openRunOutput(outDir, rescanned != nil); err != nil {
			return err
		}
		defer out.close()
		h, err := out.logHandler(v)
		if err != nil {
			return err
		}
		logger = slog.New(slog.NewMultiHandler(base, h))
	}
	// The earlier run is read after the lock is taken: "latest" cannot
	// move under us.
	since, err := loadSince(stdout, v, outDir, rescanned)
	if err != nil {
		return err
	}
	if rescanned == nil { // a rescan covers a few hosts: no news there
		for _, w := range ws.Unmatched(hostNames(inv)) {
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
	if ws != nil {
		opt.Waivers = ws.For
	}
	logger.Info("scan started", "hosts", len(inv.Hosts), "inventory", inv.Path, "as_of", asOf.Format(time.DateOnly),
		"catalog", cat.Version, "waivers", v.GetString("waivers"), "out", outDir)
	prog.Start(len(inv.Hosts))
	run := scanner.Scan(ctx, inv, opt)
	prog.Finish()
	logger.Info("scan finished", "hosts", len(run.Hosts), "interrupted", run.Interrupted, "duration_ms", run.DurationMS)
	return finish(stdout, stderr, v, run, cat, out, since, logger, policy)
}

func hostNames(inv *inventory.Inventory) []string {
	names := make([]string, len(inv.Hosts))
	for i, h := range inv.Hosts {
		names[i] = h.Name
	}
	return names
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

// rescanSelectors are what --only RUN:SELECTOR accepts.
var rescanSelectors = map[string]func(results.Host) bool{
	"unreachable": func(h results.Host) bool { return h.Verdict == catalog.VerdictUnreachable },
	"incomplete":  func(h results.Host) bool { return h.Verdict == catalog.VerdictIncomplete },
	"not-ok":      func(h results.Host) bool { return h.Verdict != catalog.VerdictOK },
	"cancelled":   func(h results.Host) bool { return h.Failure != nil && h.Failure.Class == "cancelled" },
}

// selectRescan applies --only RUN:SELECTOR[,SELECTOR]: the hosts of the
// saved run that match, with their settings from the current inventory.
// Hosts no longer in the inventory are reported and skipped. An empty
// result is not an error: there is nothing to rescan.
func selectRescan(stderr io.Writer, logger *slog.Logger, inv *inventory.Inventory, spec, outDir string) (*inventory.Inventory, error) {
	i := strings.LastIndex(spec, ":")
	if i <= 0 {
		return nil, usage("--only wants RUN:SELECTOR, e.g. latest:unreachable (selectors: cancelled, incomplete, not-ok, unreachable)")
	}
	runArg, sels := spec[:i], strings.Split(spec[i+1:], ",")
	for _, s := range sels {
		if rescanSelectors[s] == nil {
			return nil, usage("--only %s: unknown selector %q (cancelled, incomplete, not-ok, unreachable)", spec, s)
		}
	}
	saved, ref, err := runstore.Load(runArg, outDir)
	if err != nil {
		return nil, usage("--only: %v", err)
	}
	byName := map[string]inventory.Host{}
	for _, h := range inv.Hosts {
		byName[strings.ToLower(h.Name)] = h
	}
	picked := &inventory.Inventory{Path: inv.Path}
	seen := map[string]bool{}
	for _, h := range saved.Hosts {
		match := false
		for _, s := range sels {
			match = match || rescanSelectors[s](h)
		}
		k := strings.ToLower(h.Name)
		if !match || seen[k] {
			continue
		}
		seen[k] = true
		ih, ok := byName[k]
		if !ok {
			fmt.Fprintf(stderr, "aadcready: --only: %s (%s in %s) is no longer in the inventory; skipped\n", safeText(h.Name), h.Verdict, ref.Label())
			logger.Warn("rescan host not in the inventory; skipped", "host", h.Name, "run", ref.Label())
			continue
		}
		picked.Hosts = append(picked.Hosts, ih)
	}
	if len(picked.Hosts) == 0 {
		fmt.Fprintf(stderr, "aadcready: --only: no host of %s is %s (and in the inventory); nothing to rescan\n", ref.Label(), strings.Join(sels, " or "))
	}
	return picked, nil
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

// runOutput is the run folder being written under --out.
type runOutput struct {
	store     *runstore.Store
	lock      *runstore.Lock
	pending   *runstore.Pending
	log       *closingWriter
	committed bool
	keep      bool // keep the staging folder if not committed (save failed)
}

const scanLogName = "scan.log"

func openRunOutput(dir string, rescan bool) (*runOutput, error) {
	store, err := runstore.Open(dir)
	if err != nil {
		return nil, usage("--out: %v", err)
	}
	now := time.Now()
	lock, err := store.Lock(now)
	if err != nil {
		return nil, usageError{err}
	}
	pending, err := store.Begin(now, rescan)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	return &runOutput{store: store, lock: lock, pending: pending}, nil
}

// logHandler opens the run's scan.log (JSON lines, at info unless
// --log-level was set) under a temporary name; save renames it.
func (o *runOutput) logHandler(v *viper.Viper) (slog.Handler, error) {
	level := slog.LevelInfo
	if v.IsSet("log-level") {
		if err := level.UnmarshalText([]byte(v.GetString("log-level"))); err != nil {
			return nil, usage("--log-level: %v", err)
		}
	}
	f, err := os.OpenFile(o.pending.Path("."+scanLogName+".tmp"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	o.log = &closingWriter{f: f}
	return slog.NewJSONHandler(o.log, &slog.HandlerOptions{Level: level}), nil
}

// save writes the run's files into the staging folder, moves the folder
// into place, points latest at it (not for rescans) and prunes. It returns
// the run folder's path.
func (o *runOutput) save(run *results.Run, cat *catalog.Catalog, since *sinceRun, changes *diff.Result, logger *slog.Logger, policy runstore.Policy) (string, error) {
	// From here on a failure keeps the staging folder: run.json may be in
	// it, and a scan of a whole fleet is worth recovering by hand.
	o.keep = true
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("%w (the run's files so far are in %s)", err, o.pending.Dir())
	}
	for _, f := range []struct {
		name  string
		write func(string) error
	}{
		{runstore.RunFile, func(p string) error { return report.WriteFile(p, report.FormatJSON, run) }},
		{"hosts.csv", func(p string) error { return report.WriteFile(p, report.FormatCSV, run) }},
		{"checks.csv", func(p string) error { return report.WriteFile(p, report.FormatChecksCSV, run) }},
	} {
		if err := f.write(o.pending.Path(f.name)); err != nil {
			return fail(err)
		}
	}
	if changes != nil {
		err := atomicfile.Write(o.pending.Path("diff.json"), 0o644, func(w io.Writer) error { return changes.WriteJSON(w) })
		if err != nil {
			return fail(err)
		}
	}
	// The page is for people; the run is in run.json. A renderer failure
	// is reported, not allowed to cost the night's run.
	if err := report.WriteHTMLFile(o.pending.Path("report.html"), run, htmlOptions(cat, since)); err != nil {
		logger.Error("the HTML report could not be written; re-render it with aadcready report RUN --html FILE", "err", err)
	}
	logger.Info("run folder written")
	if o.log != nil {
		if err := o.log.Close(); err != nil {
			return fail(fmt.Errorf("writing %s: %w", scanLogName, err))
		}
		if err := os.Rename(o.pending.Path("."+scanLogName+".tmp"), o.pending.Path(scanLogName)); err != nil {
			return fail(fmt.Errorf("writing %s: %w", scanLogName, err))
		}
	}
	name, err := o.pending.Commit(run.Started)
	if err != nil {
		return fail(err)
	}
	o.committed = true
	path := filepath.Join(o.store.Dir, name)
	rescan := strings.HasSuffix(name, runstore.RescanSuffix)
	if !rescan {
		if err := o.store.SetLatest(name); err != nil {
			return path, err
		}
	}
	if policy.Active() && !run.Interrupted {
		policy.Now = time.Now()
		removed, err := o.store.Prune(policy, name)
		for _, r := range removed {
			logger.Info("pruned old run", "folder", r)
		}
		if err != nil {
			logger.Warn("pruning old runs", "err", err)
		}
	}
	return path, nil
}

// close releases the lock. A staging folder that was not committed is
// removed when nothing was scanned into it (an error before the scan), and
// kept when saving the run failed.
func (o *runOutput) close() {
	if o.log != nil {
		o.log.Close()
	}
	if !o.committed && !o.keep {
		o.pending.Abort()
	}
	o.lock.Unlock()
}

// closingWriter is scan.log: writes after Close (late log lines from
// cleanup) are dropped instead of failing.
type closingWriter struct {
	mu     sync.Mutex
	f      *os.File
	closed bool
}

func (c *closingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return len(p), nil
	}
	return c.f.Write(p)
}

func (c *closingWriter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.f.Sync(); err != nil {
		c.f.Close()
		return err
	}
	return c.f.Close()
}

func htmlOptions(cat *catalog.Catalog, since *sinceRun) report.HTMLOptions {
	opt := report.HTMLOptions{Catalog: cat, Now: time.Now()}
	if since != nil {
		opt.Previous = since.run
	}
	return opt
}

// retries maps the flag (0 = none) to scanner.Options (0 = default).
func retries(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

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

// finish saves the run folder (first: it matters most to a nightly job),
// prints the table, the waiver notes and the changes since the earlier run,
// writes the requested files and turns the run into the exit code.
func finish(stdout, stderr io.Writer, v *viper.Viper, run *results.Run, cat *catalog.Catalog, out *runOutput,
	since *sinceRun, logger *slog.Logger, policy runstore.Policy) error {
	var changes *diff.Result
	if since != nil {
		d := diff.Compare(since.run, run)
		d.From.Label = since.ref.Label()
		d.To.Label = "this run"
		changes = &d
	}
	saved := ""
	var saveErr error
	if out != nil {
		if changes != nil {
			if name, err := out.pending.Name(run.Started); err == nil {
				changes.To.Label = name
			}
		}
		saved, saveErr = out.save(run, cat, since, changes, logger, policy)
	}
	if err := report.WriteTable(stdout, run); err != nil {
		return err
	}
	if err := report.WriteWaiverNotes(stdout, run); err != nil {
		return err
	}
	if changes != nil {
		fmt.Fprintln(stdout)
		if err := changes.WriteTable(stdout); err != nil {
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
	if saveErr != nil {
		// The table is out; the nightly record is not: a failed job.
		return fmt.Errorf("saving the run: %w", saveErr)
	}
	if saved != "" {
		fmt.Fprintf(stderr, "aadcready: run saved in %s\n", saved)
	}
	return exitFor(v, run.ExitCode())
}

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

// safeText makes host-supplied text safe for a terminal line.
func safeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			return '?'
		}
		return r
	}, s)
}
