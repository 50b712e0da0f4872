package wsman

// Replays of real Windows WinRM exchanges (testdata/winrs-captures at the top,
// from pypsrp's test data): every response of every capture through the
// parser, and whole command runs through the client against a server that
// answers with the recorded responses.

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

var capturesDir = filepath.Join("..", "testdata", "winrs-captures")

type exchange struct{ Request, Response string }

func loadCapture(t testing.TB, name string) []exchange {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(capturesDir, name))
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	var doc struct {
		Messages []exchange `yaml:"messages"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Messages) == 0 {
		t.Fatalf("capture %s: %v (%d messages)", name, err, len(doc.Messages))
	}
	return doc.Messages
}

var reFullAction = regexp.MustCompile(`<wsa:Action[^>]*>([^<]+)</wsa:Action>`)

// capturedRequest rebuilds the client-side view of a recorded request.
func capturedRequest(t testing.TB, x exchange) request {
	t.Helper()
	m := reFullAction.FindStringSubmatch(x.Request)
	id, err := messageIDOf(x.Request)
	if m == nil || err != nil {
		t.Fatalf("request without Action or MessageID: %.200s", x.Request)
	}
	return request{op: strings.ToLower(m[1][strings.LastIndex(m[1], "/")+1:]), action: m[1], id: id}
}

func capturedStatus(resp string) int {
	if strings.Contains(resp, "<s:Fault>") {
		return 500
	}
	return 200
}

// want describes what the client must read from one recorded response.
type want struct {
	shellID, commandID string
	stdout, stderr     string // exact, or "sha256:<hex>" for long output
	exit               int
	done               bool
	fault              uint64
	class              Class
}

var captureWants = map[string]map[int]want{
	"winrs_standard.yml": {
		0: {shellID: "4283CBDC-3706-415B-88BD-B385F3E51A53"},
		1: {commandID: "CF84C20A-0A35-43FA-AF78-0B4711DA5F30"},
		2: {stdout: "hi\r\n", done: true},
	},
	"winrs_stderr_rc.yml": {
		0: {shellID: "44AF9A2C-624E-4975-AB20-CEB406E440B9"},
		1: {commandID: "D37A8327-79AD-452F-BE0D-4B99A96B4A0B"},
		2: {stdout: "out \r\n", stderr: "err \r\n", exit: 1, done: true},
	},
	"winrs_send.yml": {
		0: {shellID: "0D6FCA9D-2D40-44C3-B691-E665BE7AA687"},
		1: {commandID: "B0973E54-434E-4D99-B4BE-ADE584CE3BFB"},
		4: {stdout: "output 1\noutput 2\n", done: true},
	},
	"winrs_bad_cmd_id.yml": {
		0: {shellID: "CCF84E0D-D0B5-4CFB-95B5-BCF3BFE15F36"},
		1: {commandID: "644983A8-4292-4922-97E9-D569C2170784"},
		2: {fault: FaultShellNotFound, class: ClassShellNotFound},
	},
	"winrs_fail_poll_process.yml": {
		0: {shellID: "8ABEA8D2-0438-4D75-A594-55DCA786B4E1"},
		1: {fault: 87, class: ClassWSManFault},
	},
	"winrs_no_cmd_shell.yml": {
		0: {shellID: "F15E6BF4-8A64-41F7-BDDE-13F83D9D22DD"},
		1: {fault: 2147942402, class: ClassWSManFault},
		2: {commandID: "F1363DFB-B5F9-4FDF-AC84-F67D2A886704"},
		3: {stdout: "hi\n", done: true},
	},
	"winrs_extra_opts.yml": {
		0: {shellID: "CBA3E536-A3A2-4B88-9ED3-4919930E15C2"},
		1: {commandID: "9132F099-E87C-4B08-98C0-0706D2426E6B"},
		2: {stdout: "C:\\Windows\r\n", done: true},
	},
	"winrs_environment.yml": {
		0: {shellID: "58B89A37-84F9-4874-8999-AA7578B34ABE"},
		1: {commandID: "5879C5BD-FCDB-4F87-9FCF-D1B8870B661C"},
		2: {stdout: "sha256:aabd2448aecfd05e6ec4c833a423ce56ddb849f4aa2ba79bca17e5dd6a66bafe", done: true},
	},
	"winrs_noprofile.yml": {
		0: {shellID: "7A271A26-8366-47DD-8B8C-807E1D1C614F"},
		1: {commandID: "FF1FEC9F-9093-4DFF-9EC5-D487B67FDB9A"},
		2: {stdout: "sha256:e35092f7db3df27663e0e6e1fb0a433b3d6157655252862c772f8713a396f206", done: true},
	},
	"winrs_open_already_opened.yml": {
		0: {shellID: "ED7FD87E-E041-4BC2-A22F-B58FF7833094"},
	},
	"wsman_envelope_size_150.yml":  {},
	"wsman_envelope_size_500.yml":  {},
	"wsman_envelope_size_4096.yml": {},
}

func sameOutput(got []byte, want string) bool {
	if h, ok := strings.CutPrefix(want, "sha256:"); ok {
		sum := sha256.Sum256(got)
		return hex.EncodeToString(sum[:]) == h
	}
	return string(got) == want
}

func TestCaptureResponsesParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(capturesDir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s: %v", capturesDir, err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		wants, ok := captureWants[name]
		if !ok {
			t.Errorf("capture %s has no expectations: add them", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			for i, x := range loadCapture(t, name) {
				req := capturedRequest(t, x)
				w := wants[i]
				env, err := parseResponse(&req, capturedStatus(x.Response), []byte(x.Response))
				if w.fault != 0 {
					e := wantClass(t, err, w.class)
					if e.FaultCode != w.fault || e.HTTPStatus != 500 || e.Message == "" {
						t.Errorf("message %d: %+v", i, e)
					}
					continue
				}
				if err != nil {
					t.Fatalf("message %d (%s): %v", i, req.op, err)
				}
				var cmdID string
				if m := reCommandID.FindStringSubmatch(x.Request); m != nil {
					cmdID = m[1]
				}
				checkCaptured(t, i, req, cmdID, env, w)

				// The same response must be refused as the answer to another request.
				other := req
				other.id = "uuid:00000000-0000-0000-0000-000000000000"
				if _, err := parseResponse(&other, 200, []byte(x.Response)); asError(err) == nil || asError(err).Class != ClassMalformed {
					t.Errorf("message %d: foreign RelatesTo accepted: %v", i, err)
				}
			}
		})
	}
}

func checkCaptured(t *testing.T, i int, req request, cmdID string, env *envelope, w want) {
	t.Helper()
	switch req.op {
	case "create":
		if id, err := env.shellID("create"); err != nil || id != w.shellID {
			t.Errorf("message %d: shell %q %v, want %q", i, id, err, w.shellID)
		}
	case "command":
		if id, err := env.commandID("command"); err != nil || id != w.commandID {
			t.Errorf("message %d: command %q %v, want %q", i, id, err, w.commandID)
		}
	case "receive":
		var o output
		if _, err := o.add(env, cmdID); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !sameOutput(o.stdout, w.stdout) || !sameOutput(o.stderr, w.stderr) || o.exitCode != w.exit || o.done != w.done {
			t.Errorf("message %d: stdout %q stderr %q exit %d done %v; want %+v", i, o.stdout, o.stderr, o.exitCode, o.done, w)
		}
	}
}

// replay answers each request with the recorded response of the first
// unused exchange with the same action, RelatesTo rewritten to the live
// MessageID, over sealed NTLM as a default Windows host would.
func replay(t *testing.T, name string) *fakeWinRM {
	xs := loadCapture(t, name)
	var mu sync.Mutex
	used := make([]bool, len(xs))
	return newFake(t, "ntlm", false, func(f *fakeWinRM) {
		f.seal = true
		f.hook = func(r *fakeReq) *fakeResp {
			mu.Lock()
			defer mu.Unlock()
			for i, x := range xs {
				rec := capturedRequest(t, x)
				if used[i] || rec.op != r.op {
					continue
				}
				used[i] = true
				body := strings.Replace(x.Response, "<a:RelatesTo>"+rec.id+"</a:RelatesTo>", "<a:RelatesTo>"+r.messageID+"</a:RelatesTo>", 1)
				return &fakeResp{status: capturedStatus(x.Response), body: body}
			}
			t.Errorf("%s: no recorded answer left for %s", name, r.op)
			return faultResponse(r.messageID, 2150858817, "not in capture")
		}
	})
}

func TestCaptureReplayRun(t *testing.T) {
	cases := []struct {
		file  string
		stdin []byte
		want  want
		ops   []string
	}{
		{file: "winrs_standard.yml", want: want{stdout: "hi\r\n"}},
		{file: "winrs_stderr_rc.yml", want: want{stdout: "out \r\n", stderr: "err \r\n", exit: 1}},
		{file: "winrs_send.yml", stdin: []byte(`Write-Host "output 1";Write-Host "output 2";`), want: want{stdout: "output 1\noutput 2\n"},
			ops: []string{"create", "command", "send", "receive", "signal", "delete"}},
		{file: "winrs_extra_opts.yml", want: want{stdout: "C:\\Windows\r\n"}},
		{file: "winrs_environment.yml", want: want{stdout: "sha256:aabd2448aecfd05e6ec4c833a423ce56ddb849f4aa2ba79bca17e5dd6a66bafe"}},
		{file: "winrs_noprofile.yml", want: want{stdout: "sha256:e35092f7db3df27663e0e6e1fb0a433b3d6157655252862c772f8713a396f206"}},
		{file: "winrs_bad_cmd_id.yml", want: want{fault: FaultShellNotFound, class: ClassShellNotFound}},
		{file: "winrs_no_cmd_shell.yml", want: want{fault: 2147942402, class: ClassWSManFault}, ops: []string{"create", "command", "delete"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			f := replay(t, tc.file)
			res, err := newClient(t, ntlmConfig(f)).Run(t.Context(), "cmd.exe /c echo hi", tc.stdin)
			ops := tc.ops
			if ops == nil {
				ops = []string{"create", "command", "receive", "signal", "delete"}
			}
			if got := f.opList(); !slices.Equal(got, ops) {
				t.Errorf("server saw %v, want %v", got, ops)
			}
			if tc.want.fault != 0 {
				if e := wantClass(t, err, tc.want.class); e.FaultCode != tc.want.fault {
					t.Errorf("fault %d, want %d", e.FaultCode, tc.want.fault)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameOutput(res.Stdout, tc.want.stdout) || !sameOutput(res.Stderr, tc.want.stderr) || res.ExitCode != tc.want.exit {
				t.Errorf("stdout %q stderr %q exit %d", res.Stdout, res.Stderr, res.ExitCode)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if string(f.stdin) != string(tc.stdin) {
				t.Errorf("stdin %q reached the server, want %q", f.stdin, tc.stdin)
			}
		})
	}
}
