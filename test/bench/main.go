//go:build linux

// Command bench is the fleet benchmark (docs/performance.md). It builds the
// aadcready binary, serves a simulated fleet from its own process
// (`aadcready simulate`: N hosts, each on its own 127.x.y.z, with a latency
// added to every HTTP response and a PowerShell run time), scans it from
// another process (`aadcready scan -i INV --concurrency C`), and reports from
// the operating system's accounting (wait4 rusage, /proc): wall time against
// the ideal ⌈N/C⌉ × one host's time, CPU per host, peak RSS, the simulator's
// CPU, HTTP requests per host and hosts per verdict. It does so over sealed
// NTLM on HTTP, over HTTPS and with Kerberos (an MIT KDC on loopback,
// counting its requests per host), then runs `hostname` on the same fleet through
// `aadcready connect -i`, a pywinrm thread pool and Ansible's raw module, for
// the peer comparison.
//
//	go run ./test/bench                       # 2,000 hosts, concurrency 200, 20 ms, 1.5 s
//	go run ./test/bench -hosts 10000 -concurrency 500 -schemes http -peers ''
//
// Every client run is bounded by -timeout; the simulator is stopped after
// each phase.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"aadcready/results"
	simpkg "aadcready/simulator"
	"aadcready/test/krbtest"
)

type config struct {
	hosts, concurrency int
	latency, psRuntime time.Duration
	schemes, peers     []string
	peerHosts          int
	addressBase        string
	singles            int
	jsonOut, work      string
	keep, profile      bool
	scanJSON           bool
	timeout            time.Duration

	root, bin string       // the module's directory, the aadcready binary
	kdc       *krbtest.KDC // during the kerberos scan phase
}

