package main

import (
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"aadcready/atomicfile"
	"aadcready/catalog"
	"aadcready/probes"
)

const exitCodesHelp = `Exit codes:
  0    every host is OK
  1    some host needs action (FIX, UPGRADE, FIX_THEN_UPGRADE, MIGRATE)
  2    some host could not be checked (INCOMPLETE, UNREACHABLE, NOT_INSTALLED)
  3    usage or configuration error (nothing was scanned)
  4    the scan ran, but some output could not be written (each is named)
  130  interrupted (SIGINT, SIGTERM or SIGHUP); finished hosts are still written`

// version is set at build time (-ldflags "-X main.version=..."); otherwise
// toolVersion reads Go's build information.
var version = ""

// toolVersion is what --version and every report name: the -ldflags
// version, else the module version from the build information.
func toolVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return versionUnknown
	}
	return buildVersion(bi)
}

const versionUnknown = "devel (no VCS information: built by go run or with -buildvcs=false)"

// buildVersion is the module version (a release tag, or from a git
// checkout a pseudo-version holding the commit time and revision, with
// +dirty for uncommitted changes); without one, the VCS revision.
func buildVersion(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return versionUnknown
	}
	if modified == "true" {
		rev += "+dirty"
	}
	return "devel " + rev
}

// versionLine is --version's answer: the tool, the catalog it judges with
// and the probe bundle it sends.
func versionLine() string {
	line := "aadcready " + toolVersion()
	if cat, err := catalog.Load(); err == nil {
		line += ", catalog " + cat.Version
	}
	return line + ", probe bundle " + probes.BundleID() + "\n"
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "aadcready",
		Short: "Readiness of Azure AD Connect servers for AD Connect V2 and today's deadlines",
		Long: `aadcready scans Azure AD Connect (Microsoft Entra Connect Sync) servers over WinRM with
read-only PowerShell probes, scores each against the V2 requirements and the dates
Microsoft set, and says per server: OK, FIX, UPGRADE, FIX_THEN_UPGRADE, MIGRATE, INCOMPLETE,
UNREACHABLE or NOT_INSTALLED, what blocks it and what to do next.

Settings come from flags, AADCREADY_* environment variables (AADCREADY_CONCURRENCY=32)
and an optional --config file, in that order of precedence.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       toolVersion(),
	}
	root.SetVersionTemplate(versionLine())
	root.PersistentFlags().String("config", "", "YAML file with default flag values (keys are flag names)")
	root.PersistentFlags().String("log-format", "text", "log format: text or json")
	root.PersistentFlags().String("log-level", "warn", "log level: debug, info, warn or error")
	root.PersistentFlags().String("log-file", "", "write logs to this file instead of stderr")
	root.PersistentFlags().String("output-mode", "private", "who may read the files and folders written: private (owner only: 0600/0700) or group (0640/0750); never more than the umask allows")
	root.AddCommand(newScanCmd(), newConnectCmd(), newDemoCmd(), newSimulateCmd(), newInventoryCmd(), newProbesCmd(), newChecksCmd(),
		newReportCmd(), newDiffCmd(), newDiscoverCmd())
	locateSettings(root)
	return root
}

// settings binds a command's flags to viper so that each value comes from
// the flag, else AADCREADY_<NAME>, else the --config file, else the default.
func settings(cmd *cobra.Command) (*viper.Viper, error) {
	v := viper.New()
	v.SetEnvPrefix("AADCREADY")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	var bindErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err := v.BindPFlag(f.Name, f); err != nil && bindErr == nil {
			bindErr = err
		}
	})
	if bindErr != nil {
		return nil, bindErr
	}
	if err := checkEnv(cmd.Flags(), os.Getenv); err != nil {
		return nil, err
	}
	if path := v.GetString("config"); path != "" {
		if err := readConfig(cmd.Context(), cmd, v, path); err != nil {
			return nil, err
		}
	}
	if err := checkDurations(cmd.Flags(), v); err != nil {
		return nil, err
	}
	mode, err := atomicfile.ParseMode(v.GetString("output-mode"))
	if err != nil {
		return nil, usage("--output-mode: %v", err)
	}
	atomicfile.SetMode(mode)
	return v, nil
}

// newLogger builds the slog logger from --log-format, --log-level and
// --log-file. The returned closer closes the log file.
func newLogger(v *viper.Viper, stderr io.Writer) (*slog.Logger, func() error, error) {
	h, closer, err := newLogHandler(v, stderr)
	if err != nil {
		return nil, nil, err
	}
	return slog.New(h), closer, nil
}

// newLogHandler is newLogger's handler, for callers that add handlers of
// their own (the run folder's scan.log).
func newLogHandler(v *viper.Viper, stderr io.Writer) (slog.Handler, func() error, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(v.GetString("log-level"))); err != nil {
		return nil, nil, usage("--log-level: %v", err)
	}
	format := v.GetString("log-format")
	if format != "text" && format != "json" {
		return nil, nil, usage("--log-format must be text or json, not %q", format)
	}
	out, closer := stderr, func() error { return nil }
	if path := v.GetString("log-file"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, usage("--log-file: %v", err)
		}
		out, closer = f, f.Close
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.NewJSONHandler(out, opts), closer, nil
	}
	return slog.NewTextHandler(out, opts), closer, nil
}
