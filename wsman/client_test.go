package wsman

// Client runs over NTLM (sealed and not) against the fake WinRM server.

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func basicConfig(f *fakeWinRM) Config {
	return Config{Host: "127.0.0.1", Port: f.port(), Auth: AuthBasic, Username: "alice", Password: "Passw0rd!", AllowUnencrypted: true}
}

func ntlmConfig(f *fakeWinRM) Config {
	return Config{Host: "127.0.0.1", Port: f.port(), Auth: AuthNTLM, Username: `TESTDOM\alice`, Password: "Passw0rd!"}
}

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantClass fails unless err is an *Error of class want.
func wantClass(t testing.TB, err error, want Class) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *Error of class %s", err, err, want)
	}
	if e.Class != want {
		t.Fatalf("class %s (%v), want %s", e.Class, e, want)
	}
	if e.Hint == "" {
		t.Errorf("class %s has no hint", e.Class)
	}
	return e
}

func mustAtoi(t testing.TB, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestRunSealedNTLMReusesOneConnection(t *testing.T) {
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) { f.seal = true })
	c := newClient(t, ntlmConfig(f))
	for i := range 3 {
		res, err := c.Run(t.Context(), "hostname", nil)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if string(res.Stdout) != "SIMHOST\r\n" || res.ExitCode != 0 || !res.Sealed || res.Requests != 5 {
			t.Fatalf("run %d: %+v", i, res)
		}
	}
	if conns, hs := f.counts(); conns != 1 || hs != 1 {
		t.Errorf("server saw %d connections and %d handshakes, want 1 and 1", conns, hs)
	}
	want := []string{"create", "command", "receive", "signal", "delete"}
	if ops := f.opList(); !slices.Equal(ops[:5], want) || len(ops) != 15 {
		t.Errorf("ops %v", ops)
	}
}

func TestRunSealedStdinChunks(t *testing.T) {
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) {
		f.seal = true
		f.output = func(_ string, stdin []byte) (string, string, int) { return string(stdin[:10]), "", 3 }
	})
	cfg := ntlmConfig(f)
	cfg.MaxEnvelopeKB = 16
	c := newClient(t, cfg)
	stdin := bytes.Repeat([]byte("0123456789"), 5000)
	res, err := c.Run(t.Context(), "powershell.exe -NoProfile -Command -", stdin)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 || string(res.Stdout) != "0123456789" {
		t.Fatalf("result %+v", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !bytes.Equal(f.stdin, stdin) {
		t.Fatalf("server reassembled %d bytes, want %d", len(f.stdin), len(stdin))
	}
	var sends []fakeReq
	for _, r := range f.reqs {
		if r.size > cfg.MaxEnvelopeKB*1024 {
			t.Errorf("%s envelope of %d bytes exceeds %d KB", r.op, r.size, cfg.MaxEnvelopeKB)
		}
		if r.op == "send" {
			sends = append(sends, r)
		}
	}
	if len(sends) < 5 {
		t.Fatalf("%d Send requests for %d bytes in 16 KB envelopes", len(sends), len(stdin))
	}
	for i, s := range sends {
		if s.end != (i == len(sends)-1) {
			t.Errorf("send %d: End=%v", i, s.end)
		}
	}
}

func TestRunEmptyStdinSendsEnd(t *testing.T) {
	f := newFake(t, "basic", false, nil)
	c := newClient(t, basicConfig(f))
	if _, err := c.Run(t.Context(), "more", []byte{}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ends int
	for _, r := range f.reqs {
		if r.op == "send" && r.end {
			ends++
		}
	}
	if ends != 1 {
		t.Fatalf("%d Send End=true requests, want 1", ends)
	}
}

// The host drops the connection after every response; the client must
// notice, authenticate the new connection and go on.
func TestRunSealedReauthenticatesOnNewConnection(t *testing.T) {
	for _, mode := range []string{"connection-close", "silent-drop"} {
		t.Run(mode, func(t *testing.T) {
			f := newFake(t, "ntlm", false, func(f *fakeWinRM) {
				f.seal = true
				f.connClose = mode == "connection-close"
				f.drop = mode == "silent-drop"
			})
			c := newClient(t, ntlmConfig(f))
			for i := range 3 {
				res, err := c.Run(t.Context(), "hostname", nil)
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				if string(res.Stdout) != "SIMHOST\r\n" {
					t.Fatalf("stdout %q", res.Stdout)
				}
			}
			conns, hs := f.counts()
			if conns < 15 || hs != conns {
				t.Errorf("%d connections, %d handshakes: want one authenticated connection per request", conns, hs)
			}
		})
	}
}

func TestRunPlainNTLMWithAllowUnencrypted(t *testing.T) {
	f := newFake(t, "ntlm", false, nil)
	cfg := ntlmConfig(f)
	cfg.AllowUnencrypted = true
	res, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sealed || string(res.Stdout) != "SIMHOST\r\n" {
		t.Fatalf("%+v", res)
	}
}

func TestRunUnsealedAgainstSealingHost401Hint(t *testing.T) {
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) { f.seal = true })
	cfg := ntlmConfig(f)
	cfg.AllowUnencrypted = true
	_, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
	e := wantClass(t, err, ClassAuthRefused)
	if !strings.Contains(e.Hint, "refusing unsealed traffic also answers 401") {
		t.Errorf("hint %q", e.Hint)
	}
}

