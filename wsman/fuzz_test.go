package wsman

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fuzzRequests are the requests a fuzzed response answers, by op: each with
// testMsgID as its MessageID, so seeds can carry a matching RelatesTo.
var fuzzRequests = []request{
	{op: "create", action: actionCreate, id: testMsgID},
	{op: "command", action: actionCommand, id: testMsgID},
	{op: "send", action: actionSend, id: testMsgID},
	{op: "receive", action: actionReceive, id: testMsgID},
	{op: "signal", action: actionSignal, id: testMsgID},
	{op: "delete", action: actionDelete, id: testMsgID},
}

var knownClasses = []Class{ClassDNS, ClassRefused, ClassConnectTimeout, ClassResponseTimeout, ClassDeadline,
	ClassTLSUnknownAuthority, ClassTLSNameMismatch, ClassTLSHandshake, ClassAuthRefused, ClassAccessDenied,
	ClassWSManFault, ClassQuota, ClassShellNotFound, ClassCommandTooLong, ClassHTTPStatus, ClassMalformed,
	ClassNetwork, ClassOutputTooLarge, ClassCancelled, ClassUnsupported}

// FuzzParseResponse: whatever a host answers with HTTP 200 or 500, parsing
// never panics; a failure is an *Error of a known class whose message is
// safe to print (no control characters, bounded); a fault is classified by
// its code as docs/transport.md says; only a 200 that answers the request
// is a success, and what the client then reads from it (shell and command
// ids, streams, exit code) is what the next requests may use. Seeds: the
// committed corpus (each response kind, faults), every response of the
// real Windows captures (testdata/winrs-captures), and the fault codes of
// the field notes.
func FuzzParseResponse(f *testing.F) {
	if files, _ := filepath.Glob(filepath.Join(capturesDir, "*.yml")); len(files) > 0 {
		for _, file := range files {
			for _, x := range loadCapture(f, filepath.Base(file)) {
				req := capturedRequest(f, x)
				kind := slices.IndexFunc(fuzzRequests, func(r request) bool { return r.op == req.op })
				if kind >= 0 {
					resp := strings.ReplaceAll(x.Response, req.id, testMsgID)
					f.Add(uint8(kind), capturedStatus(x.Response) == 500, []byte(resp))
				}
			}
		}
	}
	for _, code := range []string{"2150858793", "2150858843", "2150859173", "2150859174", "2147942606", "2150858817", "5"} {
		f.Add(uint8(3), true, []byte(faultXML("w:InternalError", "x", wsmanFault(code, "text of "+code))))
	}
	f.Add(uint8(3), false, []byte(receiveXML(stream("stdout", "C1", "aGk="), doneState("C1", "<rsp:ExitCode>0</rsp:ExitCode>"))))
	f.Add(uint8(0), false, []byte(createResponse(testMsgID, "4283CBDC-3706-415B-88BD-B385F3E51A53")))
	f.Fuzz(func(t *testing.T, kind uint8, fault bool, body []byte) {
		req := fuzzRequests[int(kind)%len(fuzzRequests)]
		status := 200
		if fault {
			status = 500
		}
		env, err := parseResponse(&req, status, body)
		if err != nil {
			checkError(t, req, err)
			return
		}
		if status != 200 || env == nil {
			t.Fatalf("HTTP %d parsed as a success", status)
		}
		switch req.op {
		case "create":
			if id, err := env.shellID(req.op); err == nil && !validID(id) {
				t.Fatalf("shell id %q accepted", id)
			} else if err != nil {
				checkError(t, req, err)
			}
		case "command":
			if id, err := env.commandID(req.op); err == nil && !validID(id) {
				t.Fatalf("command id %q accepted", id)
			} else if err != nil {
				checkError(t, req, err)
			}
		case "receive":
			var out output
			n, err := out.add(env, "C1")
			if err != nil {
				checkError(t, req, err)
			} else if n != len(out.stdout)+len(out.stderr) {
				t.Fatalf("add reported %d bytes, holds %d", n, len(out.stdout)+len(out.stderr))
			}
		}
	})
}

func checkError(t *testing.T, req request, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	if !slices.Contains(knownClasses, e.Class) || e.Op != req.op {
		t.Fatalf("class %q, op %q for a %s response", e.Class, e.Op, req.op)
	}
	if len(e.Message) > 1024+len("…") || !utf8.ValidString(e.Message) || strings.ContainsFunc(e.Message, unicode.IsControl) {
		t.Fatalf("unsafe message %q", e.Message)
	}
	want := map[uint64]Class{FaultShellNotFound: ClassShellNotFound, FaultMaxShells: ClassQuota, FaultMaxOperations: ClassQuota,
		FaultCommandTooLong: ClassCommandTooLong, FaultAccessDenied: ClassAccessDenied}
	if c, ok := want[e.FaultCode]; ok && e.Class != c {
		t.Fatalf("fault %d classified %s, want %s", e.FaultCode, e.Class, c)
	}
}
