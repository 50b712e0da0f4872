//go:build unix

package main

import (
	"os/signal"
	"syscall"
)

// ignoreSIGPIPE turns a write to a closed stdout (the table piped into
// `head -1`) into an EPIPE error instead of the SIGPIPE that would end the
// process before the run folder and the files are written.
func ignoreSIGPIPE() { signal.Ignore(syscall.SIGPIPE) }
