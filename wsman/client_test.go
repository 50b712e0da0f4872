package wsman

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
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

func pemOf(f *fakeWinRM) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
}

func TestHTTPS(t *testing.T) {
	f := newFake(t, "basic", true, nil)
	base := Config{Host: "example.com", Address: "127.0.0.1", Port: f.port(), HTTPS: true,
		Auth: AuthBasic, Username: "alice", Password: "Passw0rd!", CAPEM: pemOf(f)}
	cases := []struct {
		name string
		mod  func(*Config)
		want Class // "" = success
	}{
		{"basic with CA", func(*Config) {}, ""},
		{"unknown CA", func(c *Config) { c.CAPEM = nil }, ClassTLSUnknownAuthority},
		{"name mismatch", func(c *Config) { c.Host = "wrong.example" }, ClassTLSNameMismatch},
		{"server name override", func(c *Config) { c.Host = "wrong.example"; c.ServerName = "example.com" }, ""},
		{"insecure", func(c *Config) { c.CAPEM = nil; c.Insecure = true }, ""},
		{"wrong password", func(c *Config) { c.Password = "nope" }, ClassAuthRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.mod(&cfg)
			res, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
			if tc.want == "" {
				if err != nil || string(res.Stdout) != "SIMHOST\r\n" || res.Sealed {
					t.Fatalf("res %+v err %v", res, err)
				}
				return
			}
			e := wantClass(t, err, tc.want)
			if tc.want == ClassAuthRefused && strings.Contains(e.Hint, "unsealed") {
				t.Errorf("HTTPS 401 with the unsealed-HTTP hint: %q", e.Hint)
			}
		})
	}
}

func TestNTLMOverHTTPSWithChannelBindings(t *testing.T) {
	f := newFake(t, "ntlm", true, func(f *fakeWinRM) { f.cbt = true })
	cfg := Config{Host: "example.com", Address: "127.0.0.1", Port: f.port(), HTTPS: true, Auth: AuthNTLM,
		Username: `TESTDOM\alice`, Password: "Passw0rd!", CAPEM: pemOf(f)}
	res, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sealed || string(res.Stdout) != "SIMHOST\r\n" {
		t.Fatalf("%+v", res)
	}
}

func TestBasic401OverHTTPHint(t *testing.T) {
	f := newFake(t, "basic", false, nil)
	cfg := basicConfig(f)
	cfg.Password = "wrong"
	_, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
	e := wantClass(t, err, ClassAuthRefused)
	if e.HTTPStatus != 401 || e.Op != "create" || !strings.Contains(e.Hint, "also answers 401") {
		t.Errorf("%+v", e)
	}
}

func TestRefusedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	for _, auth := range []string{AuthBasic, AuthNTLM} {
		cfg := Config{Host: "127.0.0.1", Port: port, Auth: auth, Username: "u", Password: "p", AllowUnencrypted: true}
		_, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
		if e := wantClass(t, err, ClassRefused); !e.Class.Retryable() {
			t.Error("refused should be retryable")
		}
	}
}

func TestDNSFailure(t *testing.T) {
	cfg := Config{Host: "host.invalid", Auth: AuthNTLM, Username: "u", Password: "p"}
	_, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
	wantClass(t, err, ClassDNS)
}

func TestHungServer(t *testing.T) {
	addr := hungListener(t)
	host, portS, _ := net.SplitHostPort(addr)
	port := mustAtoi(t, portS)
	fast := Config{Host: host, Port: port, Auth: AuthBasic, Username: "u", Password: "p", AllowUnencrypted: true,
		OperationTimeout: time.Second, ResponseHeaderTimeout: 1200 * time.Millisecond}
	t.Run("response timeout", func(t *testing.T) {
		_, err := newClient(t, fast).Run(t.Context(), "hostname", nil)
		wantClass(t, err, ClassResponseTimeout)
	})
	t.Run("ntlm handshake timeout", func(t *testing.T) {
		cfg := fast
		cfg.Auth = AuthNTLM
		_, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
		wantClass(t, err, ClassResponseTimeout)
	})
	t.Run("caller deadline", func(t *testing.T) {
		cfg := fast
		cfg.ResponseHeaderTimeout = time.Minute
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		_, err := newClient(t, cfg).Run(ctx, "hostname", nil)
		wantClass(t, err, ClassDeadline)
	})
	t.Run("tls handshake", func(t *testing.T) {
		cfg := fast
		cfg.HTTPS, cfg.TLSHandshakeTimeout = true, 300*time.Millisecond
		_, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
		wantClass(t, err, ClassTLSHandshake)
	})
}

