package wsman

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// Result is what one command produced.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
	Requests       int  // SOAP requests sent (each attempt counts; NTLM handshake legs do not)
	Sealed         bool // messages were NTLM-sealed (NTLM over HTTP)
}

const (
	// cleanupTimeout bounds Signal and Delete after the command ended, failed
	// or was cancelled; it does not inherit the caller's (maybe ended) context.
	cleanupTimeout = 5 * time.Second
	// maxEmptyReceives caps Receive responses in a row that bring no output,
	// counting OperationTimeout faults: a misbehaving server cannot make
	// the client loop forever even under a generous context.
	maxEmptyReceives = 300
	// quickEmpty: an empty Receive answered faster than this is followed by
	// a growing pause, so a server that answers instantly is not hammered.
	quickEmpty    = 250 * time.Millisecond
	pauseBase     = 50 * time.Millisecond
	pauseMax      = 2 * time.Second
	maxCommandLen = 32767 // UTF-16 code units Windows accepts on a command line
)

type run struct {
	c       *Client
	res     *Result
	shellID string
	cmdID   string
}

// Run runs command in a new shell, feeds it stdin, collects its output and
// removes the shell. stdin nil sends nothing; non-nil (even empty) is sent
// in chunks that fit MaxEnvelopeKB, the last one marked End.
//
// On error the returned Result, when non-nil, holds what was received so far;
// always check the error first. Errors are *Error.
func (c *Client) Run(ctx context.Context, command string, stdin []byte) (*Result, error) {
	if n := utf16Len(command); n > maxCommandLen {
		e := newError(ClassCommandTooLong, "command", fmt.Sprintf("command line of %d characters", n), nil)
		e.FaultCode = FaultCommandTooLong
		return nil, e
	}
	r := &run{c: c, res: &Result{Sealed: c.s.seal}}

	start := time.Now()
	err := r.create(ctx)
	c.trace("create-shell", time.Since(start), err)
	if err != nil {
		r.finish(ctx, err)
		return r.res, err
	}
	start = time.Now()
	err = r.command(ctx, command, stdin)
	c.trace("command", time.Since(start), err)
	if err == nil {
		start = time.Now()
		err = r.receive(ctx)
		c.trace("receive", time.Since(start), err)
	}
	r.finish(ctx, err)
	return r.res, err
}

func (r *run) post(ctx context.Context, req request) (*envelope, error) {
	if req.err != nil {
		return nil, newError(ClassUnsupported, req.op, req.err.Error(), req.err)
	}
	return r.c.post(ctx, &req, &r.res.Requests)
}

func (r *run) create(ctx context.Context) error {
	env, err := r.post(ctx, r.c.build.create())
	if err != nil {
		return err
	}
	r.shellID, err = env.shellID("create")
	return err
}

func (r *run) command(ctx context.Context, command string, stdin []byte) error {
	env, err := r.post(ctx, r.c.build.command(r.shellID, command))
	if err != nil {
		return err
	}
	if r.cmdID, err = env.commandID("command"); err != nil {
		return err
	}
	if stdin == nil {
		return nil
	}
	chunk := stdinChunk(r.c.s.MaxEnvelopeKB)
	for first := true; first || len(stdin) > 0; first = false {
		n := min(chunk, len(stdin))
		part, last := stdin[:n], n == len(stdin)
		stdin = stdin[n:]
		if _, err := r.post(ctx, r.c.build.send(r.shellID, r.cmdID, part, last)); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) receive(ctx context.Context) error {
	var out output
	defer func() { r.res.Stdout, r.res.Stderr, r.res.ExitCode = out.stdout, out.stderr, out.exitCode }()
	empty := 0
	for !out.done {
		if ctx.Err() != nil {
			return ctxError(ctx, "receive")
		}
		start := time.Now()
		env, err := r.post(ctx, r.c.build.receive(r.shellID, r.cmdID))
		n := 0
		switch e := asError(err); {
		case e != nil && e.FaultCode == FaultOperationTimeout:
			// no output within OperationTimeout: normal, receive again
		case err != nil:
			return err
		default:
			if n, err = out.add(env, r.cmdID); err != nil {
				return err
			}
		}
		if total := int64(len(out.stdout) + len(out.stderr)); total > r.c.s.MaxOutputBytes {
			return newError(ClassOutputTooLarge, "receive", fmt.Sprintf("more than %d bytes of output", r.c.s.MaxOutputBytes), nil)
		}
		if n > 0 || out.done {
			empty = 0
			continue
		}
		if empty++; empty >= maxEmptyReceives {
			return newError(ClassMalformed, "receive", fmt.Sprintf("%d Receive responses in a row without output", empty), nil)
		}
		if time.Since(start) < quickEmpty {
			if err := pause(ctx, min(pauseBase<<min(empty-1, 6), pauseMax)); err != nil {
				return ctxError(ctx, "receive")
			}
		}
	}
	return nil
}

// deleteShell deletes the shell, once more if the answer was lost on the
// way: a leaked shell counts against MaxShellsPerUser until it idles out
// (two hours by default). Deleting twice is harmless; the second answer is
// then "shell not found".
func (r *run) deleteShell(ctx context.Context) error {
	_, err := r.post(ctx, r.c.build.delete(r.shellID))
	if e := asError(err); e != nil && (e.Class == ClassNetwork || e.Class == ClassResponseTimeout) && ctx.Err() == nil {
		_, err = r.post(ctx, r.c.build.delete(r.shellID))
		if e := asError(err); e != nil && e.Class == ClassShellNotFound {
			return nil
		}
	}
	return err
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish terminates the command and deletes the shell with a short context
// of its own, so a cancelled or expired run still cleans up on the host.
// A cleanup failure does not change the run's outcome; it is traced and
// logged. After a cancelled run the connections are closed.
func (r *run) finish(ctx context.Context, runErr error) {
	if r.shellID == "" {
		return
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var errs []error
	if r.cmdID != "" {
		_, err := r.post(cctx, r.c.build.signal(r.shellID, r.cmdID))
		errs = append(errs, err)
	}
	errs = append(errs, r.deleteShell(cctx))
	err := errors.Join(errs...)
	r.c.trace("cleanup", time.Since(start), err)
	if err != nil && r.c.s.Logger != nil {
		r.c.s.Logger.Warn("wsman cleanup failed: the shell may stay open until it idles out", "host", r.c.s.Host, "err", err)
	}
	if e := asError(runErr); ctx.Err() != nil || e != nil && e.Class == ClassResponseTimeout {
		r.c.transport.CloseIdleConnections()
	}
}
