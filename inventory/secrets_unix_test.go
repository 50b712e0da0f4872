//go:build unix

package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every kind of bad password file is found by `inventory validate`
// (CheckFiles) without reading a password, and by the resolver; a
// named pipe never blocks either.
func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
	}{
		{writeFile(t, "ok", secret, 0o600), ""},
		{writeFile(t, "group", secret, 0o640), "readable by group or others"},
		{writeFile(t, "other-w", secret, 0o602), "writable or executable by group or others"},
		{filepath.Join(dir, "missing"), "file does not exist"},
		{dir, "not a regular file"},
		{fifo, "named pipe"},
		{"/dev/zero", "device"},
	}
	if os.Getuid() == 0 {
		// root may own a file of another user: chown one to nobody.
		other := writeFile(t, "other-owner", secret, 0o600)
		if err := os.Chown(other, 65534, 65534); err == nil {
			tests = append(tests, struct{ path, want string }{other, "belongs to user id 65534"})
		}
	}
	for _, tt := range tests {
		inv := &Inventory{Hosts: []Host{{Name: "aadc01", Source: "inv.yaml:3", Secret: SecretRef{File: tt.path}}}}
		done := make(chan error, 2)
		go func() { done <- CheckFiles(inv) }()
		go func() { _, err := NewResolver(env(nil), noPrompt(t)).Password(inv.Hosts[0].Secret); done <- err }()
		for i := range 2 {
			select {
			case err := <-done:
				switch {
				case tt.want == "" && err != nil:
					t.Errorf("%s (%d): %v", tt.path, i, err)
				case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
					t.Errorf("%s (%d): %v, want %q", tt.path, i, err, tt.want)
				}
			case <-time.After(10 * time.Second): // a safety limit, not a timing assertion
				t.Fatalf("%s: blocked", tt.path)
			}
		}
	}
}

// The inventory and the hosts file: a pipe or a device is refused before
// a byte is read (no hang, no read until memory runs out), and a huge bad
// line is echoed cut short.
func TestInputFilesRefusedAndCapped(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero", dir} {
		done := make(chan [2]error, 1)
		go func() {
			_, e1 := Load(path)
			_, e2 := ReadHostsFile(path)
			done <- [2]error{e1, e2}
		}()
		select {
		case errs := <-done:
			for _, err := range errs {
				if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not a regular file") {
					t.Errorf("%s: %v", path, err)
				}
			}
		case <-time.After(10 * time.Second): // a safety limit, not a timing assertion
			t.Fatalf("%s: blocked", path)
		}
	}
	long := strings.Repeat("x", 1<<20) + "!"
	path := writeFile(t, "hosts.txt", "aadc01\n"+long+"\n", 0o600)
	_, err := ReadHostsFile(path)
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), path+":2:") || !strings.Contains(err.Error(), "1048577 bytes") {
		t.Errorf("a 1 MiB bad line: error of %d bytes: %.300s", len(fmt.Sprint(err)), fmt.Sprint(err))
	}
	yml := writeFile(t, "inv.yaml", "hosts:\n  - name: aadc01\n    "+long[:200000]+": 1\n    port: "+long[:200000]+"\n", 0o600)
	_, err = Load(yml)
	if err == nil || len(err.Error()) > 1000 {
		t.Errorf("huge bad key and value: error of %d bytes", len(fmt.Sprint(err)))
	}
}

// A ca_file that is a pipe, a device or missing is found up front, with
// the inventory line, instead of blocking or failing every host's TLS.
func TestCheckFilesCAFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "ca.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "named pipe", "/dev/zero": "device", fifo + ".missing": "no such file"} {
		inv := &Inventory{Hosts: []Host{{Name: "aadc01", Source: "inv.yaml:7", CAFile: path}}}
		err := CheckFiles(inv)
		if err == nil || !strings.Contains(err.Error(), `inv.yaml:7: host "aadc01": ca_file: `) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}
