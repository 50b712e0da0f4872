package wsman

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/masterzen/winrm"
)

const testMsgID = "uuid:4CECD2A8-45E1-4835-B5D9-F4CEB4308A0F"

func faultXML(subcode, reason, detail string) string {
	return soapResponse(testMsgID, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
		`<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>`+subcode+`</s:Value></s:Subcode></s:Code>`+
			`<s:Reason><s:Text xml:lang="en-US">`+reason+`</s:Text></s:Reason><s:Detail>`+detail+`</s:Detail></s:Fault>`)
}

func wsmanFault(code, inner string) string {
	return `<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="` + code + `" Machine="h"><f:Message>` + inner + `</f:Message></f:WSManFault>`
}

func TestParseFaultShapes(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		class  Class
		code   uint64
		msg    string
	}{
		{"quota shells", 500, faultXML("w:InternalError", "x", wsmanFault("2150859173", "too many shells")), ClassQuota, 2150859173, "too many shells"},
		{"quota operations", 500, faultXML("w:InternalError", "x", wsmanFault("2150859174", "too many ops")), ClassQuota, 2150859174, "too many ops"},
		{"shell not found", 500, faultXML("w:InvalidSelectors", "x", wsmanFault("2150858843", "gone")), ClassShellNotFound, 2150858843, "gone"},
		{"command too long", 500, faultXML("w:InternalError", "x", wsmanFault("2147942606", "too long")), ClassCommandTooLong, 2147942606, "too long"},
		{"access denied code", 500, faultXML("w:AccessDenied", "Access is denied.", wsmanFault("5", "Access is denied. ")), ClassAccessDenied, 5, "Access is denied."},
		{"access denied subcode only", 500, faultXML("w:AccessDenied", "The user is not allowed.", ""), ClassAccessDenied, 0, "The user is not allowed."},
		{"access denied in text", 500, faultXML("w:InternalError", "x", wsmanFault("2147942405", "Access is denied. ")), ClassAccessDenied, 2147942405, "Access is denied."},
		{"provider fault nesting", 500, faultXML("w:InternalError", "x", wsmanFault("87", `<f:ProviderFault provider="Shell cmd plugin" path="x">The parameter is incorrect. </f:ProviderFault>`)), ClassWSManFault, 87, "The parameter is incorrect."},
		{"reason only", 500, faultXML("w:InternalError", "Something broke", ""), ClassWSManFault, 0, "Something broke"},
		{"control characters scrubbed", 500, faultXML("w:InternalError", "x", wsmanFault("1", "line1&#xA;line2&#x9;end")), ClassWSManFault, 1, "line1 line2 end"},
		{"500 not xml", 500, "<html>Internal Server Error</html", ClassHTTPStatus, 0, ""},
		{"500 without fault", 500, soapResponse(testMsgID, actionReceive+"Response", ""), ClassHTTPStatus, 0, ""},
		{"200 not xml", 200, "hello", ClassMalformed, 0, ""},
		{"wrong envelope namespace", 200, strings.ReplaceAll(soapResponse(testMsgID, actionReceive+"Response", ""), "2003/05/soap-envelope", "2001/12/soap-envelope"), ClassMalformed, 0, ""},
		{"wrong action", 200, soapResponse(testMsgID, actionSend+"Response", ""), ClassMalformed, 0, ""},
		{"missing RelatesTo", 200, strings.Replace(soapResponse(testMsgID, actionReceive+"Response", ""), "<a:RelatesTo>"+testMsgID+"</a:RelatesTo>", "", 1), ClassMalformed, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := request{op: "receive", action: actionReceive, id: testMsgID}
			_, err := parseResponse(&req, tc.status, []byte(tc.body))
			e := wantClass(t, err, tc.class)
			if e.FaultCode != tc.code || (tc.msg != "" && e.Message != tc.msg) || e.Op != "receive" {
				t.Errorf("got %+v", e)
			}
			if tc.status == 500 && e.HTTPStatus != 500 {
				t.Errorf("HTTP status %d", e.HTTPStatus)
			}
		})
	}
}

func receiveXML(streams string, state string) string {
	return soapResponse(testMsgID, actionReceive+"Response", `<rsp:ReceiveResponse>`+streams+state+`</rsp:ReceiveResponse>`)
}

func stream(name, cmd, data string) string {
	return fmt.Sprintf(`<rsp:Stream Name="%s" CommandId="%s">%s</rsp:Stream>`, name, cmd, data)
}

func doneState(cmd, exit string) string {
	return `<rsp:CommandState CommandId="` + cmd + `" State="` + nsShell + `/CommandState/Done">` + exit + `</rsp:CommandState>`
}

