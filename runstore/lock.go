package runstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"aadcready/atomicfile"
	"aadcready/safefile"
)

// Lock is the store's writer lock (DIR/.lock). It is an operating system
// file lock (flock on Unix, LockFileEx on Windows): the kernel releases it
// when the process ends, however it ends, so a killed run never blocks the
// next one. The lock file itself stays in place; deleting it would let two
// writers lock two different files.
type Lock struct {
	fl *flock.Flock
}

// BusyError is returned when another process holds the lock.
type BusyError struct {
	Dir     string
	PID     int       // 0 when the holder has not written its details yet
	Started time.Time // zero when unknown
}

func (e *BusyError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("another scan is writing to %s (%s is locked)", e.Dir, filepath.Join(e.Dir, LockName))
	}
	return fmt.Sprintf("another scan (pid %d, started %s) is writing to %s", e.PID, e.Started.UTC().Format(time.RFC3339), e.Dir)
}

// The holder's details are written from byte 1 on: Windows' LockFileEx
// (as gofrs/flock calls it) locks byte 0 only, and a locked byte cannot be
// read by anyone else, not even through the holder's second handle.
const (
	ownerOffset = 1
	ownerSize   = 128
)

// Lock takes the store's lock without waiting. When another process holds
// it, the error is a *BusyError naming that process.
func (s *Store) Lock(started time.Time) (*Lock, error) {
	path := filepath.Join(s.Dir, LockName)
	// The lock file is opened without following a symbolic link: a link
	// planted at DIR/.lock would have the owner line written into its
	// target. CheckNotLink is the guard where O_NOFOLLOW does not exist,
	// and refuses a pipe or device before the open could wait on it.
	if err := safefile.CheckNotLink(path); err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR|safefile.NoFollow), flock.SetPermissions(atomicfile.FilePerm(0o640)))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	// A hard link to another file (ln VICTIM DIR/.lock) is no link to
	// O_NOFOLLOW: refuse a lock file with more than one name.
	if fi, err := fl.Stat(); err != nil || !fi.Mode().IsRegular() || safefile.Links(fi) > 1 {
		fl.Unlock()
		return nil, fmt.Errorf("locking %s: not a regular file of its own (a link to another file?); remove it", path)
	}
	if !ok {
		pid, when := readOwner(path)
		return nil, &BusyError{Dir: s.Dir, PID: pid, Started: when}
	}
	if err := writeOwner(path, os.Getpid(), started); err != nil {
		fl.Unlock()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &Lock{fl: fl}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.fl == nil {
		return nil
	}
	return l.fl.Unlock()
}

// writeOwner records who holds the lock, for the message the next writer
// gets. It writes through a second handle: gofrs/flock keeps its own. On
// Linux and Windows, closing that second handle does not release the lock
// (flock(2) locks belong to the open file, not the process).
func writeOwner(path string, pid int, started time.Time) error {
	f, err := os.OpenFile(path, os.O_WRONLY|safefile.NoFollow, 0)
	if err != nil {
		return err
	}
	rec := fmt.Sprintf("aadcready pid %d started %s", pid, started.UTC().Format(time.RFC3339))
	buf := bytes.Repeat([]byte{' '}, ownerSize)
	copy(buf, rec)
	buf[ownerSize-1] = '\n'
	if _, err := f.WriteAt(buf, ownerOffset); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readOwner(path string) (pid int, started time.Time) {
	f, _, err := safefile.OpenOwn(path)
	if err != nil {
		return 0, time.Time{}
	}
	defer f.Close()
	buf := make([]byte, ownerSize)
	n, _ := f.ReadAt(buf, ownerOffset)
	fields := strings.Fields(string(buf[:n]))
	// aadcready pid N started T
	if len(fields) < 5 || fields[0] != "aadcready" || fields[1] != "pid" || fields[3] != "started" {
		return 0, time.Time{}
	}
	pid, err = strconv.Atoi(fields[2])
	if err != nil {
		return 0, time.Time{}
	}
	started, _ = time.Parse(time.RFC3339, fields[4])
	return pid, started
}

// IsBusy tells whether err says another writer holds the lock.
func IsBusy(err error) bool {
	var b *BusyError
	return errors.As(err, &b)
}