func TestNTLMWrongPassword(t *testing.T) {
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) { f.seal = true })
	cfg := ntlmConfig(f)
	cfg.Password = "wrong"
	_, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
	e := wantClass(t, err, ClassAuthRefused)
	if e.Op != "connect" || strings.Contains(e.Hint, "unsealed") {
		t.Errorf("op %q hint %q", e.Op, e.Hint)
	}
	if ops := f.opList(); len(ops) != 0 {
		t.Errorf("SOAP sent without authentication: %v", ops)
	}
}

// A CHALLENGE that drops SEAL (a downgrade) must not lead to plaintext.
func TestNTLMRefusesChallengeWithoutSealing(t *testing.T) {
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) { f.flags = testChallengeFlags &^ flagSeal })
	_, err := newClient(t, ntlmConfig(f)).Run(t.Context(), "hostname", nil)
	wantClass(t, err, ClassAuthRefused)
	if ops := f.opList(); len(ops) != 0 {
		t.Errorf("SOAP sent after a downgraded challenge: %v", ops)
	}
}

func TestSealedTamperedResponse(t *testing.T) {
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) {
		f.seal = true
		f.hook = func(r *fakeReq) *fakeResp {
			if r.op == "create" {
				return &fakeResp{body: createResponse(r.messageID, "11111111-2222-3333-4444-555555555555"), tamper: true}
			}
			return nil
		}
	})
	_, err := newClient(t, ntlmConfig(f)).Run(t.Context(), "hostname", nil)
	wantClass(t, err, ClassMalformed)
}

func TestSealedPlainResponseRefused(t *testing.T) {
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) {
		f.seal = true
		f.hook = func(r *fakeReq) *fakeResp {
			if r.op == "create" {
				return &fakeResp{body: createResponse(r.messageID, "11111111-2222-3333-4444-555555555555"), plain: true}
			}
			return nil
		}
	})
	_, err := newClient(t, ntlmConfig(f)).Run(t.Context(), "hostname", nil)
	e := wantClass(t, err, ClassMalformed)
	if !strings.Contains(e.Message, "unsealed") {
		t.Errorf("message %q", e.Message)
	}
}

func TestTraceAndLogging(t *testing.T) {
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) { f.seal = true })
	var logs bytes.Buffer
	var mu sync.Mutex
	var steps []string
	cfg := ntlmConfig(f)
	cfg.Host, cfg.Address = "localhost", ""
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Trace = func(step string, _ time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("step %s: %v", step, err)
		}
		steps = append(steps, step)
	}
	if _, err := newClient(t, cfg).Run(t.Context(), "hostname", nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"resolve", "connect", "authenticate", "create-shell", "command", "receive", "cleanup"}
	if !slices.Equal(steps, want) {
		t.Errorf("steps %v, want %v", steps, want)
	}
	out := logs.String()
	if !strings.Contains(out, "op=receive") {
		t.Errorf("no per-request debug log: %s", out)
	}
	for _, secret := range []string{"Passw0rd!", "Negotiate", "Authorization", "SIMHOST"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

func TestMidSession401Reauthenticates(t *testing.T) {
	var once sync.Once
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) {
		f.seal = true
		f.hook = func(r *fakeReq) *fakeResp {
			var resp *fakeResp
			if r.op == "receive" {
				once.Do(func() { resp = &fakeResp{forget: true} })
			}
			return resp
		}
	})
	res, err := newClient(t, ntlmConfig(f)).Run(t.Context(), "hostname", nil)
	if err != nil || string(res.Stdout) != "SIMHOST\r\n" || res.Requests != 6 {
		t.Fatalf("%+v %v", res, err)
	}
	if conns, hs := f.counts(); conns != 2 || hs != 2 {
		t.Errorf("%d connections, %d handshakes; want a second authenticated connection", conns, hs)
	}
}
