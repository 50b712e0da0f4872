package simulator

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bodgit/ntlmssp"
)

// testClient is a small WinRM client for the tests: NTLM from
// github.com/bodgit/ntlmssp (an independent implementation), sealing framed
// here by hand, one TCP connection, one request at a time. It does not
// share code with the server, so the tests check the server against what a
// client sends, not against itself.
type testClient struct {
	t         testing.TB
	addr      string
	tls       *tls.Config // nil: plain HTTP
	user      string      // DOMAIN\user or user
	password  string
	basic     bool   // Basic instead of NTLM
	noSeal    bool   // NTLM without sealing
	envelope  int    // MaxEnvelopeSize header, default 153600
	opTimeout string // OperationTimeout header, default PT20S

	conn    net.Conn
	br      *bufio.Reader
	sess    *ntlmssp.SecuritySession
	largest int // size of the largest ReceiveResponse
}

func (c *testClient) dial() error {
	c.close()
	var err error
	if c.tls != nil {
		c.conn, err = tls.Dial("tcp", c.addr, c.tls)
	} else {
		c.conn, err = net.DialTimeout("tcp", c.addr, 5*time.Second)
	}
	if err != nil {
		return err
	}
	c.br = bufio.NewReader(c.conn)
	c.sess = nil
	return nil
}

func (c *testClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// exchange sends one HTTP request on the connection and reads the answer.
func (c *testClient) exchange(body []byte, hdr http.Header) (*http.Response, []byte, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return nil, nil, err
		}
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+c.addr+"/wsman", bytes.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if err := req.Write(c.conn); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// authenticate runs the NTLM handshake with two empty POSTs, as pywinrm
// does, and keeps the security session for sealing.
func (c *testClient) authenticate() (int, error) {
	user, domain := splitAccount(c.user)
	nc, err := ntlmssp.NewClient(ntlmssp.SetUserInfo(user, c.password), ntlmssp.SetDomain(domain), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		return 0, err
	}
	neg, _ := nc.Authenticate(nil, nil)
	resp, _, err := c.exchange(nil, http.Header{"Authorization": {"Negotiate " + base64.StdEncoding.EncodeToString(neg)}})
	if err != nil {
		return 0, err
	}
	chal, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(resp.Header.Get("WWW-Authenticate"), "Negotiate "))
	if resp.StatusCode != 401 || err != nil {
		return resp.StatusCode, fmt.Errorf("no challenge: %d %v", resp.StatusCode, resp.Header)
	}
	var cbt *ntlmssp.ChannelBindings
	if tc, ok := c.conn.(*tls.Conn); ok {
		cbt = channelBindings(tc.ConnectionState().PeerCertificates[0].Raw)
	}
	auth, err := nc.Authenticate(chal, cbt)
	if err != nil {
		return 0, err
	}
	resp, _, err = c.exchange(nil, http.Header{"Authorization": {"Negotiate " + base64.StdEncoding.EncodeToString(auth)}})
	if err != nil {
		return 0, err
	}
	if resp.StatusCode == 200 && !c.noSeal {
		c.sess = nc.SecuritySession()
	}
	return resp.StatusCode, nil
}

func channelBindings(der []byte) *ntlmssp.ChannelBindings {
	sum := sha256Sum(der)
	return &ntlmssp.ChannelBindings{ApplicationData: append([]byte("tls-server-end-point:"), sum...)}
}

// post sends a SOAP message (authenticating first when needed) and
// returns the status and the plain response.
func (c *testClient) post(soap string) (int, string, error) {
	hdr := http.Header{"Content-Type": {"application/soap+xml;charset=UTF-8"}}
	if c.basic {
		hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.password)))
	} else if c.conn == nil || (c.sess == nil && !c.noSeal) {
		if code, err := c.authenticate(); err != nil || code != 200 {
			return code, "", err
		}
	}
	body := []byte(soap)
	if c.sess != nil {
		body = c.sealBody(body)
		hdr.Set("Content-Type", `multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`)
	}
	resp, b, err := c.exchange(body, hdr)
	if err != nil {
		return 0, "", err
	}
	if c.sess != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/encrypted") {
		plain, err := c.unsealBody(b)
		return resp.StatusCode, string(plain), err
	}
	return resp.StatusCode, string(b), nil
}

