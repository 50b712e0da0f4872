package simulator

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"aadcready/wsman/krb5gss"
)

// KerberosOptions make the simulator a Kerberos acceptor, as a domain
// member's WinRM service is: tickets for HTTP/<host> or WSMAN/<host>
// (the host's name or <name>.<domain>) are decrypted with Keytab.
type KerberosOptions struct {
	Keytab string // service keys of every host's SPN
	// Faults per host name: "skew" (answer KRB_AP_ERR_SKEW, the host's
	// clock 10 minutes ahead), "wrong_key" (KRB_AP_ERR_MODIFIED: the SPN's
	// key is not the host's) or "no_mutual" (accept without an AP-REP).
	Faults map[string]string
}

// Kerberos faults.
const (
	KrbFaultSkew     = "skew"
	KrbFaultWrongKey = "wrong_key"
	KrbFaultNoMutual = "no_mutual"
)

type krbAcceptor struct {
	kt     *keytab.Keytab
	faults map[string]string
}

func newKrbAcceptor(o *KerberosOptions) (*krbAcceptor, error) {
	if o == nil {
		return nil, nil
	}
	kt, err := keytab.Load(o.Keytab)
	if err != nil {
		return nil, fmt.Errorf("kerberos keytab: %w", err)
	}
	for host, f := range o.Faults {
		switch f {
		case KrbFaultSkew, KrbFaultWrongKey, KrbFaultNoMutual:
		default:
			return nil, fmt.Errorf("kerberos fault %q for %s: not skew, wrong_key or no_mutual", f, host)
		}
	}
	return &krbAcceptor{kt: kt, faults: o.Faults}, nil
}

// isGSSToken tells a Kerberos or SPNEGO token (ASN.1 [APPLICATION 0])
// from a raw NTLMSSP one.
func isGSSToken(raw []byte) bool { return len(raw) > 0 && raw[0] == 0x60 }

// kerberos accepts an AP-REQ on a connection: raw krb5 (Kerberos scheme,
// and Negotiate from pywinrm) or inside SPNEGO. On success the connection
// holds the context that seals the rest of its messages and the 200 will
// carry the AP-REP (mutual authentication).
func (s *Server) kerberos(w http.ResponseWriter, c *conn, scheme string, raw []byte) bool {
	h := c.host
	h.counters.authAttempts.Add(1)
	c.session, c.krb, c.user = nil, nil, ""
	fail := func(why string, krbErr *messages.KRBError) bool {
		h.counters.authFailures.Add(1)
		s.log.Info("kerberos authentication failed", "host", h.cfg.Name, "err", why)
		var tok []byte
		if krbErr != nil {
			if b, err := krbErr.Marshal(); err == nil {
				tok = krb5gss.Frame(krb5gss.TokKRBErr, b)
			}
		}
		s.unauthorizedToken(w, c, scheme, tok)
		return false
	}
	if s.krb == nil {
		return fail("this simulator has no Kerberos keytab", nil)
	}
	mech, useSPNEGO := raw, false
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(raw); err == nil && st.Init {
		mech, useSPNEGO = st.NegTokenInit.MechTokenBytes, true
	}
	tokID, body, err := krb5gss.Unframe(mech)
	if err != nil || !bytes.Equal(tokID, krb5gss.TokAPReq) {
		return fail("not a Kerberos AP-REQ", nil)
	}
	var apreq messages.APReq
	if err := apreq.Unmarshal(body); err != nil {
		return fail(err.Error(), nil)
	}
	sname := apreq.Ticket.SName
	switch s.krb.faults[h.cfg.Name] {
	case KrbFaultSkew:
		e := messages.NewKRBError(sname, apreq.Ticket.Realm, errorcode.KRB_AP_ERR_SKEW, "Clock skew too great")
		e.STime = time.Now().Add(10 * time.Minute).UTC().Truncate(time.Second)
		return fail("injected clock skew", &e)
	case KrbFaultWrongKey:
		e := messages.NewKRBError(sname, apreq.Ticket.Realm, errorcode.KRB_AP_ERR_MODIFIED, "Message stream modified")
		return fail("injected wrong service key", &e)
	}
	if !h.isOurSPN(sname) {
		e := messages.NewKRBError(sname, apreq.Ticket.Realm, errorcode.KRB_AP_ERR_NOT_US, "The ticket isn't for us")
		return fail("ticket for "+sname.PrincipalNameString(), &e)
	}
	ok, creds, err := service.VerifyAPREQ(&apreq, service.NewSettings(s.krb.kt, service.DecodePAC(false)))
	if err != nil || !ok {
		var ke messages.KRBError
		if errors.As(err, &ke) {
			return fail(ke.Error(), &ke)
		}
		return fail(fmt.Sprint(err), nil)
	}
	auth := apreq.Authenticator
	keyType := apreq.Ticket.DecryptedEncPart.Key.KeyType
	if len(auth.SubKey.KeyValue) > 0 {
		keyType = auth.SubKey.KeyType
	}
	et, err := crypto.GetEtype(keyType)
	if err != nil || !krb5gss.Sealable(keyType) {
		e := messages.NewKRBError(sname, apreq.Ticket.Realm, errorcode.KDC_ERR_ETYPE_NOSUPP, "enctype not supported")
		return fail(fmt.Sprintf("enctype %d", keyType), &e)
	}
	subkey := types.EncryptionKey{KeyType: keyType, KeyValue: make([]byte, et.GetKeyByteSize())}
	rand.Read(subkey.KeyValue)
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<30))
	seq := n.Int64()
	sealer, err := krb5gss.NewSealer(subkey, true, true, uint64(seq), uint64(auth.SeqNumber))
	if err != nil {
		return fail(err.Error(), nil)
	}
	if s.krb.faults[h.cfg.Name] != KrbFaultNoMutual {
		aprep, err := krb5gss.MarshalAPRep(apreq.Ticket.DecryptedEncPart.Key, auth.CTime, auth.Cusec, subkey, seq)
		if err != nil {
			return fail(err.Error(), nil)
		}
		tok := krb5gss.Frame(krb5gss.TokAPRep, aprep)
		if useSPNEGO {
			resp := spnego.NegTokenResp{NegState: asn1.Enumerated(0), SupportedMech: gssapi.OIDKRB5.OID(), ResponseToken: tok}
			if tok, err = resp.Marshal(); err != nil {
				return fail(err.Error(), nil)
			}
		}
		w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(tok))
	}
	c.krb, c.krbProto = sealer, sealedProtocolKerberos
	if useSPNEGO || strings.EqualFold(scheme, "Negotiate") {
		c.krbProto = sealedProtocol
	}
	c.user = account(creds.Domain(), creds.CName().PrincipalNameString())
	return true
}

// isOurSPN reports whether a ticket is for this host: HTTP/ or WSMAN/
// with its name or its FQDN.
func (h *hostState) isOurSPN(p types.PrincipalName) bool {
	if len(p.NameString) != 2 {
		return false
	}
	svc, name := strings.ToUpper(p.NameString[0]), strings.ToLower(p.NameString[1])
	return (svc == "HTTP" || svc == "WSMAN") && (name == strings.ToLower(h.cfg.Name) || name == h.ntlm.DNSComputer)
}

// unauthorizedToken answers 401 carrying a KRB-ERROR token, or offering
// the enabled schemes when there is none.
func (s *Server) unauthorizedToken(w http.ResponseWriter, c *conn, scheme string, tok []byte) {
	if tok == nil {
		s.unauthorized(w, c, nil)
		return
	}
	c.host.counters.unauthorized.Add(1)
	w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(tok))
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}
