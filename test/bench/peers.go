//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// peerResult is one tool running `hostname` on the fleet.
type peerResult struct {
	Name            string  `json:"name"`
	Skipped         string  `json:"skipped,omitempty"` // why the peer could not run here
	Usage           usage   `json:"usage"`
	OK              int     `json:"ok"` // hosts that answered with their own name
	CPUPerHostMS    float64 `json:"cpu_per_host_ms"`
	SimulatorCPUMS  float64 `json:"simulator_cpu_ms"`
	RequestsPerHost float64 `json:"http_requests_per_host"`
	ConnsPerHost    float64 `json:"connections_per_host"`
}

var peerTitles = map[string]string{
	"connect": "aadcready connect -i",
	"pywinrm": "pywinrm, thread pool",
	"ansible": "ansible -m raw (winrm)",
}

// opensslLegacy is the OpenSSL configuration the Python peers run with
// (MD4 for NTLM comes from OpenSSL 3's legacy provider), relative to the
// module's root.
const opensslLegacy = "test/interop/openssl-legacy.cnf"

// peerPhase runs one peer against a fresh simulator serving the first
// -peer-hosts hosts of the fleet over HTTP (sealed NTLM, Windows' default).
func peerPhase(ctx context.Context, cfg *config, name string) (peerResult, error) {
	r := peerResult{Name: name}
	if why := peerMissing(name); why != "" {
		r.Skipped = why
		return r, nil
	}
	dir := filepath.Join(cfg.work, "peer-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	fleet := filepath.Join(dir, "fleet.yaml")
	if err := writeFleet(fleet, cfg.peerHosts, cfg.addressBase, *cfg, false); err != nil {
		return r, err
	}
	conf := filepath.Join(cfg.root, opensslLegacy)
	stats, _, err := withSimulatorStats(ctx, cfg, dir, fleet, "http", "fleet", func(sim *simulator, inv string) error {
		before, err := sim.cpu()
		if err != nil {
			return err
		}
		switch name {
		case "connect":
			r.Usage, r.OK, err = runConnect(ctx, cfg, dir, inv)
		case "pywinrm":
			r.Usage, r.OK, err = runPywinrm(ctx, cfg, dir, inv, conf)
		case "ansible":
			r.Usage, r.OK, err = runAnsible(ctx, cfg, dir, inv, conf)
		}
		if err != nil {
			return err
		}
		after, err := sim.cpu()
		r.SimulatorCPUMS = ms(after - before)
		return err
	})
	if err != nil {
		return r, err
	}
	n := float64(cfg.peerHosts)
	r.CPUPerHostMS = ms(r.Usage.CPU()) / n
	r.RequestsPerHost = float64(stats.Total.Requests) / n
	r.ConnsPerHost = float64(stats.Total.Connections) / n
	return r, nil
}

// peerMissing says why a peer cannot run on this machine ("" if it can).
func peerMissing(name string) string {
	switch name {
	case "pywinrm", "ansible":
		if err := exec.Command("/usr/bin/python3", "-c", "import winrm, requests_ntlm").Run(); err != nil {
			return "pywinrm is not installed (apt-get install python3-winrm)"
		}
	}
	if name == "ansible" {
		if _, err := exec.LookPath("ansible"); err != nil {
			return "Ansible is not installed (apt-get install ansible-core)"
		}
	}
	return ""
}

func runConnect(ctx context.Context, cfg *config, dir, inv string) (usage, int, error) {
	u, err := run(ctx, dir, "connect", childEnv(), cfg.bin, "connect", "-i", inv, "--concurrency", fmt.Sprint(cfg.concurrency), "--csv", "connect.csv")
	if err != nil {
		return u, 0, err
	}
	ok, err := connectAnswers(filepath.Join(dir, "connect.csv"))
	return u, ok, err
}

// connectAnswers counts the pre-flight rows that connected and printed the
// host's own name.
func connectAnswers(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		return 0, fmt.Errorf("%s: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimPrefix(h, "\uFEFF")] = i
	}
	ok := 0
	for _, row := range rows[1:] {
		if row[col["result"]] == "OK" && strings.EqualFold(row[col["detail"]], row[col["host"]]) {
			ok++
		}
	}
	return ok, nil
}

func runPywinrm(ctx context.Context, cfg *config, dir, inv, conf string) (usage, int, error) {
	hosts, err := hostList(inv)
	if err != nil {
		return usage{}, 0, err
	}
	list := filepath.Join(dir, "hosts.json")
	if err := writeJSON(list, hosts); err != nil {
		return usage{}, 0, err
	}
	script := filepath.Join(cfg.root, "test", "bench", "pywinrm_fanout.py")
	env := childEnv("OPENSSL_CONF="+conf, "PYWINRM_PASSWORD="+benchPassword, "NO_PROXY=*", "no_proxy=*")
	u, err := run(ctx, dir, "pywinrm", env, "/usr/bin/python3", script, "--hosts", list, "--user", benchUser, "--workers", fmt.Sprint(cfg.concurrency))
	if err != nil {
		return u, 0, err
	}
	out, err := os.ReadFile(filepath.Join(dir, "pywinrm.stdout"))
	if err != nil {
		return u, 0, err
	}
	var sum struct {
		OK     int            `json:"ok"`
		Errors map[string]int `json:"errors"`
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		return u, 0, fmt.Errorf("pywinrm printed %q: %w", out, err)
	}
	return u, sum.OK, nil
}

// runAnsible runs `ansible all -m raw -a hostname` with forks = the
// concurrency, over WinRM with NTLM and message encryption, as Windows'
// defaults require. Ansible sends raw commands as a PowerShell script.
func runAnsible(ctx context.Context, cfg *config, dir, inv, conf string) (usage, int, error) {
	hosts, err := hostList(inv)
	if err != nil {
		return usage{}, 0, err
	}
	var b strings.Builder
	b.WriteString("[fleet]\n")
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s ansible_host=%s\n", h.Name, h.Address)
	}
	// The password is read from the environment at run time: it never
	// appears in a file or on a command line.
	fmt.Fprintf(&b, `[fleet:vars]
ansible_connection=winrm
ansible_port=5985
ansible_winrm_scheme=http
ansible_winrm_transport=ntlm
ansible_winrm_message_encryption=always
ansible_user=%s
ansible_password={{ lookup('env', 'BENCH_WINRM_PASSWORD') }}
`, benchUser)
	ini := filepath.Join(dir, "ansible-inventory.ini")
	if err := os.WriteFile(ini, []byte(b.String()), 0o644); err != nil {
		return usage{}, 0, err
	}
	// A configuration of its own, so that none on this machine applies.
	ansibleCfg := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(ansibleCfg, []byte("[defaults]\nhost_key_checking = False\nnocolor = True\nretry_files_enabled = False\n"), 0o644); err != nil {
		return usage{}, 0, err
	}
	env := childEnv("OPENSSL_CONF="+conf, "BENCH_WINRM_PASSWORD="+benchPassword, "NO_PROXY=*", "no_proxy=*",
		"ANSIBLE_CONFIG="+ansibleCfg, "ANSIBLE_HOME="+filepath.Join(dir, "ansible-home"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "ansible-tmp"))
	u, err := run(ctx, dir, "ansible", env, "ansible", "fleet", "-i", ini, "-m", "raw", "-a", "hostname", "-f", fmt.Sprint(cfg.concurrency), "-o")
	if err != nil {
		return u, 0, err
	}
	f, err := os.Open(filepath.Join(dir, "ansible.stdout"))
	if err != nil {
		return u, 0, err
	}
	defer f.Close()
	ok, err := ansibleAnswers(f)
	return u, ok, err
}

