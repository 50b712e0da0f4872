package wsman

// Failures: network, timeouts, cancellation, faults and hostile responses.

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

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

func TestUnexpectedHTTPStatus(t *testing.T) {
	for _, status := range []int{302, 400, 413, 503} {
		f := newFake(t, "basic", false, func(f *fakeWinRM) {
			f.hook = func(r *fakeReq) *fakeResp { return &fakeResp{status: status, body: "<html/>"} }
		})
		_, err := newClient(t, basicConfig(f)).Run(t.Context(), "hostname", nil)
		e := wantClass(t, err, ClassHTTPStatus)
		if e.HTTPStatus != status || e.Op != "create" || (status == 413) != strings.Contains(e.Message, "MaxEnvelopeSizekb") {
			t.Errorf("%d: %+v", status, e)
		}
	}
}

func TestOversizedResponse(t *testing.T) {
	f := newFake(t, "basic", false, func(f *fakeWinRM) {
		f.hook = func(r *fakeReq) *fakeResp {
			if r.op == "create" {
				return &fakeResp{body: createResponse(r.messageID, "A-1") + strings.Repeat(" ", 200<<10)}
			}
			return nil
		}
	})
	cfg := basicConfig(f)
	cfg.MaxEnvelopeKB = 16
	_, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
	wantClass(t, err, ClassMalformed)
}

func TestDeleteRetriedWhenItsAnswerIsLost(t *testing.T) {
	for _, seal := range []bool{false, true} {
		var once sync.Once
		f := newFake(t, "ntlm", false, func(f *fakeWinRM) {
			f.seal = seal
			f.hook = func(r *fakeReq) *fakeResp {
				var resp *fakeResp
				if r.op == "delete" {
					once.Do(func() { resp = &fakeResp{body: soapResponse(r.messageID, actionDelete+"Response", ""), reset: true} })
				}
				return resp
			}
		})
		cfg := ntlmConfig(f)
		cfg.AllowUnencrypted = !seal
		res, err := newClient(t, cfg).Run(t.Context(), "hostname", nil)
		if err != nil || string(res.Stdout) != "SIMHOST\r\n" {
			t.Fatalf("%+v %v", res, err)
		}
		if ops := f.opList(); !slices.Equal(ops, []string{"create", "command", "receive", "signal", "delete", "delete"}) {
			t.Errorf("sealed %v: server saw %v", seal, ops)
		}
	}
}
