// Samba's self-generated LDAPS certificate (and some self-signed WinRM
// ones) carry a negative serial number, which Go refuses to parse since
// 1.23. The chain and the name are still verified; only that encoding slip
// is let through, so `discover` can read a DC that never replaced it.
//
//go:debug x509negativeserial=1

// Command aadcready tells, for every Azure AD Connect (Microsoft Entra Connect
// Sync) server of an inventory, whether it is ready for AD Connect V2 and the
// deadlines that apply, what blocks it and what to do next. It connects over
// WinRM, runs read-only PowerShell probes and changes nothing on the hosts.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"aadcready/results"
)

// exitError carries an exit code chosen by a command (findings, interrupt).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// usageError is a usage or configuration problem: exit 3, nothing scanned.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usage(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

func main() {
	ignoreSIGPIPE()
	if err := protectMemory(); err != nil {
		fmt.Fprintln(os.Stderr, "aadcready: cannot make the process non-dumpable; a core dump could hold passwords:", err)
	}
	// SIGHUP (the terminal went away: a dropped SSH session) ends the scan
	// as SIGINT and SIGTERM do, with every finished host written, rather
	// than killing it with nothing written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

// exitCode is the process's exit code for err; an error that is not an
// exitError is printed first.
func exitCode(err error) int {
	code, show := codeOf(err)
	if show {
		fmt.Fprintln(os.Stderr, "aadcready:", err)
	}
	return code
}

// codeOf maps err to its exit code, and tells whether err is a message to
// show (an exitError only carries a code).
func codeOf(err error) (code int, show bool) {
	var ee exitError
	var oe outputError
	switch {
	case err == nil:
		return results.ExitOK, false
	case errors.As(err, &ee):
		return ee.code, false
	case errors.As(err, &oe):
		return results.ExitOutput, true
	}
	return results.ExitUsage, true
}
