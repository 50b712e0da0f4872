// Package atomicfile writes files so that a reader sees either the old
// content or the whole new content, never a half-written file: the data goes
// to a temporary file in the same directory, is synced, then renamed over
// the target.
//
// Facts about Tier-0 servers are sensitive: what the tool writes is readable
// by its owner only (files 0600, folders 0700) unless the output mode says
// group (0640 and 0750, for teams that share a group), and never more than
// the process's umask allows.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
)

// Mode says who may read the files and folders the tool writes.
type Mode int32

const (
	// Private: the owner only (files 0600, folders 0700). The default.
	Private Mode = iota
	// Group: the owner and the file's group may read (0640, 0750).
	Group
)

// ParseMode reads an --output-mode value: private or group.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "private", "":
		return Private, nil
	case "group":
		return Group, nil
	}
	return Private, fmt.Errorf("output mode must be private or group, not %q", s)
}

var mode atomic.Int32

// SetMode sets the output mode of the process (the CLI's --output-mode).
func SetMode(m Mode) { mode.Store(int32(m)) }

// FilePerm is the permission a file written with perm gets: perm limited
// by the output mode and the umask. perm is the most a file may get.
func FilePerm(perm os.FileMode) os.FileMode {
	limit := os.FileMode(0o600)
	if Mode(mode.Load()) == Group {
		limit = 0o640
	}
	return perm & limit &^ umask
}

// DirPerm is the permission of a folder the tool creates.
func DirPerm() os.FileMode {
	limit := os.FileMode(0o700)
	if Mode(mode.Load()) == Group {
		limit = 0o750
	}
	return limit &^ umask
}

// MkdirAll creates dir and its missing parents with DirPerm; an existing
// folder is left as it is.
func MkdirAll(dir string) error { return os.MkdirAll(dir, DirPerm()) }

// Write calls fill with a buffered writer on a temporary file next to path
// and renames it to path when fill and the flush succeed. On any error the
// temporary file is removed and path is left as it was.
func Write(path string, perm os.FileMode, fill func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if err = fill(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Chmod(FilePerm(perm)); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteBytes writes data to path atomically.
func WriteBytes(path string, perm os.FileMode, data []byte) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
