// Package ntlmsrv is an NTLM acceptor (the server side of NTLMSSP) with
// message signing and sealing, written for the WinRM simulator from
// MS-NLMP. It is deliberately independent of the client libraries the
// project talks to Windows with, so that a test where the two meet checks
// both.
//
// One Acceptor runs one handshake: Challenge answers the client's
// NEGOTIATE, Authenticate verifies its AUTHENTICATE (NTLMv2 only, as
// Windows with its default LmCompatibilityLevel accepts from modern
// clients) and returns the Session whose keys seal and unseal the messages
// that follow on the same connection.
package ntlmsrv

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Config is the acceptor's identity and its account database.
type Config struct {
	// NetBIOSDomain is the target name (e.g. CONTOSO); NetBIOSComputer,
	// DNSComputer and DNSDomain fill the CHALLENGE's target info.
	NetBIOSDomain, NetBIOSComputer, DNSComputer, DNSDomain string
	// Password returns the password of the account the client named, with
	// the user and domain exactly as the AUTHENTICATE message carries them.
	Password func(user, domain string) (string, bool)
	// Rand and Now replace crypto/rand and time.Now (tests pin them).
	Rand io.Reader
	Now  func() time.Time
}

// Errors from Authenticate. All of them mean "401" to an HTTP server; they
// differ only for logs and tests.
var (
	ErrNoChallenge   = errors.New("ntlmsrv: AUTHENTICATE without a preceding CHALLENGE")
	ErrUnknownUser   = errors.New("ntlmsrv: unknown user")
	ErrWrongPassword = errors.New("ntlmsrv: response does not match the password")
	ErrNotNTLMv2     = errors.New("ntlmsrv: only NTLMv2 responses are accepted")
	ErrBadMIC        = errors.New("ntlmsrv: message integrity code does not match")
	ErrBadBindings   = errors.New("ntlmsrv: channel bindings do not match the TLS certificate")
)

// Acceptor holds the state of one handshake.
type Acceptor struct {
	cfg             *Config
	bindings        []byte
	negotiate       []byte
	challenge       []byte
	serverChallenge [8]byte
	flags           uint32
}

// NewAcceptor starts a handshake. On a TLS connection, bindings is
// TLSServerEndPoint of the server's certificate: a client that sends channel
// bindings must send these (Windows' default CbtHardeningLevel "Relaxed"
// checks bindings that are present and accepts their absence). nil turns
// the check off, as on plain HTTP.
func NewAcceptor(cfg *Config, bindings []byte) *Acceptor {
	return &Acceptor{cfg: cfg, bindings: bindings}
}

// Challenge answers a NEGOTIATE message with a CHALLENGE message.
func (a *Acceptor) Challenge(negotiate []byte) ([]byte, error) {
	flags, err := challengeFlags(negotiate)
	if err != nil {
		return nil, err
	}
	r := a.cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, a.serverChallenge[:]); err != nil {
		return nil, err
	}
	now := time.Now
	if a.cfg.Now != nil {
		now = a.cfg.Now
	}
	ts := binary.LittleEndian.AppendUint64(nil, filetime(now()))
	info := marshalAVPairs([]avPair{
		{avNbDomainName, utf16le(a.cfg.NetBIOSDomain)},
		{avNbComputerName, utf16le(a.cfg.NetBIOSComputer)},
		{avDNSDomainName, utf16le(a.cfg.DNSDomain)},
		{avDNSComputerName, utf16le(a.cfg.DNSComputer)},
		{avTimestamp, ts},
	})
	a.flags = flags
	a.negotiate = bytes.Clone(negotiate)
	a.challenge = marshalChallenge(flags, a.serverChallenge, a.cfg.NetBIOSDomain, info)
	return a.challenge, nil
}

