package wsman

// HTTPS: certificates, names, Basic and NTLM with channel bindings.

import (
	"encoding/pem"
	"strings"
	"testing"
)

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
