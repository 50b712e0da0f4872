package simulator

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sealSlack is how much larger than the SOAP message its sealed framing
// may be.
const sealSlack = 1024

// serveHTTP answers one request on a host's listener.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Context().Value(connKey{}).(*conn)
	if c == nil || c.host == nil || !s.enter() {
		return
	}
	defer s.leave()
	h := c.host
	h.counters.requests.Add(1)
	w.Header().Set("Server", "Microsoft-HTTPAPI/2.0")
	if !sleep(r.Context(), h.cfg.Latency) {
		return
	}
	switch {
	case r.URL.Path != "/wsman":
		http.Error(w, "", http.StatusNotFound)
		return
	case r.Method != http.MethodPost:
		http.Error(w, "", http.StatusMethodNotAllowed)
		return
	}
	maxEnvelope := h.cfg.MaxEnvelopeKB * 1024
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(maxEnvelope+sealSlack+1)))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxEnvelope+sealSlack {
		tooLarge(w) // the rest of the body is never read
		return
	}
	user, plain, sealed, ok := s.authorize(w, r, c, body)
	switch {
	case !ok:
		return
	case len(plain) == 0:
		// An empty POST completes the NTLM handshake (pywinrm,
		// masterzen): nothing to answer but the status.
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	case len(plain) > maxEnvelope:
		tooLarge(w)
		return
	case !sealed && !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/soap+xml"):
		http.Error(w, "", http.StatusUnsupportedMediaType)
		return
	}
	rep := h.serveSOAP(r.Context(), &caller{user: user, ip: remoteIP(c), url: endpointURL(r, c)}, plain)
	s.writeReply(w, c, rep, sealed)
}

// tooLarge is how the service refuses an envelope over MaxEnvelopeSizekb:
// HTTP 413 with no body, closing the connection. Clients turn it into "the
// request size exceeded the configured MaxEnvelopeSize quota" (0x80338111)
// themselves.
func tooLarge(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
}

// reply is a WS-Management answer, or an injected failure.
type reply struct {
	status int
	body   []byte
	reset  bool // close the connection in the middle of the response
}

func (s *Server) writeReply(w http.ResponseWriter, c *conn, rep reply, sealed bool) {
	if rep.reset {
		resetConnection(w)
		return
	}
	body := rep.body
	hdr := w.Header()
	switch {
	case len(body) == 0:
	case sealed:
		framed, err := seal(c.context(), c.protocol(), body)
		if err != nil {
			http.Error(w, "", http.StatusInternalServerError)
			return
		}
		body = framed
		hdr.Set("Content-Type", sealedContentType(c.protocol()))
	default:
		hdr.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rep.status)
	w.Write(body)
}

// resetConnection starts a response and drops the connection halfway, as a
// crashing service or a middlebox does.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	nc, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 4096\r\n\r\n")
	buf.WriteString(`<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>`)
	buf.Flush()
	nc.Close()
}

// sleep waits d unless ctx ends first; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
