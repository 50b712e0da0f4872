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

func flagDefaults() Host {
	return Host{Username: `CONTOSO\svc-aadcready`, Secret: SecretRef{Env: "AADCREADY_PASSWORD"}, Source: "--hosts"}
}

func TestFromNames(t *testing.T) {
	d := flagDefaults()
	d.Scheme, d.Auth = "HTTPS", "NTLM" // as typed on a command line
	d.Tags = map[string]string{"owner": "infra"}
	inv, err := FromNames([]string{"aadc01.contoso.com", "10.1.2.3", "fe80::1"}, d)
	if err != nil {
		t.Fatal(err)
	}
	want := Host{
		Name: "aadc01.contoso.com", Port: 5986, Scheme: "https", Auth: "ntlm",
		Username: `CONTOSO\svc-aadcready`, Secret: SecretRef{Env: "AADCREADY_PASSWORD"},
		MaxEnvelopeKB: 150, Tags: map[string]string{"owner": "infra"}, Source: "--hosts",
	}
	if len(inv.Hosts) != 3 || !reflect.DeepEqual(inv.Hosts[0], want) {
		t.Fatalf("got %+v\nwant first %+v", inv.Hosts, want)
	}
	if inv.Hosts[2].Name != "fe80::1" || inv.Path != "" {
		t.Errorf("got %+v", inv)
	}
	inv.Hosts[0].Tags["owner"] = "changed"
	if inv.Hosts[1].Tags["owner"] != "infra" || d.Tags["owner"] != "infra" {
		t.Error("hosts share the caller's tag map")
	}
}

func TestFromNamesErrors(t *testing.T) {
	tests := []struct {
		name     string
		names    []string
		defaults func(*Host)
		want     []string
	}{
		{"none", nil, nil, []string{"no hosts given"}},
		{"bad names", []string{"aadc01", "", "http://aadc02", "aadc03:5985", "aadc04 aadc05", "-x"}, nil, []string{
			`host "": name: is empty`,
			`host "http://aadc02": name: is a URL`,
			`host "aadc03:5985": name: is not a host name or IP address; if it is host:port, give the port separately`,
			`host "aadc04 aadc05": name: contains a space`,
			`host "-x": name: must start with a letter or digit`,
		}},
		{"duplicate", []string{"aadc01.contoso.com", "AADC01.contoso.com."}, nil, []string{
			`host "AADC01.contoso.com.": name: duplicate of "aadc01.contoso.com"`,
		}},
		{"duplicate addresses", []string{"::1", "0:0:0:0:0:0:0:1", "10.0.0.1", "::ffff:10.0.0.1", "FE80::1%eth0", "fe80::1%eth0"}, nil, []string{
			`host "0:0:0:0:0:0:0:1": name: duplicate of "::1"`,
			`host "::ffff:10.0.0.1": name: duplicate of "10.0.0.1"`,
			`host "fe80::1%eth0": name: duplicate of "FE80::1%eth0"`,
		}},
		{"bad zones", []string{"fe80::1%<script>", "fe80::2%\x1b[2J", "fe80::3%../x", "fe80::4%" + strings.Repeat("a", 65), "fe80::5%eth0.12", "fe80::6%12"}, nil, []string{
			`host "fe80::1%<script>": name: has an IPv6 zone (after %) that is not an interface name or number ('<' is not allowed)`,
			`host "fe80::2%\x1b[2J": name: has an IPv6 zone`,
			`host "fe80::3%../x": name: has an IPv6 zone`,
			`longer than 64 characters`,
		}},
		{"no credentials", []string{"a"}, func(h *Host) { h.Username, h.Secret = "", SecretRef{} }, []string{
			"host settings: username: not set",
			"host settings: password: no password source",
		}},
		{"bad values", []string{"a"}, func(h *Host) { h.Port, h.Scheme, h.Auth = 70000, "ftp", "digest" }, []string{
			"host settings: port: 70000 is not between 1 and 65535",
			`host settings: scheme: "ftp" is not http or https`,
			`host settings: auth: "digest" is not one of`,
		}},
		{"two sources", []string{"a"}, func(h *Host) { h.Secret.Prompt = true }, []string{
			"host settings: password: more than one password source",
		}},
		{"basic over http", []string{"a"}, func(h *Host) { h.Auth = "basic" }, []string{
			"host settings: auth: basic over http is refused by Windows",
		}},
		{"insecure over http", []string{"a"}, func(h *Host) { h.Insecure = true }, []string{
			"host settings: insecure: only applies to https",
		}},
		{"shared address", []string{"a", "b"}, func(h *Host) { h.Address = "10.0.0.1" }, []string{
			"host settings: address: cannot be shared by several hosts",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := flagDefaults()
			if tt.defaults != nil {
				tt.defaults(&d)
			}
			_, err := FromNames(tt.names, d)
			if err == nil {
				t.Fatal("no error")
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
		})
	}
}

func writeFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is filtered by the umask; set it exactly.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	// On Windows a read-only file would stop TempDir's cleanup.
	t.Cleanup(func() { os.Chmod(path, 0o600) })
	return path
}

func TestReadHostsFile(t *testing.T) {
	// As Notepad writes it: a byte-order mark and CRLF line ends.
	path := writeFile(t, "hosts.txt", "\uFEFF# AADC servers, EMEA\r\naadc01.emea.contoso.com\r\n\r\n  aadc02.emea.contoso.com   # staging\r\n10.1.2.3\r\n", 0o644)
	names, err := ReadHostsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aadc01.emea.contoso.com", "aadc02.emea.contoso.com", "10.1.2.3"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("got %q, want %q", names, want)
	}
}

// Windows PowerShell 5 writes UTF-16LE with a byte-order mark for ">".
func TestReadHostsFileUTF16(t *testing.T) {
	units := utf16.Encode([]rune("\uFEFFaadc01.contoso.com\r\naadc02.contoso.com\r\n"))
	data := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(data[2*i:], u)
	}
	path := writeFile(t, "hosts.txt", string(data), 0o644)
	names, err := ReadHostsFile(path)
	if want := []string{"aadc01.contoso.com", "aadc02.contoso.com"}; err != nil || !reflect.DeepEqual(names, want) {
		t.Errorf("got %q, %v; want %q", names, err, want)
	}
}

func TestReadHostsFileErrors(t *testing.T) {
	path := writeFile(t, "hosts.txt", "aadc01\naadc02 aadc03\n# ok\nhttps://aadc04\nAADC01\n", 0o644)
	_, err := ReadHostsFile(path)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		path + `:2: "aadc02 aadc03" contains a space; give one host name per entry`,
		path + `:4: "https://aadc04" is a URL`,
		path + `:5: "AADC01" is already listed at line 1`,
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

	empty := writeFile(t, "empty.txt", "# nothing yet\n\n", 0o644)
	if _, err := ReadHostsFile(empty); err == nil || !strings.Contains(err.Error(), empty+": no host names") {
		t.Errorf("empty file: got %v", err)
	}
	if _, err := ReadHostsFile(filepath.Join(t.TempDir(), "missing.txt")); !os.IsNotExist(err) {
		t.Errorf("missing file: got %v", err)
	}
}

// A hosts file of thousands of bad lines gives a message of a hundred.
func TestReadHostsFileCapsProblems(t *testing.T) {
	path := writeFile(t, "hosts.txt", strings.Repeat("bad name\n", 5000), 0o600)
	_, err := ReadHostsFile(path)
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 101 || !strings.Contains(lines[100], "4900 more problems not shown") || !strings.HasPrefix(lines[0], path+":1: ") {
		t.Errorf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}
