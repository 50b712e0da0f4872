//go:build linux

package inventory

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

func echoOn(t *testing.T, fd int) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// Ctrl-C at the password prompt (the CLI cancels its context on SIGINT)
// must end the prompt and give the terminal its echo back.
func TestPromptGivesUpAndRestoresEchoWhenInterrupted(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go io.Copy(io.Discard, ptmx) // what the terminal would display
	fd := int(tty.Fd())
	if !echoOn(t, fd) {
		t.Fatal("a new pty should echo")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := promptOn(ctx, tty, io.Discard)("password")
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, ErrPromptInterrupted) {
		t.Fatalf("err = %v, want ErrPromptInterrupted", err)
	}
	if !echoOn(t, fd) {
		t.Error("echo is still off after the interrupted prompt")
	}
}

func TestPromptReadsThePassword(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go io.Copy(io.Discard, ptmx)
	if _, err := ptmx.Write([]byte("s3cret\n")); err != nil {
		t.Fatal(err)
	}
	pw, err := promptOn(context.Background(), tty, io.Discard)("password")
	if err != nil || pw != "s3cret" {
		t.Fatalf("got %q, %v", pw, err)
	}
}
