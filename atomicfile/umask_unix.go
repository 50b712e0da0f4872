//go:build unix

package atomicfile

import (
	"os"
	"syscall"
)

// umask is the process's umask, read once before any goroutine could
// create a file (reading it means setting it).
var umask = func() os.FileMode {
	m := syscall.Umask(0o077)
	syscall.Umask(m)
	return os.FileMode(m)
}()
