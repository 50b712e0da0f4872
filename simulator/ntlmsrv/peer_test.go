package ntlmsrv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/bodgit/ntlmssp"
)

// The peer here is github.com/bodgit/ntlmssp, the client half that
// masterzen/winrm's encryption uses: an implementation written by other
// people from the same specification.

func peerConfig() *Config {
	return &Config{
		NetBIOSDomain: "CONTOSO", NetBIOSComputer: "AADC01", DNSDomain: "contoso.com", DNSComputer: "aadc01.contoso.com",
		Password: func(user, domain string) (string, bool) {
			if strings.EqualFold(user, "svc-aadcready") && strings.EqualFold(domain, "CONTOSO") {
				return "Correct-Horse-1", true
			}
			return "", false
		},
	}
}

func handshake(t *testing.T, a *Acceptor, user, domain, password string) (*ntlmssp.Client, *Session, error) {
	return handshakeCBT(t, a, user, domain, password, nil)
}

func handshakeCBT(t *testing.T, a *Acceptor, user, domain, password string, cbt *ntlmssp.ChannelBindings) (*ntlmssp.Client, *Session, error) {
	t.Helper()
	c, err := ntlmssp.NewClient(ntlmssp.SetUserInfo(user, password), ntlmssp.SetDomain(domain), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		t.Fatal(err)
	}
	neg, err := c.Authenticate(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	chal, err := a.Challenge(neg)
	if err != nil {
		t.Fatalf("Challenge: %v", err)
	}
	auth, err := c.Authenticate(chal, cbt)
	if err != nil {
		t.Fatalf("client rejected our CHALLENGE: %v", err)
	}
	s, err := a.Authenticate(auth)
	return c, s, err
}

func TestPeerHandshakeAndSealing(t *testing.T) {
	c, s, err := handshake(t, NewAcceptor(peerConfig(), nil), "svc-aadcready", "CONTOSO", "Correct-Horse-1")
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if !s.CanSeal() {
		t.Fatal("session cannot seal")
	}
	cs := c.SecuritySession()
	// Both directions, several messages each: the RC4 streams and sequence
	// numbers must stay in step across the connection's life.
	for i := range 5 {
		req := []byte(fmt.Sprintf("<s:Envelope>request %d %s</s:Envelope>", i, strings.Repeat("x", i*1000)))
		sealed, sig, err := cs.Wrap(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Unseal(sig, sealed)
		if err != nil {
			t.Fatalf("message %d: Unseal: %v", i, err)
		}
		if !bytes.Equal(got, req) {
			t.Fatalf("message %d: unsealed %q", i, got)
		}
		resp := []byte(fmt.Sprintf("<s:Envelope>response %d</s:Envelope>", i))
		sig, sealed, err = s.Seal(resp)
		if err != nil {
			t.Fatal(err)
		}
		back, err := cs.Unwrap(sealed, sig)
		if err != nil {
			t.Fatalf("response %d: the peer rejects our seal: %v", i, err)
		}
		if !bytes.Equal(back, resp) {
			t.Fatalf("response %d: peer read %q", i, back)
		}
	}
}

func TestPeerRejections(t *testing.T) {
	for name, tt := range map[string]struct {
		user, domain, password string
		want                   error
	}{
		"wrong password":           {"svc-aadcready", "CONTOSO", "wrong", ErrWrongPassword},
		"unknown user":             {"someone", "CONTOSO", "Correct-Horse-1", ErrUnknownUser},
		"case of the user ignored": {"SVC-AADCREADY", "contoso", "Correct-Horse-1", nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := handshake(t, NewAcceptor(peerConfig(), nil), tt.user, tt.domain, tt.password)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPeerTamperedTraffic(t *testing.T) {
	c, s, err := handshake(t, NewAcceptor(peerConfig(), nil), "svc-aadcready", "CONTOSO", "Correct-Horse-1")
	if err != nil {
		t.Fatal(err)
	}
	sealed, sig, err := c.SecuritySession().Wrap([]byte("<s:Envelope/>"))
	if err != nil {
		t.Fatal(err)
	}
	sealed[3] ^= 0x40
	if _, err := s.Unseal(sig, sealed); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered message: err = %v", err)
	}
}

// TestPeerMIC proves the acceptor checks the MIC bodgit sends (the CHALLENGE
// carries a timestamp, so the client must send one): a flipped MIC byte
// fails authentication.
func TestPeerMIC(t *testing.T) {
	a := NewAcceptor(peerConfig(), nil)
	c, err := ntlmssp.NewClient(ntlmssp.SetUserInfo("svc-aadcready", "Correct-Horse-1"), ntlmssp.SetDomain("CONTOSO"), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		t.Fatal(err)
	}
	neg, _ := c.Authenticate(nil, nil)
	chal, err := a.Challenge(neg)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := c.Authenticate(chal, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseAuthenticate(auth)
	if err != nil || m.payloadStart() < 88 {
		t.Fatalf("peer sent no MIC slot (payload at %d, err %v)", m.payloadStart(), err)
	}
	auth[80] ^= 1
	if _, err := a.Authenticate(auth); !errors.Is(err, ErrBadMIC) {
		t.Fatalf("err = %v, want ErrBadMIC", err)
	}
}

// TestPeerChannelBindings: over TLS the client binds the handshake to the
// server certificate. Bindings for the right certificate, or none, pass;
// bindings for another certificate fail.
func TestPeerChannelBindings(t *testing.T) {
	mine, other := testCert(t), testCert(t)
	bindings := func(c *x509.Certificate) *ntlmssp.ChannelBindings {
		sum := sha256.Sum256(c.Raw)
		return &ntlmssp.ChannelBindings{ApplicationData: append([]byte(ntlmssp.TLSServerEndPoint+":"), sum[:]...)}
	}
	for name, tt := range map[string]struct {
		cbt  *ntlmssp.ChannelBindings
		want error
	}{
		"matching certificate": {bindings(mine), nil},
		"no bindings sent":     {nil, nil},
		"another certificate":  {bindings(other), ErrBadBindings},
	} {
		t.Run(name, func(t *testing.T) {
			a := NewAcceptor(peerConfig(), TLSServerEndPoint(mine))
			if _, _, err := handshakeCBT(t, a, "svc-aadcready", "CONTOSO", "Correct-Horse-1", tt.cbt); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func testCert(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
