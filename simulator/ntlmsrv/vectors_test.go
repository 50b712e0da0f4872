package ntlmsrv

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// The NTLMv2 example of MS-NLMP 4.2.4: user "User", domain "Domain",
// password "Password", server challenge 0123456789abcdef, client challenge
// aaaaaaaaaaaaaaaa, time 0, random session key 55 x 16.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	vecNTOWFv2          = "0c868a403bfd7a93a3001ef22ef02e3f"
	vecSessionBaseKey   = "8de40ccadbc14a82f15cb0ad0de95ca3"
	vecNTProofStr       = "68cd0ab851e51c96aabc927bebef6a1c"
	vecLMv2Response     = "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"
	vecEncryptedKey     = "c5dad2544fc9799094ce1ce90bc9d03e"
	vecFlags            = 0xe28a8233
	vecSealedPlaintext  = "54e50165bf1936dc996020c1811b0f06fb5f"
	vecSealedSignature  = "010000007fb38ec5c55d497600000000"
	vecServerChallenge  = "0123456789abcdef"
	vecExportedKeyBytes = 0x55
)

// vecBlob is the NTLMv2 "temp" of 4.2.4.1.3: header, time 0, the client
// challenge, and AV pairs MsvAvNbDomainName "Domain", MsvAvNbComputerName
// "Server", MsvAvEOL, then 4 bytes of padding.
func vecBlob(t testing.TB) []byte {
	b := unhex(t, "0101000000000000"+"0000000000000000"+"aaaaaaaaaaaaaaaa"+"00000000")
	b = append(b, marshalAVPairs([]avPair{{avNbDomainName, utf16le("Domain")}, {avNbComputerName, utf16le("Server")}})...)
	return append(b, 0, 0, 0, 0)
}

// vecAuthenticate lays out the AUTHENTICATE message of 4.2.4.3 from its
// parts.
func vecAuthenticate(t testing.TB, ntResponse []byte) []byte {
	parts := [][]byte{
		unhex(t, vecLMv2Response), ntResponse, utf16le("Domain"), utf16le("User"),
		utf16le("COMPUTER"), unhex(t, vecEncryptedKey),
	}
	const header = 72
	b := make([]byte, header)
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], 3)
	off := header
	for i, p := range parts {
		putField(b[12+8*i:], len(p), off)
		off += len(p)
	}
	binary.LittleEndian.PutUint32(b[60:], vecFlags)
	copy(b[64:], windowsVersion)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestNTOWFv2Vector(t *testing.T) {
	if got := ntowfv2("Password", "User", "Domain"); !bytes.Equal(got, unhex(t, vecNTOWFv2)) {
		t.Fatalf("NTOWFv2 = %x, want %s", got, vecNTOWFv2)
	}
	// The user is upper-cased, the domain is not: "user" gives the same key,
	// "DOMAIN" does not.
	if got := ntowfv2("Password", "user", "Domain"); !bytes.Equal(got, unhex(t, vecNTOWFv2)) {
		t.Errorf("NTOWFv2 with lower-case user = %x", got)
	}
	if got := ntowfv2("Password", "User", "DOMAIN"); bytes.Equal(got, unhex(t, vecNTOWFv2)) {
		t.Errorf("NTOWFv2 must keep the domain's case")
	}
}

func TestNTProofStrAndSessionKeyVector(t *testing.T) {
	key := unhex(t, vecNTOWFv2)
	proof := hmacMD5(key, unhex(t, vecServerChallenge), vecBlob(t))
	if !bytes.Equal(proof, unhex(t, vecNTProofStr)) {
		t.Fatalf("NTProofStr = %x, want %s", proof, vecNTProofStr)
	}
	base := hmacMD5(key, proof)
	if !bytes.Equal(base, unhex(t, vecSessionBaseKey)) {
		t.Fatalf("SessionBaseKey = %x, want %s", base, vecSessionBaseKey)
	}
	if got := rc4K(base, unhex(t, vecEncryptedKey)); !bytes.Equal(got, bytes.Repeat([]byte{vecExportedKeyBytes}, 16)) {
		t.Fatalf("exported session key = %x", got)
	}
}

func TestSealingKeysVector(t *testing.T) {
	exported := bytes.Repeat([]byte{vecExportedKeyBytes}, 16)
	// MS-NLMP 4.2.4.4: the client's signing and sealing keys.
	if got := signKey(exported, clientSigningMagic); !bytes.Equal(got, unhex(t, "4788dc861b4782f35d43fd98fe1a2d39")) {
		t.Errorf("client signing key = %x", got)
	}
	if got := sealKey(vecFlags, exported, clientSealingMagic); !bytes.Equal(got, unhex(t, "59f600973cc4960a25480a7c196e4c58")) {
		t.Errorf("client sealing key = %x", got)
	}
}

