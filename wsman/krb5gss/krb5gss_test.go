package krb5gss

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"
)

func key(t *testing.T, et int32, n int) types.EncryptionKey {
	b := make([]byte, n)
	rand.Read(b)
	return types.EncryptionKey{KeyType: et, KeyValue: b}
}

// Both directions between an initiator and an acceptor Sealer, and what
// each refuses: replays, the other direction's tokens, tampering. (MIT
// interop is in wsman's and simulator's tests.)
func TestSealerRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		et     int32
		n, hdr int
	}{{etypeID.AES256_CTS_HMAC_SHA1_96, 32, 60}, {etypeID.AES128_CTS_HMAC_SHA1_96, 16, 60}, {etypeID.AES256_CTS_HMAC_SHA384_192, 32, 72}} {
		k := key(t, tc.et, tc.n)
		ini, err := NewSealer(k, false, true, 100, 7)
		if err != nil {
			t.Fatal(err)
		}
		acc, _ := NewSealer(k, true, true, 7, 100)
		for i, msg := range [][]byte{[]byte("<s:Envelope/>"), bytes.Repeat([]byte("x"), 70000), {}} {
			sealed, hdr, err := ini.Wrap(msg)
			if err != nil || len(hdr) != tc.hdr || len(hdr) != ini.HeaderLen() || len(sealed) != len(msg) {
				t.Fatalf("etype %d msg %d: hdr %d sealed %d err %v", tc.et, i, len(hdr), len(sealed), err)
			}
			if len(msg) > 16 && bytes.Contains(sealed, msg[:16]) {
				t.Fatal("plain text in the sealed data")
			}
			got, err := acc.Unwrap(sealed, hdr)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("acceptor unwrap %d: %v", i, err)
			}
			if _, err := acc.Unwrap(sealed, hdr); err == nil {
				t.Fatal("replay accepted")
			}
			back, bhdr, _ := acc.Wrap(msg)
			if _, err := acc.Unwrap(back, bhdr); err == nil {
				t.Fatal("acceptor accepted its own token")
			}
			if len(back) > 0 {
				bad := bytes.Clone(back)
				bad[0] ^= 1
				if _, err := ini.Unwrap(bad, bhdr); err == nil {
					t.Fatal("tampered token accepted")
				}
			}
			if got, err := ini.Unwrap(back, bhdr); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("initiator unwrap %d: %v", i, err)
			}
		}
	}
	if _, err := NewSealer(key(t, etypeID.RC4_HMAC, 16), false, false, 0, 0); err == nil {
		t.Error("RC4 accepted for sealing")
	}
}

// Hostile wrap tokens and GSS tokens never panic (run as a fuzz target by
// test/run; the seeds run with every go test).
func FuzzUnwrap(f *testing.F) {
	k := types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: bytes.Repeat([]byte{7}, 32)}
	acc, _ := NewSealer(k, true, true, 1, 1)
	sealed, hdr, _ := acc.Wrap([]byte("<s:Envelope/>"))
	f.Add(append(hdr, sealed...), len(hdr))
	f.Add([]byte{0x05, 0x04, 0x07, 0xff, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3}, 16)
	f.Add(Frame(TokAPRep, []byte{0x6f, 0x03, 0x30, 0x01, 0x00}), 0)
	f.Fuzz(func(t *testing.T, tok []byte, split int) {
		ini, _ := NewSealer(k, false, true, 1, 1)
		split = max(0, min(split, len(tok)))
		_, _ = ini.Unwrap(tok[split:], tok[:split])
		_, _, _ = Unframe(tok)
	})
}
