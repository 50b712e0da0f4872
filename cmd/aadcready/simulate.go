package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"aadcready/atomicfile"
	"aadcready/inventory"
	"aadcready/simulator"
)

func newSimulateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate [--fleet FILE]",
		Short: "Serve a simulated fleet of Windows WinRM hosts on loopback",
		Long: `Serve a fleet of simulated Windows hosts, each on its own 127.x.y.z address and port 5985
(and 5986 when it has HTTPS), with Windows' default WinRM settings, until interrupted. The
fleet file gives each host's credentials, service settings, behaviour (refuse, hang, garbage,
slow, injected faults) and the facts its probes report; see docs/simulator.md. Without
--fleet the demo fleet is served.

--inventory-out writes an inventory for the fleet (passwords from $AADCREADY_PASSWORD, which
must hold the fleet's password; --ca-out writes the fleet's CA for its HTTPS listeners).
--stats-out writes, when the simulator stops, what each host saw (connections, HTTP
requests, logons, faults, WS-Management operations) as JSON: the fleet benchmark's
request counts (docs/performance.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fleet := simulator.DemoFleet()
			if path, _ := cmd.Flags().GetString("fleet"); path != "" {
				var err error
				if fleet, err = simulator.LoadFleet(path); err != nil {
					return usageError{err}
				}
			}
			srv, err := simulator.Start(cmd.Context(), fleet, simulator.Options{})
			if err != nil {
				return err
			}
			defer srv.Close()
			if err := srv.Describe(cmd.OutOrStdout()); err != nil {
				return err
			}
			if path, _ := cmd.Flags().GetString("ca-out"); path != "" {
				if err := atomicfile.WriteBytes(path, 0o644, srv.CAPEM()); err != nil {
					return err
				}
			}
			if path, _ := cmd.Flags().GetString("inventory-out"); path != "" {
				if err := atomicfile.WriteBytes(path, 0o644, simulatorInventoryYAML(fleet, srv)); err != nil {
					return err
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "serving; interrupt (Ctrl-C) to stop")
			<-cmd.Context().Done()
			if path, _ := cmd.Flags().GetString("stats-out"); path != "" {
				return writeSimulatorStats(path, srv.Stats())
			}
			return nil
		},
	}
	cmd.Flags().String("fleet", "", "fleet YAML file (default: the built-in demo fleet)")
	cmd.Flags().String("inventory-out", "", "write an inventory for this fleet to FILE")
	cmd.Flags().String("ca-out", "", "write the CA certificate of the HTTPS listeners to FILE")
	cmd.Flags().String("stats-out", "", "when stopped, write the per-host request counters to FILE as JSON")
	return cmd
}

// writeSimulatorStats writes the counters of a stopped simulator: the
// fleet's totals and every host's.
func writeSimulatorStats(path string, st simulator.Stats) error {
	doc := struct {
		Total simulator.HostStats            `json:"total"`
		Hosts map[string]simulator.HostStats `json:"hosts"`
	}{st.Total(), st.Hosts}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, 0o644, append(b, '\n'))
}

func newDemoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Scan a built-in simulated fleet (no Windows needed)",
		Long: `Start the built-in simulated fleet on loopback (127.0.10.x:5985, Windows defaults: HTTP with
sealed NTLM; aadc-https over HTTPS on 5986, verified against the fleet's own CA) and scan it
like a real inventory in about 4 seconds: every verdict appears, plus hosts that refuse
connections, hang (the host timeout is 4s here) and print garbage. Takes the same output
flags as scan.

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := settings(cmd)
			if err != nil {
				return err
			}
			fleet := simulator.DemoFleet()
			srv, err := simulator.Start(cmd.Context(), fleet, simulator.Options{})
			if err != nil {
				return fmt.Errorf("starting the simulated fleet: %w", err)
			}
			defer srv.Close()
			// The HTTPS host is verified against the fleet's CA, as a real
			// one is against an inventory's ca_file.
			dir, err := os.MkdirTemp("", "aadcready-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			caFile := filepath.Join(dir, "simulator-ca.pem")
			if err := os.WriteFile(caFile, srv.CAPEM(), 0o600); err != nil {
				return err
			}
			inv, passwords := simulatorInventory(fleet, srv, caFile)
			password := func(ref inventory.SecretRef) (string, error) { return passwords[ref.Env], nil }
			return runScan(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), v, inv, password)
		},
	}
	addScanFlags(cmd)
	// The demo's hung host should not hold the terminal for the real
	// default: 4 s is longer than any other demo host takes (the slow one
	// about 2.5 s) and keeps the whole demo under 5 s.
	f := cmd.Flags().Lookup("host-timeout")
	_ = f.Value.Set(demoHostTimeout.String())
	f.DefValue = demoHostTimeout.String()
	return cmd
}

const demoHostTimeout = 4 * time.Second

// simulatorInventory builds an inventory for a running fleet. Each host's
// secret names a per-host key in the returned map, so the demo passes
// passwords in memory, never through argv or the environment. A host with
// an HTTPS listener is reached over HTTPS, trusting the CA in caFile.
func simulatorInventory(fleet *simulator.Fleet, srv *simulator.Server, caFile string) (*inventory.Inventory, map[string]string) {
	inv := &inventory.Inventory{Path: "(simulated fleet)"}
	passwords := map[string]string{}
	for _, h := range fleet.Hosts {
		addr, httpsAddr := srv.Endpoint(h.Name)
		scheme, ca := "http", ""
		if httpsAddr != "" {
			addr, scheme, ca = httpsAddr, "https", caFile
		}
		ip, port := splitHostPort(addr)
		key := "demo:" + h.Name
		passwords[key] = h.Users[0].Password
		inv.Hosts = append(inv.Hosts, inventory.Host{
			Name: h.Name, Address: ip, Port: port, Scheme: scheme, Auth: "ntlm", CAFile: ca,
			Username: h.Users[0].Name, Secret: inventory.SecretRef{Env: key},
			Tags: map[string]string{"environment": "demo"},
		})
	}
	return inv, passwords
}

func simulatorInventoryYAML(fleet *simulator.Fleet, srv *simulator.Server) []byte {
	out := "# Inventory for a simulated fleet (aadcready simulate --inventory-out).\n" +
		"# Passwords come from $AADCREADY_PASSWORD.\ndefaults:\n  scheme: http\n  auth: ntlm\n  password_env: AADCREADY_PASSWORD\nhosts:\n"
	for _, h := range fleet.Hosts {
		addr, _ := srv.Endpoint(h.Name)
		ip, port := splitHostPort(addr)
		out += fmt.Sprintf("  - name: %s\n    address: %s\n    port: %d\n    username: %s\n",
			strconv.Quote(h.Name), ip, port, strconv.Quote(h.Users[0].Name))
	}
	return []byte(out)
}

func splitHostPort(addr string) (string, int) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	n, _ := strconv.Atoi(port)
	return host, n
}
