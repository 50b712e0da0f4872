package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"aadcready/catalog"
	"aadcready/probes"
	"aadcready/results"
	"aadcready/simulator"
	"aadcready/test/peer"
)

// run executes the CLI in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		var ee exitError
		if !asExit(err, &ee) {
			errOut.WriteString(err.Error())
		}
	}
	return out.String(), errOut.String(), exitCode(err)
}

func asExit(err error, ee *exitError) bool {
	e, ok := err.(exitError)
	if ok {
		*ee = e
	}
	return ok
}

const cliFleet = `
users: [{username: 'CONTOSO\svc-cli', password: Cli-Test-Pw-1}]
hosts:
  - {name: ok-host, address: 127.0.82.1, profile: ws2019-v2-current}
  - {name: tls-host, address: 127.0.82.2, profile: ws2019-tls-missing, facts: {os.caption: '=HYPERLINK("http://evil","x")'}}
  - {name: down, address: 127.0.82.3, behavior: refuse}
`

func TestScanWritesOneRowPerHostAndTheDocumentedExitCode(t *testing.T) {
	fleet, err := simulator.ParseFleet("cli.yaml", []byte(cliFleet))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := simulator.Start(context.Background(), fleet, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(invPath, simulatorInventoryYAML(fleet, srv), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AADCREADY_PASSWORD", "Cli-Test-Pw-1")
	csvPath, jsonPath := filepath.Join(dir, "out.csv"), filepath.Join(dir, "out.json")

	stdout, stderr, code := run(t, "scan", "-i", invPath, "--csv", csvPath, "--json", jsonPath, "--host-timeout", "20s", "--as-of", "2026-11-26")
	if code != results.ExitNotChecked {
		t.Fatalf("exit %d, want %d (one host is unreachable)\nstdout:\n%s\nstderr:\n%s", code, results.ExitNotChecked, stdout, stderr)
	}
	for _, want := range []string{"ok-host", "OK", "FIX_THEN_UPGRADE", "UNREACHABLE", "3 hosts as of 2026-11-26"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "Cli-Test-Pw-1") || strings.Contains(stderr, "Cli-Test-Pw-1") {
		t.Error("the password reached the output")
	}

	raw, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("\uFEFF")) || !bytes.Contains(raw, []byte("\r\n")) {
		t.Error("CSV lacks the UTF-8 BOM or CRLF line ends")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(fleet.Hosts) {
		t.Fatalf("CSV has %d rows, want a header and %d hosts", len(rows), len(fleet.Hosts))
	}
	osCol := slices.Index(rows[0], "os")
	if got := rows[2][osCol]; got != `'=HYPERLINK("http://evil","x")` {
		t.Errorf("a host's formula was written as %q, want it prefixed with '", got)
	}

	doc := readRun(t, jsonPath)
	verdicts := map[string]catalog.Verdict{}
	for _, h := range doc.Hosts {
		verdicts[h.Name] = h.Verdict
	}
	want := map[string]catalog.Verdict{"ok-host": catalog.VerdictOK, "tls-host": catalog.VerdictFixThenUpgrade, "down": catalog.VerdictUnreachable}
	for n, v := range want {
		if verdicts[n] != v {
			t.Errorf("JSON: %s verdict %s, want %s", n, verdicts[n], v)
		}
	}
	if doc.CatalogVersion == "" || doc.BundleID == "" || doc.AsOf != "2026-11-26" {
		t.Errorf("run metadata incomplete: catalog %q bundle %q as-of %q", doc.CatalogVersion, doc.BundleID, doc.AsOf)
	}
}

// The demo is a new user's first run: every verdict, the HTTPS host over
// HTTPS, each file it wrote named, metrics Prometheus accepts.
func TestDemoFirstRun(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo waits for its hung host's deadline")
	}
	dir := t.TempDir()
	jsonPath, promPath := filepath.Join(dir, "run.json"), filepath.Join(dir, "aadcready.prom")
	stdout, stderr, code := run(t, "demo", "--json", jsonPath, "--prom", promPath, "--progress=false")
	if code != results.ExitNotChecked {
		t.Fatalf("demo exit %d, want %d\n%s\n%s", code, results.ExitNotChecked, stdout, stderr)
	}
	for _, v := range catalog.VerdictOrder() {
		if !strings.Contains(stdout, " "+string(v)+" ") {
			t.Errorf("demo output lacks verdict %s:\n%s", v, stdout)
		}
	}
	if strings.Contains(stdout, "…") {
		t.Errorf("a table cell was cut short:\n%s", stdout)
	}
	for _, want := range []string{"run document written to " + jsonPath, "metrics written to " + promPath} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	for _, h := range readRun(t, jsonPath).Hosts {
		if h.Name == "aadc-https" && (h.Scheme != "https" || h.Verdict != catalog.VerdictOK) {
			t.Errorf("aadc-https scanned over %s with verdict %s (%s), want https and OK", h.Scheme, h.Verdict, h.Reason)
		}
	}
	prom, err := os.ReadFile(promPath)
	if err != nil {
		t.Fatal(err)
	}
	peer.CheckMetrics(t, prom)
}

func TestBadInventoryNamesFileHostAndField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	data := "defaults:\n  username: 'CONTOSO\\svc'\n  password_env: PW\nhosts:\n  - name: aadc01\n    port: 70000\n  - name: aadc02\n    password: hunter2\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "inventory", "validate", "-i", path)
	if code != results.ExitUsage {
		t.Fatalf("exit %d, want %d", code, results.ExitUsage)
	}
	for _, want := range []string{"bad.yaml:6", `"aadc01"`, "port", "bad.yaml:8", `"aadc02"`, "password"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "hunter2") {
		t.Error("the inline password was echoed in the error")
	}
}

