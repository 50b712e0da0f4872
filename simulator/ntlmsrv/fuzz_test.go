package ntlmsrv

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// FuzzChallenge: any NEGOTIATE a client sends gets a well-formed CHALLENGE
// or ErrMalformed, never a panic; the CHALLENGE grants only what the
// acceptor offers and always what NTLMv2 needs.
func FuzzChallenge(f *testing.F) {
	f.Add(append(append([]byte{}, signature...), 1, 0, 0, 0, 0x37, 0x82, 0x08, 0xe2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
	f.Add(append(append([]byte{}, signature...), 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, negotiate []byte) {
		a := NewAcceptor(&Config{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "AADC01", DNSDomain: "contoso.com", DNSComputer: "aadc01.contoso.com"}, nil)
		c, err := a.Challenge(negotiate)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if typ, err := messageType(c); err != nil || typ != 2 {
			t.Fatalf("CHALLENGE of type %d (%v)", typ, err)
		}
		flags := binary.LittleEndian.Uint32(c[20:])
		const required = flagNTLM | flagTargetInfo | flagVersion
		if flags&required != required || flags&^(offered|required|flagTargetTypeDomain|flagOEM) != 0 {
			t.Fatalf("CHALLENGE flags %#x", flags)
		}
		info, err := field(c, 40)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseAVPairs(info); err != nil {
			t.Fatalf("target info does not parse: %v", err)
		}
	})
}

// FuzzAuthenticate: any AUTHENTICATE after a CHALLENGE fails with one of
// the acceptor's errors or authenticates the one account whose password
// the NTLMv2 response proves, never another and never by a panic. Seeds:
// the MS-NLMP 4.2.4 AUTHENTICATE (valid) and broken variants, and the
// committed corpus.
func FuzzAuthenticate(f *testing.F) {
	good := append(unhex(f, vecNTProofStr), vecBlob(f)...)
	f.Add(vecAuthenticate(f, good))
	f.Add(vecAuthenticate(f, make([]byte, 24)))
	f.Add(vecAuthenticate(f, append(good[:len(good)-8:len(good)-8], 1, 2, 3, 4, 5, 6, 7, 8)))
	known := []error{ErrNoChallenge, ErrUnknownUser, ErrWrongPassword, ErrNotNTLMv2, ErrBadMIC, ErrBadBindings, ErrMalformed}
	f.Fuzz(func(t *testing.T, msg []byte) {
		a := fixedChallenge(t, func(user, domain string) (string, bool) {
			return "Password", strings.EqualFold(user, "User") && strings.EqualFold(domain, "Domain")
		})
		s, err := a.Authenticate(msg)
		if err != nil {
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("error %v is none of the acceptor's", err)
		}
		if !strings.EqualFold(s.User, "User") || !strings.EqualFold(s.Domain, "Domain") {
			t.Fatalf("authenticated %q\\%q", s.Domain, s.User)
		}
		if s.CanSeal() {
			if _, _, err := s.Seal([]byte("<s:Envelope/>")); err != nil {
				t.Fatalf("an authenticated session cannot seal: %v", err)
			}
		}
	})
}
