package scanner

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/facts"
	"aadcready/inventory"
	"aadcready/probes"
	"aadcready/results"
	"aadcready/simulator"
	"aadcready/wsman"
)

const testPassword = "Scanner-Test-Pw-1"

// startFleet serves fleetYAML and returns an inventory for it plus the
// server (for its request counters).
func startFleet(t *testing.T, fleetYAML string) (*inventory.Inventory, *simulator.Server) {
	t.Helper()
	fleet, err := simulator.ParseFleet("test-fleet.yaml", []byte(fleetYAML))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := simulator.Start(context.Background(), fleet, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	inv := &inventory.Inventory{Path: "test"}
	for _, h := range fleet.Hosts {
		addr, _ := srv.Endpoint(h.Name)
		ip, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		inv.Hosts = append(inv.Hosts, inventory.Host{
			Name: h.Name, Address: ip, Port: p, Scheme: "http", Auth: "ntlm",
			Username: h.Users[0].Name, Secret: inventory.SecretRef{Env: "TEST_PW"},
		})
	}
	return inv, srv
}

func options(t *testing.T) Options {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Concurrency: 4,
		HostTimeout: 4 * time.Second,
		Backoff:     10 * time.Millisecond,
		AsOf:        time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Catalog:     cat,
		Password:    func(inventory.SecretRef) (string, error) { return testPassword, nil },
	}
}

func byName(run *results.Run) map[string]results.Host {
	m := map[string]results.Host{}
	for _, h := range run.Hosts {
		m[h.Name] = h
	}
	return m
}

func checkStatus(h results.Host, id string) catalog.Status {
	for _, c := range h.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return ""
}

const mixedFleet = `
users: [{username: 'CONTOSO\svc-scan', password: Scanner-Test-Pw-1}]
hosts:
  - {name: ready, address: 127.0.81.1, profile: ws2019-v2-current}
  - {name: tls-throws, address: 127.0.81.2, profile: ws2019-v2-current, fail_probes: {tls: 'Exception calling "OpenSubKey"'}}
  - {name: garbled, address: 127.0.81.3, profile: ws2019-v2-current, behavior: garbage}
  - {name: down, address: 127.0.81.4, behavior: refuse}
  - {name: hung, address: 127.0.81.5, behavior: hang}
  - {name: v1, address: 127.0.81.6, profile: ws2012r2-v1}
`

func TestScanMixedFleet(t *testing.T) {
	inv, _ := startFleet(t, mixedFleet)
	opt := options(t)
	opt.HostTimeout = 3 * time.Second
	run := Scan(context.Background(), inv, opt)
	hosts := byName(run)

	want := map[string]catalog.Verdict{
		"ready": catalog.VerdictOK, "garbled": catalog.VerdictIncomplete, "down": catalog.VerdictUnreachable,
		"hung": catalog.VerdictUnreachable, "v1": catalog.VerdictMigrate,
	}
	for name, v := range want {
		if got := hosts[name].Verdict; got != v {
			t.Errorf("%s: verdict %s, want %s (reason %q, failure %+v)", name, got, v, hosts[name].Reason, hosts[name].Failure)
		}
	}
	if f := hosts["down"].Failure; f == nil || f.Class != string(wsman.ClassRefused) {
		t.Errorf("down: failure %+v, want class refused", f)
	}
	if f := hosts["hung"].Failure; f == nil || (f.Class != string(wsman.ClassDeadline) && f.Class != string(wsman.ClassResponseTimeout)) {
		t.Errorf("hung: failure %+v, want a deadline or response timeout", f)
	}

	// One probe that throws loses only its own facts: the TLS checks become
	// could-not-check with the probe's reason, the rest are judged.
	th := hosts["tls-throws"]
	for _, id := range []string{"tls12-dotnet-auto-upgrade", "tls12-schannel"} {
		if st := checkStatus(th, id); st != catalog.StatusCouldNotCheck {
			t.Errorf("tls-throws: %s = %s, want could_not_check", id, st)
		}
	}
	for _, id := range []string{"os-supported-version", "dotnet-framework", "aadc-build-2-5-79"} {
		if st := checkStatus(th, id); st != catalog.StatusPass {
			t.Errorf("tls-throws: %s = %s, want pass", id, st)
		}
	}
	if ps := th.Facts.Probes["tls"]; ps.Status != facts.ProbeFailed {
		t.Errorf("tls-throws: tls probe status %+v, want failed", ps)
	}
	if run.Summary.Total != len(inv.Hosts) || run.Interrupted {
		t.Errorf("summary %+v interrupted=%v", run.Summary, run.Interrupted)
	}
	if code := run.ExitCode(); code != results.ExitNotChecked {
		t.Errorf("exit code %d, want %d", code, results.ExitNotChecked)
	}
}