// Cancelling the caller's context while Receive blocks must still terminate
// the command and delete the shell on the host.
func TestCancelMidReceiveCleansUp(t *testing.T) {
	for _, auth := range []string{"basic", "ntlm"} {
		t.Run(auth, func(t *testing.T) {
			inReceive := make(chan struct{}, 1)
			f := newFake(t, auth, false, func(f *fakeWinRM) {
				f.seal = true
				f.hook = func(r *fakeReq) *fakeResp {
					if r.op == "receive" {
						inReceive <- struct{}{}
						return &fakeResp{hang: true}
					}
					return nil
				}
			})
			cfg := basicConfig(f)
			if auth == "ntlm" {
				cfg = ntlmConfig(f)
			}
			c := newClient(t, cfg)
			ctx, cancel := context.WithCancel(t.Context())
			go func() { <-inReceive; cancel() }()
			_, err := c.Run(ctx, "hostname", nil)
			wantClass(t, err, ClassCancelled)
			ops := f.opList()
			if !slices.Equal(ops, []string{"create", "command", "receive", "signal", "delete"}) {
				t.Fatalf("server saw %v, want the Signal and Delete after the cancelled Receive", ops)
			}
		})
	}
}

func TestReceiveOperationTimeoutIsNotAHotLoop(t *testing.T) {
	var mu sync.Mutex
	receives := 0
	f := newFake(t, "basic", false, func(f *fakeWinRM) {
		f.hook = func(r *fakeReq) *fakeResp {
			if r.op != "receive" {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			if receives++; receives <= 3 {
				return faultResponse(r.messageID, FaultOperationTimeout, "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
			}
			return nil
		}
	})
	res, err := newClient(t, basicConfig(f)).Run(t.Context(), "hostname", nil)
	if err != nil {
		t.Fatal(err)
	}
	if receives != 4 || res.Requests != 8 || string(res.Stdout) != "SIMHOST\r\n" {
		t.Fatalf("receives %d, result %+v", receives, res)
	}
}

// A server that answers every Receive at once with nothing must not be
// hammered: the client backs off and the context ends the run.
func TestEmptyReceivesBackOff(t *testing.T) {
	var mu sync.Mutex
	receives := 0
	f := newFake(t, "basic", false, func(f *fakeWinRM) {
		f.hook = func(r *fakeReq) *fakeResp {
			if r.op != "receive" {
				return nil
			}
			mu.Lock()
			receives++
			mu.Unlock()
			return &fakeResp{body: receiveBody(r.messageID, r.commandID, "", "", false, 0)}
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	_, err := newClient(t, basicConfig(f)).Run(ctx, "hostname", nil)
	wantClass(t, err, ClassDeadline)
	mu.Lock()
	defer mu.Unlock()
	if receives > 20 {
		t.Fatalf("%d Receive requests in 1.5 s: hot loop", receives)
	}
	if ops := f.opList(); ops[len(ops)-1] != "delete" {
		t.Fatalf("no cleanup after the deadline: %v", ops[len(ops)-3:])
	}
}

func TestFaultsDuringRun(t *testing.T) {
	cases := []struct {
		op    string
		code  uint64
		msg   string
		class Class
		ops   []string
	}{
		{"create", FaultMaxShells, "The WS-Management service cannot process the request. This user is allowed a maximum number of 30 concurrent shells", ClassQuota, []string{"create"}},
		{"command", FaultMaxOperations, "too many operations", ClassQuota, []string{"create", "command", "delete"}},
		{"receive", FaultShellNotFound, "The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist.", ClassShellNotFound, []string{"create", "command", "receive", "signal", "delete"}},
		{"command", FaultCommandTooLong, "The command line is too long.", ClassCommandTooLong, []string{"create", "command", "delete"}},
		{"create", FaultAccessDenied, "Access is denied. ", ClassAccessDenied, []string{"create"}},
		{"receive", 87, "The parameter is incorrect. ", ClassWSManFault, []string{"create", "command", "receive", "signal", "delete"}},
	}
	for _, tc := range cases {
		t.Run(string(tc.class)+"/"+tc.op, func(t *testing.T) {
			f := newFake(t, "basic", false, func(f *fakeWinRM) {
				f.hook = func(r *fakeReq) *fakeResp {
					if r.op == tc.op {
						return faultResponse(r.messageID, tc.code, tc.msg)
					}
					return nil
				}
			})
			_, err := newClient(t, basicConfig(f)).Run(t.Context(), "hostname", nil)
			e := wantClass(t, err, tc.class)
			if e.FaultCode != tc.code || e.HTTPStatus != 500 || e.Op != tc.op || e.Message != strings.TrimSpace(tc.msg) {
				t.Errorf("%+v", e)
			}
			if ops := f.opList(); !slices.Equal(ops, tc.ops) {
				t.Errorf("server saw %v, want %v", ops, tc.ops)
			}
		})
	}
}

func TestOutputTooLarge(t *testing.T) {
	f := newFake(t, "basic", false, func(f *fakeWinRM) {
		f.output = func(string, []byte) (string, string, int) { return strings.Repeat("x", 100), "", 0 }
	})
	cfg := basicConfig(f)
	cfg.MaxOutputBytes = 10
	res, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
	wantClass(t, err, ClassOutputTooLarge)
	if res == nil || len(res.Stdout) != 100 {
		t.Errorf("partial result %+v", res)
	}
	if ops := f.opList(); ops[len(ops)-1] != "delete" {
		t.Errorf("no cleanup: %v", ops)
	}
}

func TestCommandTooLongNeverSent(t *testing.T) {
	f := newFake(t, "basic", false, nil)
	_, err := newClient(t, basicConfig(f)).Run(t.Context(), strings.Repeat("a", 32768), nil)
	wantClass(t, err, ClassCommandTooLong)
	if ops := f.opList(); len(ops) != 0 {
		t.Errorf("sent %v", ops)
	}
}

func TestCommandLineEscaped(t *testing.T) {
	f := newFake(t, "basic", false, nil)
	line := `cmd.exe /c echo a&b <c> "d" ]]> e`
	if _, err := newClient(t, basicConfig(f)).Run(t.Context(), line, nil); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.reqs[1].command; got != line {
		t.Fatalf("server read command %q", got)
	}
}

func TestRelatesToMismatch(t *testing.T) {
	f := newFake(t, "basic", false, func(f *fakeWinRM) {
		f.hook = func(r *fakeReq) *fakeResp {
			if r.op == "create" {
				return &fakeResp{body: createResponse("uuid:00000000-0000-0000-0000-000000000000", "11111111-2222-3333-4444-555555555555")}
			}
			return nil
		}
	})
	_, err := newClient(t, basicConfig(f)).Run(t.Context(), "hostname", nil)
	e := wantClass(t, err, ClassMalformed)
	if !strings.Contains(e.Message, "RelatesTo") {
		t.Errorf("message %q", e.Message)
	}
}

func TestHostileShellIDRefused(t *testing.T) {
	f := newFake(t, "basic", false, func(f *fakeWinRM) {
		f.hook = func(r *fakeReq) *fakeResp {
			if r.op == "create" {
				return &fakeResp{body: createResponse(r.messageID, "x&lt;/w:Selector&gt;")}
			}
			return nil
		}
	})
	_, err := newClient(t, basicConfig(f)).Run(t.Context(), "hostname", nil)
	wantClass(t, err, ClassMalformed)
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
