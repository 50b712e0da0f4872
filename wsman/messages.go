package wsman

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// WS-Management actions and URIs used by the cmd shell.
const (
	nsShell         = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	shellResource   = nsShell + "/cmd"
	actionCreate    = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actionDelete    = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actionCommand   = nsShell + "/Command"
	actionSend      = nsShell + "/Send"
	actionReceive   = nsShell + "/Receive"
	actionSignal    = nsShell + "/Signal"
	anonymousReply  = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
	stateDoneSuffix = "/CommandState/Done"
)

// request is one SOAP message ready to post.
type request struct {
	op     string // create, command, send, receive, signal, delete
	action string // the response action a success must carry
	id     string // wsa:MessageID, which the response's RelatesTo must echo
	body   []byte
	err    error // building failed (a bug, reported rather than panicking)
}

// builder makes the requests of one client. masterzen/winrm builds the
// envelopes; its package-level DefaultParameters is copied, never mutated.
type builder struct {
	endpoint string
	params   winrm.Parameters
}

func newBuilder(s *settings) builder {
	p := *winrm.DefaultParameters
	p.Timeout = isoSeconds(s.OperationTimeout)
	p.EnvelopeSize = s.MaxEnvelopeKB * 1024
	p.Locale = "en-US"
	return builder{endpoint: s.endpoint, params: p}
}

// isoSeconds formats d as an xs:duration such as PT20S or PT1.5S.
func isoSeconds(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

func (b *builder) create() request {
	return fromSOAP("create", actionCreate, winrm.NewOpenShellRequest(b.endpoint, &b.params))
}

func (b *builder) delete(shellID string) request {
	return fromSOAP("delete", actionDelete, winrm.NewDeleteShellRequest(b.endpoint, shellID, &b.params))
}

// stdinMarker is what masterzen is given as a Send's input: its base64
// (stdinMarkerB64) appears once in the envelope, where the chunk goes.
var (
	stdinMarker    = []byte("aadcready stdin placeholder")
	stdinMarkerB64 = []byte(base64.StdEncoding.EncodeToString(stdinMarker))
)

// send builds a Send request. The chunk is often the whole probe bundle
// (41 KB, more in base64), and masterzen's builder would copy its base64
// text four times through its DOM: it builds the envelope around a marker
// instead, and the chunk is encoded straight into the body in its place.
func (b *builder) send(shellID, commandID string, chunk []byte, end bool) request {
	r := fromSOAP("send", actionSend, winrm.NewSendInputRequest(b.endpoint, shellID, commandID, stdinMarker, end, &b.params))
	if r.err != nil {
		return r
	}
	i := bytes.Index(r.body, stdinMarkerB64)
	if i < 0 || bytes.Count(r.body, stdinMarkerB64) != 1 {
		r.err = errors.New("build send request: the stdin marker is not in the envelope once")
		return r
	}
	body := make([]byte, 0, len(r.body)-len(stdinMarkerB64)+base64.StdEncoding.EncodedLen(len(chunk)))
	body = append(body, r.body[:i]...)
	body = base64.StdEncoding.AppendEncode(body, chunk)
	r.body = append(body, r.body[i+len(stdinMarkerB64):]...)
	return r
}

func (b *builder) receive(shellID, commandID string) request {
	return fromSOAP("receive", actionReceive, winrm.NewGetOutputRequest(b.endpoint, shellID, commandID, "stdout stderr", &b.params))
}

func (b *builder) signal(shellID, commandID string) request {
	return fromSOAP("signal", actionSignal, winrm.NewSignalRequest(b.endpoint, shellID, commandID, &b.params))
}

// command builds the Command request itself: masterzen's builder hard-codes
// WINRS_CONSOLEMODE_STDIN=TRUE, and PowerShell reading $input wants a pipe
// (Ansible turns console mode off for the same reason). The command line is
// XML-escaped rather than wrapped in CDATA, which "]]>" would break.
func (b *builder) command(shellID, commandLine string) request {
	id, err := newMessageID()
	if err != nil {
		return request{op: "command", err: err}
	}
	var esc strings.Builder
	if err := xml.EscapeText(&esc, []byte(commandLine)); err != nil {
		return request{op: "command", err: fmt.Errorf("escape command line: %w", err)}
	}
	m := soap.NewMessage()
	m.Header().
		To(b.endpoint).
		ReplyTo(anonymousReply).
		MaxEnvelopeSize(b.params.EnvelopeSize).
		Id(id).
		Locale(b.params.Locale).
		Timeout(b.params.Timeout).
		Action(actionCommand).
		ResourceURI(shellResource).
		ShellId(shellID).
		AddOption(soap.NewHeaderOption("WINRS_CONSOLEMODE_STDIN", "FALSE")).
		AddOption(soap.NewHeaderOption("WINRS_SKIP_CMD_SHELL", "FALSE")).
		Build()
	line := m.CreateBodyElement("CommandLine", soap.DOM_NS_WIN_SHELL)
	m.CreateElement(line, "Command", soap.DOM_NS_WIN_SHELL).SetContent(esc.String())
	return request{op: "command", action: actionCommand, id: id, body: []byte(m.String())}
}

// fromSOAP serialises m and reads back the MessageID masterzen generated.
func fromSOAP(op, action string, m *soap.SoapMessage) request {
	s := m.String()
	id, err := messageIDOf(s)
	if err != nil {
		return request{op: op, err: fmt.Errorf("build %s request: %w", op, err)}
	}
	return request{op: op, action: action, id: id, body: []byte(s)}
}

func messageIDOf(envelope string) (string, error) {
	const open, end = ":MessageID>", "</"
	i := strings.Index(envelope, open)
	if i < 0 {
		return "", errors.New("no MessageID in envelope")
	}
	rest := envelope[i+len(open):]
	j := strings.Index(rest, end)
	if j <= 0 {
		return "", errors.New("unterminated MessageID")
	}
	return rest[:j], nil
}

func newMessageID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("message id: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(u[:])
	return "uuid:" + strings.ToUpper(h[0:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:]), nil
}

// validID accepts the shell and command ids a server may hand out. masterzen
// writes them into later requests unescaped, so anything beyond GUID-like
// characters is refused rather than echoed into XML.
func validID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			c == '-' || c == '{' || c == '}' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// stdinChunk is how many raw stdin bytes fit one Send envelope of envelopeKB:
// the base64 text (4/3 of the bytes) plus headers of at most sendOverhead.
func stdinChunk(envelopeKB int) int {
	const sendOverhead = 4096
	n := (envelopeKB*1024 - sendOverhead) / 4 * 3
	return max(n, 3)
}