func TestScanPaddedBundlePast100KB(t *testing.T) {
	inv, srv := startFleet(t, `
users: [{username: 'CONTOSO\svc-scan', password: Scanner-Test-Pw-1}]
hosts:
  - {name: big, address: 127.0.81.20, profile: ws2019-v2-current, max_envelope_kb: 150}
`)
	opt := options(t)
	opt.Bundle = probes.BundleWithPadding(110 << 10)
	if len(opt.Bundle) <= 100<<10 {
		t.Fatalf("padded bundle is only %d bytes", len(opt.Bundle))
	}
	run := Scan(context.Background(), inv, opt)
	h := run.Hosts[0]
	if h.Verdict != catalog.VerdictOK {
		t.Fatalf("verdict %s (%s), failure %+v, problems %v", h.Verdict, h.Reason, h.Failure, h.ProbeProblems)
	}
	if sends := srv.Stats().Hosts["big"].Ops.Send; sends < 2 {
		t.Errorf("a >100 KB bundle over a 150 KB envelope should take several Send requests, took %d", sends)
	}
}

func TestScanWrongPasswordIsTriedOncePerHostThenDisabled(t *testing.T) {
	var fleet string = "users: [{username: 'CONTOSO\\svc-scan', password: right}]\nhosts:\n"
	for i := 1; i <= 6; i++ {
		fleet += "  - {name: h" + strconv.Itoa(i) + ", address: 127.0.81." + strconv.Itoa(40+i) + ", profile: ws2019-v2-current}\n"
	}
	inv, srv := startFleet(t, fleet)
	opt := options(t)
	opt.Concurrency = 1 // deterministic order: the first three refuse, the rest are skipped
	opt.Password = func(inventory.SecretRef) (string, error) { return "wrong", nil }
	run := Scan(context.Background(), inv, opt)
	stats := srv.Stats()
	for i, h := range run.Hosts {
		attempts := stats.Hosts[h.Name].AuthAttempts
		switch {
		case i < 3:
			if h.Failure == nil || h.Failure.Class != string(wsman.ClassAuthRefused) || attempts != 1 {
				t.Errorf("%s: failure %+v after %d logon attempts, want auth_refused after exactly 1", h.Name, h.Failure, attempts)
			}
		default:
			if h.Failure == nil || h.Failure.Class != classCredentialDisabled || attempts != 0 {
				t.Errorf("%s: failure %+v after %d logon attempts, want credential_disabled and none", h.Name, h.Failure, attempts)
			}
		}
		if h.Verdict != catalog.VerdictUnreachable {
			t.Errorf("%s: verdict %s, want UNREACHABLE", h.Name, h.Verdict)
		}
	}
	if len(run.CredentialsDisabled) != 1 {
		t.Errorf("credentials disabled: %v", run.CredentialsDisabled)
	}
}

func TestScanCancelledKeepsFinishedHosts(t *testing.T) {
	inv, _ := startFleet(t, `
users: [{username: 'CONTOSO\svc-scan', password: Scanner-Test-Pw-1}]
hosts:
  - {name: fast, address: 127.0.81.60, profile: ws2019-v2-current}
  - {name: slow1, address: 127.0.81.61, profile: ws2019-v2-current, ps_runtime: 30s}
  - {name: slow2, address: 127.0.81.62, profile: ws2019-v2-current, ps_runtime: 30s}
`)
	opt := options(t)
	opt.Concurrency = 2
	opt.HostTimeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	opt.OnHostDone = func(h results.Host) {
		if h.Name == "fast" {
			cancel()
		}
	}
	run := Scan(ctx, inv, opt)
	hosts := byName(run)
	if !run.Interrupted || run.ExitCode() != results.ExitInterrupted {
		t.Fatalf("interrupted=%v exit=%d", run.Interrupted, run.ExitCode())
	}
	if hosts["fast"].Verdict != catalog.VerdictOK {
		t.Errorf("finished host lost: %+v", hosts["fast"])
	}
	for _, n := range []string{"slow1", "slow2"} {
		if h := hosts[n]; !h.Cancelled() {
			t.Errorf("%s: failure %+v, want cancelled or not_started", n, h.Failure)
		}
	}
}

