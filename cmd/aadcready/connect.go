package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"aadcready/atomicfile"
	"aadcready/inventory"
	"aadcready/report"
	"aadcready/results"
	"aadcready/scanner"
)

func newConnectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connect [HOST] [flags] [-- COMMAND...]",
		Short: "Diagnose the WinRM connection to a host, or pre-flight a whole inventory",
		Long: `Diagnose the connection to one host before trusting a nightly run (like Test-WSMan plus
one command): resolve, connect, TLS, authenticate, create a shell, run "hostname" (or
COMMAND), clean up. Each step is printed with its timing; a failure is classified with
what to check. HOST takes its settings from the inventory when -i is given, else from the
flags.

With -i and no HOST, every host of the inventory is tried under the same worker pool as
a scan: the nightly pre-flight ("which hosts can we reach and log on to?"), as a table and,
with --csv, a CSV.

Exit code 0 when every host connected, 2 when some did not, 3 on usage errors.`,
		RunE: runConnect,
	}
	f := cmd.Flags()
	f.StringP("inventory", "i", "", "inventory YAML file")
	f.String("username", "", "user name when HOST is not taken from an inventory")
	f.String("auth", "ntlm", "authentication: ntlm or basic")
	f.String("scheme", "http", "http (5985, sealed NTLM) or https (5986)")
	f.Int("port", 0, "port (default 5985 for http, 5986 for https)")
	f.String("password-env", "AADCREADY_PASSWORD", "environment variable holding the password")
	f.String("password-file", "", "file holding the password, readable by its owner only")
	f.Bool("password-prompt", false, "ask for the password on the terminal")
	f.String("ca-file", "", "PEM file of an extra CA to trust for HTTPS")
	f.Int("concurrency", 16, "hosts tried at once (inventory pre-flight)")
	f.Duration("host-timeout", time.Minute, "deadline per host, retries included")
	f.Int("retries", 0, "retries of connection errors and timeouts (a diagnostic reports the first failure by default)")
	f.String("csv", "", "inventory pre-flight: write the results to this CSV file")
	return cmd
}

func runConnect(cmd *cobra.Command, args []string) error {
	v, err := settings(cmd)
	if err != nil {
		return err
	}
	var host string
	command := "hostname"
	if dash := cmd.ArgsLenAtDash(); dash >= 0 {
		if len(args[dash:]) > 0 {
			command = strings.Join(args[dash:], " ")
		}
		args = args[:dash]
	}
	switch len(args) {
	case 0:
	case 1:
		host = args[0]
	default:
		return usage("connect takes one HOST (put a command after --)")
	}
	var inv *inventory.Inventory
	if host != "" {
		v.Set("hosts", []string{host})
	}
	if path := v.GetString("inventory"); path != "" {
		full, err := inventory.LoadContext(cmd.Context(), path)
		if err != nil {
			return usageError{err}
		}
		inv = full
		if host != "" {
			inv, err = pick(full, host)
			if err != nil {
				return err
			}
		}
	} else {
		if inv, err = loadTargets(cmd.Context(), v); err != nil {
			return err
		}
	}
	resolver := inventory.NewResolver(os.Getenv, inventory.TerminalPromptContext(cmd.Context()))
	if err := checkPasswords(resolver, inv); err != nil {
		return err
	}
	logger, closeLog, err := newLogger(v, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer closeLog()
	opt := scanner.Options{
		Concurrency: max(1, v.GetInt("concurrency")),
		HostTimeout: v.GetDuration("host-timeout"),
		Retries:     retries(v.GetInt("retries")),
		Password:    resolver.Password,
		Logger:      logger,
	}
	out := cmd.OutOrStdout()
	if host != "" {
		h := inv.Hosts[0]
		fmt.Fprintf(out, "%s -> %s:%d (%s, %s)\n", h.Name, h.DialAddress(), h.Port, h.Scheme, h.Auth)
		r := scanner.Connect(cmd.Context(), h, opt, command, func(st scanner.Step) {
			status := "ok"
			if st.Err != "" {
				status = "FAILED"
			}
			fmt.Fprintf(out, "  %-13s %-6s %8s\n", st.Name, status, st.Duration.Round(time.Millisecond))
		})
		report.WriteConnectResult(out, r)
		if !r.OK {
			return exitError{results.ExitNotChecked}
		}
		return nil
	}
	rs := scanner.Preflight(cmd.Context(), inv, opt, command)
	// The file first: a closed stdout costs the table, not the results.
	var csvErr error
	if path := v.GetString("csv"); path != "" {
		csvErr = atomicfile.Write(path, 0o644, func(w io.Writer) error { return report.WriteConnectCSV(w, rs) })
	}
	printTable(cmd.ErrOrStderr(), func() error { return report.WriteConnectTable(out, rs) })
	if csvErr != nil {
		return outputError{fmt.Errorf("--csv: %w", csvErr)}
	}
	for _, r := range rs {
		if !r.OK {
			return exitError{results.ExitNotChecked}
		}
	}
	return nil
}

// pick selects one host of an inventory by name, case-insensitively.
func pick(inv *inventory.Inventory, name string) (*inventory.Inventory, error) {
	one, missing := inv.Only([]string{name})
	if len(missing) > 0 {
		return nil, usage("%s: no host named %q", inv.Path, name)
	}
	return one, nil
}