func TestReceiveParsing(t *testing.T) {
	const cmd = "C1"
	b64 := base64.StdEncoding.EncodeToString
	euro := "€" // three bytes, split across two chunks
	cases := []struct {
		name     string
		body     string
		stdout   string
		done     bool
		exit     int
		errClass Class
	}{
		{"split multibyte", receiveXML(stream("stdout", cmd, b64([]byte(euro[:1])))+stream("stdout", cmd, b64([]byte(euro[1:]))), doneState(cmd, "<rsp:ExitCode>0</rsp:ExitCode>")), euro, true, 0, ""},
		{"running no output", receiveXML("", `<rsp:CommandState CommandId="C1" State="`+nsShell+`/CommandState/Running"/>`), "", false, 0, ""},
		{"negative exit", receiveXML("", doneState(cmd, "<rsp:ExitCode>-1</rsp:ExitCode>")), "", true, -1, ""},
		{"large unsigned exit", receiveXML("", doneState(cmd, "<rsp:ExitCode>3221225477</rsp:ExitCode>")), "", true, 3221225477, ""},
		{"bad base64", receiveXML(stream("stdout", cmd, "aGk!"), ""), "", false, 0, ClassMalformed},
		{"non-canonical base64", receiveXML(stream("stdout", cmd, "aGl="), ""), "", false, 0, ClassMalformed},
		{"done without exit code", receiveXML("", doneState(cmd, "")), "", false, 0, ClassMalformed},
		{"exit code not a number", receiveXML("", doneState(cmd, "<rsp:ExitCode>x</rsp:ExitCode>")), "", false, 0, ClassMalformed},
		{"foreign command stream", receiveXML(stream("stdout", "OTHER", b64([]byte("x"))), ""), "", false, 0, ClassMalformed},
		{"foreign command state", receiveXML("", doneState("OTHER", "<rsp:ExitCode>0</rsp:ExitCode>")), "", false, 0, ClassMalformed},
		{"unknown stream", receiveXML(stream("pr", cmd, b64([]byte("x"))), ""), "", false, 0, ClassMalformed},
		{"no ReceiveResponse", soapResponse(testMsgID, actionReceive+"Response", ""), "", false, 0, ClassMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := request{op: "receive", action: actionReceive, id: testMsgID}
			env, err := parseResponse(&req, 200, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var o output
			_, err = o.add(env, cmd)
			if tc.errClass != "" {
				wantClass(t, err, tc.errClass)
				return
			}
			if err != nil || string(o.stdout) != tc.stdout || o.done != tc.done || o.exitCode != tc.exit {
				t.Fatalf("stdout %q done %v exit %d err %v", o.stdout, o.done, o.exitCode, err)
			}
		})
	}
}

func TestCreateAndCommandIDs(t *testing.T) {
	req := request{op: "create", action: actionCreate, id: testMsgID}
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"selector and shell agree", createResponse(testMsgID, "A-1"), true},
		{"shell only", soapResponse(testMsgID, actionCreate+"Response", `<rsp:Shell><rsp:ShellId>A-1</rsp:ShellId></rsp:Shell>`), true},
		{"disagree", strings.Replace(createResponse(testMsgID, "A-1"), "<rsp:ShellId>A-1", "<rsp:ShellId>B-2", 1), false},
		{"empty", soapResponse(testMsgID, actionCreate+"Response", ``), false},
		{"hostile", createResponse(testMsgID, `A"/&gt;&lt;x`), false},
	} {
		env, err := parseResponse(&req, 200, []byte(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		id, err := env.shellID("create")
		if (err == nil) != tc.ok || (tc.ok && id != "A-1") {
			t.Errorf("%s: id %q err %v", tc.name, id, err)
		}
	}
}

func TestBuiltRequests(t *testing.T) {
	s, err := Config{Host: "h", Auth: AuthNTLM, Username: "u", MaxEnvelopeKB: 150, OperationTimeout: 20e9}.settings()
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(s)
	reqs := []request{b.create(), b.command("S-1", "hostname"), b.send("S-1", "C-1", []byte("x"), true),
		b.receive("S-1", "C-1"), b.signal("S-1", "C-1"), b.delete("S-1")}
	seen := map[string]bool{}
	for _, r := range reqs {
		if r.err != nil {
			t.Fatal(r.err)
		}
		body := string(r.body)
		if !strings.Contains(body, "<a:MessageID>"+r.id+"</a:MessageID>") || seen[r.id] {
			t.Errorf("%s: MessageID %q not unique or not in body", r.op, r.id)
		}
		seen[r.id] = true
		for _, want := range []string{"<w:OperationTimeout>PT20S</w:OperationTimeout>", ">153600</w:MaxEnvelopeSize>", "<a:To>http://h:5985/wsman</a:To>"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: missing %s", r.op, want)
			}
		}
	}
	cmd := string(reqs[1].body)
	for _, want := range []string{`<w:Option Name="WINRS_CONSOLEMODE_STDIN">FALSE</w:Option>`, `<w:Option Name="WINRS_SKIP_CMD_SHELL">FALSE</w:Option>`, `<rsp:Command>hostname</rsp:Command>`} {
		if !strings.Contains(cmd, want) {
			t.Errorf("command request lacks %s:\n%s", want, cmd)
		}
	}
	if !strings.Contains(string(reqs[4].body), "signal/terminate") {
		t.Error("signal is not terminate")
	}
}

