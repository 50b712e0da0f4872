//go:build !windows

package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/runstore"
	"aadcready/simulator"
)

// buildBinary builds aadcready into a temporary folder, once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "aadcready")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is the built binary running a scan, with its stderr followed line
// by line.
type child struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	lines  chan string
	done   chan struct{}
}

func startChild(t *testing.T, bin string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...), lines: make(chan string, 1024), done: make(chan struct{})}
	c.cmd.Stdout = &bytes.Buffer{}
	pipe, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		defer close(c.lines)
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.mu.Lock()
			c.stderr.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

// waitForScanned blocks until n hosts were logged as scanned (or the child
// ended, which fails the test).
func (c *child) waitForScanned(t *testing.T, n int) {
	t.Helper()
	seen := 0
	for line := range c.lines {
		if strings.Contains(line, `"msg":"host scanned"`) {
			if seen++; seen == n {
				return
			}
		}
	}
	t.Fatalf("the scan ended after %d hosts, before %d were scanned:\n%s", seen, n, c.errText())
}

// wait waits for the child to exit (a generous safety limit, not a timing
// assertion) and returns its exit code.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	exited := make(chan error, 1)
	go func() { <-c.done; exited <- c.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(2 * time.Minute):
		c.cmd.Process.Kill()
		<-exited // Wait has set ProcessState; the cleanup reads it
		t.Fatalf("the scan did not end:\n%s", c.errText())
	}
	return c.cmd.ProcessState.ExitCode()
}

func (c *child) errText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// slowFleet has three quick hosts and two whose PowerShell runs for an
// hour: a scan of it is always mid-run once the quick ones are done.
func slowFleet(t *testing.T) *fleet {
	var hosts []simulator.Host
	for _, n := range []string{"aadc-q1", "aadc-q2", "aadc-q3"} {
		hosts = append(hosts, simHost(n, "ws2019-v2-current", fleetPassword))
	}
	for _, n := range []string{"aadc-slow1", "aadc-slow2"} {
		h := simHost(n, "ws2019-v2-current", fleetPassword)
		h.PSRuntime = time.Hour
		hosts = append(hosts, h)
	}
	return startFleet(t, hosts...)
}

// A scan stopped with SIGTERM mid-run writes a complete, readable run
// folder with the finished hosts and the cancelled ones, exits 130, prints
// no escape codes to a non-terminal stderr, and the next run starts.
func TestSIGTERMWritesCompleteRunFolder(t *testing.T) {
	bin := buildBinary(t)
	t.Setenv(testPasswordEnv, fleetPassword)
	f := slowFleet(t)
	out := filepath.Join(t.TempDir(), "runs")

	c := startChild(t, bin, "scan", "-i", f.inv, "--out", out, "--log-level", "info", "--log-format", "json",
		"--host-timeout", "1h", "--progress-interval", "1h")
	c.waitForScanned(t, 3)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, c.errText())
	}
	stderr := c.errText()
	if strings.Contains(stderr, "\x1b") {
		t.Errorf("escape codes on a non-terminal stderr: %q", stderr)
	}
	if !strings.Contains(stderr, "progress: 5/5 hosts done (ok 3, need action 0, could not check 0, cancelled 2)") {
		t.Errorf("no final progress line:\n%s", stderr)
	}
	folders := runFolders(t, out)
	if len(folders) != 1 || filepath.Base(latestRun(t, out)) != folders[0] {
		t.Fatalf("run folders %v after SIGTERM, want one, pointed at by latest", folders)
	}
	run := checkRunFolder(t, filepath.Join(out, folders[0]))
	if !run.Interrupted || run.Summary.Total != 5 {
		t.Errorf("run interrupted=%v total=%d", run.Interrupted, run.Summary.Total)
	}
	for _, h := range run.Hosts {
		slow := strings.HasPrefix(h.Name, "aadc-slow")
		switch {
		case slow && (h.Failure == nil || h.Failure.Class != "cancelled"):
			t.Errorf("%s: %s %+v, want cancelled", h.Name, h.Verdict, h.Failure)
		case !slow && h.Verdict != catalog.VerdictOK:
			t.Errorf("%s: %s, want OK (finished before the signal)", h.Name, h.Verdict)
		}
	}
	log, _ := os.ReadFile(filepath.Join(out, folders[0], "scan.log"))
	if n := countLines(string(log), `"msg":"host scanned"`); n < 3 {
		t.Errorf("scan.log has %d 'host scanned' lines", n)
	}
	if stale, _ := (&runstore.Store{Dir: out}).Stale(); len(stale) > 0 {
		t.Errorf("staging folders left: %v", stale)
	}
	// Re-rendering the interrupted run is not itself interrupted: its
	// cancelled hosts count as not checked.
	if r := runCLI(t, "report", "latest", "--out", out); r.code != 2 || !strings.Contains(r.stdout, "interrupted") {
		t.Errorf("report of the interrupted run: exit %d, want 2\n%s", r.code, r.stdout)
	}

	// The next run is not blocked, and can rescan exactly the cancelled
	// hosts (quick this time).
	f.stop()
	again := startFleet(t,
		simHost("aadc-q1", "ws2019-v2-current", fleetPassword), simHost("aadc-q2", "ws2019-v2-current", fleetPassword),
		simHost("aadc-q3", "ws2019-v2-current", fleetPassword), simHost("aadc-slow1", "ws2019-v2-current", fleetPassword),
		simHost("aadc-slow2", "ws2019-v2-current", fleetPassword))
	next := startChild(t, bin, "scan", "-i", again.inv, "--out", out, "--only", "latest:cancelled")
	if code := next.wait(t); code != 0 {
		t.Fatalf("the next run: exit %d\n%s", code, next.errText())
	}
	if st := again.srv.Stats().Hosts; st["aadc-q1"].Requests != 0 || st["aadc-slow1"].Requests == 0 {
		t.Errorf("--only latest:cancelled scanned the wrong hosts: %+v", st)
	}
	if got := runFolders(t, out); len(got) != 2 {
		t.Errorf("run folders %v, want the interrupted run and the rescan", got)
	}
}