// Authenticate verifies an AUTHENTICATE message as MS-NLMP 3.3.2 describes
// and derives the session keys.
func (a *Acceptor) Authenticate(msg []byte) (*Session, error) {
	if a.challenge == nil {
		return nil, ErrNoChallenge
	}
	m, err := parseAuthenticate(msg)
	if err != nil {
		return nil, err
	}
	password, ok := a.cfg.Password(m.user, m.domain)
	if !ok {
		return nil, fmt.Errorf("%w: %s\\%s", ErrUnknownUser, m.domain, m.user)
	}
	exported, err := verifyNTLMv2(m, a.serverChallenge, password)
	if err != nil {
		return nil, err
	}
	if err := a.checkAVPairs(m, exported); err != nil {
		return nil, err
	}
	return newSession(m.flags, exported, m.user, m.domain), nil
}

// verifyNTLMv2 checks NTProofStr and returns the exported session key.
func verifyNTLMv2(m *authenticateMessage, serverChallenge [8]byte, password string) ([]byte, error) {
	// An NTLMv1 response is exactly 24 bytes; an NTLMv2 one is NTProofStr
	// (16) followed by the client's blob, at least 28 bytes of header.
	if len(m.ntResponse) < 16+28 {
		return nil, ErrNotNTLMv2
	}
	proof, blob := m.ntResponse[:16], m.ntResponse[16:]
	key := ntowfv2(password, m.user, m.domain)
	want := hmacMD5(key, serverChallenge[:], blob)
	if subtle.ConstantTimeCompare(proof, want) != 1 {
		return nil, ErrWrongPassword
	}
	sessionBaseKey := hmacMD5(key, proof) // also the KeyExchangeKey for NTLMv2
	if m.flags&flagKeyExch == 0 {
		return sessionBaseKey, nil
	}
	if len(m.encryptedSessionKey) != 16 {
		return nil, fmt.Errorf("%w: encrypted session key of %d bytes", ErrMalformed, len(m.encryptedSessionKey))
	}
	return rc4K(sessionBaseKey, m.encryptedSessionKey), nil
}

// checkAVPairs verifies what the client's AV pairs (covered by NTProofStr)
// commit it to: the channel bindings, and the MIC when MsvAvFlags says the
// message carries one.
func (a *Acceptor) checkAVPairs(m *authenticateMessage, exported []byte) error {
	pairs, err := parseAVPairs(m.ntResponse[16+28:])
	if err != nil {
		return err
	}
	hasMIC := false
	for _, p := range pairs {
		switch {
		case p.id == avFlags && len(p.value) == 4:
			hasMIC = binary.LittleEndian.Uint32(p.value)&avFlagMIC != 0
		case p.id == avChannelBindings && a.bindings != nil:
			if !bytes.Equal(p.value, make([]byte, 16)) && !bytes.Equal(p.value, a.bindings) {
				return ErrBadBindings
			}
		}
	}
	if !hasMIC {
		return nil
	}
	if m.payloadStart() < 88 {
		return fmt.Errorf("%w: MIC announced but no room for it", ErrMalformed)
	}
	zeroed := bytes.Clone(m.raw)
	clear(zeroed[72:88])
	want := hmacMD5(exported, a.negotiate, a.challenge, zeroed)
	if subtle.ConstantTimeCompare(m.raw[72:88], want) != 1 {
		return ErrBadMIC
	}
	return nil
}

// TLSServerEndPoint is the MsvAvChannelBindings value a client computes for
// a TLS server certificate: the MD5 of the GSS channel bindings structure
// (RFC 2744) whose application data is "tls-server-end-point:" and the
// certificate's hash (RFC 5929: SHA-256 unless the certificate is signed
// with a stronger hash).
func TLSServerEndPoint(cert *x509.Certificate) []byte {
	var sum []byte
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		s := sha512.Sum384(cert.Raw)
		sum = s[:]
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		s := sha512.Sum512(cert.Raw)
		sum = s[:]
	default:
		s := sha256.Sum256(cert.Raw)
		sum = s[:]
	}
	app := append([]byte("tls-server-end-point:"), sum...)
	st := make([]byte, 16, 20+len(app)) // both addresses: type 0, length 0
	st = binary.LittleEndian.AppendUint32(st, uint32(len(app)))
	return md5Sum(append(st, app...))
}
