package simulator

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// opensslLegacy is the OpenSSL configuration the Python peers run with
// (MD4 for NTLM comes from OpenSSL 3's legacy provider).
var opensslLegacy, _ = filepath.Abs("../test/interop/openssl-legacy.cnf")

// pywinrm returns how to run test/interop/pywinrm_run.py, or skips (fails
// in CI) when Debian's python3-winrm is not installed.
func pywinrm(t *testing.T) (python, script string) {
	t.Helper()
	python = "/usr/bin/python3"
	script, _ = filepath.Abs("../test/interop/pywinrm_run.py")
	if err := exec.Command(python, "-c", "import winrm, requests_ntlm").Run(); err != nil {
		msg := "pywinrm is not installed (apt-get install -y python3-winrm): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return python, script
}

type pyResult struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

func runPywinrm(t *testing.T, args ...string) pyResult {
	t.Helper()
	python, script := pywinrm(t)
	conf := opensslLegacy
	ctx, cancel := contextWithTimeout(t, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf, "PYWINRM_PASSWORD="+testPassword, "NO_PROXY=*", "no_proxy=*")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pywinrm %v: %v\n%s", args, err, stderr.String())
	}
	var r pyResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("pywinrm printed %q: %v", out, err)
	}
	return r
}

// TestInteropPywinrm runs `hostname` through pywinrm, an independent WinRM
// client: NTLM with message sealing against a host with Windows defaults,
// and Basic over HTTP against a host that allows it.
func TestInteropPywinrm(t *testing.T) {
	pywinrm(t)
	s := startHosts(t,
		Host{Name: "aadc-sealed", HTTPS: true},
		Host{Name: "aadc-basic", Basic: true, AllowUnencrypted: true, Users: []User{{Name: "Administrator", Password: testPassword}}},
	)
	sealedAddr, httpsAddr := s.Endpoint("aadc-sealed")
	basicAddr, _ := s.Endpoint("aadc-basic")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, host string
		args       []string
	}{
		{"ntlm sealed", "aadc-sealed", []string{"--url", "http://" + sealedAddr + "/wsman", "--user", testUser, "--transport", "ntlm", "--encryption", "always"}},
		{"basic plaintext", "aadc-basic", []string{"--url", "http://" + basicAddr + "/wsman", "--user", "Administrator", "--transport", "plaintext"}},
		// Over HTTPS pywinrm does not seal and binds NTLM to the certificate.
		{"ntlm https", "aadc-sealed", []string{"--url", "https://" + httpsAddr + "/wsman", "--user", testUser, "--transport", "ntlm", "--encryption", "auto", "--ca", ca}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Stats().Hosts[tt.host]
			r := runPywinrm(t, tt.args...)
			if strings.TrimSpace(r.Stdout) != tt.host || r.Code != 0 {
				t.Fatalf("got %+v, want stdout %q and code 0", r, tt.host)
			}
			after := s.Stats().Hosts[tt.host]
			if after.Ops.Signal-before.Ops.Signal != 1 || after.Ops.Delete-before.Ops.Delete != 1 || after.ShellsOpen != 0 {
				t.Errorf("pywinrm did not clean up: %+v", after)
			}
			// NTLM authenticates the connection once; Basic sends the
			// password with each of the 5 requests.
			want := map[string]int64{"aadc-sealed": 1, "aadc-basic": 5}[tt.host]
			if n := after.AuthAttempts - before.AuthAttempts; n != want || after.AuthFailures != before.AuthFailures {
				t.Errorf("%d auth attempts (%d failed), want %d", n, after.AuthFailures-before.AuthFailures, want)
			}
		})
	}
	t.Run("wrong password is a 401", func(t *testing.T) {
		python, script := pywinrm(t)
		conf := opensslLegacy
		cmd := exec.Command(python, script, "--url", "http://"+sealedAddr+"/wsman", "--user", testUser)
		cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf, "PYWINRM_PASSWORD=wrong", "NO_PROXY=*", "no_proxy=*")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "InvalidCredentialsError") {
			t.Fatalf("want InvalidCredentialsError, got %v: %s", err, out)
		}
	})
}