// A scan killed outright (SIGKILL: no chance to clean up) leaves no run
// folder and no usable latest change; its lock dies with it, and the next
// run with pruning removes its staging folder.
func TestKilledScanDoesNotBlockNextRun(t *testing.T) {
	bin := buildBinary(t)
	t.Setenv(testPasswordEnv, fleetPassword)
	f := slowFleet(t)
	out := filepath.Join(t.TempDir(), "runs")

	c := startChild(t, bin, "scan", "-i", f.inv, "--out", out, "--log-level", "info", "--log-format", "json", "--host-timeout", "1h")
	c.waitForScanned(t, 3)
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.wait(t)
	store := &runstore.Store{Dir: out}
	if got := runFolders(t, out); len(got) != 0 {
		t.Errorf("a killed scan left run folders %v", got)
	}
	stale, _ := store.Stale()
	if len(stale) != 1 {
		t.Fatalf("staging folders %v, want the killed run's", stale)
	}

	f.stop()
	quick := startFleet(t, simHost("aadc-q1", "ws2019-v2-current", fleetPassword))
	next := startChild(t, bin, "scan", "-i", quick.inv, "--out", out, "--keep", "5")
	if code := next.wait(t); code != 0 {
		t.Fatalf("the next run: exit %d\n%s", code, next.errText())
	}
	if got := runFolders(t, out); len(got) != 1 {
		t.Errorf("run folders %v", got)
	}
	if stale, _ := store.Stale(); len(stale) != 0 {
		t.Errorf("pruning left the killed run's staging folder: %v", stale)
	}
}

// A terminal that goes away (SIGHUP) loses no finished result: the scan
// ends as on SIGTERM, writes its files and exits 130.
func TestSIGHUPWritesTheFiles(t *testing.T) {
	bin := buildBinary(t)
	t.Setenv(testPasswordEnv, fleetPassword)
	f := slowFleet(t)
	jsonPath := filepath.Join(t.TempDir(), "run.json")
	c := startChild(t, bin, "scan", "-i", f.inv, "--json", jsonPath, "--log-level", "info", "--log-format", "json",
		"--host-timeout", "1h", "--progress=false")
	c.waitForScanned(t, 3)
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, c.errText())
	}
	run := readRun(t, jsonPath)
	ok := 0
	for _, h := range run.Hosts {
		if h.Verdict == catalog.VerdictOK {
			ok++
		}
	}
	if !run.Interrupted || len(run.Hosts) != 5 || ok != 3 {
		t.Errorf("run interrupted=%v, %d hosts, %d OK; want interrupted, 5 hosts, the 3 finished OK", run.Interrupted, len(run.Hosts), ok)
	}
}
