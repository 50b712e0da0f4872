package wsman

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"aadcready/wsman/krb5gss"
)

// GSS-API Kerberos initiator (RFC 4121) on top of gokrb5's messages and
// crypto. gokrb5 has no AP-REP verification and only integrity wrap tokens,
// so mutual authentication and confidentiality are done here.

// GSS checksum flags (RFC 4121 §4.1.1.1): what Windows' winrs asks for.
const gssFlags = gssapi.ContextFlagMutual | gssapi.ContextFlagSequence | gssapi.ContextFlagConf | gssapi.ContextFlagInteg

// channelBindingHash is Bnd (RFC 4121 §4.1.1.2): the MD5 of the
// gss_channel_bindings_struct with no addresses and the application data
// (RFC 5929 "tls-server-end-point:" and the certificate hash).
func channelBindingHash(appData []byte) [16]byte {
	b := make([]byte, 20, 20+len(appData)) // initiator and acceptor address types and lengths: 0
	binary.LittleEndian.PutUint32(b[16:], uint32(len(appData)))
	return md5.Sum(append(b, appData...))
}

// krbInitiator is one security context: built from a service ticket, it
// makes the AP-REQ, checks the AP-REP and then seals and unseals messages.
type krbInitiator struct {
	ticketKey       types.EncryptionKey // session key of the service ticket
	auth            types.Authenticator
	spnego          bool
	*krb5gss.Sealer // once the AP-REP is accepted
}

// sealable reports whether RFC 4121 confidentiality is defined for the
// enctype (AES); RC4 would need RFC 4757's tokens, not implemented.
func sealable(id int32) bool { return krb5gss.Sealable(id) }

// newKrbInitiator builds the AP-REQ for tkt (mutual authentication, an
// initiator subkey and sequence number, the GSS checksum with conf/integ
// and, over TLS, the channel binding of cbData) and returns the token to
// send: a raw GSS krb5 token, or an SPNEGO NegTokenInit around it for
// Negotiate.
func newKrbInitiator(cname types.PrincipalName, crealm string, tkt messages.Ticket, key types.EncryptionKey, useSPNEGO bool, cbData []byte) (*krbInitiator, []byte, error) {
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
	binary.LittleEndian.PutUint32(cksum[:4], 16) // Lgth of Bnd, the MD5 of the channel bindings
	if cbData != nil {
		sum := channelBindingHash(cbData)
		copy(cksum[4:20], sum[:])
	}
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
	tok := krb5gss.Frame(krb5gss.TokAPReq, body)
	if useSPNEGO {
		st := spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{
			MechTypes:      []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID(), gssapi.OIDMSLegacyKRB5.OID()},
			MechTokenBytes: tok,
		}}
		if tok, err = st.Marshal(); err != nil {
			return nil, nil, err
		}
	}
	return &krbInitiator{ticketKey: key, auth: auth, spnego: useSPNEGO}, tok, nil
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
func (k *krbInitiator) accept(reply []byte) (err error) {
	// The reply is the host's, untrusted, and parsed by gokrb5 and gofork's
	// ASN.1: a decoder panic on hostile bytes must fail this host, not
	// end the scan (this runs on the transport's dial goroutine).
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: malformed reply (%v)", errMutual, r)
		}
	}()
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
	tokID, body, err := krb5gss.Unframe(mech)
	if err != nil {
		return fmt.Errorf("%w: %v", errMutual, err)
	}
	switch {
	case bytes.Equal(tokID, krb5gss.TokKRBErr):
		var ke messages.KRBError
		if err := ke.Unmarshal(body); err != nil {
			return fmt.Errorf("%w: undecodable KRB-ERROR: %v", errMutual, err)
		}
		return &apError{ke}
	case !bytes.Equal(tokID, krb5gss.TokAPRep):
		return fmt.Errorf("%w: token id %x is not an AP-REP", errMutual, tokID)
	}
	var rep messages.APRep
	if err := rep.Unmarshal(body); err != nil {
		return fmt.Errorf("%w: %v", errMutual, err)
	}
	if et, err := crypto.GetEtype(k.ticketKey.KeyType); err != nil || len(rep.EncPart.Cipher) < krb5gss.MinCiphertext(et) || rep.EncPart.EType != k.ticketKey.KeyType {
		return fmt.Errorf("%w: the AP-REP's encrypted part is not of the ticket's enctype or too short", errMutual)
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
	key, acceptorSK := k.auth.SubKey, false
	if len(part.Subkey.KeyValue) > 0 {
		key, acceptorSK = part.Subkey, true
	}
	if k.Sealer, err = krb5gss.NewSealer(key, false, acceptorSK, uint64(k.auth.SeqNumber), uint64(part.SequenceNumber)); err != nil {
		return fmt.Errorf("%w: %v", errEtype, err)
	}
	return nil
}
