// Package krb5gss is the part of the GSS-API Kerberos mechanism (RFC 4121)
// that gokrb5 v8 lacks and both ends of a WinRM connection need: the
// mechanism token framing, the AP-REP an acceptor sends for mutual
// authentication, and wrap tokens with confidentiality. The WinRM client
// (package wsman) is the initiator; the simulator is an acceptor.
package krb5gss

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Token ids of the GSS-API krb5 framing (RFC 1964 §1.1, RFC 4121 §4.1).
var (
	TokAPReq  = []byte{0x01, 0x00}
	TokAPRep  = []byte{0x02, 0x00}
	TokKRBErr = []byte{0x03, 0x00}
)

// Frame wraps a Kerberos message in the GSS-API krb5 mechanism framing.
func Frame(tokID, msg []byte) []byte {
	oid, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	b := append(append(oid, tokID...), msg...)
	return asn1tools.AddASNAppTag(b, 0)
}

// Unframe splits a GSS-API krb5 token into its token id and message.
func Unframe(b []byte) (tokID, msg []byte, err error) {
	var oid asn1.ObjectIdentifier
	rest, err := asn1.UnmarshalWithParams(b, &oid, "application,explicit,tag:0")
	if err != nil {
		return nil, nil, fmt.Errorf("not a GSS-API token: %v", err)
	}
	if !oid.Equal(gssapi.OIDKRB5.OID()) && !oid.Equal(gssapi.OIDMSLegacyKRB5.OID()) {
		return nil, nil, fmt.Errorf("mechanism %s is not Kerberos", oid)
	}
	if len(rest) < 2 {
		return nil, nil, errors.New("GSS-API token too short")
	}
	return rest[:2], rest[2:], nil
}

// Sealable reports whether RFC 4121 confidentiality is used with the
// enctype: the AES families. RC4 uses RFC 4757's tokens, not implemented.
func Sealable(id int32) bool {
	switch id {
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96,
		etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192:
		return true
	}
	return false
}

type encAPRepPart struct {
	CTime          time.Time           `asn1:"generalized,explicit,tag:0"`
	Cusec          int                 `asn1:"explicit,tag:1"`
	Subkey         types.EncryptionKey `asn1:"optional,explicit,tag:2"`
	SequenceNumber int64               `asn1:"optional,explicit,tag:3"`
}

type apRep struct {
	PVNO    int                 `asn1:"explicit,tag:0"`
	MsgType int                 `asn1:"explicit,tag:1"`
	EncPart types.EncryptedData `asn1:"explicit,tag:2"`
}

// MarshalAPRep builds an acceptor's AP-REP (RFC 4120 §5.5.2): the
// authenticator's time, the acceptor subkey and sequence number, encrypted
// with the ticket's session key.
func MarshalAPRep(sessionKey types.EncryptionKey, ctime time.Time, cusec int, subkey types.EncryptionKey, seq int64) ([]byte, error) {
	part, err := asn1.Marshal(encAPRepPart{CTime: ctime, Cusec: cusec, Subkey: subkey, SequenceNumber: seq})
	if err != nil {
		return nil, err
	}
	part = asn1tools.AddASNAppTag(part, asnAppTag.EncAPRepPart)
	ed, err := crypto.GetEncryptedData(part, sessionKey, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, err
	}
	b, err := asn1.Marshal(apRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: ed})
	if err != nil {
		return nil, err
	}
	return asn1tools.AddASNAppTag(b, asnAppTag.APREP), nil
}

// RFC 4121 key usages and wrap token flags.
const (
	usageAcceptorSeal  = 22
	usageInitiatorSeal = 24

	flagSentByAcceptor = 0x01
	flagSealed         = 0x02
	flagAcceptorSubkey = 0x04
)

// Sealer is one side of an established context: it seals messages as
// wrap tokens with confidentiality and unseals the peer's. Calls must
// follow wire order (sequence numbers); it is not safe for concurrent use.
type Sealer struct {
	key            types.EncryptionKey
	et             etype.EType
	acceptor       bool // we are the acceptor: we send with SentByAcceptor
	acceptorSubkey bool // the key is the acceptor's subkey (flag on every token)
	sendSeq        uint64
	recvSeq        uint64
}

// NewSealer returns a Sealer for key. sendSeq and recvSeq are the
// sequence numbers of the first token each way (from the authenticator
// and the AP-REP).
func NewSealer(key types.EncryptionKey, acceptor, acceptorSubkey bool, sendSeq, recvSeq uint64) (*Sealer, error) {
	if !Sealable(key.KeyType) {
		return nil, fmt.Errorf("enctype %d: only AES is sealed", key.KeyType)
	}
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, err
	}
	return &Sealer{key: key, et: et, acceptor: acceptor, acceptorSubkey: acceptorSubkey, sendSeq: sendSeq, recvSeq: recvSeq}, nil
}

// KeyType is the wrap key's enctype.
func (s *Sealer) KeyType() int32 { return s.key.KeyType }

