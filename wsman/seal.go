package wsman

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// MS-WSMV 2.2.9.1.1 message encryption: the SOAP envelope is sealed with
// the authentication's security context (NTLM or Kerberos) and framed as
// multipart/encrypted. The protocol names the context: SPNEGO for NTLM and
// for Kerberos under Negotiate, Kerberos for the Kerberos scheme.
const (
	protoSPNEGO     = "application/HTTP-SPNEGO-session-encrypted"
	protoKerberos   = "application/HTTP-Kerberos-session-encrypted"
	sealBoundary    = "--Encrypted Boundary"
	sealTrailer     = sealBoundary + "--\r\n"
	ntlmSigLen      = 16
	maxSealHeader   = 1024 // the longest Kerberos wrap header is ~80 bytes
	soapContentType = "application/soap+xml;charset=UTF-8"
)

func sealContentType(proto string) string {
	return `multipart/encrypted;protocol="` + proto + `";boundary="Encrypted Boundary"`
}

// sealer is a security context's message protection: bodgit/ntlmssp's
// SecuritySession for NTLM (header = 16-byte signature), krbInitiator for
// Kerberos (header = wrap token up to the encrypted data). Each call
// advances the direction's sequence number (and NTLM's RC4 stream), so
// calls must happen in wire order. Sealed data is as long as the plain text.
type sealer interface {
	Wrap(plain []byte) (sealed, header []byte, err error)
	Unwrap(sealed, header []byte) ([]byte, error)
}

func sealHeader(proto string, n int) string {
	return sealBoundary + "\r\n" +
		"\tContent-Type: " + proto + "\r\n" +
		"\tOriginalContent: type=" + soapContentType + ";Length=" + strconv.Itoa(n) + "\r\n" +
		sealBoundary + "\r\n" +
		"\tContent-Type: application/octet-stream\r\n"
}

// sealedLen is the framed size of an n-byte message sealed with a context
// whose header is hdrLen bytes (RC4 and AES-CTS keep the length).
func sealedLen(proto string, hdrLen, n int) int {
	return len(sealHeader(proto, n)) + 4 + hdrLen + n + len(sealTrailer)
}

// appendSealed seals plain with s and appends the framed body to dst.
func appendSealed(dst []byte, s sealer, proto string, plain []byte) ([]byte, error) {
	sealed, sig, err := s.Wrap(plain)
	if err != nil {
		return dst, fmt.Errorf("seal: %w", err)
	}
	if len(sig) == 0 || len(sig) > maxSealHeader || len(sealed) != len(plain) {
		return dst, fmt.Errorf("seal: unexpected header (%d bytes) or sealed length (%d for %d)", len(sig), len(sealed), len(plain))
	}
	dst = append(dst, sealHeader(proto, len(plain))...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(sig)))
	dst = append(dst, sig...)
	dst = append(dst, sealed...)
	return append(dst, sealTrailer...), nil
}

// isSealedContentType reports whether a response Content-Type announces a
// multipart body sealed with protocol proto.
func isSealedContentType(ct, proto string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/encrypted" || !strings.EqualFold(params["protocol"], proto) {
		return false
	}
	b, ok := params["boundary"]
	return !ok || b == sealBoundary[2:]
}

var errSealFrame = errors.New("malformed multipart/encrypted body")