// ansibleAnswers counts the one-line results (-o) of hosts whose raw
// command printed their own name: `NAME | CHANGED | rc=0 | (stdout) NAME\r\n`,
// the line end escaped.
func ansibleAnswers(r io.Reader) (int, error) {
	ok := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), " | ")
		if len(f) < 4 || f[2] != "rc=0" {
			continue
		}
		out, _ := strings.CutPrefix(f[3], "(stdout) ")
		out = strings.TrimSuffix(strings.TrimSuffix(out, `\n`), `\r`)
		if strings.EqualFold(out, f[0]) {
			ok++
		}
	}
	return ok, sc.Err()
}

func printPeers(w io.Writer, cfg *config, rs []peerResult) {
	fmt.Fprintf(w, "peers: hostname on %d hosts over HTTP (sealed NTLM), concurrency %d\n", cfg.peerHosts, cfg.concurrency)
	fmt.Fprintf(w, "  %-24s %9s %12s %10s %9s %10s %9s %11s %10s\n", "tool", "wall s", "CPU ms/host", "peak RSS", "ok", "wall ×", "CPU ×", "req/host", "sim ms/h")
	var base *peerResult
	for i := range rs {
		if rs[i].Name == "connect" && rs[i].Skipped == "" {
			base = &rs[i]
		}
	}
	for _, r := range rs {
		if r.Skipped != "" {
			fmt.Fprintf(w, "  %-24s skipped: %s\n", peerTitles[r.Name], r.Skipped)
			continue
		}
		wallX, cpuX := "-", "-"
		if base != nil {
			wallX = fmt.Sprintf("%.2f", r.Usage.Wall.Seconds()/base.Usage.Wall.Seconds())
			cpuX = fmt.Sprintf("%.2f", r.CPUPerHostMS/base.CPUPerHostMS)
		}
		fmt.Fprintf(w, "  %-24s %9.2f %12.2f %7.1f MB %9s %10s %9s %11.2f %10.2f\n", peerTitles[r.Name], r.Usage.Wall.Seconds(), r.CPUPerHostMS,
			mb(r.Usage.MaxRSS), fmt.Sprintf("%d/%d", r.OK, cfg.peerHosts), wallX, cpuX, r.RequestsPerHost, r.SimulatorCPUMS/float64(cfg.peerHosts))
	}
	fmt.Fprintln(w, "  (ratios to aadcready connect; peak RSS is the largest single process, for Ansible one of its forks or its controller)")
}
