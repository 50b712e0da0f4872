package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aadcready/facts"
	"aadcready/results"
	"aadcready/runstore"
	"aadcready/simulator"
)

// testPasswordEnv is the variable the test inventories read passwords from.
const testPasswordEnv = "AADCREADY_TEST_FLEET_PASSWORD"

const testUser = `CONTOSO\svc-aadcready`

// simHost is a simulated host with a healthy PowerShell start-up time.
func simHost(name, profile, password string) simulator.Host {
	return simulator.Host{
		Name: name, Profile: profile, PSRuntime: 20 * time.Millisecond,
		Users: []simulator.User{{Name: testUser, Password: password}},
	}
}

// weakTLS is a fact override that makes tls12-schannel fail on an otherwise
// ready host (and nothing else).
func weakTLS(h simulator.Host) simulator.Host {
	h.Facts = map[string]facts.Fact{"tls.schannel12_client.enabled": {Status: facts.StatusOK, Value: int64(0)}}
	return h
}

// fleet runs simulated hosts on loopback (free ports) until the test ends
// or stop is called, and writes an inventory for them.
type fleet struct {
	srv *simulator.Server
	inv string
}

func startFleet(t *testing.T, hosts ...simulator.Host) *fleet {
	t.Helper()
	srv, err := simulator.Start(context.Background(), &simulator.Fleet{Source: t.Name(), Hosts: hosts}, simulator.Options{})
	if err != nil {
		t.Fatalf("starting the simulated fleet: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  scheme: http\n  auth: ntlm\n  password_env: %s\n  username: '%s'\nhosts:\n", testPasswordEnv, testUser)
	for _, h := range hosts {
		addr, _ := srv.Endpoint(h.Name)
		ip, port := splitHostPort(addr)
		fmt.Fprintf(&b, "  - name: %s\n    address: %s\n    port: %d\n", h.Name, ip, port)
	}
	inv := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(inv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &fleet{srv: srv, inv: inv}
}

func (f *fleet) stop()           { f.srv.Close() }
func (f *fleet) requests() int64 { return f.srv.Stats().Total().Requests }
func (f *fleet) contacts() int64 {
	tot := f.srv.Stats().Total()
	return tot.Connections + tot.Requests
}

// cliResult is what one in-process run of the CLI produced.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs aadcready in-process with args, as main would, and returns
// its output and exit code.
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	return runCLIContext(t, context.Background(), args...)
}

func runCLIContext(t *testing.T, ctx context.Context, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(ctx)
	code, show := codeOf(err)
	if show {
		fmt.Fprintln(&stderr, "aadcready:", err)
	}
	return cliResult{stdout.String(), stderr.String(), code}
}

func readRun(t *testing.T, path string) *results.Run {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := results.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func hostByName(t *testing.T, run *results.Run, name string) results.Host {
	t.Helper()
	for _, h := range run.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no host %q in the run", name)
	return results.Host{}
}

// latestRun returns the folder latest points at in dir.
func latestRun(t *testing.T, dir string) string {
	t.Helper()
	p, err := (&runstore.Store{Dir: dir}).Latest()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runFolders lists dir's run folders, oldest first.
func runFolders(t *testing.T, dir string) []string {
	t.Helper()
	runs, err := (&runstore.Store{Dir: dir}).Runs()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(runs) - 1; i >= 0; i-- {
		out = append(out, runs[i].Name)
	}
	return out
}

// checkRunFolder asserts a run folder is complete and readable.
func checkRunFolder(t *testing.T, dir string) *results.Run {
	t.Helper()
	for _, f := range []string{"run.json", "hosts.csv", "checks.csv", "report.html", "scan.log"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Errorf("run folder %s: %v", filepath.Base(dir), err)
			continue
		}
		if fi.Size() == 0 {
			t.Errorf("run folder %s: %s is empty", filepath.Base(dir), f)
		}
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*")); len(tmp) > 0 {
		t.Errorf("temporary files left in %s: %v", dir, tmp)
	}
	// scan.log is JSON lines.
	data, err := os.ReadFile(filepath.Join(dir, "scan.log"))
	if err == nil {
		for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Errorf("scan.log line %d is not JSON: %q", i+1, line)
				break
			}
		}
	}
	return readRun(t, filepath.Join(dir, "run.json"))
}

func countLines(s, substr string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}
