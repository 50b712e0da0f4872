package simulator

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"io"
	"strings"
	"testing"
	"time"
)

const (
	testUser     = `CONTOSO\svc-aadcready`
	testPassword = "Test-Password-1"
)

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// startHosts runs hosts on free ports of 127.3.x.y (an address range no
// other package's tests use), with the test account unless a host names
// its own.
func startHosts(t *testing.T, hosts ...Host) *Server {
	t.Helper()
	for i := range hosts {
		if hosts[i].Users == nil {
			hosts[i].Users = []User{{Name: testUser, Password: testPassword}}
		}
	}
	s, err := Start(t.Context(), &Fleet{Source: t.Name(), AddressBase: "127.3.0.1", Hosts: hosts}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client returns a test client for a host's HTTP listener (or HTTPS,
// trusting the server's CA).
func client(t *testing.T, s *Server, host string, https bool) *testClient {
	t.Helper()
	addr, httpsAddr := s.Endpoint(host)
	c := &testClient{t: t, addr: addr, user: testUser, password: testPassword}
	if https {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(s.CAPEM())
		c.addr, c.tls = httpsAddr, &tls.Config{RootCAs: pool}
	}
	t.Cleanup(c.close)
	return c
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
