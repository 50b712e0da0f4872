// Package interop starts the independent WinRM responder
// (gss_winrm_responder.py: gss-ntlmssp or MIT Kerberos through
// python3-gssapi) for Go tests. A missing peer skips the test locally and
// fails it in CI.
package interop

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"aadcready/test/peer"
)

// Python is Debian's interpreter, which has the python3-* packages
// (another python3 may come first on PATH).
const Python = "/usr/bin/python3"

// Script is the responder's path in the source tree.
var Script = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "gss_winrm_responder.py")
}()

// Responder is a running responder.
type Responder struct {
	Port int
	mu   sync.Mutex
	log  bytes.Buffer
}

// Log is what the responder logged so far (one line per event).
func (r *Responder) Log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// LogAfter waits up to 2s until n requests are logged (stderr arrives
// asynchronously) and returns the log.
func (r *Responder) LogAfter(n int) string {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Count(r.Log(), "REQUEST ") >= n {
			break
		}
	}
	return r.Log()
}

func (r *Responder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.Write(p)
}

// Start runs the responder with env (its acceptor's settings: NTLM_USER_FILE
// or KRB5_KTNAME and KRB5_CONFIG) and args, stopped when t ends.
func Start(t testing.TB, env []string, args ...string) *Responder {
	t.Helper()
	check := exec.Command(Python, append([]string{Script, "--check"}, args...)...)
	check.Env = env
	if out, err := check.CombinedOutput(); err != nil {
		peer.Missing(t, "the GSSAPI WinRM responder", "sudo apt-get install -y gss-ntlmssp python3-gssapi krb5-user",
			fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out))))
	}
	cmd := exec.Command(Python, append([]string{Script}, args...)...)
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &Responder{}
	cmd.Stderr = r
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("responder log:\n%s", r.Log())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "PORT ")
	if err != nil || !ok {
		t.Fatalf("responder did not report its port: %q %v\n%s", line, err, r.Log())
	}
	if r.Port, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	return r
}
