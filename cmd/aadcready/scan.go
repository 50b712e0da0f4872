package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"aadcready/catalog"
	"aadcready/inventory"
	"aadcready/report"
	"aadcready/results"
	"aadcready/scanner"
)

func newScanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan -i INVENTORY | --hosts a,b,c | --hosts-file FILE",
		Short: "Scan AD Connect servers over WinRM and score them",
		Long: `Scan every host of the inventory (or the hosts named with --hosts / --hosts-file, with
default settings) under a bounded worker pool, print a table with the fleet summary, and
write the change-board CSV (--csv), the per-check CSV (--checks-csv) and the full JSON
record (--json). Nothing on the hosts is changed.

Credentials come from the inventory's password_env / password_file / password_prompt
(for --hosts: --password-env, --password-file or --password-prompt), never from argv.

` + exitCodesHelp,
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
			for _, h := range inv.Hosts {
				if _, err := resolver.Password(h.Secret); err != nil {
					return usage("host %q: %v", h.Name, err)
				}
			}
			return runScan(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), v, inv, resolver.Password)
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
	f.String("as-of", "", "judge deadlines as of this date (YYYY-MM-DD; default today)")
	f.String("csv", "", "write the change-board CSV (one row per host) to this file")
	f.String("checks-csv", "", "write the per-check CSV (one row per host and check) to this file")
	f.String("json", "", "write the full JSON record (facts, checks, verdicts, run metadata) to this file")
	f.String("save-raw", "", "keep each host's raw probe output in this directory")
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
	logger, closeLog, err := newLogger(v, stderr)
	if err != nil {
		return err
	}
	defer closeLog()
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
	if raw := v.GetString("save-raw"); raw != "" {
		if err := os.MkdirAll(raw, 0o700); err != nil {
			return usage("--save-raw: %v", err)
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
		ToolVersion: toolVersion(),
	}
	run := scanner.Scan(ctx, inv, opt)
	return finish(stdout, v, run)
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

// finish prints the table, writes the requested files and turns the run
// into the exit code.
func finish(stdout io.Writer, v *viper.Viper, run *results.Run) error {
	if err := report.WriteTable(stdout, run); err != nil {
		return err
	}
	for _, out := range []struct {
		flag   string
		format report.Format
	}{{"csv", report.FormatCSV}, {"checks-csv", report.FormatChecksCSV}, {"json", report.FormatJSON}} {
		if path := v.GetString(out.flag); path != "" {
			if err := report.WriteFile(path, out.format, run); err != nil {
				return err
			}
		}
	}
	if code := run.ExitCode(); code != results.ExitOK {
		return exitError{code}
	}
	return nil
}
