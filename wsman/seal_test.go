package wsman

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bodgit/ntlmssp"
)

// sessionPair runs a handshake between bodgit's client and the test
// acceptor in memory and returns both ends' sealing sessions.
func sessionPair(t testing.TB) (client sealer, server *serverSession) {
	t.Helper()
	nc, err := ntlmssp.NewClient(ntlmssp.SetUserInfo("alice", "Passw0rd!"), ntlmssp.SetDomain("TESTDOM"))
	if err != nil {
		t.Fatal(err)
	}
	neg, err := nc.Authenticate(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc := &ntlmAcceptor{users: map[string]string{`TESTDOM\ALICE`: "Passw0rd!"}}
	chal, err := acc.challengeFor(neg)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSealFlags(chal); err != nil {
		t.Fatal(err)
	}
	auth, err := nc.Authenticate(chal, nil)
	if err != nil {
		t.Fatal(err)
	}
	server, err = acc.accept(auth)
	if err != nil {
		t.Fatal(err)
	}
	return nc.SecuritySession(), server
}

func TestSealRoundTrip(t *testing.T) {
	client, server := sessionPair(t)
	for i, msg := range []string{"<s:Envelope>first</s:Envelope>", "", strings.Repeat("x", 70000), "--Encrypted Boundary--\r\n"} {
		body, err := appendSealed(nil, client, protoSPNEGO, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if len(body) != sealedLen(protoSPNEGO, ntlmSigLen, len(msg)) {
			t.Fatalf("message %d: framed %d bytes, sealedLen says %d", i, len(body), sealedLen(protoSPNEGO, ntlmSigLen, len(msg)))
		}
		if len(msg) > 20 && !strings.Contains(sealHeader(protoSPNEGO, 0)+sealTrailer, msg[:20]) && bytes.Contains(body, []byte(msg[:20])) {
			t.Fatalf("message %d: plaintext visible in the sealed body", i)
		}
		got, err := unseal(server, protoSPNEGO, body)
		if err != nil || string(got) != msg {
			t.Fatalf("message %d: server unsealed %q, %v", i, truncate(got), err)
		}
		reply, err := appendSealed(nil, server, protoSPNEGO, []byte("reply "+msg))
		if err != nil {
			t.Fatal(err)
		}
		got, err = unseal(client, protoSPNEGO, reply)
		if err != nil || string(got) != "reply "+msg {
			t.Fatalf("message %d: client unsealed %q, %v", i, truncate(got), err)
		}
	}
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func TestUnsealRejectsReplayAndTampering(t *testing.T) {
	client, server := sessionPair(t)
	first, _ := appendSealed(nil, server, protoSPNEGO, []byte("one"))
	if _, err := unseal(client, protoSPNEGO, first); err != nil {
		t.Fatal(err)
	}
	if _, err := unseal(client, protoSPNEGO, first); err == nil {
		t.Fatal("a replayed message was accepted")
	}

	client, server = sessionPair(t)
	msg, _ := appendSealed(nil, server, protoSPNEGO, []byte("two"))
	msg[len(msg)-len(sealTrailer)-1] ^= 1
	if _, err := unseal(client, protoSPNEGO, msg); err == nil {
		t.Fatal("a tampered message was accepted")
	}
}

func validFrame(t testing.TB) []byte {
	client, _ := sessionPair(t)
	b, err := appendSealed(nil, client, protoSPNEGO, []byte("<s:Envelope/>"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSplitSealedMalformed(t *testing.T) {
	good := string(validFrame(t))
	sigAt := strings.Index(good, "octet-stream\r\n") + len("octet-stream\r\n")
	cases := map[string]string{
		"empty":                "",
		"no boundary":          "hello",
		"only boundary":        sealBoundary + "\r\n",
		"wrong protocol":       strings.Replace(good, protoSPNEGO, "application/HTTP-Kerberos-session-encrypted", 1),
		"no length":            strings.Replace(good, ";Length=13", "", 1),
		"negative length":      strings.Replace(good, "Length=13", "Length=-1", 1),
		"length too long":      strings.Replace(good, "Length=13", "Length=99", 1),
		"length too short":     strings.Replace(good, "Length=13", "Length=12", 1),
		"huge length":          strings.Replace(good, "Length=13", "Length=99999999999999999999", 1),
		"wrong original type":  strings.Replace(good, "type=application/soap+xml", "type=text/plain", 1),
		"no second part":       good[:strings.Index(good, "\tContent-Type: application/octet")],
		"wrong second type":    strings.Replace(good, "octet-stream", "soap+xml", 1),
		"sig length 15":        good[:sigAt] + "\x0f" + good[sigAt+1:],
		"truncated sig":        good[:sigAt+10],
		"no trailer":           strings.TrimSuffix(good, sealTrailer),
		"data after trailer":   good + "more",
		"header without colon": strings.Replace(good, "\tContent-Type: application/octet-stream", "\tgarbage", 1),
		"unterminated header":  sealBoundary + "\r\n\tContent-Type: x",
	}
	for name, body := range cases {
		if _, _, err := splitSealed([]byte(body), protoSPNEGO); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := splitSealed([]byte(good), protoSPNEGO); err != nil {
		t.Fatalf("valid frame refused: %v", err)
	}
	lf := strings.ReplaceAll(good[:sigAt], "\r\n", "\n") + good[sigAt:]
	if _, _, err := splitSealed([]byte(lf), protoSPNEGO); err != nil {
		t.Errorf("LF-only headers refused: %v", err)
	}
}

func TestSealedContentType(t *testing.T) {
	for ct, want := range map[string]bool{
		sealContentType(protoSPNEGO): true,
		`multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"`:                                 true,
		`Multipart/Encrypted; protocol="application/http-spnego-session-encrypted"; boundary="Encrypted Boundary"`: true,
		`multipart/encrypted;protocol="application/HTTP-Kerberos-session-encrypted"`:                               false,
		`multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="other"`:                false,
		soapContentType: false,
		"":              false,
	} {
		if got := isSealedContentType(ct, protoSPNEGO); got != want {
			t.Errorf("%q: %v, want %v", ct, got, want)
		}
	}
}

func FuzzSplitSealed(f *testing.F) {
	f.Add(validFrame(f))
	f.Add([]byte(sealBoundary + "\n\tContent-Type: " + protoSPNEGO + "\n\tOriginalContent: type=application/soap+xml;Length=0\n" +
		sealBoundary + "\n\tContent-Type: application/octet-stream\n\x10\x00\x00\x00" + strings.Repeat("s", 16) + sealTrailer))
	f.Add([]byte("--Encrypted Boundary\r\n\t:\r\n"))
	client, _ := sessionPair(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		sig, sealed, err := splitSealed(body, protoSPNEGO)
		if err != nil {
			return
		}
		if len(sig) == 0 || len(sig) > maxSealHeader || len(sealed) > len(body) {
			t.Fatalf("sig %d bytes, sealed %d of %d", len(sig), len(sealed), len(body))
		}
		_, _ = unseal(client, protoSPNEGO, body) // must not panic whatever the bytes
	})
}

func BenchmarkSealUnseal(b *testing.B) {
	client, server := sessionPair(b)
	req := bytes.Repeat([]byte("<rsp:Receive>x</rsp:Receive>"), 60) // ~1.7 KB, a typical request
	resp := bytes.Repeat([]byte("<rsp:Stream>aGVsbG8=</rsp:Stream>"), 120)
	var buf []byte
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		// client request: seal + frame; the server's part is not timed
		if buf, err = appendSealed(buf[:0], client, protoSPNEGO, req); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := unseal(server, protoSPNEGO, buf); err != nil {
			b.Fatal(err)
		}
		framed, _ := appendSealed(nil, server, protoSPNEGO, resp)
		b.StartTimer()
		// client response: parse frame + verify + unseal
		if _, err := unseal(client, protoSPNEGO, framed); err != nil {
			b.Fatal(err)
		}
	}
}