// HeaderLen is the part of a wrap token before the encrypted data, as
// Windows and pywinrm frame it: token header, confounder and the rotated
// trailer (60 bytes for AES-SHA1).
func (s *Sealer) HeaderLen() int { return HeaderLen(s.et) }

// HeaderLen is the wrap header length for enctype et.
func HeaderLen(et etype.EType) int { return 16 + et.GetConfounderByteSize() + trailerLen(et) }

// trailerLen is what encryption adds after the data: the encrypted header
// copy and the checksum (EC is 0 for the AES families).
func trailerLen(et etype.EType) int { return 16 + et.GetHMACBitLength()/8 }

// MinCiphertext is the shortest ciphertext of enctype et that gokrb5's
// DecryptMessage can be given without panicking: a confounder and a
// checksum. Check it before decrypting anything a peer sent.
func MinCiphertext(et etype.EType) int {
	return et.GetConfounderByteSize() + et.GetHMACBitLength()/8
}

func header(flags byte, ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, 16)
	h[0], h[1], h[2], h[3] = 0x05, 0x04, flags, 0xff
	binary.BigEndian.PutUint16(h[4:], ec)
	binary.BigEndian.PutUint16(h[6:], rrc)
	binary.BigEndian.PutUint64(h[8:], seq)
	return h
}

func (s *Sealer) flags(fromAcceptor bool) byte {
	f := byte(flagSealed)
	if fromAcceptor {
		f |= flagSentByAcceptor
	}
	if s.acceptorSubkey {
		f |= flagAcceptorSubkey
	}
	return f
}

func usage(fromAcceptor bool) uint32 {
	if fromAcceptor {
		return usageAcceptorSeal
	}
	return usageInitiatorSeal
}

// Wrap seals plain as a wrap token with confidentiality, rotated so that
// the data comes last (RRC = trailer length, as Windows sends), and
// returns the encrypted data (as long as plain) and the header, in the
// order of NTLM's Wrap (sealed, signature).
func (s *Sealer) Wrap(plain []byte) (sealed, hdr []byte, err error) {
	fl := s.flags(s.acceptor)
	h := header(fl, 0, 0, s.sendSeq)
	msg := make([]byte, 0, len(plain)+16)
	msg = append(append(msg, plain...), h...)
	_, ct, err := s.et.EncryptMessage(s.key.KeyValue, msg, usage(s.acceptor))
	if err != nil {
		return nil, nil, err
	}
	s.sendSeq++
	rrc := trailerLen(s.et)
	binary.BigEndian.PutUint16(h[6:], uint16(rrc))
	tok := make([]byte, 0, 16+len(ct))
	tok = append(tok, h...)
	tok = append(tok, ct[len(ct)-rrc:]...)
	tok = append(tok, ct[:len(ct)-rrc]...)
	n := len(tok) - len(plain)
	return tok[n:], tok[:n], nil
}

// Unwrap verifies and decrypts the peer's wrap token, given as the data
// part and the header part of the multipart body (any split, any RRC).
func (s *Sealer) Unwrap(sealed, hdr []byte) (plain []byte, err error) {
	defer func() { // the token is the peer's: a decoder panic is a bad token
		if r := recover(); r != nil {
			plain, err = nil, fmt.Errorf("malformed wrap token (%v)", r)
		}
	}()
	tok := make([]byte, 0, len(hdr)+len(sealed))
	tok = append(append(tok, hdr...), sealed...)
	if len(tok) < 16 || tok[0] != 0x05 || tok[1] != 0x04 || tok[3] != 0xff {
		return nil, errors.New("not an RFC 4121 wrap token")
	}
	fl, want := tok[2], s.flags(!s.acceptor)
	if fl != want {
		return nil, fmt.Errorf("wrap token flags %#x, want %#x", fl, want)
	}
	ec := int(binary.BigEndian.Uint16(tok[4:]))
	rrc := int(binary.BigEndian.Uint16(tok[6:]))
	seq := binary.BigEndian.Uint64(tok[8:])
	if seq != s.recvSeq {
		return nil, fmt.Errorf("wrap token sequence %d, want %d", seq, s.recvSeq)
	}
	ct := tok[16:]
	if len(ct) < MinCiphertext(s.et)+16 { // gokrb5 panics on a ciphertext shorter than its confounder and checksum
		return nil, errors.New("wrap token too short")
	}
	rrc %= len(ct)
	ct = append(append(make([]byte, 0, len(ct)), ct[rrc:]...), ct[:rrc]...)
	plain, err = s.et.DecryptMessage(s.key.KeyValue, ct, usage(!s.acceptor))
	if err != nil {
		return nil, err
	}
	if len(plain) < ec+16 {
		return nil, errors.New("wrap token too short")
	}
	if !hmac.Equal(plain[len(plain)-16:], header(fl, uint16(ec), 0, seq)) {
		return nil, errors.New("wrap token header does not match its encrypted copy")
	}
	s.recvSeq++
	return plain[:len(plain)-16-ec], nil
}
