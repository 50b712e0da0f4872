package wsman

import (
	"errors"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"
)

func TestConfigDefaults(t *testing.T) {
	s, err := Config{Host: "dc01.corp.example", Auth: "NTLM", Username: `CORP\scan`}.settings()
	if err != nil {
		t.Fatal(err)
	}
	if s.endpoint != "http://dc01.corp.example:5985/wsman" || s.dialAddr != "dc01.corp.example:5985" {
		t.Errorf("endpoint %s dial %s", s.endpoint, s.dialAddr)
	}
	if !s.seal || s.user != (ntlmUser{domain: "CORP", name: "scan"}) {
		t.Errorf("seal %v user %+v", s.seal, s.user)
	}
	if s.DialTimeout != 10*time.Second || s.TLSHandshakeTimeout != 10*time.Second || s.IdleTimeout != 30*time.Second ||
		s.OperationTimeout != 20*time.Second || s.ResponseHeaderTimeout != 35*time.Second ||
		s.MaxEnvelopeKB != 150 || s.MaxOutputBytes != 8<<20 {
		t.Errorf("defaults %+v", s.Config)
	}
	s, err = Config{Host: "fe80::1", Address: "10.0.0.5", HTTPS: true, Auth: "basic", Username: "u@corp.example"}.settings()
	if err != nil {
		t.Fatal(err)
	}
	if s.endpoint != "https://[fe80::1]:5986/wsman" || s.dialAddr != "10.0.0.5:5986" || s.serverName != "fe80::1" {
		t.Errorf("endpoint %s dial %s server name %s", s.endpoint, s.dialAddr, s.serverName)
	}
	// A zoned address: the zone's % is written %25 and the URL parses.
	s, err = Config{Host: "fe80::1%eth0", Auth: "basic", HTTPS: true, Username: "u@corp.example"}.settings()
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(s.endpoint); s.endpoint != "https://[fe80::1%25eth0]:5986/wsman" || err != nil || u.Hostname() != "fe80::1%eth0" {
		t.Errorf("zoned endpoint %s: %v", s.endpoint, err)
	}
	if u := splitUser("u@corp.example"); u != (ntlmUser{name: "u@corp.example"}) {
		t.Errorf("UPN split as %+v", u)
	}
}

func TestConfigRefused(t *testing.T) {
	ok := Config{Host: "h", Auth: AuthNTLM, Username: "u"}
	cases := []struct {
		name        string
		mod         func(*Config)
		msg         string
		unsupported bool
	}{
		{"no host", func(c *Config) { c.Host = "" }, "host is empty", false},
		{"basic over http", func(c *Config) { c.Auth = AuthBasic }, "clear text", false},
		{"kerberos", func(c *Config) { c.Auth = AuthKerberos }, "not supported", true},
		{"certificate", func(c *Config) { c.Auth = AuthCertificate }, "not supported", true},
		{"unknown auth", func(c *Config) { c.Auth = "digest" }, "unknown auth", true},
		{"no user", func(c *Config) { c.Username = "" }, "username", false},
		{"port", func(c *Config) { c.Port = 70000 }, "port", false},
		{"operation timeout above MaxTimeoutms", func(c *Config) { c.OperationTimeout = 2 * time.Minute }, "operation timeout", false},
		{"read timeout below operation timeout", func(c *Config) { c.ResponseHeaderTimeout = 5 * time.Second }, "must exceed", false},
		{"envelope", func(c *Config) { c.MaxEnvelopeKB = 1 }, "envelope", false},
		{"bad CA", func(c *Config) { c.HTTPS = true; c.CAPEM = []byte("nope") }, "ca_pem", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.mod(&cfg)
			_, err := New(cfg)
			e := wantClass(t, err, ClassUnsupported)
			if !strings.Contains(e.Message, tc.msg) || errors.Is(err, ErrUnsupportedAuth) != tc.unsupported {
				t.Errorf("%v (ErrUnsupportedAuth: %v)", e, errors.Is(err, ErrUnsupportedAuth))
			}
		})
	}
}

func TestDefaultParametersUntouched(t *testing.T) {
	d := winrm.DefaultParameters
	before := [3]any{d.Timeout, d.Locale, d.EnvelopeSize}
	c := newClient(t, Config{Host: "h", Auth: AuthNTLM, Username: "u", OperationTimeout: 7 * time.Second, MaxEnvelopeKB: 500})
	if [3]any{d.Timeout, d.Locale, d.EnvelopeSize} != before || c.build.params.Timeout != "PT7S" || c.build.params.EnvelopeSize != 512000 {
		t.Errorf("DefaultParameters %+v, client params %+v", *winrm.DefaultParameters, c.build.params)
	}
}

// transportGoroutines counts goroutines belonging to this package's HTTP
// transports (connection loops, dials).
func transportGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	count := 0
	for _, g := range strings.Split(string(buf[:n]), "\n\n") {
		if strings.Contains(g, "net/http.(*persistConn)") || strings.Contains(g, "net/http.(*Transport).dialConnFor") {
			count++
		}
	}
	return count
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	f := newFake(t, "ntlm", false, func(f *fakeWinRM) { f.seal = true })
	hung := hungListener(t)
	for range 5 {
		c, err := New(ntlmConfig(f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Run(t.Context(), "hostname", nil); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	// A client closed while its dial hangs in the NTLM handshake.
	_, port, _ := strings.Cut(hung, ":")
	c, err := New(Config{Host: "127.0.0.1", Port: mustAtoi(t, port), Auth: AuthNTLM, Username: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Run(t.Context(), "hostname", nil); done <- err }()
	time.Sleep(100 * time.Millisecond)
	c.Close()
	if err := <-done; err == nil {
		t.Fatal("Run succeeded against a hung server")
	}
	deadline := time.Now().Add(3 * time.Second)
	for transportGoroutines() > 0 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines left after Close:\n%s", buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c.Run(t.Context(), "hostname", nil); err == nil {
		t.Error("Run after Close succeeded")
	}
}
