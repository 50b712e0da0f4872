//go:build windows

package wsman

import "testing"

func sspiClass() Class { return ClassUnsupported } // over HTTP: sealing with SSPI is not implemented

func TestSSPIOverHTTPSIsSelected(t *testing.T) {
	s, err := Config{Host: "aadc01.contoso.com", Auth: AuthNegotiate, HTTPS: true}.settings()
	if err != nil || s.sspiSPN != "HTTP/aadc01.contoso.com" || s.kerberos() {
		t.Fatalf("%+v %v", s, err)
	}
}