func (c *testClient) sealBody(msg []byte) []byte {
	sealed, sig, err := c.sess.Wrap(msg)
	if err != nil {
		c.t.Fatal(err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n", len(msg))
	binary.Write(&b, binary.LittleEndian, uint32(len(sig)))
	b.Write(sig)
	b.Write(sealed)
	b.WriteString("--Encrypted Boundary--\r\n")
	return b.Bytes()
}

var lengthRe = regexp.MustCompile(`Length=(\d+)\r\n`)

func (c *testClient) unsealBody(b []byte) ([]byte, error) {
	m := lengthRe.FindSubmatchIndex(b)
	if m == nil {
		return nil, fmt.Errorf("no Length in %q", b)
	}
	n, _ := strconv.Atoi(string(b[m[2]:m[3]]))
	payload := b[m[1]:]
	payload = bytes.TrimPrefix(payload, []byte("--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n"))
	sig := payload[4:20]
	return c.sess.Unwrap(payload[20:20+n], sig)
}

// The requests, in the shape pywinrm sends them.
const requestHead = `<s:Envelope xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><wsa:Action s:mustUnderstand="true">%s</wsa:Action><wsman:MaxEnvelopeSize s:mustUnderstand="true">%d</wsman:MaxEnvelopeSize><wsa:MessageID>%s</wsa:MessageID><wsman:OperationTimeout>%s</wsman:OperationTimeout><wsa:ReplyTo><wsa:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo><wsman:ResourceURI s:mustUnderstand="true">%s</wsman:ResourceURI><wsa:To>http://%s/wsman</wsa:To>%s</s:Header><s:Body>%s</s:Body></s:Envelope>`

// soapRequest builds a request; the message id is returned for RelatesTo
// checks.
func (c *testClient) soapRequest(action, resource, shellID, extraHeader, body string) (msg, messageID string) {
	env, to := c.envelope, c.opTimeout
	if env == 0 {
		env = 153600
	}
	if to == "" {
		to = "PT20S"
	}
	messageID = "uuid:" + newGUID()
	if shellID != "" {
		extraHeader += `<wsman:SelectorSet><wsman:Selector Name="ShellId">` + shellID + `</wsman:Selector></wsman:SelectorSet>`
	}
	return fmt.Sprintf(requestHead, action, env, messageID, to, resource, c.addr, extraHeader, body), messageID
}

// call posts a request and checks the answer relates to it.
func (c *testClient) call(action, shellID, extraHeader, body string) (int, string) {
	c.t.Helper()
	msg, id := c.soapRequest(action, resourceCmd, shellID, extraHeader, body)
	status, resp, err := c.post(msg)
	if err != nil {
		c.t.Fatalf("%s: %v", action, err)
	}
	if status == 200 || status == 500 {
		if got := relatesTo(resp); got != id {
			c.t.Fatalf("%s: RelatesTo %q, want %q in %s", action, got, id, resp)
		}
	}
	return status, resp
}

func (c *testClient) createShell() string {
	c.t.Helper()
	status, resp := c.call(actionCreate, "", "", `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`)
	if status != 200 {
		c.t.Fatalf("Create: %d %s", status, resp)
	}
	return between(resp, `<w:Selector Name="ShellId">`, `<`)
}

// startCommand runs a command line; skipCmd sets WINRS_SKIP_CMD_SHELL.
func (c *testClient) startCommand(shellID, command string, skipCmd bool) (int, string) {
	c.t.Helper()
	opt := fmt.Sprintf(`<wsman:OptionSet><wsman:Option Name="WINRS_CONSOLEMODE_STDIN">FALSE</wsman:Option><wsman:Option Name="WINRS_SKIP_CMD_SHELL">%s</wsman:Option></wsman:OptionSet>`, strings.ToUpper(strconv.FormatBool(skipCmd)))
	var b strings.Builder
	xml.EscapeText(&b, []byte(command))
	status, resp := c.call(actionCommand, shellID, opt, `<rsp:CommandLine><rsp:Command>`+b.String()+`</rsp:Command></rsp:CommandLine>`)
	return status, between(resp, `<rsp:CommandId>`, `<`)
}

func (c *testClient) sendStdin(shellID, commandID string, data []byte, end bool) (int, string) {
	c.t.Helper()
	endAttr := ""
	if end {
		endAttr = ` End="true"`
	}
	return c.call(actionSend, shellID, "", fmt.Sprintf(`<rsp:Send><rsp:Stream Name="stdin" CommandId="%s"%s>%s</rsp:Stream></rsp:Send>`,
		commandID, endAttr, base64.StdEncoding.EncodeToString(data)))
}

func (c *testClient) receiveOnce(shellID, commandID string) (int, string) {
	c.t.Helper()
	status, resp := c.call(actionReceive, shellID, "", fmt.Sprintf(`<rsp:Receive><rsp:DesiredStream CommandId="%s">stdout stderr</rsp:DesiredStream></rsp:Receive>`, commandID))
	c.largest = max(c.largest, len(resp))
	return status, resp
}

type result struct {
	stdout, stderr []byte
	code           int
	receives       int
}

// receiveAll loops Receive until the command is done, retrying on
// OperationTimeout faults (bounded).
func (c *testClient) receiveAll(shellID, commandID string) result {
	c.t.Helper()
	var r result
	for range 200 {
		status, resp := c.receiveOnce(shellID, commandID)
		r.receives++
		if status == 500 && strings.Contains(resp, `Code="2150858793"`) {
			continue
		}
		if status != 200 {
			c.t.Fatalf("Receive: %d %s", status, resp)
		}
		var rr receiveXML
		if err := xml.Unmarshal([]byte(resp), &rr); err != nil {
			c.t.Fatalf("Receive: %v in %s", err, resp)
		}
		for _, s := range rr.Body.Response.Streams {
			d, err := base64.StdEncoding.DecodeString(s.Data)
			if err != nil {
				c.t.Fatal(err)
			}
			if s.Name == "stdout" {
				r.stdout = append(r.stdout, d...)
			} else {
				r.stderr = append(r.stderr, d...)
			}
		}
		if st := rr.Body.Response.State; strings.HasSuffix(st.State, "/Done") {
			r.code = st.ExitCode
			return r
		}
	}
	c.t.Fatal("command never finished")
	return r
}

type receiveXML struct {
	Body struct {
		Response struct {
			Streams []struct {
				Name string `xml:"Name,attr"`
				End  string `xml:"End,attr"`
				Data string `xml:",chardata"`
			} `xml:"Stream"`
			State struct {
				State    string `xml:"State,attr"`
				ExitCode int    `xml:"ExitCode"`
			} `xml:"CommandState"`
		} `xml:"ReceiveResponse"`
	} `xml:"Body"`
}

func (c *testClient) signal(shellID, commandID string) {
	c.t.Helper()
	status, resp := c.call(actionSignal, shellID, "", fmt.Sprintf(`<rsp:Signal CommandId="%s"><rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate</rsp:Code></rsp:Signal>`, commandID))
	if status != 200 {
		c.t.Fatalf("Signal: %d %s", status, resp)
	}
}

func (c *testClient) deleteShell(shellID string) {
	c.t.Helper()
	status, resp := c.call(actionDelete, shellID, "", "")
	if status != 200 {
		c.t.Fatalf("Delete: %d %s", status, resp)
	}
}

// run is a whole Create, Command, [Send], Receive, Signal, Delete cycle.
func (c *testClient) run(command string, stdin []byte) result {
	c.t.Helper()
	shell := c.createShell()
	status, id := c.startCommand(shell, command, false)
	if status != 200 {
		c.t.Fatalf("Command %q: %d", command, status)
	}
	if stdin != nil {
		const chunk = 64 << 10
		for i := 0; i < len(stdin) || i == 0; i += chunk {
			end := min(i+chunk, len(stdin))
			c.sendStdin(shell, id, stdin[i:end], end == len(stdin))
		}
	}
	r := c.receiveAll(shell, id)
	c.signal(shell, id)
	c.deleteShell(shell)
	return r
}

func relatesTo(resp string) string { return between(resp, "<a:RelatesTo>", "<") }

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
