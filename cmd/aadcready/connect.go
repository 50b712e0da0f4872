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
	"aadcready/safefile"
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
	f.String("auth", "ntlm", "authentication: ntlm, kerberos, negotiate or basic")
	f.String("scheme", "http", "http (5985, sealed NTLM or Kerberos) or https (5986)")
	f.String("keytab", "", "kerberos: keytab holding --username's keys (default: the ticket cache, KRB5CCNAME, after kinit)")
	f.String("spn", "", "kerberos: service principal when not HTTP/HOST (e.g. WSMAN/aadc01.contoso.com)")
	f.Bool("ntlm-fallback", false, "negotiate: use NTLM where Kerberos cannot work (needs a password)")
	f.Int("port", 0, "port (default 5985 for http, 5986 for https)")
	f.String("password-env", "AADCREADY_PASSWORD", "environment variable holding the password")
	f.String("password-file", "", "file holding the password, readable by its owner only")
	f.Bool("password-prompt", false, "ask for the password on the terminal")
	f.String("ca-file", "", "PEM file of an extra CA to trust for HTTPS")
	f.Int("concurrency", 16, "hosts tried at once (inventory pre-flight)")
	f.Duration("host-timeout", time.Minute, "deadline per host, retries included")
	f.Int("retries", 0, "retries of connection errors and timeouts (a diagnostic reports the first failure by default)")
	f.String("csv", "", "inventory pre-flight: write the results to this CSV file")
	f.String("stdin", "", "one host: send this file's bytes to the command's standard input (- for this program's own standard input)")
	f.String("stdout", "", "one host: write the command's standard output to this file, byte for byte (the terminal shows it made safe)")
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
		stdin, err := readStdinFlag(cmd, v.GetString("stdin"))
		if err != nil {
			return err
		}
		h := inv.Hosts[0]
		fmt.Fprintf(out, "%s -> %s:%d (%s, %s)\n", h.Name, h.DialAddress(), h.Port, h.Scheme, h.Auth)
		r := scanner.Connect(cmd.Context(), h, opt, command, stdin, func(st scanner.Step) {
			status := "ok"
			if st.Err != "" {
				status = "FAILED"
			}
			fmt.Fprintf(out, "  %-15s %-6s %8s%s\n", stepName(st.Name), status, st.Duration.Round(time.Millisecond), stepDetail(st.Name))
		})
		var stdoutErr error
		if path := v.GetString("stdout"); path != "" && r.OK {
			stdoutErr = atomicfile.Write(path, 0o600, func(w io.Writer) error { _, err := w.Write(r.RawStdout); return err })
		}
		report.WriteConnectResult(out, r)
		if stdoutErr != nil {
			return outputError{fmt.Errorf("--stdout: %w", stdoutErr)}
		}
		if !r.OK {
			return exitError{results.ExitNotChecked}
		}
		return nil
	}
	if v.GetString("stdin") != "" || v.GetString("stdout") != "" {
		return usage("--stdin and --stdout go with one HOST, not the inventory pre-flight")
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

// readStdinFlag reads what --stdin names: a regular file of at most 64
// MiB, or (for -) this program's standard input, under the same cap.
func readStdinFlag(cmd *cobra.Command, path string) ([]byte, error) {
	switch path {
	case "":
		return nil, nil
	case "-":
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), safefile.MaxInventory+1))
		if err == nil && len(b) > safefile.MaxInventory {
			err = fmt.Errorf("more than %d bytes", safefile.MaxInventory)
		}
		if err != nil {
			return nil, usageError{fmt.Errorf("--stdin -: standard input: %w", err)}
		}
		return b, nil
	}
	b, err := safefile.Read(cmd.Context(), path, safefile.MaxInventory)
	if err != nil {
		return nil, usageError{fmt.Errorf("--stdin: %w", err)}
	}
	return b, nil
}

// stepName and stepDetail split a step such as "kerberos-as kdc=dc01:88
// source=password" into its name and what it names, printed after the timing.
func stepName(s string) string { name, _, _ := strings.Cut(s, " "); return name }

func stepDetail(s string) string {
	if _, d, ok := strings.Cut(s, " "); ok {
		return "  " + d
	}
	return ""
}

// kerberosFlags applies --keytab, --spn and --ntlm-fallback (connect) to the
// host settings of --hosts. With kerberos and no password source named on
// purpose, the ticket cache is used: the default AADCREADY_PASSWORD is
// dropped when it is not set, instead of failing the run for a password
// Kerberos does not need.
func kerberosFlags(v interface {
	GetString(string) string
	GetBool(string) bool
}, h *inventory.Host) {
	auth := strings.ToLower(h.Auth)
	if auth != inventory.AuthKerberos && auth != inventory.AuthNegotiate {
		return
	}
	h.Keytab, h.Kerberos.SPN, h.NTLMFallback = v.GetString("keytab"), v.GetString("spn"), v.GetBool("ntlm-fallback")
	if h.Secret.Env == "AADCREADY_PASSWORD" && (os.Getenv(h.Secret.Env) == "" || h.Keytab != "") {
		h.Secret.Env = ""
	}
}

// pick selects one host of an inventory by name, case-insensitively.
func pick(inv *inventory.Inventory, name string) (*inventory.Inventory, error) {
	one, missing := inv.Only([]string{name})
	if len(missing) > 0 {
		return nil, usage("%s: no host named %q", inv.Path, name)
	}
	return one, nil
}
