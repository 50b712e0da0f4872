package ntlmsrv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// Negotiate flags (MS-NLMP 2.2.2.5), only those this acceptor reads or sets.
const (
	flagUnicode          uint32 = 0x00000001
	flagOEM              uint32 = 0x00000002
	flagRequestTarget    uint32 = 0x00000004
	flagSign             uint32 = 0x00000010
	flagSeal             uint32 = 0x00000020
	flagNTLM             uint32 = 0x00000200
	flagAlwaysSign       uint32 = 0x00008000
	flagTargetTypeDomain uint32 = 0x00010000
	flagESS              uint32 = 0x00080000 // NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
	flagTargetInfo       uint32 = 0x00800000
	flagVersion          uint32 = 0x02000000
	flag128              uint32 = 0x20000000
	flagKeyExch          uint32 = 0x40000000
	flag56               uint32 = 0x80000000
)

// offered is what the acceptor grants when the client asks for it: the set a
// Windows Server 2016+ acceptor answers with (field notes §6). LM_KEY and
// datagram mode are never granted.
const offered = flagUnicode | flagRequestTarget | flagSign | flagSeal | flagNTLM |
	flagAlwaysSign | flagESS | flagTargetInfo | flagVersion | flag128 | flagKeyExch | flag56

// AV pair ids (MS-NLMP 2.2.2.1).
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avFlags           = 6
	avTimestamp       = 7
	avChannelBindings = 10
)

// avFlagMIC is MsvAvFlags bit 0x2: the AUTHENTICATE message carries a MIC.
const avFlagMIC = 0x2

var signature = []byte("NTLMSSP\x00")

// windowsVersion is the VERSION structure of Windows Server 2019 (10.0.17763,
// NTLMSSP_REVISION_W2K3): what the CHALLENGE says the acceptor runs.
var windowsVersion = []byte{10, 0, 0x63, 0x45, 0, 0, 0, 15}

// ErrMalformed reports a message that does not parse as NTLMSSP.
var ErrMalformed = errors.New("ntlmsrv: malformed message")

func messageType(b []byte) (uint32, error) {
	if len(b) < 12 || !bytes.Equal(b[:8], signature) {
		return 0, ErrMalformed
	}
	return binary.LittleEndian.Uint32(b[8:12]), nil
}

// field reads a security buffer (len, maxlen uint16, offset uint32) at off.
func field(b []byte, off int) ([]byte, error) {
	if len(b) < off+8 {
		return nil, ErrMalformed
	}
	n := int(binary.LittleEndian.Uint16(b[off:]))
	start := int(binary.LittleEndian.Uint32(b[off+4:]))
	if n == 0 {
		return nil, nil
	}
	if start < 0 || start+n > len(b) || start+n < start {
		return nil, ErrMalformed
	}
	return b[start : start+n], nil
}

// fieldOffset is the payload offset of a non-empty security buffer, or len(b).
func fieldOffset(b []byte, off int) int {
	if binary.LittleEndian.Uint16(b[off:]) == 0 {
		return len(b)
	}
	return int(binary.LittleEndian.Uint32(b[off+4:]))
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16LE(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", ErrMalformed
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// decodeString reads a string field in the character set the flags chose.
func decodeString(b []byte, flags uint32) (string, error) {
	if flags&flagUnicode != 0 {
		return fromUTF16LE(b)
	}
	return string(b), nil
}

// filetime converts t to a Windows FILETIME (100 ns ticks since 1601).
func filetime(t time.Time) uint64 {
	const epochDelta = 116444736000000000 // 1601-01-01 to 1970-01-01 in ticks
	return uint64(t.UnixNano()/100) + epochDelta
}

type avPair struct {
	id    uint16
	value []byte
}

func marshalAVPairs(pairs []avPair) []byte {
	var b []byte
	for _, p := range pairs {
		b = binary.LittleEndian.AppendUint16(b, p.id)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(p.value)))
		b = append(b, p.value...)
	}
	return append(b, 0, 0, 0, 0) // MsvAvEOL
}

