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

// MS-WSMV 2.2.9.1.1 message encryption with an NTLM (SPNEGO) session: the
// SOAP envelope is sealed and framed as multipart/encrypted.
const (
	sealProtocol    = "application/HTTP-SPNEGO-session-encrypted"
	sealContentType = `multipart/encrypted;protocol="` + sealProtocol + `";boundary="Encrypted Boundary"`
	sealBoundary    = "--Encrypted Boundary"
	sealTrailer     = sealBoundary + "--\r\n"
	sealSigLen      = 16
	soapContentType = "application/soap+xml;charset=UTF-8"
)

// sealer is an NTLM security session: bodgit/ntlmssp's SecuritySession on
// the client side. Each call advances the direction's RC4 stream and
// sequence number, so calls must happen in wire order.
type sealer interface {
	Wrap(plain []byte) (sealed, signature []byte, err error)
	Unwrap(sealed, signature []byte) ([]byte, error)
}

func sealHeader(n int) string {
	return sealBoundary + "\r\n" +
		"\tContent-Type: " + sealProtocol + "\r\n" +
		"\tOriginalContent: type=" + soapContentType + ";Length=" + strconv.Itoa(n) + "\r\n" +
		sealBoundary + "\r\n" +
		"\tContent-Type: application/octet-stream\r\n"
}

// sealedLen is the framed size of an n-byte message (RC4 keeps the length).
func sealedLen(n int) int {
	return len(sealHeader(n)) + 4 + sealSigLen + n + len(sealTrailer)
}

// appendSealed seals plain with s and appends the framed body to dst.
func appendSealed(dst []byte, s sealer, plain []byte) ([]byte, error) {
	sealed, sig, err := s.Wrap(plain)
	if err != nil {
		return dst, fmt.Errorf("seal: %w", err)
	}
	if len(sig) != sealSigLen || len(sealed) != len(plain) {
		return dst, fmt.Errorf("seal: unexpected signature (%d bytes) or sealed length (%d for %d)", len(sig), len(sealed), len(plain))
	}
	dst = append(dst, sealHeader(len(plain))...)
	dst = binary.LittleEndian.AppendUint32(dst, sealSigLen)
	dst = append(dst, sig...)
	dst = append(dst, sealed...)
	return append(dst, sealTrailer...), nil
}

// isSealedContentType reports whether a response Content-Type announces an
// SPNEGO-sealed multipart body.
func isSealedContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/encrypted" || !strings.EqualFold(params["protocol"], sealProtocol) {
		return false
	}
	b, ok := params["boundary"]
	return !ok || b == sealBoundary[2:]
}

var errSealFrame = errors.New("malformed multipart/encrypted body")

// splitSealed parses a multipart/encrypted body into signature and sealed
// bytes. The sealed part is binary, so it is cut by the announced Length, not
// by searching for the boundary. It never panics on hostile input.
func splitSealed(body []byte) (sig, sealed []byte, err error) {
	rest, ok := cutLine(body, sealBoundary)
	if !ok {
		return nil, nil, fmt.Errorf("%w: no opening boundary", errSealFrame)
	}
	hdr, rest, err := readPartHeaders(rest)
	if err != nil {
		return nil, nil, err
	}
	if !strings.EqualFold(hdr["content-type"], sealProtocol) {
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
	if len(rest) < 4+sealSigLen || binary.LittleEndian.Uint32(rest) != sealSigLen {
		return nil, nil, fmt.Errorf("%w: bad signature length", errSealFrame)
	}
	rest = rest[4:]
	sig, rest = rest[:sealSigLen], rest[sealSigLen:]
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
func unseal(s sealer, body []byte) ([]byte, error) {
	sig, sealed, err := splitSealed(body)
	if err != nil {
		return nil, err
	}
	plain, err := s.Unwrap(sealed, sig)
	if err != nil {
		return nil, fmt.Errorf("unseal: %w", err)
	}
	return plain, nil
}
