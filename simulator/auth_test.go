package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"slices"
	"testing"

	"github.com/bodgit/ntlmssp"
)

// TestAuthentication: what the WinRM service accepts with its defaults and
// with Basic and AllowUnencrypted switched on, over HTTP and HTTPS.
func TestAuthentication(t *testing.T) {
	local := User{Name: "Administrator", Password: testPassword}
	domain := User{Name: testUser, Password: testPassword}
	s := startHosts(t,
		Host{Name: "defaults", HTTPS: true, Users: []User{domain, local}},
		Host{Name: "basic-only", Basic: true, HTTPS: true, Users: []User{domain, local}},
		Host{Name: "open", Basic: true, AllowUnencrypted: true, Users: []User{domain, local}},
	)
	for _, tt := range []struct {
		name, host string
		https      bool
		user       string
		password   string
		basic      bool
		noSeal     bool
		want       int // status of Create
		failures   int64
	}{
		{"NTLM sealed over HTTP", "defaults", false, testUser, testPassword, false, false, 200, 0},
		{"NTLM unsealed over HTTP is refused", "defaults", false, testUser, testPassword, false, true, 401, 0},
		{"NTLM wrong password", "defaults", false, testUser, "wrong", false, false, 401, 1},
		{"NTLM unknown user", "defaults", false, `CONTOSO\nobody`, testPassword, false, false, 401, 1},
		{"NTLM with the DNS domain", "defaults", false, `contoso.com\svc-aadcready`, testPassword, false, false, 200, 0},
		{"NTLM with a UPN", "defaults", false, `svc-aadcready@contoso.com`, testPassword, false, false, 200, 0},
		{"NTLM local account", "defaults", false, "Administrator", testPassword, false, false, 200, 0},
		{"NTLM unsealed over HTTPS", "defaults", true, testUser, testPassword, false, true, 200, 0},
		{"NTLM sealed over HTTPS", "defaults", true, testUser, testPassword, false, false, 200, 0},
		{"Basic is off by default", "defaults", false, "Administrator", testPassword, true, false, 401, 1},
		{"Basic is off by default over HTTPS", "defaults", true, "Administrator", testPassword, true, false, 401, 1},
		{"Basic needs AllowUnencrypted over HTTP", "basic-only", false, "Administrator", testPassword, true, false, 401, 1},
		{"Basic over HTTPS", "basic-only", true, "Administrator", testPassword, true, false, 200, 0},
		{"Basic over HTTP when allowed", "open", false, "Administrator", testPassword, true, false, 200, 0},
		{"Basic with a domain account", "open", false, testUser, testPassword, true, false, 401, 1},
		{"Basic wrong password", "open", false, "Administrator", "wrong", true, false, 401, 1},
		{"NTLM unsealed when allowed", "open", false, testUser, testPassword, false, true, 200, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Stats().Hosts[tt.host]
			c := client(t, s, tt.host, tt.https)
			c.user, c.password, c.basic, c.noSeal = tt.user, tt.password, tt.basic, tt.noSeal
			msg, _ := c.soapRequest(actionCreate, resourceCmd, "", "", "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>")
			status, _, err := c.post(msg)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.want {
				t.Fatalf("status %d, want %d", status, tt.want)
			}
			after := s.Stats().Hosts[tt.host]
			if after.AuthAttempts-before.AuthAttempts != 1 || after.AuthFailures-before.AuthFailures != tt.failures {
				t.Errorf("%d auth attempts, %d failures; want 1 and %d", after.AuthAttempts-before.AuthAttempts, after.AuthFailures-before.AuthFailures, tt.failures)
			}
		})
	}
}

