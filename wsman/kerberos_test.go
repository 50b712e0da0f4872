package wsman

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// krb5.conf as Debian ships it has v4 directives gokrb5 does not support:
// they are skipped, not fatal. Inventory realm and KDCs override it.
func TestLoadKrb5ConfSkipsV4AndTakesInventoryKDCs(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "krb5.conf")
	text := `[libdefaults]
	default_realm = ATHENA.MIT.EDU
[realms]
	ATHENA.MIT.EDU = {
		kdc = kerberos.mit.edu
		v4_instance_convert = {
			mit = mit.edu
		}
	}
	CONTOSO.COM = {
		kdc = old-dc.contoso.com
	}
`
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadKrb5Conf(KerberosOptions{Krb5Conf: conf, Realm: "CONTOSO.COM", KDCs: []string{"dc01.contoso.com", "10.0.0.1:88"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LibDefaults.DefaultRealm != "CONTOSO.COM" {
		t.Errorf("default realm %q", cfg.LibDefaults.DefaultRealm)
	}
	_, kdcs, err := cfg.GetKDCs("CONTOSO.COM", true)
	got := map[string]bool{kdcs[1]: true, kdcs[2]: true} // gokrb5 shuffles them
	if err != nil || len(kdcs) != 2 || !got["dc01.contoso.com:88"] || !got["10.0.0.1:88"] {
		t.Errorf("KDCs %v %v", kdcs, err)
	}
	for _, et := range cfg.LibDefaults.DefaultTktEnctypeIDs {
		if !sealable(et) {
			t.Errorf("enctype %d requested", et)
		}
	}
	if _, err := loadKrb5Conf(KerberosOptions{Krb5Conf: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing krb5_conf was accepted")
	}
}

func TestCCachePath(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "krb5.conf")
	os.WriteFile(conf, []byte("[libdefaults]\n  default_ccache_name = FILE:/run/user/%{uid}/krb5cc\n[realms]\n  default_ccache_name = nope\n"), 0o600)
	uid := strconv.Itoa(os.Getuid())
	t.Setenv("KRB5CCNAME", "")
	for _, tc := range []struct{ given, conf, want string }{
		{"/x/cc", conf, "/x/cc"},
		{"", conf, "/run/user/" + uid + "/krb5cc"},
		{"", "", "/tmp/krb5cc_" + uid},
	} {
		if got := ccachePath(tc.given, tc.conf); got != tc.want {
			t.Errorf("ccachePath(%q, %q) = %q, want %q", tc.given, tc.conf, got, tc.want)
		}
	}
	t.Setenv("KRB5CCNAME", "FILE:/env/cc")
	if got := ccachePath("", conf); got != "/env/cc" {
		t.Errorf("KRB5CCNAME ignored: %q", got)
	}
}
