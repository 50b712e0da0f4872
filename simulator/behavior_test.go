package simulator

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"aadcready/facts"
	"aadcready/probes"
)

func TestRefuse(t *testing.T) {
	s := startHosts(t, Host{Name: "down", Behavior: BehaviorRefuse, HTTPS: true})
	addr, httpsAddr := s.Endpoint("down")
	for _, a := range []string{addr, httpsAddr} {
		if a == "" {
			t.Fatal("a refuse host still has addresses")
		}
		c, err := net.DialTimeout("tcp", a, 2*time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("%s accepted a connection", a)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: %v, want connection refused", a, err)
		}
	}
}

func TestHang(t *testing.T) {
	s := startHosts(t, Host{Name: "hung", Behavior: BehaviorHang})
	addr, _ := s.Endpoint("hung")
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("a hang host must accept: %v", err)
	}
	defer c.Close()
	c.Write([]byte("POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	if n != 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %d bytes, %v: want a timeout", n, err)
	}
	if st := s.Stats().Hosts["hung"]; st.Requests != 0 {
		t.Errorf("a hang host served %d requests", st.Requests)
	}
}

// TestGarbage: the connection test works, the probes print junk that the
// parser cannot tie to the bundle.
func TestGarbage(t *testing.T) {
	s := startHosts(t, Host{Name: "junk", Behavior: BehaviorGarbage})
	c := client(t, s, "junk", false)
	if r := c.run("hostname", nil); string(r.stdout) != "junk\r\n" {
		t.Fatalf("hostname: %q", r.stdout)
	}
	r := c.run(probes.CommandLine(), []byte(probes.Bundle()))
	again := c.run(probes.CommandLine(), []byte(probes.Bundle()))
	if r.code != 0 || len(r.stdout) < 100 || !bytes.Equal(r.stdout, again.stdout) {
		t.Fatalf("exit %d, %d bytes, repeatable %v", r.code, len(r.stdout), bytes.Equal(r.stdout, again.stdout))
	}
	set, _ := probes.Parse(r.stdout, probes.BundleID())
	for _, p := range facts.Probes() {
		if st := set.Probes[p].Status; st != facts.ProbeMalformed {
			t.Errorf("probe %s is %q, want malformed", p, st)
		}
	}
}

// TestSlow: every response waits for the latency, PowerShell for its
// runtime.
func TestSlow(t *testing.T) {
	s := startHosts(t, Host{Name: "slow", Behavior: BehaviorSlow, Latency: 60 * time.Millisecond, PSRuntime: 300 * time.Millisecond})
	c := client(t, s, "slow", false)
	start := time.Now()
	c.run(probes.CommandLine(), []byte(probes.Bundle()))
	// 8 requests (2 handshake, Create, Command, Send, Receive, Signal,
	// Delete) wait 60 ms each; PowerShell's 300 ms start at the Send and
	// overlap the Receive's wait.
	if d := time.Since(start); d < 7*60*time.Millisecond+300*time.Millisecond {
		t.Fatalf("took %v", d)
	}
	d := DemoFleet().clone()
	d.Hosts = d.Hosts[:1]
	d.Hosts[0].Behavior = BehaviorSlow
	d.Hosts[0].Latency, d.Hosts[0].PSRuntime = 0, 0
	if err := d.resolve(); err != nil || d.Hosts[0].Latency != SlowLatency || d.Hosts[0].PSRuntime != SlowPSRuntime {
		t.Errorf("slow defaults: %v %+v", err, d.Hosts[0])
	}
}

// TestConstrainedLanguage: the language mode shows in the facts and blocks
// the .NET call behind the wizard version.
func TestConstrainedLanguage(t *testing.T) {
	s := startHosts(t, Host{Name: "clm", LanguageMode: "ConstrainedLanguage"})
	r := client(t, s, "clm", false).run(probes.CommandLine(), []byte(probes.Bundle()))
	set, _ := probes.Parse(r.stdout, probes.BundleID())
	if mode, _ := set.Get("ps.language_mode").Str(); mode != "ConstrainedLanguage" {
		t.Errorf("language mode %q", mode)
	}
	if f := set.Get("aadc.wizard_version"); f.Status != facts.StatusError || !strings.Contains(f.Reason, "language mode") {
		t.Errorf("wizard version %+v", f)
	}
}

func TestDescribe(t *testing.T) {
	s := startHosts(t,
		Host{Name: "plain"},
		Host{Name: "busy", HTTPS: true, Basic: true, AllowUnencrypted: true, Latency: time.Second, Faults: []Fault{{Op: OpCreate, Code: 5}},
			FailProbes: map[string]string{"os": "x"}, Profile: "ws2012r2-v1"},
	)
	var b strings.Builder
	if err := s.Describe(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	addr, httpsAddr := s.Endpoint("busy")
	for _, want := range []string{"HOST", "plain", "NTLM, sealed on HTTP", "busy", addr, httpsAddr, "NTLM+Basic, unencrypted allowed",
		"ws2012r2-v1", "latency 1s", "1 fault(s)", "fails os", "envelope 150 KB"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

// TestStartErrors: a fleet that cannot run fails Start cleanly.
func TestStartErrors(t *testing.T) {
	if _, err := Start(t.Context(), nil, Options{}); err == nil {
		t.Error("nil fleet started")
	}
	bad := &Fleet{Hosts: []Host{{Name: "x", Address: "10.1.2.3", Users: []User{{Name: "a", Password: "b"}}}}}
	if _, err := Start(t.Context(), bad, Options{}); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("non-loopback address: %v", err)
	}
	// Two fleets cannot own one address and port.
	first := startHosts(t, Host{Name: "a"})
	addr, _ := first.Endpoint("a")
	host, port, _ := net.SplitHostPort(addr)
	p := 0
	for _, ch := range port {
		p = p*10 + int(ch-'0')
	}
	taken := &Fleet{Hosts: []Host{{Name: "b", Address: host, Port: p, Users: []User{{Name: "a", Password: "b"}}}}}
	if _, err := Start(t.Context(), taken, Options{}); err == nil || !strings.Contains(err.Error(), `host "b"`) {
		t.Errorf("taken port: %v", err)
	}
}

// TestStartContext: cancelling Start's context closes the server.
func TestStartContext(t *testing.T) {
	ctx, cancel := contextWithTimeout(t, time.Minute)
	s, err := Start(ctx, &Fleet{AddressBase: "127.3.9.1", Hosts: []Host{{Name: "a", Users: []User{{Name: "a", Password: "b"}}}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := s.Endpoint("a")
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("still listening after the context ended")
}