// splitSealed parses a multipart/encrypted body into header (signature or
// wrap token header) and sealed bytes. The sealed part is binary, so it is
// cut by the announced Length, not by searching for the boundary. It never
// panics on hostile input.
func splitSealed(body []byte, proto string) (sig, sealed []byte, err error) {
	rest, ok := cutLine(body, sealBoundary)
	if !ok {
		return nil, nil, fmt.Errorf("%w: no opening boundary", errSealFrame)
	}
	hdr, rest, err := readPartHeaders(rest)
	if err != nil {
		return nil, nil, err
	}
	if !strings.EqualFold(hdr["content-type"], proto) {
		return nil, nil, fmt.Errorf("%w: first part is %q", errSealFrame, hdr["content-type"])
	}
	n, err := originalLength(hdr["originalcontent"])
	if err != nil {
		return nil, nil, err
	}
	if rest, ok = cutLine(rest, sealBoundary); !ok {
		return nil, nil, fmt.Errorf("%w: no second boundary", errSealFrame)
	}
	hdr, rest, err = readPartHeaders(rest)
	if err != nil {
		return nil, nil, err
	}
	if !strings.EqualFold(hdr["content-type"], "application/octet-stream") {
		return nil, nil, fmt.Errorf("%w: second part is %q", errSealFrame, hdr["content-type"])
	}
	if len(rest) < 4 {
		return nil, nil, fmt.Errorf("%w: no header length", errSealFrame)
	}
	hl := binary.LittleEndian.Uint32(rest)
	if hl == 0 || hl > maxSealHeader || int(hl) > len(rest)-4 {
		return nil, nil, fmt.Errorf("%w: bad header length %d", errSealFrame, hl)
	}
	rest = rest[4:]
	sig, rest = rest[:hl], rest[hl:]
	if n > len(rest) {
		return nil, nil, fmt.Errorf("%w: Length %d exceeds the %d bytes present", errSealFrame, n, len(rest))
	}
	sealed, rest = rest[:n], rest[n:]
	rest, ok = bytes.CutPrefix(rest, []byte(sealBoundary+"--"))
	if !ok || len(bytes.TrimRight(rest, "\r\n")) != 0 {
		return nil, nil, fmt.Errorf("%w: missing or trailing data after the closing boundary", errSealFrame)
	}
	return sig, sealed, nil
}

// cutLine removes a line equal to want (ending in CRLF or LF) from b.
func cutLine(b []byte, want string) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(want))
	if !ok {
		return b, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte("\r\n")); ok {
		return rest, true
	}
	return bytes.CutPrefix(rest, []byte("\n"))
}

// readPartHeaders reads the indented "Name: value" lines of one part. The
// octet-stream part has no blank line before its payload: headers end at
// the first line that is not indented.
func readPartHeaders(b []byte) (map[string]string, []byte, error) {
	hdr := make(map[string]string, 2)
	for len(b) > 0 && (b[0] == '\t' || b[0] == ' ') {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, nil, fmt.Errorf("%w: unterminated part header", errSealFrame)
		}
		line := strings.TrimSpace(string(b[:i]))
		b = b[i+1:]
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, nil, fmt.Errorf("%w: bad part header %q", errSealFrame, sanitize(line))
		}
		hdr[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
	if len(hdr) == 0 {
		return nil, nil, fmt.Errorf("%w: part without headers", errSealFrame)
	}
	return hdr, b, nil
}

// originalLength reads Length from "type=application/soap+xml;charset=UTF-8;Length=123".
func originalLength(v string) (int, error) {
	var typ, length string
	for _, p := range strings.Split(v, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "type":
			typ = val
		case "length":
			length = val
		}
	}
	if !strings.EqualFold(typ, "application/soap+xml") {
		return 0, fmt.Errorf("%w: OriginalContent type %q", errSealFrame, sanitize(typ))
	}
	n, err := strconv.Atoi(length)
	if err != nil || n < 0 || len(length) > 10 {
		return 0, fmt.Errorf("%w: OriginalContent Length %q", errSealFrame, sanitize(length))
	}
	return n, nil
}

// unseal verifies and decrypts a sealed response body.
func unseal(s sealer, proto string, body []byte) ([]byte, error) {
	sig, sealed, err := splitSealed(body, proto)
	if err != nil {
		return nil, err
	}
	plain, err := s.Unwrap(sealed, sig)
	if err != nil {
		return nil, fmt.Errorf("unseal: %w", err)
	}
	return plain, nil
}
