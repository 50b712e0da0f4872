package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aadcready/simulator"
)

// TestSimulateStatsOut: a simulator stopped by its context writes what each
// host saw; a pre-flight of its inventory (hostname on each host) is two
// NTLM legs and five WS-Management requests per host on one connection.
func TestSimulateStatsOut(t *testing.T) {
	dir := t.TempDir()
	fleet := filepath.Join(dir, "fleet.yaml")
	err := os.WriteFile(fleet, []byte(`address_base: 127.24.0.1
users: [{username: 'CONTOSO\svc-aadcready', password: Stats-Pw-1}]
hosts:
  - {name: stats-%d, count: 2, port: 0}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AADCREADY_PASSWORD", "Stats-Pw-1")
	inv, stats := filepath.Join(dir, "inventory.yaml"), filepath.Join(dir, "stats.json")
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan cliResult, 1)
	go func() {
		served <- runCLIContext(t, ctx, "simulate", "--fleet", fleet, "--inventory-out", inv, "--stats-out", stats)
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(inv); err == nil {
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("no inventory from the simulator: %+v", <-served)
		}
	}
	if r := runCLI(t, "connect", "-i", inv); r.code != 0 {
		stop()
		t.Fatalf("pre-flight: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	stop()
	if r := <-served; r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Total simulator.HostStats            `json:"total"`
		Hosts map[string]simulator.HostStats `json:"hosts"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if len(doc.Hosts) != 2 || doc.Total.Requests != 14 {
		t.Fatalf("stats %s: want 2 hosts and 14 requests", b)
	}
	for name, h := range doc.Hosts {
		if h.Connections != 1 || h.Requests != 7 || h.AuthAttempts != 1 || h.Ops.Create != 1 || h.Ops.Delete != 1 || h.ShellsOpen != 0 {
			t.Errorf("%s: %+v", name, h)
		}
	}
}
