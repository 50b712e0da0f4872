//go:build !windows

package wsman

// Interoperability with an NTLM acceptor that is not Go: gss-ntlmssp through
// python3-gssapi (test/interop/gss_winrm_responder.py). Skipped when the
// Debian packages are missing, except in CI, where that is a failure.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"aadcready/test/interop"
)

func startResponder(t testing.TB, args ...string) *interop.Responder {
	t.Helper()
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("TESTDOM:alice:Passw0rd!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return interop.Start(t, append(os.Environ(), "NTLM_USER_FILE="+users), args...)
}

func TestInteropGSSNTLMSSP(t *testing.T) {
	r := startResponder(t)
	var mu sync.Mutex
	steps := map[string]int{}
	cfg := Config{Host: "127.0.0.1", Port: r.Port, Auth: AuthNTLM, Username: `TESTDOM\alice`, Password: "Passw0rd!",
		MaxEnvelopeKB: 16, // several Send requests for the stdin below
		Trace: func(step string, _ time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			steps[step]++
		}}
	c := newClient(t, cfg)
	for i := range 3 {
		res, err := c.Run(t.Context(), "hostname", nil)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if string(res.Stdout) != "SIMHOST\r\n" || res.ExitCode != 0 || len(res.Stderr) != 0 || !res.Sealed {
			t.Fatalf("run %d: %+v", i, res)
		}
	}
	stdin := bytes.Repeat([]byte("Write-Output 'probe'\r\n"), 3000) // 66 KB
	res, err := c.Run(t.Context(), "echo-stdin", stdin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Stdout, stdin) || res.ExitCode != 0 || res.Requests < 9 {
		t.Fatalf("echo-stdin: %d bytes back of %d, exit %d, %d requests", len(res.Stdout), len(stdin), res.ExitCode, res.Requests)
	}
	res, err = c.Run(t.Context(), "nosuchcmd", nil)
	if err != nil || res.ExitCode != 1 || !strings.Contains(string(res.Stderr), "not recognized") {
		t.Fatalf("failing command: %+v %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if steps["connect"] != 1 || steps["authenticate"] != 1 {
		t.Errorf("trace %v: want every command on one authenticated connection", steps)
	}
	log := r.LogAfter(steps["create-shell"] * 5)
	if strings.Count(log, "REQUEST ") < 25 || strings.Count(log, "CONNECT ") != 1 || strings.Count(log, "HANDSHAKE ") != 1 || strings.Contains(log, "conn=2") {
		t.Errorf("responder saw more than one connection:\n%s", log)
	}
}

func TestInteropGSSNTLMSSPReauthenticates(t *testing.T) {
	r := startResponder(t, "--drop-after", "2")
	c := newClient(t, Config{Host: "127.0.0.1", Port: r.Port, Auth: AuthNTLM, Username: `TESTDOM\alice`, Password: "Passw0rd!"})
	for i := range 2 {
		res, err := c.Run(t.Context(), "hostname", nil)
		if err != nil || string(res.Stdout) != "SIMHOST\r\n" {
			t.Fatalf("run %d: %+v %v", i, res, err)
		}
	}
	if n := strings.Count(r.LogAfter(10), "HANDSHAKE "); n != 5 {
		t.Errorf("%d handshakes for 10 requests dropped every 2", n)
	}
}

func TestInteropGSSNTLMSSPWrongPassword(t *testing.T) {
	r := startResponder(t)
	_, err := newClient(t, Config{Host: "127.0.0.1", Port: r.Port, Auth: AuthNTLM, Username: `TESTDOM\alice`, Password: "nope"}).
		Run(t.Context(), "hostname", nil)
	wantClass(t, err, ClassAuthRefused)
}

func TestInteropGSSNTLMSSPRefusesUnsealed(t *testing.T) {
	r := startResponder(t)
	_, err := newClient(t, Config{Host: "127.0.0.1", Port: r.Port, Auth: AuthNTLM, Username: `TESTDOM\alice`, Password: "Passw0rd!", AllowUnencrypted: true}).
		Run(t.Context(), "hostname", nil)
	e := wantClass(t, err, ClassAuthRefused)
	if !strings.Contains(e.Hint, "refusing unsealed traffic also answers 401") {
		t.Errorf("hint %q", e.Hint)
	}
}

// BenchmarkInteropHostRun measures the client's own CPU for what the scanner
// does per host, with hosts in parallel as the scanner runs them: a new
// client, TCP connect, NTLM handshake, sealed Create/Command/Send/Receive/
// Signal/Delete with 30 KB of stdin echoed back as stdout, Close. The peer
// is another process, so rusage counts this side only (plus Go's runtime).
func BenchmarkInteropHostRun(b *testing.B) {
	r := startResponder(b)
	stdin := bytes.Repeat([]byte("Write-Output 'probe'\r\n"), 1400)
	cfg := Config{Host: "127.0.0.1", Port: r.Port, Auth: AuthNTLM, Username: `TESTDOM\alice`, Password: "Passw0rd!"}
	b.SetParallelism(16)
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := New(cfg)
			if err != nil {
				b.Error(err)
				return
			}
			res, err := c.Run(b.Context(), "echo-stdin", stdin)
			if err != nil || len(res.Stdout) != len(stdin) {
				b.Errorf("run: %v", err)
			}
			c.Close()
		}
	})
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/host")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
