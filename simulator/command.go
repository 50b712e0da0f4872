package simulator

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// process is what a command line starts: a program that may read stdin,
// runs for a while, and leaves output and an exit code.
type process struct {
	readsStdin bool
	runtime    time.Duration
	run        func(stdin []byte) output
}

type output struct {
	stdout, stderr []byte
	code           int
	hang           bool // the process never ends after writing its output
}

func exited(stdout, stderr string, code int) process {
	return process{run: func([]byte) output { return output{stdout: []byte(stdout), stderr: []byte(stderr), code: code} }}
}

// command is a process in a shell. stdin collects Send data; started closes
// once stdin is complete, when the output is computed and readyAt set: the
// output becomes visible to Receive at readyAt, after the process "ran".
type command struct {
	id      string
	proc    process
	stdin   []byte
	started chan struct{}
	out     output
	readyAt time.Time
	sent    [2]int // bytes of stdout, stderr already received
}

// maxStdin bounds what one command buffers from Send.
const maxStdin = 64 << 20

// finish runs the process on its complete stdin; the caller holds h.mu. A
// second call (a signal after the end) changes nothing.
func (c *command) finish(out output, runtime time.Duration) {
	select {
	case <-c.started:
		return
	default:
	}
	c.out, c.readyAt = out, time.Now().Add(runtime)
	close(c.started)
}

func (h *hostState) command(rq *request, who *caller) reply {
	relatesTo := rq.Header.MessageID
	cl := rq.Body.CommandLine
	if cl == nil {
		return h.faultReply(relatesTo, faultFor(codeSchemaValidation))
	}
	// WinRS joins the command and its arguments with spaces.
	line := strings.Join(append([]string{strings.TrimSpace(cl.Command)}, cl.Arguments...), " ")
	skip := strings.EqualFold(rq.option("WINRS_SKIP_CMD_SHELL"), "true")
	proc, f := h.interpret(line, skip)
	if f != nil {
		return h.faultReply(relatesTo, *f)
	}
	h.mu.Lock()
	s, f := h.shellOf(rq, who)
	var c *command
	if f == nil {
		c = &command{id: newGUID(), proc: proc, started: make(chan struct{})}
		s.commands[c.id] = c
		if !proc.readsStdin {
			c.finish(proc.run(nil), proc.runtime)
		}
	}
	h.mu.Unlock()
	if f != nil {
		return h.faultReply(relatesTo, *f)
	}
	return reply{status: http.StatusOK, body: commandResponse(relatesTo, c.id)}
}

func (h *hostState) send(rq *request, who *caller) reply {
	relatesTo := rq.Header.MessageID
	if rq.Body.Send == nil {
		return h.faultReply(relatesTo, faultFor(codeSchemaValidation))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, st := range rq.Body.Send.Streams {
		_, c, f := h.commandOf(rq, who, st.CommandID)
		if f != nil {
			return h.faultReply(relatesTo, *f)
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil || len(c.stdin)+len(data) > maxStdin {
			return h.faultReply(relatesTo, faultFor(codeInvalidParameter))
		}
		if !c.proc.readsStdin {
			continue // a program that never reads stdin: the data is dropped
		}
		c.stdin = append(c.stdin, data...)
		if strings.EqualFold(st.End, "true") {
			c.finish(c.proc.run(c.stdin), c.proc.runtime)
			c.stdin = nil
		}
	}
	return reply{status: http.StatusOK, body: emptyResponse(relatesTo, "SendResponse")}
}
