//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"aadcready/atomicfile"
	"aadcready/results"
)

// A stdout that cannot be written (a full device, a pipe whose reader is
// gone) costs the table only: every file is still written and the exit
// code is the run's. A file that cannot be written is named and exits 4,
// and the other files are written all the same.
func TestOutputsSurviveAFailedStdout(t *testing.T) {
	bin := buildBinary(t)
	closedPipe := func(t *testing.T) *os.File {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		t.Cleanup(func() { w.Close() })
		return w
	}
	devFull := func(t *testing.T) *os.File {
		f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Skipf("no /dev/full here: %v", err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	for _, tt := range []struct {
		name     string
		stdout   func(*testing.T) *os.File
		badCSV   bool
		wantCode int
		wantErr  string
	}{
		{"dev-full", devFull, false, results.ExitNotChecked, "the table was not printed"},
		{"closed-pipe", closedPipe, false, results.ExitNotChecked, ""},
		{"closed-pipe-and-bad-csv", closedPipe, true, results.ExitOutput, "--csv: writing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			csvPath := filepath.Join(dir, "hosts.csv")
			if tt.badCSV {
				csvPath = filepath.Join(dir, "no-such-folder", "hosts.csv")
			}
			jsonPath, htmlPath := filepath.Join(dir, "run.json"), filepath.Join(dir, "report.html")
			cmd := exec.Command(bin, "demo", "--progress=false", "--json", jsonPath, "--csv", csvPath, "--html", htmlPath)
			cmd.Stdout = tt.stdout(t)
			stderr := &strings.Builder{}
			cmd.Stderr = stderr
			cmd.Run()
			if ws := cmd.ProcessState.Sys(); ws != nil {
				if st, ok := ws.(interface{ Signaled() bool }); ok && st.Signaled() {
					t.Fatalf("killed by a signal: %v\n%s", cmd.ProcessState, stderr)
				}
			}
			if code := cmd.ProcessState.ExitCode(); code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s", code, tt.wantCode, stderr)
			}
			run := readRun(t, jsonPath)
			if len(run.Hosts) == 0 {
				t.Error("the JSON holds no hosts")
			}
			if _, err := os.Stat(htmlPath); err != nil {
				t.Errorf("HTML not written: %v", err)
			}
			if !tt.badCSV {
				if _, err := os.Stat(csvPath); err != nil {
					t.Errorf("CSV not written: %v", err)
				}
			}
			if tt.wantErr != "" && !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr does not say %q:\n%s", tt.wantErr, stderr)
			}
			if tt.wantErr == "" && strings.Contains(stderr.String(), "not printed") {
				t.Errorf("a closed pipe is not an error, but stderr says:\n%s", stderr)
			}
		})
	}
}

// What the tool writes about Tier-0 servers is its owner's alone unless
// --output-mode group says otherwise, and never more than the umask allows.
func TestOutputModes(t *testing.T) {
	old := syscall.Umask(0o022)
	syscall.Umask(old)
	for _, tt := range []struct {
		mode      string
		file, dir os.FileMode
	}{{"", 0o600, 0o700}, {"private", 0o600, 0o700}, {"group", 0o640, 0o750}} {
		dir := t.TempDir()
		out, csvPath := filepath.Join(dir, "runs"), filepath.Join(dir, "hosts.csv")
		args := []string{"demo", "--progress=false", "--out", out, "--csv", csvPath, "--host-timeout", "5s"}
		if tt.mode != "" {
			args = append(args, "--output-mode", tt.mode)
		}
		r := runCLI(t, args...)
		if r.code == results.ExitUsage || r.code == results.ExitOutput {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		run := latestRun(t, out)
		want := map[string]os.FileMode{out: tt.dir, run: tt.dir, csvPath: tt.file, filepath.Join(out, ".lock"): tt.file}
		for _, f := range []string{"run.json", "hosts.csv", "checks.csv", "report.html", "scan.log"} {
			want[filepath.Join(run, f)] = tt.file
		}
		for path, perm := range want {
			fi, err := os.Stat(path)
			if err != nil {
				t.Error(err)
				continue
			}
			if got := fi.Mode().Perm(); got != perm&^os.FileMode(old) {
				t.Errorf("--output-mode %q: %s is %04o, want %04o", tt.mode, path, got, perm&^os.FileMode(old))
			}
		}
	}
	atomicfile.SetMode(atomicfile.Private)
	if r := runCLI(t, "demo", "--output-mode", "world"); r.code != results.ExitUsage {
		t.Errorf("--output-mode world: exit %d, want 3", r.code)
	}
}

// Every file the tool reads is refused at once, with its name and exit 3,
// when it is a named pipe (which would block the run, deaf to SIGTERM) or
// a device (/dev/zero: read until memory runs out).
func TestSpecialFilesRefused(t *testing.T) {
	t.Setenv("AADCREADY_PASSWORD", "x")
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(inv, []byte("defaults: {username: u, password_file: "+fifo+"}\nhosts: [{name: aadc01}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, special := range []string{fifo, "/dev/zero"} {
		for _, args := range [][]string{
			{"scan", "-i", special},
			{"scan", "--hosts-file", special, "--username", "u"},
			{"scan", "--hosts", "a", "--username", "u", "--waivers", special},
			{"scan", "--hosts", "a", "--username", "u", "--config", special},
			{"scan", "--hosts", "a", "--username", "u", "--password-file", special},
			{"inventory", "validate", "-i", special},
			{"connect", "-i", special},
		} {
			done := make(chan cliResult, 1)
			go func() { done <- runCLI(t, args...) }()
			select {
			case r := <-done:
				if r.code != results.ExitUsage || !strings.Contains(r.stderr, "not a regular file") {
					t.Errorf("%v: exit %d, want 3 saying it is not a regular file:\n%s", args, r.code, r.stderr)
				}
				if args[len(args)-2] != "--password-file" && !strings.Contains(r.stderr, special) {
					t.Errorf("%v: the message does not name %s:\n%s", args, special, r.stderr)
				}
			case <-time.After(20 * time.Second): // a safety limit, not a timing assertion
				t.Fatalf("%v: blocked", args)
			}
		}
	}
	// A password file that is a pipe, named by an inventory: validate says
	// so with the inventory's line, without blocking.
	r := runCLI(t, "inventory", "validate", "-i", inv)
	if r.code != results.ExitUsage || !strings.Contains(r.stderr, inv+":2: host \"aadc01\": password_file:") || !strings.Contains(r.stderr, "named pipe") {
		t.Errorf("inventory validate: exit %d\n%s", r.code, r.stderr)
	}
}
