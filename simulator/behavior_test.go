package simulator

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

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

func TestDescribe(t *testing.T) {
	s := startHosts(t,
		Host{Name: "plain"},
		Host{Name: "busy", HTTPS: true, Basic: true, AllowUnencrypted: true, Latency: time.Second, Faults: []Fault{{Op: OpCreate, Code: 5}},
			FailProbes: map[string]string{"os": "x"}, Profile: "ws2012r2-v1", TLSCert: TLSCertExpired, NoiseOutput: 4096,
			LanguageMode: "ConstrainedLanguage", ProcessArch: arch32on64, UnreadableKeys: []string{localDBVersionKey}},
	)
	var b strings.Builder
	if err := s.Describe(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	addr, httpsAddr := s.Endpoint("busy")
	for _, want := range []string{"HOST", "plain", "NTLM, sealed on HTTP", "busy", addr, httpsAddr, "NTLM+Basic, unencrypted allowed",
		"ws2012r2-v1", "latency 1s", "1 fault(s)", "fails os", "envelope 150 KB", "certificate expired", "4096 bytes of noise",
		"ConstrainedLanguage", "32-bit PowerShell", "1 registry fault(s)"} {
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

// TestTLSCerts: each bad certificate fails the handshake of a client that
// trusts the fleet's CA, for the reason a client reports.
func TestTLSCerts(t *testing.T) {
	s := startHosts(t,
		Host{Name: "good", HTTPS: true},
		Host{Name: "selfsigned", HTTPS: true, TLSCert: TLSCertSelfSigned},
		Host{Name: "expired", HTTPS: true, TLSCert: TLSCertExpired},
		Host{Name: "wrongname", HTTPS: true, TLSCert: TLSCertWrongName},
	)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	for name, check := range map[string]func(error) bool{
		"good":       func(err error) bool { return err == nil },
		"selfsigned": func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) },
		"expired": func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired
		},
		"wrongname": func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) },
	} {
		_, addr := s.Endpoint(name)
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: name})
		if err == nil {
			c.Close()
		}
		if !check(err) {
			t.Errorf("%s: handshake error %v", name, err)
		}
	}
}

// TestNoiseOutput: the noise comes first, in whole lines, and the probes'
// output after it is intact.
func TestNoiseOutput(t *testing.T) {
	const n = 300 << 10
	s := startHosts(t, Host{Name: "chatty", NoiseOutput: n})
	r := client(t, s, "chatty", false).run(probes.CommandLine(), []byte(probes.Bundle()))
	i := bytes.Index(r.stdout, []byte("##AADC BUNDLE"))
	if i < n || r.stdout[i-1] != '\n' {
		t.Fatalf("the probes' output starts at byte %d, want after at least %d bytes of whole noise lines", i, n)
	}
	set, diag := probes.Parse(r.stdout, probes.BundleID())
	if len(diag.Problems) > 0 || set.Get("host.name").Value != "chatty" || diag.NoiseLines < n/120 {
		t.Fatalf("problems %v, host.name %v, %d noise lines", diag.Problems, set.Get("host.name"), diag.NoiseLines)
	}
}

// TestHostile: the planted strings arrive as the parser reads them, the
// lone surrogate as U+FFFD, and stderr is not UTF-8.
func TestHostile(t *testing.T) {
	s := startHosts(t, Host{Name: "evil", Behavior: BehaviorHostile})
	r := client(t, s, "evil", false).run(probes.CommandLine(), []byte(probes.Bundle()))
	set, diag := probes.Parse(r.stdout, probes.BundleID())
	if len(diag.Problems) > 0 {
		t.Fatalf("problems: %v", diag.Problems)
	}
	for key, want := range map[string]string{
		"os.caption":              `=HYPERLINK(`,
		"adsync.service_account":  `<script>`,
		"hw.system_drive":         "\x1b[2J",
		"adsync.install_location": "Sync\\\uFFFD",
	} {
		if v, _ := set.Get(key).Str(); !strings.Contains(v, want) {
			t.Errorf("%s = %q, want it to contain %q", key, v, want)
		}
	}
	if f := set.Get("dotnet.release"); f.Status != facts.StatusError || !strings.Contains(f.Reason, "\x1b]0;") {
		t.Errorf("dotnet.release = %+v, want an error with terminal escapes", f)
	}
	if utf8.Valid(r.stderr) || !bytes.Contains(r.stderr, []byte("\x1b[2J")) {
		t.Errorf("stderr %q: want bytes that are not UTF-8 and an escape", r.stderr)
	}
}
