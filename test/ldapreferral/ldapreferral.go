// Package ldapreferral is a stand-in for the one answer of an Active
// Directory domain controller that Samba does not give: a referral.
package ldapreferral

import (
	"net"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// Referral is where every search but the rootDSE's is referred.
const Referral = "ldap://emea.contoso.com/DC=emea,DC=contoso,DC=com"

// Samba answers a base it does not hold with noSuchObject; Active Directory
// answers with a referral (resultCode 10) to the domain that holds it. This
// responder plays that part of a DC: bind accepted, rootDSE answered, every
// other search referred elsewhere (RFC 4511 4.1.10). Start returns its
// address; it listens on plain LDAP until the test ends.
func Start(t testing.TB) string { return start(t, false) }

// StartSilent is Start's responder that never answers a search other than
// the rootDSE's: a DC that hangs, for deadlines.
func StartSilent(t testing.TB) string { return start(t, true) }

func start(t testing.TB, silent bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c, silent)
		}
	}()
	return ln.Addr().String()
}

func serve(c net.Conn, silent bool) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	for {
		req, err := ber.ReadPacket(c)
		if err != nil || len(req.Children) < 2 {
			return
		}
		id := req.Children[0].Value.(int64)
		op := req.Children[1]
		switch op.Tag {
		case 0: // bind
			_, _ = c.Write(ldapResult(id, 1, 0, nil).Bytes())
		case 3: // search
			if base, _ := op.Children[0].Value.(string); base == "" {
				_, _ = c.Write(rootEntry(id).Bytes())
				_, _ = c.Write(ldapResult(id, 5, 0, nil).Bytes())
				continue
			}
			if !silent {
				_, _ = c.Write(ldapResult(id, 5, 10, []string{Referral}).Bytes())
			}
		default: // unbind and the rest
			return
		}
	}
}

func message(id int64, op *ber.Packet) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAPMessage")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "messageID"))
	p.AppendChild(op)
	return p
}

func ldapResult(id int64, app ber.Tag, code int64, refs []string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, app, nil, "result")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, code, "resultCode"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "diagnosticMessage"))
	if refs != nil {
		r := ber.Encode(ber.ClassContext, ber.TypeConstructed, 3, nil, "referral")
		for _, u := range refs {
			r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, u, "URI"))
		}
		op.AppendChild(r)
	}
	return message(id, op)
}

func rootEntry(id int64) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 4, nil, "searchResEntry")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "objectName"))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for _, kv := range [][2]string{{"defaultNamingContext", "DC=contoso,DC=com"}, {"rootDomainNamingContext", "DC=contoso,DC=com"}} {
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, kv[0], "type"))
		vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
		vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, kv[1], "value"))
		a.AppendChild(vals)
		attrs.AppendChild(a)
	}
	op.AppendChild(attrs)
	return message(id, op)
}
