package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"aadcready/safefile"
	"aadcready/yamlloc"
)

// Settings are checked as strictly as the inventory: viper on its own
// ignores a key it does not know (concurency: 8) and turns a value of the
// wrong type (host-timeout: abc, AADCREADY_KEEP_DAYS=x) into the default,
// so a typo ran the nightly job with settings nobody chose. Every key of
// --config must be a flag of the command and every value, in the file or in
// an AADCREADY_* variable, must parse as that flag's type; each problem is
// reported with file:line (or the variable's name) and the run exits 3.

// readConfig reads --config into v after checking it.
func readConfig(ctx context.Context, cmd *cobra.Command, v *viper.Viper, path string) error {
	data, err := safefile.Read(ctx, path, safefile.MaxSmall)
	if err != nil {
		return usage("--config: %v", err)
	}
	errs := yamlloc.List{File: path}
	if root := yamlloc.Document(data, &errs, "a config file is a single document"); root != nil {
		checkConfig(cmd.Flags(), cmd.CommandPath(), root, &errs)
	}
	if err := errs.Err(); err != nil {
		return usageError{err}
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return usage("--config %s: %v", path, err)
	}
	return nil
}

// checkConfig checks the keys and values of a config file against flags.
func checkConfig(flags *pflag.FlagSet, command string, root *yaml.Node, errs *yamlloc.List) {
	root = yamlloc.Deref(root)
	if root.Kind != yaml.MappingNode {
		errs.Add(root.Line, "", "", "must be a mapping of flag names to values (concurrency: 8)")
		return
	}
	var names []string
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && f.Name != "config" {
			names = append(names, f.Name)
		}
	})
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, val := yamlloc.Deref(root.Content[i]), yamlloc.Deref(root.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			errs.Add(root.Content[i].Line, "", "", "keys must be flag names")
			continue
		}
		key := k.Value
		if first, dup := seen[key]; dup {
			errs.Add(k.Line, "", quoted(key), fmt.Sprintf("set twice (first at line %d)", first))
			continue
		}
		seen[key] = k.Line
		f := flags.Lookup(key)
		if f == nil || !slices.Contains(names, key) {
			hint := yamlloc.Suggest(key, names)
			if hint == "" && strings.HasPrefix(strings.ToLower(key), "pass") {
				errs.Add(k.Line, "", quoted(key), "passwords are never read from the config file; use password_env, password_file or password_prompt in the inventory (docs/inventory.md)")
				continue
			}
			errs.Add(k.Line, "", quoted(key), "unknown setting"+hint+"; the keys are the flag names of the command ("+command+" --help)")
			continue
		}
		if msg := checkValue(f, val); msg != "" {
			errs.Add(val.Line, "", key, msg)
		}
	}
}

// checkValue says what is wrong with a config value for flag f ("" when
// nothing is).
func checkValue(f *pflag.Flag, n *yaml.Node) string {
	switch {
	case yamlloc.IsNull(n):
		return "has no value; remove the key to use the default (" + f.DefValue + ")"
	case f.Value.Type() == "stringSlice" && n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			if item = yamlloc.Deref(item); item.Kind != yaml.ScalarNode {
				return "must be a list of names"
			}
		}
		return ""
	case n.Kind != yaml.ScalarNode:
		return "must be " + typeWord(f.Value.Type()) + ", got a " + map[yaml.Kind]string{yaml.SequenceNode: "list", yaml.MappingNode: "mapping"}[n.Kind]
	case f.Name == "as-of" && n.ShortTag() == "!!timestamp":
		return "" // an unquoted date: asOfSetting reads it
	case f.Name == "as-of":
		if _, err := time.Parse(time.DateOnly, n.Value); err != nil {
			return "must be a date like 2027-04-07, got " + yamlloc.Quote(n.Value)
		}
		return ""
	}
	if err := parseAs(f.Value.Type(), n.Value); err != nil {
		return "must be " + typeWord(f.Value.Type()) + ", got " + shown(f, n.Value)
	}
	return ""
}

