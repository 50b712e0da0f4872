package simulator

import (
	"fmt"
	"strings"
	"testing"
)

// TestInjectedFaults: a fault fires on its operation for its first Times
// requests, then the operation works again.
func TestInjectedFaults(t *testing.T) {
	for _, op := range faultOps {
		for _, tt := range []struct {
			name   string
			fault  Fault
			status int
			check  func(resp string) bool
		}{
			{"wsman fault", Fault{Code: codeMaxOperations, Times: 2}, 500, func(r string) bool {
				return strings.Contains(r, `Code="2150859174"`) && strings.Contains(r, "w:QuotaLimit")
			}},
			{"unknown code", Fault{Code: 1234, Times: 1}, 500, func(r string) bool { return strings.Contains(r, `Code="1234"`) }},
			{"fault with another status", Fault{Code: codeAccessDenied, HTTPStatus: 503, Times: 1}, 503, func(r string) bool { return strings.Contains(r, `Code="5"`) }},
			{"bare HTTP status", Fault{HTTPStatus: 502, Times: 1}, 502, func(r string) bool { return r == "" }},
		} {
			t.Run(fmt.Sprintf("%s/%s", op, tt.name), func(t *testing.T) {
				f := tt.fault
				f.Op = op
				s := startHosts(t, Host{Name: "aadc01", Faults: []Fault{f}})
				c := client(t, s, "aadc01", false)
				hits := 0
				for attempt := range f.Times + 1 {
					status, resp := doOp(c, op)
					fired := status == tt.status && tt.check(resp)
					if fired {
						hits++
					} else if status != 200 {
						t.Fatalf("attempt %d: %d %s", attempt+1, status, resp)
					}
				}
				if hits != f.Times {
					t.Fatalf("fired %d times, want %d", hits, f.Times)
				}
			})
		}
	}
}

// TestInjectedFaultEveryTime: times 0 fires on every request.
func TestInjectedFaultEveryTime(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01", Faults: []Fault{{Op: OpCreate, Code: codeMaxShells}}})
	c := client(t, s, "aadc01", false)
	for range 3 {
		if status, resp := doOp(c, OpCreate); status != 500 || !strings.Contains(resp, `Code="2150859173"`) {
			t.Fatalf("%d %s", status, resp)
		}
	}
	if st := s.Stats().Hosts["aadc01"]; st.Faults != 3 || st.Ops.Create != 3 || st.ShellsOpen != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestInjectedReset: the connection drops in the middle of the response;
// the operation works on a new connection once the fault is used up.
func TestInjectedReset(t *testing.T) {
	for _, op := range faultOps {
		t.Run(string(op), func(t *testing.T) {
			s := startHosts(t, Host{Name: "aadc01", Faults: []Fault{{Op: op, Reset: true, Times: 1}}})
			c := client(t, s, "aadc01", false)
			shell, cmd := prepare(c, op)
			msg, _ := opRequest(c, op, shell, cmd)
			if _, _, err := c.post(msg); err == nil {
				t.Fatal("the response arrived whole")
			}
			c.close() // the client notices and reconnects
			if op == OpCreate {
				shell, cmd = prepare(c, op)
			}
			msg, _ = opRequest(c, op, shell, cmd)
			if status, resp, err := c.post(msg); err != nil || status != 200 {
				t.Fatalf("after the reset: %d %v %s", status, err, resp)
			}
		})
	}
}

// TestInjectedReceiveTimeouts: OperationTimeout faults on the first
// Receives make a client retry, then the output arrives.
func TestInjectedReceiveTimeouts(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01", Faults: []Fault{{Op: OpReceive, Code: codeOperationTimeout, Times: 3}}})
	r := client(t, s, "aadc01", false).run("hostname", nil)
	if r.receives != 4 || string(r.stdout) != "aadc01\r\n" {
		t.Fatalf("%d receives, stdout %q", r.receives, r.stdout)
	}
}

// prepare makes the shell and command an operation needs.
func prepare(c *testClient, op Op) (shell, cmd string) {
	if op == OpCreate {
		return "", ""
	}
	shell = c.createShell()
	if op != OpCommand {
		_, cmd = c.startCommand(shell, "powershell.exe -", false)
	}
	return shell, cmd
}

func opRequest(c *testClient, op Op, shell, cmd string) (string, string) {
	switch op {
	case OpCreate:
		return c.soapRequest(actionCreate, resourceCmd, "", "", `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`)
	case OpCommand:
		return c.soapRequest(actionCommand, resourceCmd, shell, "", `<rsp:CommandLine><rsp:Command>hostname</rsp:Command></rsp:CommandLine>`)
	case OpSend:
		return c.soapRequest(actionSend, resourceCmd, shell, "", `<rsp:Send><rsp:Stream Name="stdin" CommandId="`+cmd+`">aGk=</rsp:Stream></rsp:Send>`)
	case OpReceive:
		c.sendStdin(shell, cmd, []byte("hostname"), true)
		return c.soapRequest(actionReceive, resourceCmd, shell, "", `<rsp:Receive><rsp:DesiredStream CommandId="`+cmd+`">stdout stderr</rsp:DesiredStream></rsp:Receive>`)
	case OpSignal:
		return c.soapRequest(actionSignal, resourceCmd, shell, "", `<rsp:Signal CommandId="`+cmd+`"><rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c</rsp:Code></rsp:Signal>`)
	default:
		return c.soapRequest(actionDelete, resourceCmd, shell, "", "")
	}
}

// doOp runs one operation on fresh prerequisites.
func doOp(c *testClient, op Op) (int, string) {
	c.t.Helper()
	shell, cmd := prepare(c, op)
	msg, id := opRequest(c, op, shell, cmd)
	status, resp, err := c.post(msg)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp != "" && relatesTo(resp) != id {
		c.t.Fatalf("RelatesTo %q, want %q", relatesTo(resp), id)
	}
	return status, resp
}

// TestInjectedVanish: the shell disappears as in a WinRM service restart:
// the request that met it and every later one for that shell answer
// 2150858843, and a new shell works.
func TestInjectedVanish(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01", Faults: []Fault{{Op: OpReceive, Vanish: true, Times: 1}}})
	c := client(t, s, "aadc01", false)
	shell := c.createShell()
	_, cmd := c.startCommand(shell, "hostname", false)
	if status, resp := c.receiveOnce(shell, cmd); status != 500 || !strings.Contains(resp, `Code="2150858843"`) || !strings.Contains(resp, shell) {
		t.Fatalf("Receive: %d %s, want fault 2150858843 naming the shell", status, resp)
	}
	if st := s.Stats().Hosts["aadc01"]; st.ShellsOpen != 0 {
		t.Fatalf("%d shells still open after the loss", st.ShellsOpen)
	}
	if status, resp := c.call(actionDelete, shell, "", ""); status != 500 || !strings.Contains(resp, `Code="2150858843"`) {
		t.Fatalf("Delete of the lost shell: %d %s", status, resp)
	}
	if r := c.run("hostname", nil); string(r.stdout) != "aadc01\r\n" {
		t.Fatalf("a new shell after the loss: %q", r.stdout)
	}
}
