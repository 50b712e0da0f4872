package simulator

import (
	"context"
	"encoding/base64"
	"net/http"
	"time"
)

// receiveOverhead is room kept in a ReceiveResponse for everything but the
// stream data: envelope, header, End streams and CommandState.
const receiveOverhead = 2048

// maxChunk is the most raw output bytes one rsp:Stream carries.
const maxChunk = 32 << 10

// receive waits for output as WinRS does: until the command has output or
// OperationTimeout passes, which answers fault 2150858793 ("no output
// yet; Receive again").
func (h *hostState) receive(ctx context.Context, rq *request, who *caller) reply {
	relatesTo := rq.Header.MessageID
	if rq.Body.Receive == nil {
		return h.faultReply(relatesTo, faultFor(codeSchemaValidation))
	}
	id := rq.Body.Receive.DesiredStream.CommandID
	h.mu.Lock()
	_, c, f := h.commandOf(rq, who, id)
	h.mu.Unlock()
	if f != nil {
		return h.faultReply(relatesTo, *f)
	}
	deadline := time.NewTimer(rq.operationTimeout(h.cfg.MaxTimeoutMS))
	defer deadline.Stop()
	select {
	case <-c.started:
	case <-deadline.C:
		return h.faultReply(relatesTo, faultFor(codeOperationTimeout))
	case <-ctx.Done():
		return reply{status: http.StatusServiceUnavailable}
	}
	if wait := time.Until(c.readyAt); wait > 0 {
		ready := time.NewTimer(wait)
		defer ready.Stop()
		select {
		case <-ready.C:
		case <-deadline.C:
			return h.faultReply(relatesTo, faultFor(codeOperationTimeout))
		case <-ctx.Done():
			return reply{status: http.StatusServiceUnavailable}
		}
	}
	h.mu.Lock()
	chunks, done := c.take(rq.responseLimit(h.cfg.MaxEnvelopeKB))
	code, hang := c.out.code, c.out.hang
	h.mu.Unlock()
	if hang && done {
		// Output written so far goes out; then the process is stuck and
		// Receive times out like WinRS's would, again and again.
		if len(chunks) == 0 {
			select {
			case <-deadline.C:
				return h.faultReply(relatesTo, faultFor(codeOperationTimeout))
			case <-ctx.Done():
				return reply{status: http.StatusServiceUnavailable}
			}
		}
		done = false
	}
	return reply{status: http.StatusOK, body: receiveResponse(relatesTo, id, chunks, done, code)}
}

// take hands out as much pending output as fits in an envelope of limit
// bytes, stdout first; done reports that nothing is left. The caller holds
// h.mu. At least one small chunk goes out even under a tiny limit, so a
// Receive loop always progresses.
func (c *command) take(limit int) (chunks []chunk, done bool) {
	budget := limit - receiveOverhead
	streams := [2]struct {
		name string
		data []byte
	}{{"stdout", c.out.stdout}, {"stderr", c.out.stderr}}
	for i, st := range streams {
		for c.sent[i] < len(st.data) {
			room := (budget - streamOverhead) / 4 * 3
			if room <= 0 {
				if len(chunks) > 0 {
					return chunks, false
				}
				room = 192
			}
			n := min(len(st.data)-c.sent[i], maxChunk, room)
			chunks = append(chunks, chunk{st.name, st.data[c.sent[i] : c.sent[i]+n]})
			c.sent[i] += n
			budget -= streamOverhead + base64.StdEncoding.EncodedLen(n)
		}
	}
	return chunks, true
}