// checkEnv checks the AADCREADY_* variables that set a flag of the
// command (and that the flag, when given, does not override).
func checkEnv(flags *pflag.FlagSet, getenv func(string) string) error {
	var errs []string
	flags.VisitAll(func(f *pflag.Flag) {
		name := envName(f.Name)
		val := getenv(name)
		if val == "" || f.Changed || f.Name == "help" {
			return
		}
		if err := parseAs(f.Value.Type(), val); err != nil {
			errs = append(errs, fmt.Sprintf("%s must be %s (--%s), got %s", name, typeWord(f.Value.Type()), f.Name, shown(f, val)))
		}
	})
	if len(errs) > 0 {
		return usage("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// parseAs parses s as a flag of type typ would.
func parseAs(typ, s string) error {
	var err error
	switch typ {
	case "int":
		_, err = strconv.Atoi(s)
	case "duration":
		_, err = time.ParseDuration(s)
	case "bool":
		_, err = strconv.ParseBool(s)
	}
	return err
}

func typeWord(typ string) string {
	switch typ {
	case "int":
		return "a whole number"
	case "duration":
		return "a duration such as 30s, 5m or 1h"
	case "bool":
		return "true or false"
	case "stringSlice":
		return "a name or a list of names"
	}
	return "a string"
}

// shown is a bad value as a message shows it: quoted and cut short, and
// not at all for a password-* setting, where people put the password.
func shown(f *pflag.Flag, val string) string {
	if strings.HasPrefix(f.Name, "password") {
		return fmt.Sprintf("a value of %d characters (not shown)", len(val))
	}
	return yamlloc.Quote(val)
}

// quoted is a key as a message shows it: quoted when it holds anything
// but printable characters without spaces or colons, and cut short.
func quoted(s string) string {
	if s != "" && len(s) <= yamlloc.MaxEcho && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == ':' }) < 0 {
		return s
	}
	return yamlloc.Quote(s)
}

// Bounds of the durations a scan takes. A host deadline of 0 does not mean
// "no deadline" (it once silently became 3m), and a status line every
// nanosecond floods a log.
const minProgressInterval = time.Second

// checkDurations checks the durations of the command, wherever they were
// set.
func checkDurations(flags *pflag.FlagSet, v *viper.Viper) error {
	if flags.Lookup("host-timeout") != nil {
		if d := v.GetDuration("host-timeout"); d <= 0 {
			return usage("--host-timeout must be positive (a deadline per host such as 3m), not %s", d)
		}
	}
	if flags.Lookup("progress-interval") != nil {
		if d := v.GetDuration("progress-interval"); d < minProgressInterval {
			return usage("--progress-interval must be at least %s, not %s", minProgressInterval, d)
		}
	}
	return nil
}

// locateSettings makes every usage error about a setting say where the
// setting was made: a message starting with --NAME about a flag that was
// not on the command line gets the AADCREADY_* variable that set it, or
// the --config file and line ("aadcready.yaml:3: concurrency: --concurrency
// must be at least 1"). The checks themselves stay where they are; this is
// the one place that knows where values come from.
func locateSettings(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		locateSettings(c)
	}
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error { return located(c, run(c, args)) }
	}
}

func located(cmd *cobra.Command, err error) error {
	var ue usageError
	if !errors.As(err, &ue) {
		return err
	}
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "--")
	if !ok {
		return err
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) }); i >= 0 {
		name = name[:i]
	}
	f := cmd.Flags().Lookup(name)
	if f == nil || f.Changed {
		return err
	}
	if env := envName(name); os.Getenv(env) != "" {
		return usage("%s (set by %s)", msg, env)
	}
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		path = os.Getenv(envName("config"))
	}
	if path == "" {
		return err
	}
	data, rerr := safefile.Read(cmd.Context(), path, safefile.MaxSmall)
	if rerr != nil {
		return err
	}
	var errs yamlloc.List
	root := yamlloc.Document(data, &errs, "")
	if root == nil || root.Kind != yaml.MappingNode {
		return err
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Value == name {
			return usageError{yamlloc.Error{File: path, Line: k.Line, Field: name, Msg: msg}}
		}
	}
	return err
}

// envName is the AADCREADY_* variable of a flag.
func envName(flag string) string {
	return "AADCREADY_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
