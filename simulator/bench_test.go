package simulator

import (
	"context"
	"testing"

	"aadcready/probes"
)

// The simulator runs next to the scanner in the fleet benchmark, so its
// cost per request is the scanner's noise floor. Run with
// go test -run '^$' -bench . -benchmem ./simulator/

func benchServer(b *testing.B, h Host) (*Server, *testClient) {
	b.Helper()
	if h.Users == nil {
		h.Users = []User{{Name: testUser, Password: testPassword}, {Name: "Administrator", Password: testPassword}}
	}
	s, err := Start(context.Background(), &Fleet{Source: "bench", AddressBase: "127.5.0.1", Hosts: []Host{h}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	addr, _ := s.Endpoint(h.Name)
	c := &testClient{t: b, addr: addr, user: testUser, password: testPassword}
	b.Cleanup(c.close)
	return s, c
}

// BenchmarkServeSOAP is the WS-Management layer alone (no HTTP, no
// sealing): one Create, Command, Receive, Signal and Delete per iteration,
// reported per request.
func BenchmarkServeSOAP(b *testing.B) {
	s, c := benchServer(b, Host{Name: "bench"})
	h := s.byName["bench"]
	who := &caller{user: testUser, ip: "127.0.0.1", url: "http://bench/wsman"}
	ctx := context.Background()
	create, _ := c.soapRequest(actionCreate, resourceCmd, "", "", `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`)
	b.ReportAllocs()
	for b.Loop() {
		shell := between(string(h.serveSOAP(ctx, who, []byte(create)).body), `<rsp:ShellId>`, "<")
		cmd, _ := c.soapRequest(actionCommand, resourceCmd, shell, "", `<rsp:CommandLine><rsp:Command>hostname</rsp:Command></rsp:CommandLine>`)
		id := between(string(h.serveSOAP(ctx, who, []byte(cmd)).body), `<rsp:CommandId>`, "<")
		for _, m := range []string{
			`<rsp:Receive><rsp:DesiredStream CommandId="` + id + `">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
			`<rsp:Signal CommandId="` + id + `"><rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate</rsp:Code></rsp:Signal>`,
			"",
		} {
			action := map[bool]string{true: actionReceive, false: actionSignal}[m != "" && m[5] == 'R']
			if m == "" {
				action = actionDelete
			}
			req, _ := c.soapRequest(action, resourceCmd, shell, "", m)
			if rep := h.serveSOAP(ctx, who, []byte(req)); rep.status != 200 {
				b.Fatalf("%s: %d %s", action, rep.status, rep.body)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*5), "ns/request")
}

// BenchmarkRoundTrip is the whole path over loopback HTTP, client
// included: sealed NTLM (the Windows default) and Basic.
func BenchmarkRoundTrip(b *testing.B) {
	for _, tt := range []struct {
		name string
		host Host
	}{
		{"ntlm-sealed", Host{Name: "bench"}},
		{"basic", Host{Name: "bench", Basic: true, AllowUnencrypted: true}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			_, c := benchServer(b, tt.host)
			if tt.host.Basic {
				c.user, c.basic = "Administrator", true
			}
			b.ReportAllocs()
			for b.Loop() {
				if r := c.run("hostname", nil); r.code != 0 {
					b.Fatalf("exit %d", r.code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*6), "ns/request")
		})
	}
}

// BenchmarkProbeRun is one host scan as the scanner does it: the bundle on
// stdin, rendered output back, sealed.
func BenchmarkProbeRun(b *testing.B) {
	_, c := benchServer(b, Host{Name: "bench"})
	bundle := []byte(probes.Bundle())
	b.ReportAllocs()
	for b.Loop() {
		if r := c.run(probes.CommandLine(), bundle); r.code != 0 || len(r.stdout) == 0 {
			b.Fatalf("exit %d, %d bytes", r.code, len(r.stdout))
		}
	}
}
