package simulator

import (
	"encoding/base64"
	"net"
	"net/http"
	"strings"

	"aadcready/simulator/ntlmsrv"
	"aadcready/wsman/krb5gss"
)

type connKey struct{}

// conn is the state of one TCP connection. NTLM is connection-oriented: the
// handshake spans requests and the session it yields seals every later
// message on the connection. net/http serves one request of a connection at
// a time, so this needs no lock.
type conn struct {
	host     *hostState
	https    bool
	remote   net.Addr
	acceptor *ntlmsrv.Acceptor // a handshake between NEGOTIATE and AUTHENTICATE
	session  *ntlmsrv.Session  // the authenticated NTLM context
	krb      *krb5gss.Sealer   // or the Kerberos context
	krbProto string            // multipart protocol the Kerberos client seals with
	user     string            // who the session belongs to
}

// authenticated reports whether the connection has a security context.
func (c *conn) authenticated() bool { return c.session != nil || c.krb != nil }

// authorize authenticates a request as the WinRM service does with its
// default configuration. When it returns ok, plain is the SOAP message
// (unsealed if it came sealed) and user who sent it; otherwise it has
// answered the request.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, c *conn, body []byte) (user string, plain []byte, sealed bool, ok bool) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Kerberos"), strings.EqualFold(scheme, "Negotiate") && isGSSToken(decodeToken(token)):
		if !s.kerberos(w, c, scheme, decodeToken(token)) {
			return "", nil, false, false
		}
	case strings.EqualFold(scheme, "Negotiate"):
		if !s.negotiate(w, c, token) {
			return "", nil, false, false
		}
	case strings.EqualFold(scheme, "Basic"):
		user, ok := s.basic(w, r, c)
		return user, body, false, ok
	case scheme == "" && c.authenticated():
		// Later requests on an authenticated connection carry no header.
	default:
		s.unauthorized(w, c, nil)
		return "", nil, false, false
	}
	return s.sessionMessage(w, r, c, body)
}

// negotiate runs one leg of the NTLM handshake; it reports whether the
// connection is now authenticated (after an AUTHENTICATE that verified).
func (s *Server) negotiate(w http.ResponseWriter, c *conn, token string) bool {
	h := c.host
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(raw) < 12 {
		s.unauthorized(w, c, nil)
		return false
	}
	switch raw[8] { // NTLMSSP message type
	case 1:
		c.session, c.krb, c.user = nil, nil, ""
		c.acceptor = ntlmsrv.NewAcceptor(&h.ntlm, c.bindings())
		challenge, err := c.acceptor.Challenge(raw)
		if err != nil {
			challenge = nil
		}
		s.unauthorized(w, c, challenge)
		return false
	case 3:
		h.counters.authAttempts.Add(1)
		a := c.acceptor
		c.acceptor = nil
		if a == nil {
			a = ntlmsrv.NewAcceptor(&h.ntlm, nil) // fails: no challenge
		}
		sess, err := a.Authenticate(raw)
		if err != nil {
			h.counters.authFailures.Add(1)
			s.log.Info("ntlm authentication failed", "host", h.cfg.Name, "err", err)
			s.unauthorized(w, c, nil)
			return false
		}
		c.session, c.krb, c.user = sess, nil, account(sess.Domain, sess.User)
		return true
	default:
		// A SPNEGO-wrapped or Kerberos token: this simulator only accepts
		// raw NTLMSSP under Negotiate.
		s.unauthorized(w, c, nil)
		return false
	}
}

// basic checks Basic credentials, sent with every request. It needs
// Basic=true and, over HTTP, AllowUnencrypted=true: the password would
// cross the network in clear.
func (s *Server) basic(w http.ResponseWriter, r *http.Request, c *conn) (string, bool) {
	h := c.host
	h.counters.authAttempts.Add(1)
	name, password, _ := r.BasicAuth()
	if !h.cfg.Basic || !c.https && !h.cfg.AllowUnencrypted || !h.basicAccount(name, password) {
		h.counters.authFailures.Add(1)
		s.log.Info("basic authentication refused", "host", h.cfg.Name, "user", name)
		s.unauthorized(w, c, nil)
		return "", false
	}
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/encrypted") {
		http.Error(w, "", http.StatusBadRequest) // nothing to unseal with
		return "", false
	}
	u, d := splitAccount(name)
	return account(d, u), true
}

// sessionMessage reads a message on an authenticated connection.
func (s *Server) sessionMessage(w http.ResponseWriter, r *http.Request, c *conn, body []byte) (string, []byte, bool, bool) {
	if isSealed(r.Header.Get("Content-Type"), c.protocol()) {
		plain, err := unseal(c.context(), c.protocol(), body)
		if err != nil {
			s.log.Info("sealed request rejected", "host", c.host.cfg.Name, "err", err)
			http.Error(w, "", http.StatusBadRequest)
			return "", nil, false, false
		}
		return c.user, plain, true, true
	}
	if len(body) > 0 && !c.https && !c.host.cfg.AllowUnencrypted {
		// The service refuses an unsealed message over HTTP with 401: the
		// credentials were fine, the transport was not.
		s.unauthorized(w, c, nil)
		return "", nil, false, false
	}
	return c.user, body, false, true
}

// decodeToken is the token of an Authorization header (nil if not base64).
func decodeToken(tok string) []byte {
	b, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(tok))
	return b
}

// bindings is what NTLM channel bindings must match on this connection.
func (c *conn) bindings() []byte {
	if !c.https {
		return nil
	}
	if _, err := c.host.certificate(); err != nil {
		return nil
	}
	return c.host.bindings
}

// unauthorized answers 401: with the CHALLENGE in the middle of a
// handshake, otherwise offering the schemes the service has enabled.
func (s *Server) unauthorized(w http.ResponseWriter, c *conn, challenge []byte) {
	c.host.counters.unauthorized.Add(1)
	hdr := w.Header()
	if challenge != nil {
		hdr.Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(challenge))
	} else {
		hdr.Add("WWW-Authenticate", "Negotiate")
		hdr.Add("WWW-Authenticate", "Kerberos")
		if c.host.cfg.Basic {
			hdr.Add("WWW-Authenticate", `Basic realm="WSMAN"`)
		}
	}
	hdr.Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

// account is the canonical "domain\user" (or "user") used for quotas and
// shell owners.
func account(domain, user string) string {
	if domain == "" || domain == "." {
		return user
	}
	return domain + `\` + user
}
