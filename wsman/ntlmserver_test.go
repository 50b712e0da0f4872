package wsman

// A minimal NTLMv2 acceptor written from MS-NLMP for the tests: it issues a
// CHALLENGE, verifies the AUTHENTICATE (NTProofStr, MIC, channel bindings),
// derives the session keys and seals/unseals as the server side. It is
// independent of bodgit/ntlmssp (client-only), so the Go tests exercise the
// client's sealing against separately written code; the gss-ntlmssp
// responder in test/interop is the independent peer.

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

const (
	nUnicode       = 0x00000001
	nRequestTarget = 0x00000004
	nNTLM          = 0x00000200
	nAlwaysSign    = 0x00008000
	nTargetDomain  = 0x00010000
	nTargetInfo    = 0x00800000
	nVersion       = 0x02000000
	n56            = 0x80000000

	testChallengeFlags = nUnicode | nRequestTarget | flagSign | flagSeal | nNTLM | nAlwaysSign |
		nTargetDomain | flagESS | nTargetInfo | nVersion | flag128 | flagKeyExch | n56
)

// ntlmAcceptor is the per-connection handshake state.
type ntlmAcceptor struct {
	users     map[string]string // `DOMAIN\user` (upper case) -> password
	flags     uint32
	cbt       []byte // expected tls-server-end-point application data, or nil
	negotiate []byte
	challenge []byte
	serverCh  [8]byte
	user      string
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func hmacMD5(key []byte, parts ...[]byte) []byte {
	h := hmac.New(md5.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func avPair(id uint16, v []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, id)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// challengeFor answers a NEGOTIATE message.
func (a *ntlmAcceptor) challengeFor(negotiate []byte) ([]byte, error) {
	if len(negotiate) < 16 || string(negotiate[:8]) != "NTLMSSP\x00" || binary.LittleEndian.Uint32(negotiate[8:]) != 1 {
		return nil, errors.New("not an NTLM NEGOTIATE")
	}
	a.negotiate = append([]byte(nil), negotiate...)
	if _, err := rand.Read(a.serverCh[:]); err != nil {
		return nil, err
	}
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100+116444736000000000))
	target := utf16le("TESTDOM")
	info := append(avPair(2, target), avPair(1, utf16le("SIMHOST"))...)
	info = append(info, avPair(7, ts)...)
	info = append(info, avPair(0, nil)...)

	flags := a.flags
	if flags == 0 {
		flags = testChallengeFlags
	}
	const head = 56
	b := []byte("NTLMSSP\x00")
	b = binary.LittleEndian.AppendUint32(b, 2)
	b = appendField(b, len(target), head)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = append(b, a.serverCh[:]...)
	b = append(b, make([]byte, 8)...)
	b = appendField(b, len(info), head+len(target))
	b = append(b, 10, 0, 0x63, 0x45, 0, 0, 0, 15) // version 10.0.17763, NTLM rev 15
	b = append(b, target...)
	b = append(b, info...)
	a.challenge = b
	return b, nil
}

func appendField(b []byte, n, off int) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	return binary.LittleEndian.AppendUint32(b, uint32(off))
}

func field(msg []byte, at int) ([]byte, error) {
	if len(msg) < at+8 {
		return nil, errors.New("short message")
	}
	n := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if off+n > len(msg) || off < 0 {
		return nil, errors.New("field out of range")
	}
	return msg[off : off+n], nil
}

func fromUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// accept verifies an AUTHENTICATE message and returns the server session.
func (a *ntlmAcceptor) accept(auth []byte) (*serverSession, error) {
	if len(auth) < 88 || string(auth[:8]) != "NTLMSSP\x00" || binary.LittleEndian.Uint32(auth[8:]) != 3 || a.challenge == nil {
		return nil, errors.New("not an NTLM AUTHENTICATE after a CHALLENGE")
	}
	var parts [6][]byte
	for i := range parts {
		p, err := field(auth, 12+8*i)
		if err != nil {
			return nil, err
		}
		parts[i] = p
	}
	nt, domain, user, encKey := parts[1], fromUTF16(parts[2]), fromUTF16(parts[3]), parts[5]
	flags := binary.LittleEndian.Uint32(auth[60:])
	pw, ok := a.users[strings.ToUpper(domain+`\`+user)]
	if !ok || len(nt) < 48 {
		return nil, fmt.Errorf("unknown user %q or not NTLMv2", domain+`\`+user)
	}
	h := md4.New()
	h.Write(utf16le(pw))
	respKey := hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(user)+domain))
	proof, blob := nt[:16], nt[16:]
	if subtle.ConstantTimeCompare(proof, hmacMD5(respKey, a.serverCh[:], blob)) != 1 {
		return nil, errors.New("wrong password")
	}
	if err := a.checkCBT(blob); err != nil {
		return nil, err
	}
	key := hmacMD5(respKey, proof) // session base key = key exchange key (NTLMv2)
	if flags&flagKeyExch != 0 {
		if len(encKey) != 16 {
			return nil, errors.New("bad encrypted session key")
		}
		c, _ := rc4.NewCipher(key)
		c.XORKeyStream(key, encKey)
	}
	zeroed := append([]byte(nil), auth...)
	copy(zeroed[72:88], make([]byte, 16))
	if !hmac.Equal(auth[72:88], hmacMD5(key, a.negotiate, a.challenge, zeroed)) {
		return nil, errors.New("MIC mismatch")
	}
	a.user = domain + `\` + user
	return newServerSession(key), nil
}

// checkCBT compares MsvAvChannelBindings in the NTLMv2 blob with the
// expected tls-server-end-point hash when the server requires it.
func (a *ntlmAcceptor) checkCBT(blob []byte) error {
	if a.cbt == nil {
		return nil
	}
	var got []byte
	for p := blob[28:]; len(p) >= 4; {
		id, n := binary.LittleEndian.Uint16(p), int(binary.LittleEndian.Uint16(p[2:]))
		if id == 0 || len(p) < 4+n {
			break
		}
		if id == 10 {
			got = p[4 : 4+n]
		}
		p = p[4+n:]
	}
	cb := make([]byte, 16)
	cb = binary.LittleEndian.AppendUint32(cb, uint32(len(a.cbt)))
	cb = append(cb, a.cbt...)
	want := md5.Sum(cb)
	if !bytes.Equal(got, want[:]) {
		return errors.New("channel bindings missing or wrong")
	}
	return nil
}

// serverSession is the server half of an NTLM2 (ESS, 128-bit, KEY_EXCH)
// security session: MS-NLMP 3.4.4.2 and 3.4.5.
type serverSession struct {
	outSign, inSign []byte
	out, in         *rc4.Cipher
	outSeq, inSeq   uint32
}

func newServerSession(key []byte) *serverSession {
	derive := func(s string) []byte {
		h := md5.Sum(append(append([]byte(nil), key...), s+"\x00"...))
		return h[:]
	}
	out, _ := rc4.NewCipher(derive("session key to server-to-client sealing key magic constant"))
	in, _ := rc4.NewCipher(derive("session key to client-to-server sealing key magic constant"))
	return &serverSession{
		outSign: derive("session key to server-to-client signing key magic constant"),
		inSign:  derive("session key to client-to-server signing key magic constant"),
		out:     out, in: in,
	}
}

// Wrap seals a server-to-client message (sealer interface).
func (s *serverSession) Wrap(plain []byte) ([]byte, []byte, error) {
	sealed := make([]byte, len(plain))
	s.out.XORKeyStream(sealed, plain)
	seq := binary.LittleEndian.AppendUint32(nil, s.outSeq)
	cks := hmacMD5(s.outSign, seq, plain)[:8]
	s.out.XORKeyStream(cks, cks)
	s.outSeq++
	sig := append([]byte{1, 0, 0, 0}, cks...)
	return sealed, append(sig, seq...), nil
}

// Unwrap verifies and unseals a client-to-server message.
func (s *serverSession) Unwrap(sealed, sig []byte) ([]byte, error) {
	if len(sig) != 16 || binary.LittleEndian.Uint32(sig) != 1 {
		return nil, errors.New("bad signature")
	}
	plain := make([]byte, len(sealed))
	s.in.XORKeyStream(plain, sealed)
	seq := binary.LittleEndian.AppendUint32(nil, s.inSeq)
	cks := hmacMD5(s.inSign, seq, plain)[:8]
	s.in.XORKeyStream(cks, cks)
	if subtle.ConstantTimeCompare(cks, sig[4:12]) != 1 || !bytes.Equal(seq, sig[12:16]) {
		return nil, errors.New("signature mismatch")
	}
	s.inSeq++
	return plain, nil
}
