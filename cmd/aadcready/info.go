package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"aadcready/catalog"
	"aadcready/inventory"
	"aadcready/probes"
	"aadcready/report"
)

func newInventoryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "inventory", Short: "Work with inventory files"}
	validate := &cobra.Command{
		Use:   "validate -i FILE",
		Short: "Check an inventory file without contacting any host",
		Long: `Check an inventory file: unknown keys, duplicate hosts, bad ports, missing or inline
credentials. Every problem is reported with its file, line, host and field. Exit 0 when the
file is valid, 3 when it is not. Passwords are not read, but every password_file is checked
to exist and to be a regular file owned by you (or root) that nobody else can read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, _ := cmd.Flags().GetString("inventory")
			if path == "" {
				return usage("inventory validate needs -i FILE")
			}
			inv, err := inventory.LoadContext(cmd.Context(), path)
			if err != nil {
				return usageError{err}
			}
			if err := inventory.CheckFiles(inv); err != nil {
				return usageError{err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d hosts, valid\n", path, len(inv.Hosts))
			return nil
		},
	}
	validate.Flags().StringP("inventory", "i", "", "inventory YAML file")
	cmd.AddCommand(validate)
	return cmd
}

func newProbesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "probes", Short: "Show what runs on the hosts"}
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the exact PowerShell bundle that runs on every host",
		Long: `Print the exact PowerShell bundle that aadcready sends to every host (read-only probes,
compatible with Windows PowerShell 2.0 to 5.1 and Constrained Language mode), preceded by the
command line that starts it. With --command-line, print only that command line (what a SOC
allowlists: docs/probes.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if only, _ := cmd.Flags().GetBool("command-line"); only {
				fmt.Fprintln(w, probes.CommandLine())
				return nil
			}
			fmt.Fprintf(w, "# Command line (the bootstrap reads the bundle below from stdin):\n#   %s\n", probes.CommandLine())
			fmt.Fprintf(w, "# Bootstrap, decoded:\n%s\n", commentLines(probes.Bootstrap()))
			fmt.Fprint(w, probes.Bundle())
			return nil
		},
	}
	show.Flags().Bool("command-line", false, "print only the command line WinRS runs on each host")
	cmd.AddCommand(show)
	return cmd
}

func commentLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	for i, l := range lines {
		lines[i] = "#   " + strings.TrimRight(l, "\r")
	}
	return strings.Join(lines, "\n")
}

func newChecksCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "checks",
		Short: "List the requirement catalog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cat, err := catalog.Load()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if err := report.WriteCatalog(w, cat); err != nil {
				return err
			}
			fmt.Fprintf(w, "catalog %s: %d requirements; details and sources in docs/catalog.md\n", cat.Version, len(cat.Requirements))
			return nil
		},
	}
}