// parseAVPairs reads pairs until MsvAvEOL; trailing bytes after it (clients
// pad the NTLMv2 blob) are ignored.
func parseAVPairs(b []byte) ([]avPair, error) {
	var out []avPair
	for {
		if len(b) < 4 {
			return nil, ErrMalformed
		}
		id, n := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		if id == avEOL {
			return out, nil
		}
		if len(b) < 4+n {
			return nil, ErrMalformed
		}
		out = append(out, avPair{id, b[4 : 4+n]})
		b = b[4+n:]
	}
}

// challengeFlags answers a NEGOTIATE's flags as MS-NLMP 3.2.5.1.1 says a
// server does: grant what was asked and is offered, and always NTLM,
// TARGET_INFO (NTLMv2 needs it) and VERSION.
func challengeFlags(negotiate []byte) (uint32, error) {
	t, err := messageType(negotiate)
	if err != nil {
		return 0, err
	}
	if t != 1 || len(negotiate) < 16 {
		return 0, fmt.Errorf("%w: want NEGOTIATE, got message type %d", ErrMalformed, t)
	}
	client := binary.LittleEndian.Uint32(negotiate[12:16])
	flags := client&offered | flagNTLM | flagTargetInfo | flagVersion | flagTargetTypeDomain
	if client&flagUnicode == 0 {
		flags |= flagOEM
	}
	return flags, nil
}

// marshalChallenge builds a CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2).
func marshalChallenge(flags uint32, serverChallenge [8]byte, targetName string, targetInfo []byte) []byte {
	const header = 56
	name := utf16le(targetName)
	if flags&flagUnicode == 0 {
		name = []byte(targetName)
	}
	b := make([]byte, header, header+len(name)+len(targetInfo))
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], 2)
	putField(b[12:], len(name), header)
	binary.LittleEndian.PutUint32(b[20:], flags)
	copy(b[24:32], serverChallenge[:])
	putField(b[40:], len(targetInfo), header+len(name))
	copy(b[48:56], windowsVersion)
	b = append(b, name...)
	return append(b, targetInfo...)
}

func putField(b []byte, n, offset int) {
	binary.LittleEndian.PutUint16(b, uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(offset))
}

// authenticateMessage is the parsed AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3).
type authenticateMessage struct {
	raw                 []byte
	flags               uint32
	ntResponse          []byte
	user, domain        string
	workstation         string
	encryptedSessionKey []byte
}

func parseAuthenticate(b []byte) (*authenticateMessage, error) {
	t, err := messageType(b)
	if err != nil {
		return nil, err
	}
	if t != 3 || len(b) < 64 {
		return nil, fmt.Errorf("%w: want AUTHENTICATE, got message type %d", ErrMalformed, t)
	}
	m := &authenticateMessage{raw: b, flags: binary.LittleEndian.Uint32(b[60:64])}
	var dom, usr, ws []byte
	for _, f := range []struct {
		off int
		dst *[]byte
	}{{20, &m.ntResponse}, {28, &dom}, {36, &usr}, {44, &ws}, {52, &m.encryptedSessionKey}} {
		if *f.dst, err = field(b, f.off); err != nil {
			return nil, err
		}
	}
	if m.domain, err = decodeString(dom, m.flags); err != nil {
		return nil, err
	}
	if m.user, err = decodeString(usr, m.flags); err != nil {
		return nil, err
	}
	if m.workstation, err = decodeString(ws, m.flags); err != nil {
		return nil, err
	}
	return m, nil
}

// payloadStart is where the first non-empty buffer starts: the MIC slot at
// offset 72 exists only when the payload starts after it.
func (m *authenticateMessage) payloadStart() int {
	start := len(m.raw)
	for _, off := range []int{12, 20, 28, 36, 44, 52} {
		start = min(start, fieldOffset(m.raw, off))
	}
	return start
}
