//go:build unix

package runstore

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLockRefusesLinks: a symbolic link (or anything but a regular file)
// at DIR/.lock is refused; its target is neither written nor created.
func TestLockRefusesLinks(t *testing.T) {
	started := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	victimDir := t.TempDir()
	victim := filepath.Join(victimDir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, plant := range map[string]func(lock string) error{
		"link":     func(lock string) error { return os.Symlink(victim, lock) },
		"dangling": func(lock string) error { return os.Symlink(filepath.Join(victimDir, "created"), lock) },
		"fifo":     func(lock string) error { return syscall.Mkfifo(lock, 0o600) },
		"folder":   func(lock string) error { return os.Mkdir(lock, 0o700) },
		"hardlink": func(lock string) error { return os.Link(victim, lock) },
	} {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := plant(filepath.Join(s.Dir, LockName)); err != nil {
			t.Fatal(err)
		}
		if l, err := s.Lock(started); err == nil {
			l.Unlock()
			t.Errorf("%s: Lock succeeded", name)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("victim now holds %q", b)
	}
	if _, err := os.Lstat(filepath.Join(victimDir, "created")); err == nil {
		t.Error("a dangling link's target was created")
	}
}
