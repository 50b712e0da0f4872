package inventory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// promptOn asks on the terminal in, writing to out, and gives up when ctx
// ends. The CLI catches SIGINT to end scans cleanly, so a Ctrl-C at the
// prompt only cancels ctx. Echo is switched off here, before waiting, and
// restored on every path: with term.ReadPassword in a goroutine an early
// cancel could restore the terminal before the reader switched echo off,
// leaving it off for the rest of the shell session.
func promptOn(ctx context.Context, in *os.File, out io.Writer) func(label string) (string, error) {
	return func(label string) (string, error) {
		fd := int(in.Fd())
		old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			return "", errNotTerminal
		}
		quiet := *old
		quiet.Lflag &^= unix.ECHO
		quiet.Lflag |= unix.ICANON | unix.ISIG
		quiet.Iflag |= unix.ICRNL
		if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		defer unix.IoctlSetTermios(fd, unix.TCSETS, old)

		fmt.Fprintf(out, "%s: ", label)
		type answer struct {
			line string
			err  error
		}
		got := make(chan answer, 1)
		go func() {
			// Left blocked on the terminal if ctx ends first; the
			// process is about to exit then.
			line, err := bufio.NewReader(in).ReadString('\n')
			got <- answer{line, err}
		}()
		select {
		case a := <-got:
			fmt.Fprintln(out)
			if a.err != nil && !(errors.Is(a.err, io.EOF) && a.line != "") {
				return "", fmt.Errorf("reading the password: %w", a.err)
			}
			return strings.TrimRight(a.line, "\r\n"), nil
		case <-ctx.Done():
			fmt.Fprintln(out)
			return "", ErrPromptInterrupted
		}
	}
}
