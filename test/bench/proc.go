//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// usage is what the operating system accounted to one process (with the
// descendants it waited for) between its start and its end: wait4's rusage.
type usage struct {
	Wall   time.Duration `json:"wall_ns"`
	User   time.Duration `json:"user_ns"`
	Sys    time.Duration `json:"sys_ns"`
	MaxRSS int64         `json:"max_rss_bytes"` // ru_maxrss: the largest single process, not a sum
	Exit   int           `json:"exit_code"`
}

func (u usage) CPU() time.Duration { return u.User + u.Sys }

func usageOf(ps *os.ProcessState, wall time.Duration) usage {
	u := usage{Wall: wall, Exit: ps.ExitCode()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.User = time.Duration(ru.Utime.Nano())
		u.Sys = time.Duration(ru.Stime.Nano())
		u.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return u
}

// run runs a client process to its end (bounded by ctx) with stdout and
// stderr in files, and returns its usage. A non-zero exit is not an error:
// the caller decides which codes mean the run completed.
func run(ctx context.Context, dir, name string, env []string, args ...string) (usage, error) {
	stdout, err := os.Create(dir + "/" + name + ".stdout")
	if err != nil {
		return usage{}, err
	}
	defer stdout.Close()
	stderr, err := os.Create(dir + "/" + name + ".stderr")
	if err != nil {
		return usage{}, err
	}
	defer stderr.Close()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, stdout, stderr
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return usage{}, fmt.Errorf("%s: %w", name, err)
	}
	err = cmd.Wait()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return usage{}, fmt.Errorf("%s: %w", name, err)
	}
	if ctx.Err() != nil {
		return usage{}, fmt.Errorf("%s: %w", name, ctx.Err())
	}
	return usageOf(cmd.ProcessState, wall), nil
}

// simulator is a running `aadcready simulate` process.
type simulator struct {
	cmd  *exec.Cmd
	done chan error
}

// startSimulator starts the simulator and waits until it serves (it prints
// "serving" after writing the inventory).
func startSimulator(ctx context.Context, dir string, env []string, args ...string) (*simulator, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env = dir, env
	stderr, err := os.Create(dir + "/simulate.stderr")
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &simulator{cmd: cmd, done: make(chan error, 1)}
	serving := make(chan struct{})
	go func() {
		// The host table goes by; then the line that says it serves. The
		// rest is drained so the simulator never blocks on its stdout.
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.HasPrefix(sc.Text(), "serving") {
				close(serving)
				signalled = true
			}
		}
		io.Copy(io.Discard, out)
		s.done <- cmd.Wait()
	}()
	select {
	case <-serving:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("the simulator exited before serving (%v); see %s/simulate.stderr", err, dir)
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	case <-time.After(2 * time.Minute):
		s.kill()
		return nil, fmt.Errorf("the simulator did not start serving within 2 minutes")
	}
}

// cpu is the simulator's CPU time so far, from /proc: it runs across a
// phase, so the phase's share is the difference of two readings.
func (s *simulator) cpu() (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14 and stime 15.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc's times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// stop ends the simulator with SIGTERM (it then writes --stats-out) and
// returns its usage over its whole life.
func (s *simulator) stop() (usage, error) {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return usage{}, err
	}
	select {
	case err := <-s.done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			return usage{}, err
		}
		return usageOf(s.cmd.ProcessState, 0), nil
	case <-time.After(time.Minute):
		s.kill()
		return usage{}, errors.New("the simulator did not stop within a minute of SIGTERM")
	}
}

func (s *simulator) kill() {
	s.cmd.Process.Kill()
	<-s.done
}
