package inventory

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestLoadBadInventories pins, for each invalid file, every error the loader
// reports (one line each, in line order) and secrets that must not appear.
func TestLoadBadInventories(t *testing.T) {
	tests := []struct {
		file  string
		want  []string // one substring per reported error, in order
		never []string // must appear in no error
	}{
		{"invalid-unknown-key.yaml", []string{
			`invalid-unknown-key.yaml:4: defaults: unknown key "timeout"; valid keys: allow_unencrypted, auth,`,
			`invalid-unknown-key.yaml:7: host "aadc01.contoso.com": unknown key "prot"; valid keys: address,`,
		}, nil},
		{"invalid-misplaced-keys.yaml", []string{
			`invalid-misplaced-keys.yaml:2: port: not allowed here; settings go under defaults:`,
			`invalid-misplaced-keys.yaml:8: group "emea": scheme: not allowed here; settings go under defaults:`,
			`invalid-misplaced-keys.yaml:11: unknown key "host"; valid keys: defaults, groups, hosts`,
		}, nil},
		{"invalid-duplicate-host.yaml", []string{
			`invalid-duplicate-host.yaml:10: host "AADC01.Contoso.com.": name: duplicate host: "aadc01.contoso.com" is already defined at line 7`,
			`invalid-duplicate-host.yaml:12: host "aadc01.contoso.com": name: duplicate host: "aadc01.contoso.com" is already defined at line 7`,
		}, nil},
		{"invalid-duplicate-key.yaml", []string{
			`invalid-duplicate-key.yaml:7: host "aadc01.contoso.com": port: set twice (first at line 6)`,
		}, nil},
		{"invalid-port.yaml", []string{
			`invalid-port.yaml:4: defaults: port: 0 is not between 1 and 65535`,
			`invalid-port.yaml:8: host "aadc02.contoso.com": port: 70000 is not between 1 and 65535`,
			`invalid-port.yaml:10: host "aadc03.contoso.com": port: must be a whole number, got "5986"`,
			`invalid-port.yaml:12: host "aadc04.contoso.com": port: must be a whole number, got 59.86`,
		}, nil},
		{"invalid-scheme-auth.yaml", []string{
			`invalid-scheme-auth.yaml:6: host "aadc01.contoso.com": scheme: "ftp" is not http or https`,
			`invalid-scheme-auth.yaml:8: host "aadc02.contoso.com": auth: "digest" is not one of ntlm, basic, kerberos, negotiate, certificate`,
			`invalid-scheme-auth.yaml:11: host "aadc03.contoso.com": auth: "spnego" is not one of`,
		}, nil},
		{"invalid-tags.yaml", []string{
			`invalid-tags.yaml:6: defaults: tags.change_board: must be a string, got 2024; put it in quotes`,
			`invalid-tags.yaml:10: host "aadc01.contoso.com": tags.environment: must be a string, got a list`,
			`invalid-tags.yaml:11: host "aadc01.contoso.com": tags: a tag has an empty name`,
			`invalid-tags.yaml:12: host "aadc01.contoso.com": tags.critical: must be a string, got true; put it in quotes`,
			`invalid-tags.yaml:14: host "aadc02.contoso.com": tags: must be a mapping of name: value, got "infra"`,
		}, nil},
		{"invalid-credentials-missing.yaml", []string{
			`invalid-credentials-missing.yaml:6: host "aadc01.emea.contoso.com": username: not set`,
			`invalid-credentials-missing.yaml:11: host "aadc01.amer.contoso.com": password: no password source; set one of password_env: VARIABLE, password_file: PATH or password_prompt: true`,
		}, nil},
		{"invalid-two-password-sources.yaml", []string{
			`invalid-two-password-sources.yaml:4: defaults: password_prompt: a password source is already given by password_env at line 3; give exactly one of`,
			`invalid-two-password-sources.yaml:8: host "aadc01.contoso.com": password_env: a password source is already given by password_file at line 7`,
		}, nil},
		{"invalid-password-in-file.yaml", []string{
			`invalid-password-in-file.yaml:3: defaults: password: passwords are not read from the inventory file; use password_env: VARIABLE, password_file: PATH (readable by its owner only) or password_prompt: true instead`,
			`invalid-password-in-file.yaml:7: host "aadc02.contoso.com": password: passwords are not read from the inventory file`,
		}, []string{"S3cr3t-Tier0!", "An0ther-S3cr3t"}},
		{"invalid-password-env-value.yaml", []string{
			`invalid-password-env-value.yaml:5: defaults: password_env: is not an environment variable name`,
			`invalid-password-env-value.yaml:9: host "aadc02.contoso.com": password_env: must be a string, got a value of type int`,
			`invalid-password-env-value.yaml:11: host "aadc03.contoso.com": password_prompt: false has no meaning`,
		}, []string{"Summer2024!", "123456"}},
		{"invalid-basic-over-http.yaml", []string{
			// Inherited: blamed on the host, with a note naming the origin.
			`invalid-basic-over-http.yaml:6: host "aadc01.contoso.com": auth: basic over http is refused by Windows unless its WinRM service allows unencrypted traffic, which sends the password readably; use scheme: https, or auth: ntlm, or set allow_unencrypted: true if that is really wanted (auth is set in defaults at line 4)`,
			// Set by the host itself: blamed on its own auth line.
			`invalid-basic-over-http.yaml:12: host "aadc04.contoso.com": auth: basic over http is refused by Windows`,
		}, nil},
		{"invalid-insecure-http.yaml", []string{
			`invalid-insecure-http.yaml:6: host "aadc01.contoso.com": insecure: only applies to https`,
			`invalid-insecure-http.yaml:11: host "aadc03.contoso.com": insecure: must be true or false, got "yes"`,
		}, nil},
		{"invalid-host-names.yaml", []string{
			`invalid-host-names.yaml:5: host #1: name: is a URL; give the bare host name and set scheme and port separately`,
			`invalid-host-names.yaml:6: host #2: name: is not a host name or IP address; if it is host:port, give the port separately`,
			`invalid-host-names.yaml:7: host #3: name: contains a space`,
			`invalid-host-names.yaml:8: host #4: name: missing`,
			`invalid-host-names.yaml:10: host "aadc05.contoso.com": address: is not a host name or IP address ('/' is not allowed)`,
			`invalid-host-names.yaml:11: host #6: must be a mapping with at least name:, got "aadc06.contoso.com"`,
		}, nil},
		{"invalid-groups.yaml", []string{
			`invalid-groups.yaml:7: group "emea" defaults: port: 99999 is not between 1 and 65535`,
			`invalid-groups.yaml:10: group "EMEA": name: duplicate group: "emea" is already defined at line 5`,
			`invalid-groups.yaml:13: group #3: name: missing`,
			`invalid-groups.yaml:17: group "apac": hosts: must be a list of hosts, got a mapping`,
		}, nil},
		{"invalid-prompt-usernames.yaml", []string{
			`invalid-prompt-usernames.yaml:13: host "aadc01.fabrikam.com": password_prompt: the prompt is asked once per run`,
		}, nil},
		{"invalid-username-control.yaml", []string{
			`invalid-username-control.yaml:4: host "aadc01.contoso.com": username: "CONTOSO\\svc\nnext" contains control characters`,
		}, nil},
		{"invalid-envelope.yaml", []string{
			`invalid-envelope.yaml:4: defaults: max_envelope_kb: 8 is not between 32 (the Windows minimum) and 1048576`,
		}, nil},
		{"invalid-no-hosts.yaml", []string{
			`invalid-no-hosts.yaml: no hosts; list them under hosts: or in groups:`,
		}, nil},
		{"invalid-syntax.yaml", []string{
			`invalid-syntax.yaml:5: invalid YAML: found a tab character that violates indentation; indent with spaces, not tabs`,
		}, nil},
		{"invalid-two-documents.yaml", []string{
			`invalid-two-documents.yaml:3: a second YAML document (after ---); an inventory is a single document`,
		}, nil},
		{"invalid-not-a-mapping.yaml", []string{
			`invalid-not-a-mapping.yaml:1: must be a mapping with the keys defaults, groups and hosts, got a list`,
		}, nil},
		{"invalid-many.yaml", []string{
			`invalid-many.yaml:4: defaults: unknown key "schema"`,
			`invalid-many.yaml:11: host "aadc01.emea.contoso.com": port: 65536 is not between 1 and 65535`,
			`invalid-many.yaml:13: host "aadc02.emea.contoso.com": auth: basic over http is refused by Windows`,
			`invalid-many.yaml:15: host "aadc01.EMEA.contoso.com": name: duplicate host`,
			`invalid-many.yaml:16: host "aadc03.contoso.com": password: no password source`,
		}, nil},
	}

	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			inv, err := Load(filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatalf("loaded %d hosts, want an error", len(inv.Hosts))
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), err)
			}
			for i, want := range tt.want {
				if !strings.Contains(got[i], want) {
					t.Errorf("error %d:\n got: %s\nwant: …%s…", i+1, got[i], want)
				}
			}
			for _, secret := range tt.never {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows %q:\n%s", secret, err)
				}
			}
		})
	}

	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no expected errors in this table", f)
		}
	}
}