func TestProbesShowPrintsTheBundle(t *testing.T) {
	stdout, _, code := run(t, "probes", "show")
	if code != 0 || !strings.Contains(stdout, "powershell.exe") || !strings.Contains(stdout, "##AADC") {
		t.Fatalf("exit %d, output:\n%.400s", code, stdout)
	}
	stdout, _, code = run(t, "probes", "show", "--command-line")
	if code != 0 || stdout != probes.CommandLine()+"\n" {
		t.Fatalf("--command-line: exit %d, output %q, want %q", code, stdout, probes.CommandLine())
	}
}

func TestUsageErrorsExitThree(t *testing.T) {
	t.Setenv("AADCREADY_PASSWORD", "x") // so each case fails for its own reason
	for _, args := range [][]string{
		{"scan"},
		{"scan", "--hosts", "a", "--username", "u", "--as-of", "tomorrow"},
		{"scan", "-i", "x.yaml", "--hosts", "a"},
		{"scan", "--hosts", "a", "--username", "u", "--concurrency", "0"},
		{"scan", "--hosts", "a"},
		{"scan", "-i", "/no/such/inventory.yaml"},
	} {
		if _, _, code := run(t, args...); code != results.ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, results.ExitUsage)
		}
	}
}

// Settings come from flags, else AADCREADY_* variables, else --config.
func TestSettingsPrecedence(t *testing.T) {
	f := startFleet(t, simHost("aadc-ok", "ws2019-v2-current", fleetPassword))
	t.Setenv(testPasswordEnv, fleetPassword)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "aadcready.yaml")
	if err := os.WriteFile(cfg, []byte("as-of: 2027-01-20\nconcurrency: 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	asOf := func(args ...string) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "run.json")
		_, stderr, code := run(t, append([]string{"scan", "-i", f.inv, "--json", out, "--progress=false"}, args...)...)
		if code == results.ExitUsage {
			t.Fatalf("%v: %s", args, stderr)
		}
		doc := readRun(t, out)
		return doc.AsOf + "/" + strconv.Itoa(doc.Concurrency)
	}
	if got := asOf("--config", cfg); got != "2027-01-20/4" {
		t.Errorf("from the config file: %s", got)
	}
	t.Setenv("AADCREADY_AS_OF", "2027-02-02")
	if got := asOf("--config", cfg); got != "2027-02-02/4" {
		t.Errorf("the environment over the config file: %s", got)
	}
	if got := asOf("--config", cfg, "--as-of", "2027-03-03"); got != "2027-03-03/4" {
		t.Errorf("the flag over the environment: %s", got)
	}
	if _, _, code := run(t, "scan", "-i", f.inv, "--config", filepath.Join(dir, "missing.yaml")); code != results.ExitUsage {
		t.Errorf("a missing config file: exit %d, want %d", code, results.ExitUsage)
	}
}

