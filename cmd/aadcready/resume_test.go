//go:build !windows

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"aadcready/catalog"
)

// resumeHosts is the fleet size of the kill-and-resume test: a service
// provider's fleet. AADCREADY_RESUME_HOSTS lowers it for a quick local run.
func resumeHosts(t *testing.T) int {
	if s := os.Getenv("AADCREADY_RESUME_HOSTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10 {
			t.Fatalf("AADCREADY_RESUME_HOSTS=%q: want a number >= 10", s)
		}
		return n
	}
	return 10000
}

// A scan of a large fleet killed outright at a random point (SIGKILL: no
// cleanup, no run.json) and rerun with --resume loses no finished result:
// every host the killed scan had finished is taken over, not scanned again,
// and the rest are scanned. Simulator and scanner run as their own
// processes, as in production.
func TestKilledScanResumesWithoutLosingFinishedHosts(t *testing.T) {
	bin := buildBinary(t)
	n := resumeHosts(t)
	dir := t.TempDir()
	fleet := filepath.Join(dir, "fleet.yaml")
	spec := fmt.Sprintf("address_base: 127.90.0.1\nusers: [{username: 'CONTOSO\\svc', password: %s}]\n"+
		"hosts:\n  - {name: aadc-%%05d, count: %d, profile: ws2019-v2-current, ps_runtime: 50ms}\n", fleetPassword, n)
	if err := os.WriteFile(fleet, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(dir, "inventory.yaml")
	sim := startChild(t, bin, "simulate", "--fleet", fleet, "--inventory-out", inv)
	waitForFile(t, inv, sim)
	t.Setenv("AADCREADY_PASSWORD", fleetPassword)
	out := filepath.Join(dir, "runs")
	args := []string{"scan", "-i", inv, "--out", out, "--concurrency", "500", "--log-level", "info", "--log-format", "json", "--progress=false"}

	first := startChild(t, bin, args...)
	killAfter := n/10 + rand.IntN(n*8/10)
	first.waitForScanned(t, killAfter)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait(t)
	killed := time.Now().UTC()

	second := startChild(t, bin, append(args, "--resume")...)
	if code := second.wait(t); code != 0 {
		t.Fatalf("resumed scan: exit %d\n%s", code, tail(second.errText()))
	}
	m := regexp.MustCompile(`--resume: (\d+) finished hosts taken from`).FindStringSubmatch(second.errText())
	if m == nil {
		t.Fatalf("the resumed scan did not say what it took over:\n%s", tail(second.errText()))
	}
	taken, _ := strconv.Atoi(m[1])
	if taken < killAfter {
		t.Errorf("took over %d hosts, but %d were logged as scanned before the kill", taken, killAfter)
	}

	run := checkRunFolder(t, latestRun(t, out))
	if run.Summary.Total != n || run.Interrupted {
		t.Fatalf("resumed run: %d hosts, interrupted=%v; want %d, complete", run.Summary.Total, run.Interrupted, n)
	}
	before := 0
	for i, h := range run.Hosts {
		if want := fmt.Sprintf("aadc-%05d", i+1); h.Name != want {
			t.Fatalf("host %d is %s, want %s: inventory order lost", i, h.Name, want)
		}
		if h.Verdict != catalog.VerdictOK {
			t.Errorf("%s: %s (%s)", h.Name, h.Verdict, h.Reason)
		}
		if h.Started.Before(killed) {
			before++
		}
	}
	if before != taken {
		t.Errorf("%d hosts in the final run were scanned before the kill, but %d were taken over", before, taken)
	}
	if folders := runFolders(t, out); len(folders) != 1 {
		t.Errorf("run folders %v, want the resumed run only", folders)
	}
}

// waitForFile waits until path exists (the simulator wrote its inventory),
// failing if the child ends first. Bounded: one minute.
func waitForFile(t *testing.T, path string, c *child) {
	t.Helper()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-c.done:
			t.Fatalf("the simulator ended:\n%s", c.errText())
		default:
		}
	}
	t.Fatalf("%s did not appear:\n%s", path, c.errText())
}

func tail(s string) string {
	if lines := strings.Split(s, "\n"); len(lines) > 30 {
		return strings.Join(lines[len(lines)-30:], "\n")
	}
	return s
}