// A host whose PowerShell outlives the deadline after the first probes
// have written keeps their facts: the bundle writes after every probe.
func TestScanDeadlineKeepsFactsOfFinishedProbes(t *testing.T) {
	inv, _ := startFleet(t, `
users: [{username: 'CONTOSO\svc-scan', password: Scanner-Test-Pw-1}]
hosts:
  - {name: stuck, address: 127.0.81.70, profile: ws2019-v2-current, hang_after_probe: hardware}
`)
	opt := options(t)
	opt.HostTimeout = 2 * time.Second
	run := Scan(context.Background(), inv, opt)
	h := run.Hosts[0]
	if h.Failure == nil || h.Failure.Class != string(wsman.ClassDeadline) {
		t.Fatalf("failure %+v, want the host deadline", h.Failure)
	}
	if st := checkStatus(h, "os-supported-version"); st != catalog.StatusPass {
		t.Errorf("os-supported-version = %s: the os probe's facts were lost", st)
	}
	if ps := h.Facts.Probes["adsync"]; ps.Status != facts.ProbeMissing || !strings.Contains(ps.Reason, "cut short") {
		t.Errorf("adsync probe %+v, want missing with the reason the output was cut short", ps)
	}
}

// Hosts held back by the credential guard behind hung hosts get their
// whole deadline once their turn comes: the wait is not theirs. (It once
// made healthy hosts UNREACHABLE "not finished within the host deadline"
// after 0 requests.)
func TestGuardWaitIsNotTheHostsTime(t *testing.T) {
	inv, _ := startFleet(t, `
users: [{username: 'CONTOSO\svc-scan', password: Scanner-Test-Pw-1}]
hosts:
  - {name: hung1, address: 127.0.81.80, behavior: hang}
  - {name: hung2, address: 127.0.81.81, behavior: hang}
  - {name: hung3, address: 127.0.81.82, behavior: hang}
  - {name: hung4, address: 127.0.81.83, behavior: hang}
  - {name: ok1, address: 127.0.81.84, profile: ws2019-v2-current}
  - {name: ok2, address: 127.0.81.85, profile: ws2019-v2-current}
`)
	opt := options(t)
	opt.Concurrency = len(inv.Hosts)
	opt.LockoutThreshold = 2
	opt.Retries = -1
	opt.HostTimeout = 1500 * time.Millisecond
	// The hung hosts go first: each holds one of the two turns until its
	// deadline, so the healthy ones wait two deadlines for theirs.
	run := Scan(context.Background(), inv, opt)
	hosts := byName(run)
	for _, n := range []string{"hung1", "hung2", "hung3", "hung4"} {
		if f := hosts[n].Failure; f == nil || f.Class != string(wsman.ClassDeadline) {
			t.Errorf("%s: failure %+v, want the host deadline", n, f)
		}
	}
	for _, n := range []string{"ok1", "ok2"} {
		if h := hosts[n]; h.Verdict != catalog.VerdictOK {
			t.Errorf("%s: %s %+v, want OK", n, h.Verdict, h.Failure)
		}
	}
}

// A host still waiting for its turn when the scan is interrupted says it
// was never contacted (class not_started), and counts as cancelled
// (rescanned with :cancelled).
func TestGuardWaitInterrupted(t *testing.T) {
	inv, _ := startFleet(t, `
users: [{username: 'CONTOSO\svc-scan', password: Scanner-Test-Pw-1}]
hosts:
  - {name: hung1, address: 127.0.81.90, behavior: hang}
  - {name: hung2, address: 127.0.81.91, behavior: hang}
`)
	opt := options(t)
	opt.Concurrency = 2
	opt.LockoutThreshold = 1
	opt.HostTimeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel) // the operator's Ctrl-C
	run := Scan(ctx, inv, opt)
	never := 0
	for _, h := range run.Hosts {
		if !h.Cancelled() {
			t.Errorf("%s: %+v, want cancelled", h.Name, h.Failure)
		}
		if h.Failure != nil && h.Failure.Class == results.ClassNotStarted && strings.Contains(h.Failure.Message, "never contacted") && h.Requests == 0 {
			never++
		}
	}
	if never != 1 {
		t.Errorf("%d hosts say they were never contacted, want 1 (the one waiting for its turn): %+v", never, run.Hosts)
	}
}

// Every line of a JSON debug log names its host once: the scanner leaves
// the key to wsman, which adds it to its own lines.
func TestDebugLogNamesTheHostOnce(t *testing.T) {
	inv, _ := startFleet(t, `
users: [{username: 'CONTOSO\svc-scan', password: Scanner-Test-Pw-1}]
hosts:
  - {name: aadc-log, address: 127.0.81.95, profile: ws2019-v2-current}
`)
	var buf bytes.Buffer
	var mu sync.Mutex
	opt := options(t)
	opt.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	Scan(context.Background(), inv, opt)
	mu.Lock()
	defer mu.Unlock()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	withHost := 0
	for _, line := range lines {
		if n := strings.Count(line, `"host":`); n > 1 {
			t.Errorf("host named %d times: %s", n, line)
		} else if n == 1 {
			withHost++
		}
	}
	if withHost < 2 {
		t.Errorf("only %d of %d debug lines name the host: the test saw no wsman lines", withHost, len(lines))
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
