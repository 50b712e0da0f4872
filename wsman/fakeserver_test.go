package wsman

// fakeWinRM is a scriptable WinRM endpoint on loopback for the client tests:
// Basic or NTLM (with the test acceptor, sealed or not), a fake cmd shell,
// hooks to inject faults, hangs and dropped connections, and a record of
// what it saw.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

type fakeReq struct {
	op, messageID, shellID, commandID string
	command                           string
	stdin                             []byte
	end                               bool
	size                              int // plaintext envelope bytes
	conn                              int // server-side connection number
}

// fakeResp is a hook's answer; a zero status means 200.
type fakeResp struct {
	status int
	body   string
	hang   bool // block until the client goes away
	plain  bool // send unsealed even on a sealed session
	tamper bool // flip a sealed byte
	forget bool // drop the connection's NTLM authentication and answer 401
	reset  bool // close the connection halfway through the response body
}

type fakeWinRM struct {
	t     testing.TB
	srv   *httptest.Server
	auth  string            // "basic", "ntlm" or "" (none)
	seal  bool              // ntlm: bodies must be sealed
	users map[string]string // basic: user -> pw; ntlm: `DOMAIN\USER` -> pw
	flags uint32            // CHALLENGE flags override
	cbt   bool              // require TLS channel bindings
	// hook may answer a request instead of the fake shell (return nil to pass).
	hook func(r *fakeReq) *fakeResp
	// output of the fake shell for a command and its stdin.
	output    func(command string, stdin []byte) (stdout, stderr string, exit int)
	connClose bool // answer with Connection: close
	drop      bool // answer, then close the TCP connection without notice
	done      chan struct{}

	mu         sync.Mutex
	ops        []string
	reqs       []fakeReq
	conns      int
	handshakes int
	stdin      []byte
	shellN     int
}

type fakeConnKey struct{}

type fakeConn struct {
	id     int
	acc    *ntlmAcceptor
	sess   *serverSession
	authed bool
}