// TestConnectionOrientedNTLM: one handshake authenticates the connection
// for every later request on it, which carry no Authorization header.
func TestConnectionOrientedNTLM(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01"})
	c := client(t, s, "aadc01", false)
	for range 3 {
		c.run("hostname", nil)
	}
	st := s.Stats().Hosts["aadc01"]
	if st.AuthAttempts != 1 || st.Connections != 1 || st.Ops.Create != 3 {
		t.Fatalf("stats %+v: want one connection, one auth attempt, three shells", st)
	}
	// A new connection is not authenticated.
	c2 := &testClient{t: t, addr: c.addr}
	resp, _, err := c2.exchange([]byte("<x/>"), http.Header{"Content-Type": {"application/soap+xml"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.close()
	offered := resp.Header.Values("WWW-Authenticate")
	if resp.StatusCode != 401 || !slices.Contains(offered, "Negotiate") || !slices.Contains(offered, "Kerberos") || slices.Contains(offered, `Basic realm="WSMAN"`) {
		t.Fatalf("unauthenticated request: %d, offered %q", resp.StatusCode, offered)
	}
}

// TestChannelBindings: over HTTPS the NTLM handshake must carry the
// bindings of the host's certificate when it carries any.
func TestChannelBindings(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01", HTTPS: true})
	_, httpsAddr := s.Endpoint("aadc01")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	for name, tt := range map[string]struct {
		cbt  *ntlmssp.ChannelBindings
		want int
	}{
		"right certificate": {nil, 200}, // nil: computed from the connection below
		"wrong certificate": {channelBindings([]byte("another certificate")), 401},
	} {
		t.Run(name, func(t *testing.T) {
			c := &testClient{t: t, addr: httpsAddr, tls: &tls.Config{RootCAs: pool, ServerName: "aadc01"}}
			defer c.close()
			nc, _ := ntlmssp.NewClient(ntlmssp.SetUserInfo("svc-aadcready", testPassword), ntlmssp.SetDomain("CONTOSO"))
			neg, _ := nc.Authenticate(nil, nil)
			resp, _, err := c.exchange(nil, http.Header{"Authorization": {"Negotiate " + base64.StdEncoding.EncodeToString(neg)}})
			if err != nil {
				t.Fatal(err)
			}
			chal, _ := base64.StdEncoding.DecodeString(resp.Header.Get("WWW-Authenticate")[len("Negotiate "):])
			cbt := tt.cbt
			if cbt == nil {
				cbt = channelBindings(c.conn.(*tls.Conn).ConnectionState().PeerCertificates[0].Raw)
			}
			auth, err := nc.Authenticate(chal, cbt)
			if err != nil {
				t.Fatal(err)
			}
			resp, _, err = c.exchange(nil, http.Header{"Authorization": {"Negotiate " + base64.StdEncoding.EncodeToString(auth)}})
			if err != nil || resp.StatusCode != tt.want {
				t.Fatalf("AUTHENTICATE: %v %v, want %d", resp.StatusCode, err, tt.want)
			}
		})
	}
}

// TestTamperedSealedMessage: a sealed body whose signature does not verify
// is refused.
func TestTamperedSealedMessage(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01"})
	c := client(t, s, "aadc01", false)
	if code, err := c.authenticate(); err != nil || code != 200 {
		t.Fatal(code, err)
	}
	msg, _ := c.soapRequest(actionCreate, resourceCmd, "", "", "")
	body := c.sealBody([]byte(msg))
	body[len(body)-40] ^= 1
	resp, _, err := c.exchange(body, http.Header{"Content-Type": {`multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`}})
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("tampered message: %v %v", resp, err)
	}
}

// TestHTTPSurface: paths, methods and media types the listener refuses.
func TestHTTPSurface(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01", AllowUnencrypted: true, Basic: true, Users: []User{{Name: "Administrator", Password: testPassword}}})
	addr, _ := s.Endpoint("aadc01")
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("Administrator:"+testPassword))
	for name, tt := range map[string]struct {
		method, path, contentType string
		want                      int
	}{
		"wrong path":         {"POST", "/other", "application/soap+xml", 404},
		"GET":                {"GET", "/wsman", "", 405},
		"wrong media type":   {"POST", "/wsman", "text/plain", 415},
		"not a SOAP message": {"POST", "/wsman", "application/soap+xml;charset=UTF-8", 500},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, "http://"+addr+tt.path, stringsReader("not xml"))
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("Authorization", auth)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || resp.Header.Get("Server") != "Microsoft-HTTPAPI/2.0" {
				t.Fatalf("status %d (Server %q), want %d", resp.StatusCode, resp.Header.Get("Server"), tt.want)
			}
		})
	}
}
