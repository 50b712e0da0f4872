// Package safefile reads the files people hand the tool (the inventory, the
// hosts file, the waiver and config files, password files) without letting
// one of them hang or exhaust the process: a named pipe blocks its reader
// until a writer comes, /dev/zero never ends. Every such file is checked to
// be a regular file before a byte is read and read with a size cap, and every
// error names the file. It also holds the open flags for files the tool
// creates next to its outputs (never through a symbolic link).
package safefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Size caps of the files the tool reads. They are far above what a real
// file holds and far below what exhausts memory.
const (
	MaxInventory = 64 << 20 // an inventory or hosts file: ~100 bytes a host
	MaxSmall     = 4 << 20  // a waiver or config file
	MaxSecret    = 64 << 10 // a password file
)

// ErrNotRegular is wrapped by errors about a path that is not a regular
// file (a pipe, a device, a folder, a socket).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by errors about a file over its size cap.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading once it is known to be a regular file: it
// is checked before the open (opening a pipe would block until a writer
// comes) and again on the open file (the path may have been swapped
// meanwhile). The open itself never waits (O_NONBLOCK where the system
// has it).
func Open(path string) (*os.File, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := regular(path, fi); err != nil {
		return nil, nil, err
	}
	return openRegular(path, os.O_RDONLY|openNonBlock)
}

// openRegular opens path with flag and keeps it only if what was opened
// is a regular file.
func openRegular(path string, flag int) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = regular(path, fi)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

func regular(path string, fi fs.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	kind := "a special file"
	switch m := fi.Mode(); {
	case m.IsDir():
		kind = "a folder"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: it is %s", ErrNotRegular, kind)}
}

// Read reads the regular file at path, at most max bytes of it; a larger
// file is an error, and so is ctx ending before the file is read.
func Read(ctx context.Context, path string, max int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, _, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadOpen(ctx, f, path, max)
}

// ReadOpen reads f (opened with Open) as Read does.
func ReadOpen(ctx context.Context, f *os.File, path string, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(ctxReader{ctx, f}, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: larger than %s; is this the right file?", ErrTooLarge, size(max))}
	}
	return data, nil
}

// ctxReader stops a long read when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// CheckNotLink returns an error when path exists and is a symbolic link or
// not a regular file: the check before opening a file the tool writes to
// in place (where NoFollow does not exist, it is the only guard).
func CheckNotLink(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return &fs.PathError{Op: "open", Path: path, Err: errors.New("is a symbolic link; remove it (the tool does not write through links)")}
	}
	return regular(path, fi)
}

// Create creates or truncates the file at path for writing with perm,
// never through a symbolic link (NoFollow, and CheckNotLink where the
// system has no O_NOFOLLOW) and never into a pipe or device.
func Create(path string, perm os.FileMode) (*os.File, error) {
	if err := CheckNotLink(path); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|NoFollow, perm)
}

// OpenOwn opens for reading a file the tool itself wrote (a run's journal,
// run.json, the lock file): never through a symbolic link, never waiting
// on a pipe, and only when it is a regular file.
func OpenOwn(path string) (*os.File, fs.FileInfo, error) {
	return openRegular(path, os.O_RDONLY|NoFollow|openNonBlock)
}
