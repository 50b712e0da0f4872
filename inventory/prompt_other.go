//go:build !linux

package inventory

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// promptOn asks on the terminal in with term.ReadPassword. Outside Linux
// it does not watch ctx: Ctrl-C at a Windows console prompt ends the
// process through the console's own handling.
func promptOn(_ context.Context, in *os.File, out io.Writer) func(label string) (string, error) {
	return func(label string) (string, error) {
		fd := int(in.Fd())
		if !term.IsTerminal(fd) {
			return "", errNotTerminal
		}
		fmt.Fprintf(out, "%s: ", label)
		pw, err := term.ReadPassword(fd)
		fmt.Fprintln(out)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		return string(pw), nil
	}
}
