package simulator

import (
	"net/http"
	"strings"
	"time"
)

// shellIdleTimeout is winrs IdleTimeout (7200000 ms): a shell no request
// touches for that long is deleted. Until then an abandoned shell counts
// against MaxShellsPerUser, as on Windows.
const shellIdleTimeout = 2 * time.Hour

type shell struct {
	id       string
	owner    string // lower-cased account, for quotas and ownership
	idle     time.Duration
	lastUsed time.Time
	commands map[string]*command
}

func ownerKey(user string) string { return strings.ToLower(user) }

func (h *hostState) create(rq *request, who *caller) reply {
	relatesTo := rq.Header.MessageID
	info := shellInfo{id: newGUID(), owner: who.user, clientIP: who.ip, address: who.url, input: "stdin", output: "stdout stderr", idle: shellIdleTimeout}
	if sh := rq.Body.Shell; sh != nil {
		if sh.InputStreams != "" {
			info.input = sh.InputStreams
		}
		if sh.OutputStreams != "" {
			info.output = sh.OutputStreams
		}
		info.workDir = sh.WorkingDirectory
		// A client may ask for a shorter idle timeout, not a longer one.
		if d, err := parseXSDuration(sh.IdleTimeOut); err == nil && d > 0 && d < shellIdleTimeout {
			info.idle = d
		}
	}
	now := time.Now()
	owner := ownerKey(who.user)
	h.mu.Lock()
	if h.shells == nil {
		h.shells = map[string]*shell{}
	}
	n := 0
	for id, s := range h.shells {
		switch {
		case now.Sub(s.lastUsed) > s.idle:
			delete(h.shells, id)
		case s.owner == owner:
			n++
		}
	}
	if n >= h.cfg.MaxShellsPerUser {
		h.mu.Unlock()
		return h.faultReply(relatesTo, tooManyShells(h.cfg.MaxShellsPerUser))
	}
	h.shells[info.id] = &shell{id: info.id, owner: owner, idle: info.idle, lastUsed: now, commands: map[string]*command{}}
	h.mu.Unlock()
	return reply{status: http.StatusOK, body: createResponse(relatesTo, info)}
}

// shellOf finds the request's shell; the caller holds h.mu. A shell another
// user created is as good as absent.
func (h *hostState) shellOf(rq *request, who *caller) (*shell, *wsFault) {
	id := rq.selector("ShellId")
	s, ok := h.shells[id]
	if !ok || s.owner != ownerKey(who.user) {
		f := unknownShell(id)
		return nil, &f
	}
	s.lastUsed = time.Now()
	return s, nil
}

// commandOf finds a command of the request's shell; the caller holds h.mu.
func (h *hostState) commandOf(rq *request, who *caller, id string) (*shell, *command, *wsFault) {
	s, f := h.shellOf(rq, who)
	if f != nil {
		return nil, nil, f
	}
	c, ok := s.commands[id]
	if !ok {
		f := faultFor(codeUnknownShell)
		return nil, nil, &f
	}
	return s, c, nil
}

func (h *hostState) delete(rq *request, who *caller) reply {
	h.mu.Lock()
	s, f := h.shellOf(rq, who)
	if f == nil {
		delete(h.shells, s.id)
	}
	h.mu.Unlock()
	if f != nil {
		return h.faultReply(rq.Header.MessageID, *f)
	}
	return reply{status: http.StatusOK, body: deleteResponse(rq.Header.MessageID)}
}

// exitCtrlC is the exit code of a process ended by Ctrl+C
// (STATUS_CONTROL_C_EXIT as a signed 32-bit value).
const exitCtrlC = -1073741510

func (h *hostState) signal(rq *request, who *caller) reply {
	relatesTo := rq.Header.MessageID
	if rq.Body.Signal == nil {
		return h.faultReply(relatesTo, faultFor(codeSchemaValidation))
	}
	id := rq.Body.Signal.CommandID
	h.mu.Lock()
	s, c, f := h.commandOf(rq, who, id)
	if f == nil {
		if strings.HasSuffix(rq.Body.Signal.Code, "/terminate") {
			delete(s.commands, id)
		} else {
			// ctrl_c or ctrl_break: a process still waiting for stdin ends.
			c.finish(output{code: exitCtrlC}, 0)
		}
	}
	h.mu.Unlock()
	if f != nil {
		return h.faultReply(relatesTo, *f)
	}
	return reply{status: http.StatusOK, body: emptyResponse(relatesTo, "SignalResponse")}
}
