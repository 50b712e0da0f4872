// Package peer is for tests that need a program this repository does not
// build (promtool, chromium, python3-winrm): when it is missing the test
// fails in CI (CI=true) and is skipped elsewhere, with the command that
// installs it in the message, which test/run lists at the end.
package peer

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// Missing fails (in CI) or skips the test because what is not available.
func Missing(t testing.TB, what, install string, err error) {
	t.Helper()
	msg := what + " is not available (install: " + install + "): " + err.Error()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Program returns the path of the program name, or skips (fails in CI)
// with install as the way to get it.
func Program(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, install, err)
	}
	return path
}

// Promtool is Prometheus' checker, from Debian's prometheus package.
func Promtool(t testing.TB) string {
	t.Helper()
	return Program(t, "promtool", "sudo apt-get install -y prometheus")
}

// CheckMetrics runs `promtool check metrics` on a text exposition and
// fails the test with promtool's findings when it does not accept it.
func CheckMetrics(t testing.TB, exposition []byte) {
	t.Helper()
	cmd := exec.Command(Promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\nthe input:\n%s", err, out, exposition)
	}
}
