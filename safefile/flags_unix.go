//go:build unix

package safefile

import "syscall"

const (
	openNonBlock = syscall.O_NONBLOCK
	// NoFollow makes an open fail on a symbolic link instead of following
	// it (ELOOP): a link planted where the tool creates a file must not
	// send the write to another file.
	NoFollow = syscall.O_NOFOLLOW
)