func main() {
	var cfg config
	var schemes, peers string
	flag.IntVar(&cfg.hosts, "hosts", 2000, "simulated hosts (N)")
	flag.IntVar(&cfg.concurrency, "concurrency", 200, "hosts in flight (C), for the scanner and every peer")
	flag.DurationVar(&cfg.latency, "latency", 20*time.Millisecond, "delay the simulator adds to every HTTP response, NTLM handshake legs included")
	flag.DurationVar(&cfg.psRuntime, "ps-runtime", 1500*time.Millisecond, "how long the simulated PowerShell runs the probe bundle")
	flag.StringVar(&schemes, "schemes", "http,https,kerberos", "scan over: http (sealed NTLM), https (NTLM over TLS), kerberos (sealed Kerberos on HTTP, MIT KDC on loopback); comma-separated")
	flag.StringVar(&peers, "peers", "connect,pywinrm,ansible", "peer comparison (hostname over HTTP): connect, pywinrm, ansible; '' for none")
	flag.IntVar(&cfg.peerHosts, "peer-hosts", 0, "hosts for the peer comparison (0: all N)")
	flag.StringVar(&cfg.addressBase, "address-base", "127.20.0.1", "first simulated host's address")
	flag.IntVar(&cfg.singles, "single-runs", 3, "single-host scans whose median is one host's time")
	flag.StringVar(&cfg.jsonOut, "json", "", "also write the results to this JSON file")
	flag.StringVar(&cfg.work, "work", "", "directory for the fleet, inventories, outputs and profiles (default: a new temporary one)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temporary work directory")
	flag.BoolVar(&cfg.profile, "profile", false, "write CPU and heap profiles of the scanner and simulator processes of each fleet scan to the work directory")
	flag.BoolVar(&cfg.scanJSON, "scan-json", false, "make the fleet scans write the JSON run document too (--json)")
	flag.DurationVar(&cfg.timeout, "timeout", 45*time.Minute, "bound on the whole benchmark")
	flag.Parse()
	cfg.schemes = splitList(schemes)
	cfg.peers = splitList(peers)
	if cfg.peerHosts <= 0 || cfg.peerHosts > cfg.hosts {
		cfg.peerHosts = cfg.hosts
	}
	if err := validate(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	err := benchmark(ctx, &cfg)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func validate(cfg config) error {
	switch {
	case cfg.hosts < 1 || cfg.concurrency < 1 || cfg.singles < 1:
		return errors.New("-hosts, -concurrency and -single-runs must be at least 1")
	case cfg.latency < 0 || cfg.psRuntime < 0:
		return errors.New("-latency and -ps-runtime must not be negative")
	}
	for _, s := range cfg.schemes {
		if s != "http" && s != "https" && s != "kerberos" {
			return fmt.Errorf("-schemes: unknown %q (http, https, kerberos)", s)
		}
	}
	for _, p := range cfg.peers {
		if !slices.Contains([]string{"connect", "pywinrm", "ansible"}, p) {
			return fmt.Errorf("-peers: unknown %q (connect, pywinrm, ansible)", p)
		}
	}
	return nil
}

// report is everything one benchmark run measured (-json).
type report struct {
	Machine     machine      `json:"machine"`
	Hosts       int          `json:"hosts"`
	Concurrency int          `json:"concurrency"`
	LatencyMS   float64      `json:"latency_ms"`
	PSRuntimeMS float64      `json:"ps_runtime_ms"`
	Scans       []scanResult `json:"scans"`
	Peers       []peerResult `json:"peers,omitempty"`
	PeerHosts   int          `json:"peer_hosts,omitempty"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	Go        string `json:"go"`
	NoFile    uint64 `json:"rlimit_nofile"`
	Kernel    string `json:"kernel"`
	StartedAt string `json:"started_at"`
}

func benchmark(ctx context.Context, cfg *config) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cfg.root = root
	if cfg.work == "" {
		if cfg.work, err = os.MkdirTemp("", "aadcready-bench-"); err != nil {
			return err
		}
		if !cfg.keep {
			defer os.RemoveAll(cfg.work)
		}
	} else if err := os.MkdirAll(cfg.work, 0o755); err != nil {
		return err
	}
	if cfg.work, err = filepath.Abs(cfg.work); err != nil {
		return err
	}
	nofile, err := raiseFileLimit(cfg)
	if err != nil {
		return err
	}
	cfg.bin = filepath.Join(cfg.work, "aadcready")
	build := exec.CommandContext(ctx, "go", "build", "-o", cfg.bin, "./cmd/aadcready")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building aadcready: %w", err)
	}
	rep := report{
		Machine:     machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), NoFile: nofile, Kernel: kernel(), StartedAt: time.Now().UTC().Format(time.RFC3339)},
		Hosts:       cfg.hosts,
		Concurrency: cfg.concurrency,
		LatencyMS:   ms(cfg.latency),
		PSRuntimeMS: ms(cfg.psRuntime),
	}
	fmt.Printf("fleet benchmark: %d hosts, concurrency %d, %v per HTTP response, PowerShell %v; %d CPUs, %s, RLIMIT_NOFILE %d; work dir %s\n\n",
		cfg.hosts, cfg.concurrency, cfg.latency, cfg.psRuntime, rep.Machine.CPUs, rep.Machine.Go, nofile, cfg.work)
	for _, scheme := range cfg.schemes {
		r, err := scanPhase(ctx, cfg, scheme)
		if err != nil {
			return fmt.Errorf("scan over %s: %w", scheme, err)
		}
		r.print(os.Stdout)
		rep.Scans = append(rep.Scans, r)
	}
	if len(cfg.peers) > 0 {
		rep.PeerHosts = cfg.peerHosts
		for _, p := range cfg.peers {
			r, err := peerPhase(ctx, cfg, p)
			if err != nil {
				return fmt.Errorf("peer %s: %w", p, err)
			}
			rep.Peers = append(rep.Peers, r)
		}
		printPeers(os.Stdout, cfg, rep.Peers)
	}
	if cfg.jsonOut != "" {
		return writeJSON(cfg.jsonOut, rep)
	}
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the benchmark inside the aadcready module (go run ./test/bench)")
	}
	return filepath.Dir(mod), nil
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

// raiseFileLimit makes sure the children may open what they need: the
// simulator a socket per listener (two with HTTPS) plus two per connection
// in flight, the clients a few per host in flight. Go processes raise their
// soft RLIMIT_NOFILE to the hard limit by themselves (Go ≥ 1.19); this
// raises the hard limit too when it is short (as root), and the soft one
// for the Python and Ansible peers, which do not raise theirs.
func raiseFileLimit(cfg *config) (uint64, error) {
	listeners := cfg.hosts
	if slices.Contains(cfg.schemes, "https") {
		listeners *= 2
	}
	need := uint64(listeners + 4*cfg.concurrency + 1024)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	want := lim
	want.Cur = max(lim.Max, need)
	want.Max = max(lim.Max, need)
	if want != lim {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return lim.Max, fmt.Errorf("%d hosts at concurrency %d need about %d file descriptors; the hard limit is %d and could not be raised (%v): raise it with ulimit -Hn", cfg.hosts, cfg.concurrency, need, lim.Max, err)
		}
	}
	return want.Cur, nil
}

// childEnv is the environment of every child process: this one's without
// AADCREADY_* settings (they would change the scanner's flags), plus the
// fleet's password and, when profiling, the profile files.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AADCREADY_") {
			env = append(env, kv)
		}
	}
	return append(append(env, passwordEnv+"="+benchPassword), extra...)
}

// scanResult is one fleet scan.
type scanResult struct {
	Scheme          string         `json:"scheme"`
	OneHostMS       float64        `json:"one_host_ms"`         // median host time of the single-host scans
	OneHostFormula  float64        `json:"one_host_formula_ms"` // HTTP requests per host × latency + PowerShell time
	IdealMS         float64        `json:"ideal_ms"`
	Ratio           float64        `json:"wall_to_ideal"`
	Scanner         usage          `json:"scanner"`
	CPUPerHostMS    float64        `json:"scanner_cpu_per_host_ms"`
	SimulatorCPUMS  float64        `json:"simulator_cpu_ms"` // during the scan only
	SimulatorRSS    int64          `json:"simulator_max_rss_bytes"`
	RequestsPerHost float64        `json:"http_requests_per_host"` // as the simulator counted them, NTLM legs included
	OpsPerHost      float64        `json:"soap_requests_per_host"`
	ConnsPerHost    float64        `json:"connections_per_host"`
	KDCASPerHost    float64        `json:"kdc_as_requests_per_host,omitempty"` // kerberos: as the KDC logged them
	KDCTGSPerHost   float64        `json:"kdc_tgs_requests_per_host,omitempty"`
	Verdicts        map[string]int `json:"verdicts"`
	Hosts           int            `json:"hosts"`
	Concurrency     int            `json:"concurrency"`
}

func (r scanResult) print(w io.Writer) {
	what := map[string]string{"http": "HTTP 5985, NTLM with every message sealed", "https": "HTTPS 5986, NTLM with channel binding",
		"kerberos": "HTTP 5985, Kerberos (MIT KDC on loopback) with every message sealed"}[r.Scheme]
	fmt.Fprintf(w, "scan over %s\n", what)
	fmt.Fprintf(w, "  one host           %8.0f ms  (median of the single-host scans; by formula: %.2f requests × latency + PowerShell = %.0f ms)\n", r.OneHostMS, r.RequestsPerHost, r.OneHostFormula)
	fmt.Fprintf(w, "  ideal              %8.2f s   (⌈%d/%d⌉ × one host)\n", r.IdealMS/1000, r.Hosts, r.Concurrency)
	fmt.Fprintf(w, "  wall               %8.2f s   = %.3f × ideal\n", r.Scanner.Wall.Seconds(), r.Ratio)
	fmt.Fprintf(w, "  scanner CPU        %8.2f s   = %.2f ms per host (user %.2f s, sys %.2f s)\n", r.Scanner.CPU().Seconds(), r.CPUPerHostMS, r.Scanner.User.Seconds(), r.Scanner.Sys.Seconds())
	fmt.Fprintf(w, "  scanner peak RSS   %8.1f MB\n", mb(r.Scanner.MaxRSS))
	fmt.Fprintf(w, "  simulator CPU      %8.2f s   = %.2f ms per host during the scan; peak RSS %.1f MB\n", r.SimulatorCPUMS/1000, r.SimulatorCPUMS/float64(r.Hosts), mb(r.SimulatorRSS))
	fmt.Fprintf(w, "  per host           %8.2f HTTP requests (%.2f SOAP), %.2f TCP connections\n", r.RequestsPerHost, r.OpsPerHost, r.ConnsPerHost)
	if r.Scheme == "kerberos" {
		fmt.Fprintf(w, "  KDC per host       %8.4f AS requests, %.4f TGS requests (the KDC's log: one TGT for the run, one service ticket per host)\n", r.KDCASPerHost, r.KDCTGSPerHost)
	}
	fmt.Fprintf(w, "  verdicts           %s (scanner exit code %d)\n\n", formatCounts(r.Verdicts), r.Scanner.Exit)
}

func scanPhase(ctx context.Context, cfg *config, scheme string) (scanResult, error) {
	r := scanResult{Scheme: scheme, Hosts: cfg.hosts, Concurrency: cfg.concurrency}
	dir := filepath.Join(cfg.work, "scan-"+scheme)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	fleet := filepath.Join(dir, "fleet.yaml")
	if err := writeFleet(fleet, cfg.hosts, cfg.addressBase, *cfg, scheme == "https"); err != nil {
		return r, err
	}
	if scheme == "kerberos" {
		kdc, err := startRealm(dir, cfg.hosts)
		if err != nil {
			return r, err
		}
		defer kdc.Stop()
		cfg.kdc = kdc
		defer func() { cfg.kdc = nil }()
	}

	// One host's time: single-host scans against the same fleet setup.
	var one []float64
	err := withSimulator(ctx, cfg, dir, fleet, scheme, "single", nil, func(sim *simulator, inv string) error {
		single := filepath.Join(dir, "single.yaml")
		if err := firstHosts(inv, 1, single); err != nil {
			return err
		}
		for i := range cfg.singles {
			out := fmt.Sprintf("single-%d.json", i+1)
			u, err := run(ctx, dir, fmt.Sprintf("single-%d", i+1), childEnv(), cfg.bin, "scan", "-i", single, "--concurrency", "1", "--progress=false", "--json", out)
			if err != nil {
				return err
			}
			if u.Exit != results.ExitOK {
				return fmt.Errorf("single-host scan exited %d; see %s", u.Exit, dir)
			}
			d, err := hostDuration(filepath.Join(dir, out))
			if err != nil {
				return err
			}
			one = append(one, d)
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	slices.Sort(one)
	r.OneHostMS = one[len(one)/2]
	waves := (cfg.hosts + cfg.concurrency - 1) / cfg.concurrency
	r.IdealMS = float64(waves) * r.OneHostMS

	// The fleet scan.
	var env []string
	if cfg.profile {
		env = []string{"AADCREADY_CPUPROFILE=" + filepath.Join(dir, "scan-cpu.pprof"), "AADCREADY_MEMPROFILE=" + filepath.Join(dir, "scan-mem.pprof")}
	}
	var simCPU time.Duration
	var kdcAS, kdcTGS int
	stats, simUsage, err := withSimulatorStats(ctx, cfg, dir, fleet, scheme, "fleet", func(sim *simulator, inv string) error {
		args := []string{cfg.bin, "scan", "-i", inv, "--concurrency", fmt.Sprint(cfg.concurrency), "--progress=false", "--csv", "hosts.csv"}
		if cfg.scanJSON {
			args = append(args, "--json", "run.json")
		}
		before, err := sim.cpu()
		if err != nil {
			return err
		}
		if cfg.kdc != nil {
			kdcAS, kdcTGS, _ = cfg.kdc.Requests()
		}
		u, err := run(ctx, dir, "scan", childEnv(env...), args...)
		if err != nil {
			return err
		}
		if cfg.kdc != nil {
			as, tgs, err := cfg.kdc.Requests()
			if err != nil {
				return err
			}
			kdcAS, kdcTGS = as-kdcAS, tgs-kdcTGS
		}
		after, err := sim.cpu()
		if err != nil {
			return err
		}
		simCPU = after - before
		if u.Exit != results.ExitOK && u.Exit != results.ExitNeedsAction && u.Exit != results.ExitNotChecked {
			return fmt.Errorf("scan exited %d; see %s/scan.stderr", u.Exit, dir)
		}
		r.Scanner = u
		return nil
	})
	if err != nil {
		return r, err
	}
	n := float64(cfg.hosts)
	r.Ratio = float64(r.Scanner.Wall.Milliseconds()) / r.IdealMS
	r.CPUPerHostMS = ms(r.Scanner.CPU()) / n
	r.SimulatorCPUMS = ms(simCPU)
	r.SimulatorRSS = simUsage.MaxRSS
	r.RequestsPerHost = float64(stats.Total.Requests) / n
	r.OpsPerHost = float64(opsTotal(stats.Total.Ops)) / n
	r.ConnsPerHost = float64(stats.Total.Connections) / n
	r.KDCASPerHost, r.KDCTGSPerHost = float64(kdcAS)/n, float64(kdcTGS)/n
	r.OneHostFormula = r.RequestsPerHost*ms(cfg.latency) + ms(cfg.psRuntime)
	var rows int
	if r.Verdicts, rows, err = verdicts(filepath.Join(dir, "hosts.csv")); err != nil {
		return r, err
	}
	if rows != cfg.hosts {
		return r, fmt.Errorf("the scan's CSV has %d rows for %d hosts", rows, cfg.hosts)
	}
	return r, nil
}

func hostDuration(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	run, err := results.ReadJSON(f)
	if err != nil {
		return 0, err
	}
	if len(run.Hosts) != 1 || run.Hosts[0].Failure != nil {
		return 0, fmt.Errorf("%s: want one scanned host", path)
	}
	return float64(run.Hosts[0].DurationMS), nil
}

// simStats is what `simulate --stats-out` writes.
type simStats struct {
	Total simpkg.HostStats            `json:"total"`
	Hosts map[string]simpkg.HostStats `json:"hosts"`
}

func opsTotal(o simpkg.OpCounts) int64 {
	return o.Create + o.Command + o.Send + o.Receive + o.Signal + o.Delete + o.Get + o.Other
}

// withSimulator serves the fleet from a simulator process while fn runs
// a client against the inventory it wrote (made HTTPS when scheme is).
func withSimulator(ctx context.Context, cfg *config, dir, fleet, scheme, name string, env []string, fn func(*simulator, string) error) error {
	_, _, err := simulatorRun(ctx, cfg, dir, fleet, scheme, name, env, fn)
	return err
}

// withSimulatorStats is withSimulator that also returns the simulator's
// counters and usage; the simulator is profiled with -profile.
func withSimulatorStats(ctx context.Context, cfg *config, dir, fleet, scheme, name string, fn func(*simulator, string) error) (simStats, usage, error) {
	var env []string
	if cfg.profile {
		env = []string{"AADCREADY_CPUPROFILE=" + filepath.Join(dir, name+"-simulator-cpu.pprof"), "AADCREADY_MEMPROFILE=" + filepath.Join(dir, name+"-simulator-mem.pprof")}
	}
	return simulatorRun(ctx, cfg, dir, fleet, scheme, name, env, fn)
}

func simulatorRun(ctx context.Context, cfg *config, dir, fleet, scheme, name string, env []string, fn func(*simulator, string) error) (simStats, usage, error) {
	var st simStats
	inv := filepath.Join(dir, name+"-inventory.yaml")
	ca := filepath.Join(dir, "ca.pem")
	statsFile := filepath.Join(dir, name+"-simulator-stats.json")
	args := []string{cfg.bin, "simulate", "--fleet", fleet, "--inventory-out", inv, "--ca-out", ca, "--stats-out", statsFile}
	if scheme == "kerberos" {
		args = append(args, "--kerberos-keytab", filepath.Join(dir, "http.keytab"))
	}
	sim, err := startSimulator(ctx, dir, childEnv(env...), args...)
	if err != nil {
		return st, usage{}, err
	}
	switch scheme {
	case "https":
		httpsInv := filepath.Join(dir, name+"-inventory-https.yaml")
		if err = httpsInventory(inv, ca, httpsInv); err == nil {
			inv = httpsInv
		}
	case "kerberos":
		krbInv := filepath.Join(dir, name+"-inventory-kerberos.yaml")
		if err = kerberosInventory(inv, cfg.kdc, krbInv); err == nil {
			inv = krbInv
		}
	}
	if err == nil {
		err = fn(sim, inv)
	}
	u, stopErr := sim.stop()
	if err = errors.Join(err, stopErr); err != nil {
		return st, u, err
	}
	b, err := os.ReadFile(statsFile)
	if err != nil {
		return st, u, err
	}
	return st, u, json.Unmarshal(b, &st)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mb(b int64) float64         { return float64(b) / (1 << 20) }

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
