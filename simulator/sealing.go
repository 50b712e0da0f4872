package simulator

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"aadcready/wsman/krb5gss"
)

// Message encryption over HTTP (MS-WSMV 2.2.9.1.1, field notes §6): the
// SOAP message travels sealed with the connection's NTLM session inside a
// two-part MIME body.
const (
	sealedProtocol         = "application/HTTP-SPNEGO-session-encrypted"
	sealedProtocolKerberos = "application/HTTP-Kerberos-session-encrypted"
	boundaryLine           = "--Encrypted Boundary\r\n"
	boundaryEnd            = "--Encrypted Boundary--\r\n"
	octetStreamLine        = "\tContent-Type: application/octet-stream\r\n"
)

func sealedContentType(protocol string) string {
	return `multipart/encrypted;protocol="` + protocol + `";boundary="Encrypted Boundary"`
}

// isSealed says whether a request's Content-Type announces a body sealed
// with protocol.
func isSealed(contentType, protocol string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "multipart/encrypted" && strings.EqualFold(params["protocol"], protocol)
}

// secContext seals with a connection's security context: NTLM's session
// (16-byte signature) or a Kerberos wrap token (header up to the data).
type secContext interface {
	Seal(msg []byte) (header, sealed []byte, err error)
	Unseal(header, sealed []byte) ([]byte, error)
}

// krbContext adapts krb5gss.Sealer, whose order is (sealed, header).
type krbContext struct{ *krb5gss.Sealer }

func (k krbContext) Seal(msg []byte) ([]byte, []byte, error) {
	sealed, hdr, err := k.Wrap(msg)
	return hdr, sealed, err
}

func (k krbContext) Unseal(hdr, sealed []byte) ([]byte, error) { return k.Unwrap(sealed, hdr) }

// context and protocol are the connection's sealing.
func (c *conn) context() secContext {
	if c.krb != nil {
		return krbContext{c.krb}
	}
	return c.session
}

func (c *conn) protocol() string {
	if c.krb != nil {
		return c.krbProto
	}
	return sealedProtocol
}

var errFraming = errors.New("sealed body is not framed as multipart/encrypted")

// unseal reads the framing and unseals the message with the connection's
// session. The length in OriginalContent says where the sealed bytes end,
// so a boundary-like sequence inside them does no harm.
func unseal(sess secContext, protocol string, body []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(body, []byte(boundaryLine))
	if !ok {
		return nil, errFraming
	}
	header, rest, ok := bytes.Cut(rest, []byte(boundaryLine))
	if !ok || !bytes.Contains(header, []byte("Content-Type: "+protocol)) {
		return nil, errFraming
	}
	_, lengthText, ok := bytes.Cut(header, []byte("Length="))
	if !ok {
		return nil, errFraming
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(lengthText)))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: bad Length", errFraming)
	}
	rest, ok = bytes.CutPrefix(rest, []byte(octetStreamLine))
	if !ok || len(rest) < 4 {
		return nil, errFraming
	}
	sigLen := int(binary.LittleEndian.Uint32(rest))
	rest = rest[4:]
	if sigLen < 16 || sigLen > 1024 || len(rest) < sigLen+n {
		return nil, fmt.Errorf("%w: signature or message cut short", errFraming)
	}
	sig, sealed, tail := rest[:sigLen], rest[sigLen:sigLen+n], rest[sigLen+n:]
	if !bytes.HasPrefix(tail, []byte(boundaryEnd[:len(boundaryEnd)-2])) {
		return nil, fmt.Errorf("%w: no closing boundary", errFraming)
	}
	return sess.Unseal(sig, sealed)
}

// seal frames a response the way Windows does.
func seal(sess secContext, protocol string, msg []byte) ([]byte, error) {
	sig, sealed, err := sess.Seal(msg)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(sealed) + 256)
	b.WriteString(boundaryLine)
	b.WriteString("\tContent-Type: " + protocol + "\r\n")
	fmt.Fprintf(&b, "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n", len(msg))
	b.WriteString(boundaryLine)
	b.WriteString(octetStreamLine)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(sig))))
	b.Write(sig)
	b.Write(sealed)
	b.WriteString(boundaryEnd)
	return b.Bytes(), nil
}