func TestLoadGood(t *testing.T) {
	const file = "testdata/good-inheritance.yaml"
	inv, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	contoso := SecretRef{Env: "AADCREADY_PASSWORD"}
	lab := SecretRef{File: "/etc/aadcready/lab.pw"}
	// A relative ca_file is anchored to the inventory's folder.
	ca := filepath.Join("testdata", "certs", "contoso-ca.pem")
	base := map[string]string{"owner": "identity-team", "environment": "production"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	want := []Host{
		{ // https from the group, so the https port
			Name: "aadc01.emea.contoso.com", Port: 5986, Scheme: "https", Auth: "ntlm",
			Username: `CONTOSO\svc-aadcready`, Secret: contoso, CAFile: ca, MaxEnvelopeKB: 500,
			Tags: with(map[string]string{"region": "emea"}), Group: "emea", Source: file + ":17",
		},
		{ // host overrides port and merges its tags over the group's and the defaults'
			Name: "aadc02.emea.contoso.com", Address: "10.1.2.3", Port: 443, Scheme: "https", Auth: "ntlm",
			Username: `CONTOSO\svc-aadcready`, Secret: contoso, CAFile: ca, ServerName: "aadc02.emea.contoso.com",
			MaxEnvelopeKB: 500, Tags: with(map[string]string{"region": "emea", "owner": "emea-ops", "role": "staging"}),
			Group: "emea", Source: file + ":18",
		},
		{ // host goes back to http (any case accepted), so the http port
			Name: "aadc03.emea.contoso.com", Port: 5985, Scheme: "http", Auth: "ntlm",
			Username: `CONTOSO\svc-aadcready`, Secret: contoso, CAFile: ca, MaxEnvelopeKB: 500,
			Tags: with(map[string]string{"region": "emea"}), Group: "emea", Source: file + ":25",
		},
		{ // group overrides username and password source
			Name: "192.168.56.10", Port: 5986, Scheme: "https", Auth: "basic", Insecure: true,
			Username: `LAB\aadc-scan`, Secret: lab, MaxEnvelopeKB: 500,
			Tags: with(nil), Group: "lab", Source: file + ":35",
		},
		{
			Name: "fe80::10", Port: 5986, Scheme: "https", Auth: "ntlm", Insecure: true,
			Username: `LAB\aadc-scan`, Secret: lab, MaxEnvelopeKB: 500,
			Tags: with(nil), Group: "lab", Source: file + ":36",
		},
		{ // basic over http, explicitly allowed
			Name: "aadc04.contoso.com", Port: 5985, Scheme: "http", Auth: "basic", AllowUnencrypted: true,
			Username: `CONTOSO\svc-aadcready`, Secret: contoso, MaxEnvelopeKB: 500,
			Tags: with(nil), Source: file + ":39",
		},
		{ // the host's own password source replaces the inherited one
			Name: "AADC05", Port: 5985, Scheme: "http", Auth: "ntlm",
			Username: `CONTOSO\svc-aadcready`, Secret: SecretRef{Prompt: true}, MaxEnvelopeKB: 500,
			Tags: with(map[string]string{"environment": "dr"}), Source: file + ":42",
		},
	}
	if inv.Path != file {
		t.Errorf("Path = %q, want %q", inv.Path, file)
	}
	if len(inv.Hosts) != len(want) {
		t.Fatalf("got %d hosts, want %d: %+v", len(inv.Hosts), len(want), inv.Hosts)
	}
	for i := range want {
		if !reflect.DeepEqual(inv.Hosts[i], want[i]) {
			t.Errorf("host %d:\n got %+v\nwant %+v", i, inv.Hosts[i], want[i])
		}
	}

	// Hosts do not share tag maps: changing one leaves the others alone.
	inv.Hosts[0].Tags["owner"] = "changed"
	if inv.Hosts[1].Tags["owner"] != "emea-ops" || inv.Hosts[2].Tags["owner"] != "identity-team" {
		t.Error("hosts share a tag map")
	}
}

func TestParseMinimal(t *testing.T) {
	inv, err := Parse("inv.yaml", []byte(`
hosts:
  - name: aadc01.contoso.com
    username: svc
    password_prompt: true
    scheme: https
`))
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Hosts[0]
	if h.Port != DefaultHTTPSPort || !h.HTTPS() || h.Auth != AuthNTLM || h.MaxEnvelopeKB != DefaultMaxEnvelopeKB ||
		h.Tags == nil || h.Source != "inv.yaml:3" || h.DialAddress() != "aadc01.contoso.com" {
		t.Errorf("got %+v", h)
	}
}

// Anchors and aliases work wherever a value does.
func TestParseAliases(t *testing.T) {
	inv, err := Parse("inv.yaml", []byte(`
defaults: {username: svc, password_env: PW}
hosts:
  - name: a
    tags: &std {owner: infra}
  - name: b
    tags: *std
`))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Hosts[1].Tags["owner"] != "infra" {
		t.Errorf("alias not followed: %+v", inv.Hosts[1])
	}
}

// Windows PowerShell 5 saves with ">" or Out-File as UTF-16LE; yaml.v3
// reads that, and the lines in messages still count right.
func TestParseUTF16(t *testing.T) {
	doc := "defaults: {username: svc, password_env: PW}\nhosts:\n  - name: a\n    port: 0\n"
	units := utf16.Encode([]rune("\uFEFF" + doc))
	data := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(data[2*i:], u)
	}
	_, err := Parse("inv.yaml", data)
	if want := `inv.yaml:4: host "a": port: 0 is not between 1 and 65535`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load("testdata/does-not-exist.yaml"); !os.IsNotExist(err) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

// The example shipped at the repository root must always load.
func TestExampleInventoryLoads(t *testing.T) {
	inv, err := Load("../inventory.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Hosts) < 4 {
		t.Fatalf("example has %d hosts; it should show groups and plain hosts", len(inv.Hosts))
	}
	for _, h := range inv.Hosts {
		if h.Username == "" || h.Secret == (SecretRef{}) || h.Tags["owner"] == "" {
			t.Errorf("%s (%s): incomplete: %+v", h.Name, h.Source, h)
		}
	}
}