// TestSendAsMasterzenBuildsIt: the Send whose chunk is encoded into the
// body in place is the envelope masterzen builds, byte for byte, except
// that an empty stream element is written open and closed (and a line
// break follows it) where masterzen writes it self-closed: the same XML.
func TestSendAsMasterzenBuildsIt(t *testing.T) {
	selfClosed := regexp.MustCompile(`(<rsp:Stream [^>]*)/>(</rsp:Send>)`)
	s, err := Config{Host: "h", Auth: AuthNTLM, Username: "u"}.settings()
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(s)
	for _, chunk := range [][]byte{nil, {}, []byte("x"), []byte(strings.Repeat("Invoke-AadcProbe 'os' {\n}\n", 3000))} {
		for _, end := range []bool{false, true} {
			got := b.send("S-1", "C-1", chunk, end)
			if got.err != nil {
				t.Fatal(got.err)
			}
			want := winrm.NewSendInputRequest(b.endpoint, "S-1", "C-1", chunk, end, &b.params).String()
			id, _ := messageIDOf(want)
			want = selfClosed.ReplaceAllString(strings.Replace(want, id, got.id, 1), "$1></rsp:Stream>\n$2")
			if string(got.body) != want {
				t.Errorf("%d bytes, end %v:\n got %.300s\nwant %.300s", len(chunk), end, got.body, want)
			}
		}
	}
}

func TestStdinChunkFitsEnvelope(t *testing.T) {
	for _, kb := range []int{16, 150, 500} {
		s, err := Config{Host: "h", Auth: AuthNTLM, Username: "u", MaxEnvelopeKB: kb}.settings()
		if err != nil {
			t.Fatal(err)
		}
		b := newBuilder(s)
		long := strings.Repeat("A", 128)
		r := b.send(long, long, make([]byte, stdinChunk(kb)), true)
		if len(r.body) > kb*1024 || len(r.body) < kb*1024-4096 {
			t.Errorf("%d KB: Send envelope of %d bytes", kb, len(r.body))
		}
	}
}

// BenchmarkBuildRequests is the requests of one host's scan: Create,
// Command, the 41 KB probe bundle in one Send, Receive, Signal, Delete.
func BenchmarkBuildRequests(b *testing.B) {
	s, err := Config{Host: "h", Auth: AuthNTLM, Username: "u", MaxEnvelopeKB: 150}.settings()
	if err != nil {
		b.Fatal(err)
	}
	bld := newBuilder(s)
	bundle := bytes.Repeat([]byte("Invoke-AadcProbe 'os' { Get-CimInstance Win32_OperatingSystem }\n"), 41<<10/64)
	const shell, cmd = "4283CBDC-3706-415B-88BD-B385F3E51A53", "CF84C20A-0A35-43FA-AF78-0B4711DA5F30"
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range []request{bld.create(), bld.command(shell, "powershell.exe -EncodedCommand x"), bld.send(shell, cmd, bundle, true),
			bld.receive(shell, cmd), bld.signal(shell, cmd), bld.delete(shell)} {
			if r.err != nil {
				b.Fatal(r.err)
			}
		}
	}
}

func BenchmarkParseReceive(b *testing.B) {
	const cmd = "CF84C20A-0A35-43FA-AF78-0B4711DA5F30"
	out := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("##AADC F os.build 20348\r\n", 40)))
	body := []byte(receiveXML(stream("stdout", cmd, out)+stream("stderr", cmd, ""), doneState(cmd, "<rsp:ExitCode>0</rsp:ExitCode>")))
	req := request{op: "receive", action: actionReceive, id: testMsgID}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := parseResponse(&req, 200, body)
		if err != nil {
			b.Fatal(err)
		}
		var o output
		if _, err := o.add(env, cmd); err != nil || !o.done {
			b.Fatal(err)
		}
	}
}

func TestSanitize(t *testing.T) {
	cases := map[string]string{
		"a\x1b[31mb\r\nc":        "a [31mb c",
		"  many   spaces \t":     "many spaces",
		"bad utf8 \xff here":     "bad utf8 here",
		strings.Repeat("é", 600): strings.Repeat("é", 512) + "…",
	}
	for in, want := range cases {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}
