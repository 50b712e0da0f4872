package runstore

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestLockContention(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	first, err := s.Lock(started)
	if err != nil {
		t.Fatal(err)
	}
	// A second lock, even from this process, is refused and names the
	// holder (flock locks belong to the open file).
	_, err = s.Lock(started.Add(time.Minute))
	want := fmt.Sprintf("another scan (pid %d, started 2026-11-26T02:00:00Z) is writing to %s", os.Getpid(), s.Dir)
	if err == nil || err.Error() != want || !IsBusy(err) {
		t.Fatalf("second Lock: %v, want %q", err, want)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := s.Lock(started.Add(2 * time.Minute))
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	again.Unlock()
}

// TestLockHelperProcess is not a test: TestLockReleasedWhenHolderKilled
// runs the test binary as a child that takes the lock and waits.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv("RUNSTORE_LOCK_HELPER_DIR")
	if dir == "" {
		return // run by the test below, not by go test (a skip would be listed as a missing peer)
	}
	s := &Store{Dir: dir}
	if _, err := s.Lock(time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	// Hold the lock until killed (or until stdin closes, so a crashed
	// parent does not leave us running).
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

func TestLockReleasedWhenHolderKilled(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "RUNSTORE_LOCK_HELPER_DIR="+s.Dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, %v", line, err)
	}

	_, err = s.Lock(time.Now())
	want := fmt.Sprintf("another scan (pid %d, started 2026-11-26T02:00:00Z) is writing to %s", cmd.Process.Pid, s.Dir)
	if err == nil || err.Error() != want {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("Lock while the helper holds it: %v, want %q", err, want)
	}

	// SIGKILL: the process gets no chance to unlock or clean up.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := s.Lock(time.Now())
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	l.Unlock()
}
