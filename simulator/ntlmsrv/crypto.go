package ntlmsrv

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"strings"

	//lint:ignore SA1019 NTLM is defined over MD4; nothing else will do
	"golang.org/x/crypto/md4"
)

// ntHash is MD4(UTF16LE(password)), what a domain controller stores.
func ntHash(password string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return h.Sum(nil)
}

// ntowfv2 is MS-NLMP 3.3.2 NTOWFv2: HMAC_MD5(MD4(UTF16LE(password)),
// UTF16LE(UPPER(user) + domain)). The domain keeps the case the client sent.
func ntowfv2(password, user, domain string) []byte {
	return hmacMD5(ntHash(password), utf16le(strings.ToUpper(user)+domain))
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	h := hmac.New(md5.New, key)
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

func md5Sum(data ...[]byte) []byte {
	h := md5.New()
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

// rc4K is RC4K(key, data) of MS-NLMP 6: a fresh stream per call.
func rc4K(key, data []byte) []byte {
	c, err := rc4.NewCipher(key)
	if err != nil {
		panic("ntlmsrv: " + err.Error()) // keys here are always 16 bytes
	}
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

// Magic constants of MS-NLMP 3.4.5.2 and 3.4.5.3 (NUL included).
var (
	clientSigningMagic = []byte("session key to client-to-server signing key magic constant\x00")
	serverSigningMagic = []byte("session key to server-to-client signing key magic constant\x00")
	clientSealingMagic = []byte("session key to client-to-server sealing key magic constant\x00")
	serverSealingMagic = []byte("session key to server-to-client sealing key magic constant\x00")
)

// signKey is SIGNKEY with extended session security.
func signKey(exportedSessionKey, magic []byte) []byte {
	return md5Sum(exportedSessionKey, magic)
}

// sealKey is SEALKEY with extended session security: the session key is cut
// to 5 or 7 bytes unless 128-bit was negotiated.
func sealKey(flags uint32, exportedSessionKey, magic []byte) []byte {
	key := exportedSessionKey
	switch {
	case flags&flag128 != 0:
	case flags&flag56 != 0:
		key = key[:7]
	default:
		key = key[:5]
	}
	return md5Sum(key, magic)
}
