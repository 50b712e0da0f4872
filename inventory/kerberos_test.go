package inventory

import (
	"slices"
	"strings"
	"testing"
)

func TestKerberosInventory(t *testing.T) {
	inv, err := Parse("/etc/aadcready/inv.yaml", []byte(`defaults:
  auth: kerberos
  kerberos:
    realm: CONTOSO.COM
    kdc: [dc01.contoso.com, "dc02.contoso.com:88"]
hosts:
  - name: aadc01.contoso.com            # ticket cache (kinit): no user, no password
  - name: aadc02.contoso.com
    username: svc-scan@CONTOSO.COM
    keytab: svc-scan.keytab
    kerberos:
      spn: WSMAN/aadc02.contoso.com     # per host; realm and kdc inherited
  - name: 10.1.2.3
    auth: negotiate
    ntlm_fallback: true
    username: 'CONTOSO\svc-scan'
    password_env: AADCREADY_PASSWORD
`))
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Hosts
	if h[0].Auth != AuthKerberos || h[0].Username != "" || h[0].Secret != (SecretRef{}) || !h[0].usesTicketCache() {
		t.Errorf("host 1: %+v", h[0])
	}
	if h[0].Kerberos.Realm != "CONTOSO.COM" || !slices.Equal(h[0].Kerberos.KDCs, []string{"dc01.contoso.com", "dc02.contoso.com:88"}) {
		t.Errorf("host 1 kerberos: %+v", h[0].Kerberos)
	}
	if h[1].Keytab != "/etc/aadcready/svc-scan.keytab" || h[1].Kerberos.SPN != "WSMAN/aadc02.contoso.com" || h[1].Kerberos.Realm != "CONTOSO.COM" {
		t.Errorf("host 2: %+v", h[1])
	}
	if h[2].Auth != AuthNegotiate || !h[2].NTLMFallback || h[2].Kerberos.Realm != "CONTOSO.COM" {
		t.Errorf("host 3: %+v", h[2])
	}
}

func TestKerberosInventoryErrors(t *testing.T) {
	_, err := Parse("inv.yaml", []byte(`defaults:
  username: 'CONTOSO\svc'
  password_env: PW
hosts:
  - name: a.contoso.com
    keytab: k.keytab
  - name: b.contoso.com
    auth: kerberos
    keytab: k.keytab
  - name: c.contoso.com
    auth: kerberos
    ntlm_fallback: true
  - name: d.contoso.com
    auth: negotiate
    kerberos:
      realm: "CONTOSO COM"
      spn: aadc01
      kdc: []
      site: x
  - name: e.contoso.com
    auth: ntlm
    kerberos: {realm: CONTOSO.COM}
`))
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{
		`inv.yaml:6: host "a.contoso.com": keytab: only applies to auth: kerberos or negotiate`,
		`inv.yaml:9: host "b.contoso.com": keytab: a keytab and a password source are both given`,
		`inv.yaml:12: host "c.contoso.com": ntlm_fallback: only applies to auth: negotiate`,
		`inv.yaml:16: host "d.contoso.com": kerberos.realm: "CONTOSO COM" is not a realm name`,
		`inv.yaml:17: host "d.contoso.com": kerberos.spn: "aadc01" is not a service principal name`,
		`inv.yaml:18: host "d.contoso.com": kerberos.kdc: is empty`,
		`inv.yaml:19: host "d.contoso.com": kerberos: unknown key "site"`,
		`inv.yaml:22: host "e.contoso.com": kerberos: only applies to auth: kerberos or negotiate`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n got: %s\nwant: %s…", i+1, got[i], want[i])
		}
	}
}
