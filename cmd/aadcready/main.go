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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	var ee exitError
	switch {
	case err == nil:
		return results.ExitOK
	case errors.As(err, &ee):
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "aadcready:", err)
	return results.ExitUsage
}
