package wsman

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"strings"
	"testing"
)

// outcome is what the client reads from a Receive response.
type outcome struct {
	stdout, stderr string
	done           bool
	exit           int
	class          Class
}

func receiveOutcome(env *envelope, err error) outcome {
	if err == nil {
		var o output
		if _, err = o.add(env, "C1"); err == nil {
			return outcome{string(o.stdout), string(o.stderr), o.done, o.exitCode, ""}
		}
	}
	return outcome{class: asError(err).Class}
}

// parseWhole is parseResponse without cutting: the reference.
func parseWhole(req *request, body []byte) (*envelope, error) {
	env := new(envelope)
	if err := xml.Unmarshal(body, env); err != nil {
		return nil, malformed(req.op, "%v", err)
	}
	if env.Header.RelatesTo != req.id {
		return nil, malformed(req.op, "RelatesTo")
	}
	if f := env.Body.Fault; f != nil {
		return nil, f.toError(req.op, 200)
	}
	if env.Header.Action != req.action+"Response" {
		return nil, malformed(req.op, "action")
	}
	return env, nil
}

func bigReceive() []byte {
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("##AADC F os.build 20348\r\n"), 100))
	return []byte(receiveXML(stream("stdout", "C1", data)+stream("stderr", "C1", data[:400])+stream("stdout", "C1", data[:minCut-4]),
		doneState("C1", "<rsp:ExitCode>7</rsp:ExitCode>")))
}

func TestCutRuns(t *testing.T) {
	body := bigReceive()
	skeleton, runs := cutRuns(body)
	if len(runs) != 2 || len(skeleton)+len(runs[0])+len(runs[1])-len("#0#1") != len(body) {
		t.Fatalf("%d runs, skeleton %d of %d bytes", len(runs), len(skeleton), len(body))
	}
	req := request{op: "receive", action: actionReceive, id: testMsgID}
	env, err := parseResponse(&req, 200, body)
	got := receiveOutcome(env, err)
	want := receiveOutcome(parseWhole(&req, body))
	if got != want || want.exit != 7 || len(want.stdout) != 2500+189 {
		t.Fatalf("cut %+v\nwhole %+v", got, want)
	}
	// A placeholder-looking text the server sent itself is not base64.
	forged := receiveXML(stream("stdout", "C1", "#0")+stream("stdout", "C1", strings.Repeat("QUFB", 100)), "")
	env, err = parseResponse(&req, 200, []byte(forged))
	if o := receiveOutcome(env, err); o.class != ClassMalformed {
		t.Fatalf("forged placeholder: %+v", o)
	}
}

func FuzzCutRuns(f *testing.F) {
	f.Add(bigReceive())
	f.Add([]byte(receiveXML(stream("stdout", "C1", "#0"), "")))
	for _, name := range []string{"winrs_standard.yml", "winrs_environment.yml", "winrs_bad_cmd_id.yml"} {
		for _, x := range loadCapture(f, name) {
			f.Add([]byte(strings.ReplaceAll(x.Response, "uuid:", "")))
		}
	}
	req := request{op: "receive", action: actionReceive, id: testMsgID}
	f.Fuzz(func(t *testing.T, body []byte) {
		cut, runs := cutRuns(body)
		for _, r := range runs {
			if len(r) < minCut || !bytes.Contains(body, r) {
				t.Fatalf("bad run %q", r)
			}
		}
		if len(runs) == 0 && !bytes.Equal(cut, body) {
			t.Fatal("body changed without cuts")
		}
		env, err := parseResponse(&req, 200, body)
		got := receiveOutcome(env, err)
		want := receiveOutcome(parseWhole(&req, body))
		if got.class != want.class || got.class == "" && got != want {
			t.Fatalf("cut %+v\nwhole %+v", got, want)
		}
	})
}

func BenchmarkParseLargeReceive(b *testing.B) {
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("##AADC F os.build 20348\r\n"), 1200))
	body := []byte(receiveXML(stream("stdout", "C1", data), doneState("C1", "<rsp:ExitCode>0</rsp:ExitCode>")))
	req := request{op: "receive", action: actionReceive, id: testMsgID}
	for _, mode := range []string{"cut", "whole"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var env *envelope
				var err error
				if mode == "cut" {
					env, err = parseResponse(&req, 200, body)
				} else {
					env, err = parseWhole(&req, body)
				}
				if o := receiveOutcome(env, err); o.class != "" || !o.done {
					b.Fatal(o)
				}
			}
		})
	}
}
