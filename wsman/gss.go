package wsman

import (
	"bytes"
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
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// GSS-API Kerberos initiator (RFC 4121) on top of gokrb5's messages and
// crypto. gokrb5 has no AP-REP verification and only integrity wrap tokens,
// so mutual authentication and confidentiality are done here.

// RFC 4121 key usages for wrap tokens with confidentiality.
const (
	usageAcceptorSeal  = 22
	usageInitiatorSeal = 24
)

// Wrap token flags (RFC 4121 §4.2.2).
const (
	wrapSentByAcceptor = 0x01
	wrapSealed         = 0x02
	wrapAcceptorSubkey = 0x04
)

// GSS checksum flags (RFC 4121 §4.1.1.1): what Windows' winrs asks for.
const gssFlags = gssapi.ContextFlagMutual | gssapi.ContextFlagSequence | gssapi.ContextFlagConf | gssapi.ContextFlagInteg

// token ids of the GSS-API krb5 framing (RFC 1964 §1.1).
var (
	tokAPReq  = []byte{0x01, 0x00}
	tokAPRep  = []byte{0x02, 0x00}
	tokKRBErr = []byte{0x03, 0x00}
)

// krbInitiator is one security context: built from a service ticket, it
// makes the AP-REQ, checks the AP-REP and then seals and unseals messages.
type krbInitiator struct {
	ticketKey types.EncryptionKey // session key of the service ticket
	auth      types.Authenticator
	spnego    bool

	key        types.EncryptionKey // wrap key once established
	et         etype.EType
	acceptorSK bool
	sendSeq    uint64
	recvSeq    uint64
}

// sealable reports whether RFC 4121 confidentiality is defined for the
// enctype: the AES families. RC4 uses RFC 4757's tokens, which this client
// does not implement; DES is long dead.
func sealable(id int32) bool {
	switch id {
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96,
		etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192:
		return true
	}
	return false
}

// newKrbInitiator builds the AP-REQ for tkt (mutual authentication, an
// initiator subkey and sequence number, the GSS checksum with conf/integ)
// and returns the token to send: a raw GSS krb5 token, or an SPNEGO
// NegTokenInit around it for Negotiate.
func newKrbInitiator(cname types.PrincipalName, crealm string, tkt messages.Ticket, key types.EncryptionKey, useSPNEGO bool) (*krbInitiator, []byte, error) {
	if !sealable(key.KeyType) {
		return nil, nil, fmt.Errorf("%w: service ticket session key enctype %d", errEtype, key.KeyType)
	}
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errEtype, err)
	}
	auth, err := types.NewAuthenticator(crealm, cname)
	if err != nil {
		return nil, nil, err
	}
	if err := auth.GenerateSeqNumberAndSubKey(key.KeyType, et.GetKeyByteSize()); err != nil {
		return nil, nil, err
	}
	cksum := make([]byte, 24)
	binary.LittleEndian.PutUint32(cksum[:4], 16) // Lgth of the (zero) channel bindings
	binary.LittleEndian.PutUint32(cksum[20:], gssFlags)
	auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: cksum}
	apreq, err := messages.NewAPReq(tkt, key, auth)
	if err != nil {
		return nil, nil, err
	}
	types.SetFlag(&apreq.APOptions, flags.APOptionMutualRequired)
	body, err := apreq.Marshal()
	if err != nil {
		return nil, nil, err
	}
	tok := krb5Framed(tokAPReq, body)
	if useSPNEGO {
		st := spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{
			MechTypes:      []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID(), gssapi.OIDMSLegacyKRB5.OID()},
			MechTokenBytes: tok,
		}}
		if tok, err = st.Marshal(); err != nil {
			return nil, nil, err
		}
	}
	return &krbInitiator{ticketKey: key, auth: auth, spnego: useSPNEGO, et: et}, tok, nil
}