func newFake(t testing.TB, auth string, tlsOn bool, configure func(*fakeWinRM)) *fakeWinRM {
	f := &fakeWinRM{t: t, auth: auth, done: make(chan struct{}),
		users: map[string]string{`TESTDOM\ALICE`: "Passw0rd!", "alice": "Passw0rd!"},
		output: func(cmd string, stdin []byte) (string, string, int) {
			return "SIMHOST\r\n", "", 0
		}}
	if configure != nil {
		configure(f)
	}
	f.srv = httptest.NewUnstartedServer(f)
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected TLS failures
	f.srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		f.mu.Lock()
		f.conns++
		fc := &fakeConn{id: f.conns}
		f.mu.Unlock()
		return context.WithValue(ctx, fakeConnKey{}, fc)
	}
	if tlsOn {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(func() {
		close(f.done)
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

func (f *fakeWinRM) port() int {
	_, p, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}

func (f *fakeWinRM) opList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

func (f *fakeWinRM) counts() (conns, handshakes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns, f.handshakes
}

func (f *fakeWinRM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fc := r.Context().Value(fakeConnKey{}).(*fakeConn)
	body, _ := io.ReadAll(r.Body)
	switch f.auth {
	case "basic":
		u, p, ok := r.BasicAuth()
		if !ok || f.users[u] != p || p == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	case "ntlm":
		if h := r.Header.Get("Authorization"); h != "" {
			f.ntlmLeg(w, r, fc, h)
			return
		}
		if !fc.authed {
			w.Header().Set("WWW-Authenticate", "Negotiate")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	sealed := f.auth == "ntlm" && f.seal
	if sealed {
		if !isSealedContentType(r.Header.Get("Content-Type"), protoSPNEGO) {
			w.WriteHeader(http.StatusUnauthorized) // Windows refuses unsealed traffic with 401
			return
		}
		plain, err := unseal(fc.sess, protoSPNEGO, body)
		if err != nil {
			f.t.Errorf("fake server: unseal: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		body = plain
	}
	req := parseFakeReq(string(body))
	req.conn = fc.id
	resp := f.answer(&req)
	if resp.forget {
		fc.authed, fc.sess = false, nil
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if resp.hang {
		select {
		case <-r.Context().Done():
		case <-f.done:
		}
		return
	}
	f.write(w, fc, resp, sealed)
}

func (f *fakeWinRM) ntlmLeg(w http.ResponseWriter, r *http.Request, fc *fakeConn, h string) {
	tok, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Negotiate "))
	if err != nil || len(tok) < 12 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch binary.LittleEndian.Uint32(tok[8:]) {
	case 1:
		fc.acc = &ntlmAcceptor{users: f.users, flags: f.flags}
		if f.cbt {
			h := sha256.Sum256(f.srv.Certificate().Raw)
			fc.acc.cbt = append([]byte("tls-server-end-point:"), h[:]...)
		}
		chal, err := fc.acc.challengeFor(tok)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(chal))
		w.WriteHeader(http.StatusUnauthorized)
	case 3:
		if fc.acc == nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		sess, err := fc.acc.accept(tok)
		if err != nil {
			w.Header().Set("WWW-Authenticate", "Negotiate")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fc.sess, fc.authed = sess, true
		f.mu.Lock()
		f.handshakes++
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

func (f *fakeWinRM) write(w http.ResponseWriter, fc *fakeConn, resp *fakeResp, sealed bool) {
	status := resp.status
	if status == 0 {
		status = http.StatusOK
	}
	body := []byte(resp.body)
	ct := soapContentType
	if sealed && !resp.plain {
		var err error
		if body, err = appendSealed(nil, fc.sess, protoSPNEGO, body); err != nil {
			f.t.Errorf("fake server: seal: %v", err)
		}
		if resp.tamper {
			body[len(body)-len(sealTrailer)-1] ^= 0xff
		}
		ct = sealContentType(protoSPNEGO)
	}
	if f.drop || resp.reset {
		f.writeAndDrop(w, status, ct, body, resp.reset)
		return
	}
	if f.connClose {
		w.Header().Set("Connection", "close")
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// writeAndDrop answers as a keep-alive response would, then closes the TCP
// connection without a Connection: close header (an idle timeout on the
// host); with half, only half the body is sent.
func (f *fakeWinRM) writeAndDrop(w http.ResponseWriter, status int, ct string, body []byte, half bool) {
	conn, bw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		f.t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", status, http.StatusText(status), ct, len(body))
	if half {
		body = body[:len(body)/2]
	}
	bw.Write(body)
	bw.Flush()
}

// answer records the request and produces the fake shell's response.
func (f *fakeWinRM) answer(req *fakeReq) *fakeResp {
	f.mu.Lock()
	f.ops = append(f.ops, req.op)
	f.reqs = append(f.reqs, *req)
	if req.op == "send" {
		f.stdin = append(f.stdin, req.stdin...)
	}
	f.mu.Unlock()
	if f.hook != nil {
		if resp := f.hook(req); resp != nil {
			return resp
		}
	}
	switch req.op {
	case "create":
		f.mu.Lock()
		f.shellN++
		id := fmt.Sprintf("11111111-2222-3333-4444-%012d", f.shellN)
		f.mu.Unlock()
		return &fakeResp{body: createResponse(req.messageID, id)}
	case "command":
		return &fakeResp{body: soapResponse(req.messageID, actionCommand+"Response",
			`<rsp:CommandResponse><rsp:CommandId>AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE</rsp:CommandId></rsp:CommandResponse>`)}
	case "send":
		return &fakeResp{body: soapResponse(req.messageID, actionSend+"Response", `<rsp:SendResponse/>`)}
	case "receive":
		f.mu.Lock()
		var cmd string
		for _, r := range f.reqs {
			if r.op == "command" {
				cmd = r.command
			}
		}
		stdin := append([]byte(nil), f.stdin...)
		f.mu.Unlock()
		out, errOut, code := f.output(cmd, stdin)
		return &fakeResp{body: receiveBody(req.messageID, req.commandID, out, errOut, true, code)}
	case "signal":
		return &fakeResp{body: soapResponse(req.messageID, actionSignal+"Response", `<rsp:SignalResponse/>`)}
	case "delete":
		return &fakeResp{body: soapResponse(req.messageID, actionDelete+"Response", ``)}
	}
	return faultResponse(req.messageID, 2150858817, "schema validation error")
}

var (
	reAction    = regexp.MustCompile(`<[a-z]+:Action[^>]*>([^<]+)</`)
	reMessageID = regexp.MustCompile(`<[a-z]+:MessageID>([^<]+)</`)
	reShellID   = regexp.MustCompile(`<[a-z]+:Selector Name="ShellId">([^<]+)</`)
	reCommandID = regexp.MustCompile(`CommandId="([^"]+)"`)
	reCommand   = regexp.MustCompile(`<rsp:Command>([^<]*)</rsp:Command>`)
	reStream    = regexp.MustCompile(`<rsp:Stream([^>]*?)(?:/>|>([^<]*)</rsp:Stream>)`)
)

func parseFakeReq(s string) fakeReq {
	r := fakeReq{size: len(s)}
	get := func(re *regexp.Regexp) string {
		if m := re.FindStringSubmatch(s); m != nil {
			return m[1]
		}
		return ""
	}
	action := get(reAction)
	r.op = strings.ToLower(action[strings.LastIndex(action, "/")+1:])
	r.messageID, r.shellID, r.commandID = get(reMessageID), get(reShellID), get(reCommandID)
	r.command = htmlUnescape(get(reCommand))
	if m := reStream.FindStringSubmatch(s); m != nil {
		r.stdin, _ = base64.StdEncoding.DecodeString(m[2])
		r.end = strings.Contains(m[1], `End="true"`)
	}
	return r
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#34;", `"`, "&#39;", "'", "&#x9;", "\t",
		"&#xA;", "\n", "&#xD;", "\r", "&amp;", "&").Replace(s)
}

const envelopeOpen = `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">`

func soapResponse(relatesTo, action, body string) string {
	return envelopeOpen + `<s:Header><a:Action>` + action + `</a:Action><a:MessageID>uuid:6BD85F04-E12D-4830-8184-138113778423</a:MessageID>` +
		`<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>` + relatesTo +
		`</a:RelatesTo></s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
}

func createResponse(relatesTo, shellID string) string {
	return soapResponse(relatesTo, actionCreate+"Response", `<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address><a:ReferenceParameters>`+
		`<w:ResourceURI>`+shellResource+`</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">`+shellID+
		`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`+
		`<rsp:Shell><rsp:ShellId>`+shellID+`</rsp:ShellId></rsp:Shell>`)
}

func receiveBody(relatesTo, cmdID, stdout, stderr string, done bool, exit int) string {
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	for _, s := range []struct{ name, data string }{{"stdout", stdout}, {"stderr", stderr}} {
		if s.data != "" {
			fmt.Fprintf(&b, `<rsp:Stream Name="%s" CommandId="%s">%s</rsp:Stream>`, s.name, cmdID, base64.StdEncoding.EncodeToString([]byte(s.data)))
		}
	}
	state := "Running"
	if done {
		state = "Done"
		fmt.Fprintf(&b, `<rsp:Stream Name="stdout" CommandId="%s" End="true"></rsp:Stream><rsp:Stream Name="stderr" CommandId="%s" End="true"></rsp:Stream>`, cmdID, cmdID)
	}
	fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s/CommandState/%s">`, cmdID, nsShell, state)
	if done {
		fmt.Fprintf(&b, `<rsp:ExitCode>%d</rsp:ExitCode>`, exit)
	}
	b.WriteString(`</rsp:CommandState></rsp:ReceiveResponse>`)
	return soapResponse(relatesTo, actionReceive+"Response", b.String())
}

func faultResponse(relatesTo string, code uint64, msg string) *fakeResp {
	return &fakeResp{status: http.StatusInternalServerError, body: soapResponse(relatesTo, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
		`<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>`+
			`<s:Reason><s:Text xml:lang="en-US">`+msg+`</s:Text></s:Reason><s:Detail>`+
			`<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="`+strconv.FormatUint(code, 10)+`" Machine="127.0.0.1">`+
			`<f:Message>`+msg+`</f:Message></f:WSManFault></s:Detail></s:Fault>`)}
}

// hungListener accepts TCP connections and never answers.
func hungListener(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, bufio.NewReader(c))
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}
