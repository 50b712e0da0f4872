package wsman

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"aadcready/wsman/krb5gss"
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

// A hostile host's reply to the AP-REQ never panics the client, and only
// an AP-REP made with the ticket's session key that echoes our
// authenticator is accepted.
func FuzzKrbAccept(f *testing.F) {
	key := types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: bytes.Repeat([]byte{9}, 32)}
	auth, _ := types.NewAuthenticator("R", types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "u"))
	auth.GenerateSeqNumberAndSubKey(key.KeyType, 32)
	good, err := krb5gss.MarshalAPRep(key, auth.CTime, auth.Cusec, auth.SubKey, 5)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(krb5gss.Frame(krb5gss.TokAPRep, good))
	f.Add(krb5gss.Frame(krb5gss.TokKRBErr, []byte{0x7e, 0x00}))
	f.Add([]byte{0xa1, 0x03, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, reply []byte) {
		k := &krbInitiator{ticketKey: key, auth: auth}
		if k.accept(reply) == nil && k.Sealer == nil {
			t.Fatal("accepted without a context")
		}
	})
}

func TestKrbAcceptChecksTheAPRep(t *testing.T) {
	key := types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: bytes.Repeat([]byte{9}, 32)}
	other := types.EncryptionKey{KeyType: key.KeyType, KeyValue: bytes.Repeat([]byte{8}, 32)}
	auth, _ := types.NewAuthenticator("R", types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "u"))
	auth.GenerateSeqNumberAndSubKey(key.KeyType, 32)
	for name, tc := range map[string]struct {
		key   types.EncryptionKey
		cusec int
		ok    bool
	}{
		"ours":              {key, auth.Cusec, true},
		"another key":       {other, auth.Cusec, false},
		"another timestamp": {key, auth.Cusec + 1, false},
	} {
		rep, err := krb5gss.MarshalAPRep(tc.key, auth.CTime, tc.cusec, auth.SubKey, 5)
		if err != nil {
			t.Fatal(err)
		}
		k := &krbInitiator{ticketKey: key, auth: auth}
		err = k.accept(krb5gss.Frame(krb5gss.TokAPRep, rep))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, errMutual)) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