// krb5Framed wraps a Kerberos message in the GSS-API krb5 mechanism framing.
func krb5Framed(tokID, msg []byte) []byte {
	oid, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	b := append(append(oid, tokID...), msg...)
	return asn1tools.AddASNAppTag(b, 0)
}

var (
	errMutual = errors.New("mutual authentication failed")
	errEtype  = errors.New("encryption type not supported")
)

// apError is a KRB-ERROR the acceptor sent instead of an AP-REP.
type apError struct{ messages.KRBError }

func (e *apError) Error() string { return e.KRBError.Error() }

// accept checks the acceptor's reply token (mutual authentication) and
// picks the wrap key: the acceptor subkey if the AP-REP has one, else the
// initiator subkey (RFC 4121 §2).
func (k *krbInitiator) accept(reply []byte) error {
	if len(reply) == 0 {
		return fmt.Errorf("%w: the server sent no AP-REP", errMutual)
	}
	mech := reply
	if k.spnego || reply[0] == 0xa1 {
		var resp spnego.NegTokenResp
		st := spnego.SPNEGOToken{}
		if err := st.Unmarshal(reply); err != nil || !st.Resp {
			return fmt.Errorf("%w: the reply is not an SPNEGO response: %v", errMutual, err)
		}
		resp = st.NegTokenResp
		if resp.NegState != 0 { // accept-completed
			return fmt.Errorf("%w: SPNEGO state %d, not accept-completed", errMutual, resp.NegState)
		}
		mech = resp.ResponseToken
	}
	tokID, body, err := unframeKrb5(mech)
	if err != nil {
		return fmt.Errorf("%w: %v", errMutual, err)
	}
	switch {
	case bytes.Equal(tokID, tokKRBErr):
		var ke messages.KRBError
		if err := ke.Unmarshal(body); err != nil {
			return fmt.Errorf("%w: undecodable KRB-ERROR: %v", errMutual, err)
		}
		return &apError{ke}
	case !bytes.Equal(tokID, tokAPRep):
		return fmt.Errorf("%w: token id %x is not an AP-REP", errMutual, tokID)
	}
	var rep messages.APRep
	if err := rep.Unmarshal(body); err != nil {
		return fmt.Errorf("%w: %v", errMutual, err)
	}
	plain, err := crypto.DecryptEncPart(rep.EncPart, k.ticketKey, keyusage.AP_REP_ENCPART)
	if err != nil {
		return fmt.Errorf("%w: the AP-REP is not encrypted with the ticket's session key: %v", errMutual, err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return fmt.Errorf("%w: %v", errMutual, err)
	}
	if !part.CTime.Truncate(time.Second).Equal(k.auth.CTime.Truncate(time.Second)) || part.Cusec != k.auth.Cusec {
		return fmt.Errorf("%w: the AP-REP does not echo our authenticator's time", errMutual)
	}
	k.sendSeq = uint64(k.auth.SeqNumber)
	k.recvSeq = uint64(part.SequenceNumber)
	k.key = k.auth.SubKey
	if len(part.Subkey.KeyValue) > 0 {
		if !sealable(part.Subkey.KeyType) {
			return fmt.Errorf("%w: acceptor subkey enctype %d", errEtype, part.Subkey.KeyType)
		}
		k.key, k.acceptorSK = part.Subkey, true
	}
	if k.et, err = crypto.GetEtype(k.key.KeyType); err != nil {
		return fmt.Errorf("%w: %v", errEtype, err)
	}
	return nil
}

// unframeKrb5 splits a GSS-API krb5 token into its token id and message.
func unframeKrb5(b []byte) (tokID, msg []byte, err error) {
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

// wrapHeader builds the 16-byte RFC 4121 wrap token header.
func (k *krbInitiator) wrapHeader(flags byte, ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, 16)
	h[0], h[1], h[2], h[3] = 0x05, 0x04, flags, 0xff
	binary.BigEndian.PutUint16(h[4:], ec)
	binary.BigEndian.PutUint16(h[6:], rrc)
	binary.BigEndian.PutUint64(h[8:], seq)
	return h
}

// trailerLen is what the encryption adds after the data: the encrypted
// header copy and the checksum (EC is 0 for the AES families).
func (k *krbInitiator) trailerLen() int { return 16 + k.et.GetHMACBitLength()/8 }

// headerLen is the part of a wrap token before the encrypted data, as
// Windows and pywinrm frame it: token header, confounder and the rotated
// trailer (60 bytes for AES-SHA1).
func (k *krbInitiator) headerLen() int {
	return 16 + k.et.GetConfounderByteSize() + k.trailerLen()
}

func (k *krbInitiator) protocol() string {
	if k.spnego {
		return protoSPNEGO
	}
	return protoKerberos
}

// Wrap seals plain as a wrap token with confidentiality, rotated so that
// the data comes last (RRC = trailer length), and splits it into the
// encrypted data (as long as plain) and the header, in the order of the
// sealer interface.
func (k *krbInitiator) Wrap(plain []byte) (sealed, header []byte, err error) {
	var fl byte = wrapSealed
	if k.acceptorSK {
		fl |= wrapAcceptorSubkey
	}
	hdr := k.wrapHeader(fl, 0, 0, k.sendSeq)
	msg := make([]byte, 0, len(plain)+16)
	msg = append(append(msg, plain...), hdr...)
	_, ct, err := k.et.EncryptMessage(k.key.KeyValue, msg, usageInitiatorSeal)
	if err != nil {
		return nil, nil, err
	}
	k.sendSeq++
	rrc := k.trailerLen()
	binary.BigEndian.PutUint16(hdr[6:], uint16(rrc))
	tok := make([]byte, 0, 16+len(ct))
	tok = append(tok, hdr...)
	tok = append(tok, ct[len(ct)-rrc:]...)
	tok = append(tok, ct[:len(ct)-rrc]...)
	n := k.headerLen()
	return tok[n:], tok[:n], nil
}

// Unwrap verifies and decrypts a wrap token from the acceptor, given as
// the data part and the header part of the multipart body.
func (k *krbInitiator) Unwrap(sealed, header []byte) ([]byte, error) {
	tok := make([]byte, 0, len(header)+len(sealed))
	tok = append(append(tok, header...), sealed...)
	if len(tok) < 16 || tok[0] != 0x05 || tok[1] != 0x04 || tok[3] != 0xff {
		return nil, errors.New("not an RFC 4121 wrap token")
	}
	fl := tok[2]
	want := byte(wrapSentByAcceptor | wrapSealed)
	if k.acceptorSK {
		want |= wrapAcceptorSubkey
	}
	if fl != want {
		return nil, fmt.Errorf("wrap token flags %#x, want %#x", fl, want)
	}
	ec := int(binary.BigEndian.Uint16(tok[4:]))
	rrc := int(binary.BigEndian.Uint16(tok[6:]))
	seq := binary.BigEndian.Uint64(tok[8:])
	if seq != k.recvSeq {
		return nil, fmt.Errorf("wrap token sequence %d, want %d", seq, k.recvSeq)
	}
	ct := tok[16:]
	if len(ct) == 0 {
		return nil, errors.New("empty wrap token")
	}
	rrc %= len(ct)
	ct = append(append(make([]byte, 0, len(ct)), ct[rrc:]...), ct[:rrc]...)
	plain, err := k.et.DecryptMessage(k.key.KeyValue, ct, usageAcceptorSeal)
	if err != nil {
		return nil, err
	}
	if len(plain) < ec+16 {
		return nil, errors.New("wrap token too short")
	}
	inner := plain[len(plain)-16:]
	outer := k.wrapHeader(fl, uint16(ec), 0, seq)
	if !hmac.Equal(inner, outer) {
		return nil, errors.New("wrap token header does not match its encrypted copy")
	}
	k.recvSeq++
	return plain[:len(plain)-16-ec], nil
}
