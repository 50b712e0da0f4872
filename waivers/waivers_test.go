package waivers

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"aadcready/catalog"
)

func loadCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestLoadBadWaivers(t *testing.T) {
	cat := loadCatalog(t)
	tests := []struct {
		file string
		want []string // the whole message: one line per problem, in line order
	}{
		{"invalid-unknown-key.yaml", []string{
			`testdata/invalid-unknown-key.yaml:6: waiver 1: unknown key "expiry"; valid keys: approved_by, check, expires, host, justification`,
		}},
		{"invalid-missing.yaml", []string{
			`testdata/invalid-missing.yaml:1: waiver 1: justification: required: why the change board accepts this failure`,
			`testdata/invalid-missing.yaml:1: waiver 1: approved_by: required: who on the change board approved it`,
			`testdata/invalid-missing.yaml:6: waiver 2: justification: must not be empty: why the change board accepts this failure`,
			`testdata/invalid-missing.yaml:7: waiver 2: approved_by: must not be empty: who on the change board approved it`,
		}},
		{"invalid-check.yaml", []string{
			`testdata/invalid-check.yaml:1: waiver 1: check: unknown check "tls-12-dotnet"; aadcready checks lists the catalog's checks`,
		}},
		{"invalid-dates.yaml", []string{
			`testdata/invalid-dates.yaml:5: waiver 1: expires: "2027-02-30" is not a date YYYY-MM-DD`,
			`testdata/invalid-dates.yaml:10: waiver 2: expires: "31/01/2027" is not a date YYYY-MM-DD`,
			`testdata/invalid-dates.yaml:15: waiver 3: expires: "2027-01-31T00:00:00Z" is not a date YYYY-MM-DD`,
		}},
		{"invalid-pattern.yaml", []string{
			`testdata/invalid-pattern.yaml:2: waiver 1: host: "aadc-[emea" is not a valid pattern (use * and ? as wildcards, [abc] for a set)`,
		}},
		{"invalid-shape.yaml", []string{
			`testdata/invalid-shape.yaml:1: must be a list of waivers (each "- check: ..."), got a mapping`,
		}},
		{"invalid-items.yaml", []string{
			`testdata/invalid-items.yaml:1: waiver 1: must be a mapping with the keys approved_by, check, expires, host, justification, got "tls12-dotnet on aadc-tls"`,
			`testdata/invalid-items.yaml:2: waiver 2: check: must be a single value, got a list`,
			`testdata/invalid-items.yaml:3: waiver 2: check: given twice (first on line 2)`,
		}},
		{"invalid-syntax.yaml", []string{
			`testdata/invalid-syntax.yaml:2: invalid YAML: found a tab character that violates indentation; indent with spaces, not tabs`,
		}},
		{"invalid-two-documents.yaml", []string{
			`testdata/invalid-two-documents.yaml:6: a second YAML document (after ---); a waiver file is a single list`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			set, err := Load("testdata/"+tt.file, cat)
			if err == nil {
				t.Fatalf("loaded %d waivers, want an error", len(set.Waivers))
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestLoadGood(t *testing.T) {
	set, err := Load("testdata/good.yaml", loadCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Waiver{
		{catalog.Waiver{Check: "tls12-dotnet", Host: "aadc-tls",
			Justification: "TLS hardening is scheduled with the January patch window (CHG0041).",
			ApprovedBy:    "J. Doe (CAB)", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)}, 2},
		{catalog.Waiver{Check: "aadc-app-auth", Host: "AADC-EMEA-*",
			Justification: "The EMEA servers move to application authentication with the 2.6 upgrade wave.",
			ApprovedBy:    "CAB 2026-11-20", Expires: time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)}, 8},
	}
	if len(set.Waivers) != len(want) {
		t.Fatalf("got %d waivers: %+v", len(set.Waivers), set.Waivers)
	}
	for i := range want {
		if set.Waivers[i] != want[i] {
			t.Errorf("waiver %d = %+v\nwant %+v", i+1, set.Waivers[i], want[i])
		}
	}

	tests := []struct {
		host   string
		checks []string
	}{
		{"aadc-tls", []string{"tls12-dotnet"}},
		{"AADC-TLS", []string{"tls12-dotnet"}},
		{"aadc-emea-01", []string{"aadc-app-auth"}},
		{"Aadc-Emea-01.contoso.com", []string{"aadc-app-auth"}},
		{"aadc-tls2", nil},
		{"aadc-emea", nil}, // the pattern needs the dash
	}
	for _, tt := range tests {
		var got []string
		for _, w := range set.For(tt.host) {
			got = append(got, w.Check)
		}
		if strings.Join(got, ",") != strings.Join(tt.checks, ",") {
			t.Errorf("For(%q) = %v, want %v", tt.host, got, tt.checks)
		}
	}
	un := set.Unmatched([]string{"aadc-tls", "aadc-apac-01"})
	if len(un) != 1 || un[0].Line != 8 {
		t.Errorf("Unmatched = %+v, want the EMEA waiver", un)
	}
	var none *Set
	if none.For("x") != nil || none.Unmatched([]string{"x"}) != nil {
		t.Error("a nil Set must waive nothing")
	}
}

func TestParseEmptyAndUTF16(t *testing.T) {
	cat := loadCatalog(t)
	for _, doc := range []string{"", "# nothing waived yet\n", "[]\n"} {
		set, err := Parse("w.yaml", []byte(doc), cat)
		if err != nil || len(set.Waivers) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no waivers", doc, set, err)
		}
	}
	// Windows PowerShell 5 writes UTF-16LE with a byte-order mark.
	good, err := os.ReadFile(filepath.Join("testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	units := utf16.Encode([]rune("\uFEFF" + string(good)))
	data := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(data[2*i:], u)
	}
	set, err := Parse("w.yaml", data, cat)
	if err != nil || len(set.Waivers) != 2 {
		t.Errorf("UTF-16 file: %v, %v", set, err)
	}
}

// A huge value is echoed cut short, and a host pattern no host name could
// match is refused: a bad waiver file never floods the terminal or the log.
func TestParseHugeValues(t *testing.T) {
	long := strings.Repeat("x", 200000)
	doc := "- check: " + long + "\n  host: " + long + "\n  justification: j\n  approved_by: a\n  expires: " + long + "\n"
	_, err := Parse("w.yaml", []byte(doc), loadCatalog(t))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"w.yaml:1: waiver 1: check: unknown check", "w.yaml:2: waiver 1: host:", "longer than 300 characters", "w.yaml:5: waiver 1: expires:", "(200000 bytes)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q", want)
		}
	}
	if len(err.Error()) > 1000 {
		t.Errorf("error of %d bytes", len(err.Error()))
	}
}