// Every bad setting, in --config, in an AADCREADY_* variable or on the
// command line, stops the run with exit 3 and says where it is: a typo
// never runs the nightly job on defaults.
func TestBadSettingsExitThreeAndSayWhere(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AADCREADY_PASSWORD", "x")
	base := []string{"scan", "--hosts", "a", "--username", "u", "--progress=false"}
	for _, tt := range []struct {
		name   string
		config string // written to a file given with --config
		env    map[string]string
		args   []string
		want   []string // in stderr
	}{
		{name: "unknown key", config: "as-of: 2027-01-20\nconcurency: 8\n", want: []string{":2: concurency: unknown setting (did you mean concurrency?)"}},
		{name: "password key", config: "password: S3cret\n", want: []string{":1: password: passwords are never read"}},
		{name: "misspelt password flag", config: "password_file: /etc/pw\n", want: []string{":1: password_file: unknown setting (did you mean password-file?)"}},
		{name: "as-of", config: "as-of: 2027-13-45\n", want: []string{":1: as-of: must be a date"}},
		{name: "duration", config: "host-timeout: abc\n", want: []string{":1: host-timeout: must be a duration"}},
		{name: "bare number duration", config: "host-timeout: 30\n", want: []string{":1: host-timeout: must be a duration"}},
		{name: "list for int", config: "retries: [1, 2]\n", want: []string{":1: retries: must be a whole number, got a list"}},
		{name: "int", config: "\n\nconcurrency: abc\n", want: []string{":3: concurrency: must be a whole number, got \"abc\""}},
		{name: "bool", config: "progress: maybe\n", want: []string{":1: progress: must be true or false"}},
		{name: "all at once", config: "concurency: 8\nkeep-days: x\n", want: []string{":1: concurency:", ":2: keep-days:"}},
		{name: "not a mapping", config: "- a\n- b\n", want: []string{":1: must be a mapping"}},
		{name: "syntax", config: "a: [\n", want: []string{"invalid YAML"}},
		{name: "env int", env: map[string]string{"AADCREADY_KEEP_DAYS": "x"}, want: []string{"AADCREADY_KEEP_DAYS must be a whole number (--keep-days), got \"x\""}},
		{name: "env password bool", env: map[string]string{"AADCREADY_PASSWORD_PROMPT": "S3cret"}, want: []string{"AADCREADY_PASSWORD_PROMPT must be true or false (--password-prompt), got a value of 6 characters (not shown)"}},
		{name: "config password bool", config: "password-prompt: S3cret\n", want: []string{":1: password-prompt: must be true or false, got a value of 6 characters"}},
		{name: "in range from config", config: "as-of: 2027-01-20\nconcurrency: 0\n", want: []string{":2: concurrency: --concurrency must be at least 1"}},
		{name: "retention from config", config: "out: " + dir + "\nkeep-days: 999999\n", want: []string{":2: keep-days: --keep-days 999999 is more than 36500 days"}},
		{name: "retention from env", env: map[string]string{"AADCREADY_KEEP_DAYS": "999999"}, args: []string{"--out", dir}, want: []string{"--keep-days 999999 is more than 36500 days (100 years); use 0 for no limit by age (set by AADCREADY_KEEP_DAYS)"}},
		{name: "env duration", env: map[string]string{"AADCREADY_HOST_TIMEOUT": "soon"}, want: []string{"AADCREADY_HOST_TIMEOUT must be a duration"}},
		{name: "zero deadline", args: []string{"--host-timeout", "0"}, want: []string{"--host-timeout must be positive"}},
		{name: "negative deadline", args: []string{"--host-timeout=-1s"}, want: []string{"--host-timeout must be positive"}},
		{name: "flooding progress", args: []string{"--progress-interval", "1ns"}, want: []string{"--progress-interval must be at least 1s"}},
		{name: "keep-days overflow", args: []string{"--out", dir, "--keep-days", "999999"}, want: []string{"--keep-days 999999 is more than 36500 days"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{}, base...), tt.args...)
			cfg := ""
			if tt.config != "" {
				cfg = filepath.Join(t.TempDir(), "aadcready.yaml")
				if err := os.WriteFile(cfg, []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", cfg)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			stdout, stderr, code := run(t, args...)
			if code != results.ExitUsage {
				t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, cfg+w) && !strings.Contains(stderr, w) || (cfg != "" && strings.HasPrefix(w, ":") && !strings.Contains(stderr, cfg+w)) {
					t.Errorf("stderr does not say %q:\n%s", cfg+w, stderr)
				}
			}
			if strings.Contains(stderr, "S3cret") {
				t.Errorf("the password is echoed:\n%s", stderr)
			}
		})
	}
}
