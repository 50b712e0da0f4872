package ntlmsrv

import (
	"crypto/rc4"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// ErrNoSealing reports a session whose negotiated flags cannot seal the way
// this acceptor implements it (extended session security with SEAL).
var ErrNoSealing = errors.New("ntlmsrv: sealing was not negotiated with extended session security")

// ErrBadSignature reports a sealed message whose signature or sequence
// number does not verify.
var ErrBadSignature = errors.New("ntlmsrv: message signature does not verify")

// Session is an authenticated NTLM security context, seen from the server.
// It keeps one RC4 stream and one sequence number per direction for the life
// of the connection (MS-NLMP 3.4: connection-oriented mode), so messages
// must be sealed and unsealed in the order they travel. It is not safe for
// concurrent use; one HTTP connection handles one request at a time.
type Session struct {
	// User and Domain are the names the client authenticated with.
	User, Domain string

	flags                 uint32
	sendSignKey, recvSign []byte
	sendSeal, recvSeal    *rc4.Cipher
	sendSeq, recvSeq      uint32
	canSeal               bool
}

func newSession(flags uint32, exported []byte, user, domain string) *Session {
	s := &Session{User: user, Domain: domain, flags: flags}
	s.canSeal = flags&flagESS != 0 && flags&flagSeal != 0
	if !s.canSeal {
		return s
	}
	s.sendSignKey = signKey(exported, serverSigningMagic)
	s.recvSign = signKey(exported, clientSigningMagic)
	var err error
	if s.sendSeal, err = rc4.NewCipher(sealKey(flags, exported, serverSealingMagic)); err != nil {
		panic("ntlmsrv: " + err.Error()) // MD5 output is always a valid RC4 key
	}
	if s.recvSeal, err = rc4.NewCipher(sealKey(flags, exported, clientSealingMagic)); err != nil {
		panic("ntlmsrv: " + err.Error())
	}
	return s
}

// CanSeal says whether Seal and Unseal work on this session.
func (s *Session) CanSeal() bool { return s.canSeal }

// Seal encrypts a server-to-client message and returns its 16-byte
// signature and the sealed bytes (GSS_WrapEx, MS-NLMP 3.4.3).
func (s *Session) Seal(msg []byte) (sig, sealed []byte, err error) {
	if !s.canSeal {
		return nil, nil, ErrNoSealing
	}
	sealed = make([]byte, len(msg))
	s.sendSeal.XORKeyStream(sealed, msg)
	sig = s.mac(s.sendSeal, s.sendSignKey, s.sendSeq, msg)
	s.sendSeq++
	return sig, sealed, nil
}

// Unseal decrypts a client-to-server message and verifies its signature
// (GSS_UnwrapEx). A failure leaves the RC4 stream advanced, as on Windows:
// the connection cannot be used for sealed traffic any more.
func (s *Session) Unseal(sig, sealed []byte) ([]byte, error) {
	if !s.canSeal {
		return nil, ErrNoSealing
	}
	if len(sig) != 16 {
		return nil, ErrBadSignature
	}
	msg := make([]byte, len(sealed))
	s.recvSeal.XORKeyStream(msg, sealed)
	want := s.mac(s.recvSeal, s.recvSign, s.recvSeq, msg)
	if subtle.ConstantTimeCompare(sig, want) != 1 {
		return nil, ErrBadSignature
	}
	s.recvSeq++
	return msg, nil
}

// mac is MAC() with extended session security (MS-NLMP 3.4.4.2): version 1,
// the first 8 bytes of HMAC_MD5(SigningKey, SeqNum || Message), encrypted
// with the direction's RC4 stream when the key was exchanged, and SeqNum.
func (s *Session) mac(handle *rc4.Cipher, key []byte, seq uint32, msg []byte) []byte {
	seqBytes := binary.LittleEndian.AppendUint32(nil, seq)
	checksum := hmacMD5(key, seqBytes, msg)[:8]
	if s.flags&flagKeyExch != 0 {
		handle.XORKeyStream(checksum, checksum)
	}
	sig := make([]byte, 0, 16)
	sig = binary.LittleEndian.AppendUint32(sig, 1)
	sig = append(sig, checksum...)
	return append(sig, seqBytes...)
}