// fixedChallenge builds an acceptor whose CHALLENGE carries the vector's
// server challenge.
func fixedChallenge(t testing.TB, password func(user, domain string) (string, bool)) *Acceptor {
	a := NewAcceptor(&Config{
		NetBIOSDomain: "Domain", NetBIOSComputer: "Server", DNSDomain: "domain.test", DNSComputer: "server.domain.test",
		Password: password,
		Rand:     bytes.NewReader(unhex(t, vecServerChallenge)),
		Now:      func() time.Time { return time.Unix(0, 0) },
	}, nil)
	neg := append(append([]byte{}, signature...), 1, 0, 0, 0, 0x37, 0x82, 0x08, 0xe2)
	neg = append(neg, make([]byte, 16)...)
	if _, err := a.Challenge(neg); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAuthenticateVector runs the whole 4.2.4 exchange through the public
// API: the acceptor verifies the AUTHENTICATE message and its session then
// unseals the client's sealed "Plaintext" of 4.2.4.4.
func TestAuthenticateVector(t *testing.T) {
	var gotUser, gotDomain string
	a := fixedChallenge(t, func(user, domain string) (string, bool) {
		gotUser, gotDomain = user, domain
		return "Password", true
	})
	nt := append(unhex(t, vecNTProofStr), vecBlob(t)...)
	s, err := a.Authenticate(vecAuthenticate(t, nt))
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if gotUser != "User" || gotDomain != "Domain" || s.User != "User" || s.Domain != "Domain" {
		t.Errorf("identity %q %q / session %q %q", gotUser, gotDomain, s.User, s.Domain)
	}
	msg, err := s.Unseal(unhex(t, vecSealedSignature), unhex(t, vecSealedPlaintext))
	if err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	if want := utf16le("Plaintext"); !bytes.Equal(msg, want) {
		t.Fatalf("unsealed %x, want %x", msg, want)
	}
}

func TestAuthenticateVectorRejects(t *testing.T) {
	good := append(unhex(t, vecNTProofStr), vecBlob(t)...)
	tampered := bytes.Clone(good)
	tampered[len(tampered)-5] ^= 1 // the blob is covered by NTProofStr
	for name, tt := range map[string]struct {
		password string
		known    bool
		nt       []byte
		want     error
	}{
		"wrong password":   {"password", true, good, ErrWrongPassword},
		"unknown user":     {"", false, good, ErrUnknownUser},
		"tampered blob":    {"Password", true, tampered, ErrWrongPassword},
		"NTLMv1 response":  {"Password", true, make([]byte, 24), ErrNotNTLMv2},
		"truncated buffer": {"Password", true, nil, ErrNotNTLMv2},
	} {
		t.Run(name, func(t *testing.T) {
			a := fixedChallenge(t, func(string, string) (string, bool) { return tt.password, tt.known })
			if _, err := a.Authenticate(vecAuthenticate(t, tt.nt)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAuthenticateWithoutChallenge(t *testing.T) {
	a := NewAcceptor(&Config{Password: func(string, string) (string, bool) { return "Password", true }}, nil)
	if _, err := a.Authenticate(vecAuthenticate(t, append(unhex(t, vecNTProofStr), vecBlob(t)...))); !errors.Is(err, ErrNoChallenge) {
		t.Fatalf("err = %v", err)
	}
}

func TestMalformedMessages(t *testing.T) {
	a := NewAcceptor(&Config{}, nil)
	for name, b := range map[string][]byte{
		"empty":           nil,
		"wrong magic":     []byte("NTLMSSX\x00\x01\x00\x00\x00\x00\x00\x00\x00"),
		"not NEGOTIATE":   append(append([]byte{}, signature...), 3, 0, 0, 0, 0, 0, 0, 0),
		"short NEGOTIATE": append(append([]byte{}, signature...), 1, 0, 0, 0),
	} {
		if _, err := a.Challenge(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := parseAuthenticate(append(append([]byte{}, signature...), make([]byte, 60)...)); !errors.Is(err, ErrMalformed) {
		t.Errorf("type 0 AUTHENTICATE: err = %v", err)
	}
	bad := vecAuthenticate(t, make([]byte, 60))
	binary.LittleEndian.PutUint32(bad[24:], uint32(len(bad))) // NT response points past the end
	if _, err := parseAuthenticate(bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("out-of-range buffer: err = %v", err)
	}
}

func TestChallengeMessage(t *testing.T) {
	a := fixedChallenge(t, nil)
	c := a.challenge
	if typ, _ := messageType(c); typ != 2 {
		t.Fatalf("type %d", typ)
	}
	if !bytes.Equal(c[24:32], unhex(t, vecServerChallenge)) {
		t.Errorf("server challenge %x", c[24:32])
	}
	flags := binary.LittleEndian.Uint32(c[20:])
	for _, f := range []uint32{flagUnicode, flagNTLM, flagAlwaysSign, flagESS, flagTargetInfo, flagVersion, flag128, flagKeyExch, flagSign, flagSeal} {
		if flags&f == 0 {
			t.Errorf("CHALLENGE flags %#x lack %#x", flags, f)
		}
	}
	name, _ := field(c, 12)
	if s, _ := fromUTF16LE(name); s != "Domain" {
		t.Errorf("target name %q", s)
	}
	info, _ := field(c, 40)
	pairs, err := parseAVPairs(info)
	if err != nil {
		t.Fatal(err)
	}
	var ts bool
	for _, p := range pairs {
		if p.id == avTimestamp && binary.LittleEndian.Uint64(p.value) == filetime(time.Unix(0, 0)) {
			ts = true
		}
	}
	if !ts {
		t.Errorf("no timestamp AV pair in %v", pairs)
	}
}
