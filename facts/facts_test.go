package facts

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/facts.md")

func TestDocUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDoc(&b); err != nil {
		t.Fatal(err)
	}
	const path = "../docs/facts.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("docs/facts.md is stale: run go test ./facts -update (%v)", err)
	}
}

func TestJSONRoundTripKeepsTypes(t *testing.T) {
	s := NewSet()
	s.Facts["os.build"] = Fact{Status: StatusOK, Value: int64(17763)}
	s.Facts["os.caption"] = Fact{Status: StatusOK, Value: "Microsoft Windows Server 2019 Standard"}
	s.Facts["domain.part_of_domain"] = Fact{Status: StatusOK, Value: true}
	s.Facts["reboot.reasons"] = Fact{Status: StatusOK, Value: []string{"CBS RebootPending"}}
	s.Facts["tls.net4.sch_use_strong_crypto"] = Fact{Status: StatusAbsent}
	s.Facts["adsync.staging_mode"] = Fact{Status: StatusError, Reason: "Access is denied"}
	s.Probes["os"] = ProbeStatus{Status: ProbeOK}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Set
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*s, back) {
		t.Fatalf("round trip changed the set:\n got %#v\nwant %#v", back, *s)
	}
}

func TestUnmarshalRejectsWrongKinds(t *testing.T) {
	for _, doc := range []string{
		`{"schema":1,"facts":{"os.build":{"status":"ok","value":"17763"}}}`,
		`{"schema":1,"facts":{"no.such.key":{"status":"ok","value":1}}}`,
		`{"schema":1,"facts":{"reboot.reasons":{"status":"ok","value":"x"}}}`,
	} {
		var s Set
		if err := json.Unmarshal([]byte(doc), &s); err == nil {
			t.Errorf("%s: want an error", doc)
		}
	}
}

func TestGetExplainsMissingFacts(t *testing.T) {
	s := NewSet()
	s.Probes["tls"] = ProbeStatus{Status: ProbeFailed, Reason: "Exception calling OpenSubKey"}
	s.Probes["os"] = ProbeStatus{Status: ProbeOK}
	cases := []struct{ key, want string }{
		{"tls.net4.sch_use_strong_crypto", "probe tls failed: Exception calling OpenSubKey"},
		{"os.build", "probe os did not report os.build"},
		{"dotnet.release", "probe dotnet did not run"},
		{"bogus", `unknown fact "bogus"`},
	}
	for _, c := range cases {
		f := s.Get(c.key)
		if f.Status != StatusError || f.Reason != c.want {
			t.Errorf("Get(%s) = %+v, want error %q", c.key, f, c.want)
		}
	}
}

func TestParseValue(t *testing.T) {
	cases := []struct {
		key, text string
		want      any
		ok        bool
	}{
		{"os.build", "17763", int64(17763), true},
		{"os.build", "17763.1", nil, false},
		{"domain.part_of_domain", "True", true, true},
		{"domain.part_of_domain", "yes", nil, false},
		{"os.caption", "=HYPERLINK(\"x\")", "=HYPERLINK(\"x\")", true},
		{"reboot.reasons", "a", nil, false},
		{"nope", "1", nil, false},
	}
	for _, c := range cases {
		got, err := ParseValue(c.key, c.text)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseValue(%s, %q) = %v, %v", c.key, c.text, got, err)
		}
	}
}

func TestDisplay(t *testing.T) {
	cases := []struct {
		f    Fact
		want string
	}{
		{Fact{Status: StatusOK, Value: int64(5)}, "5"},
		{Fact{Status: StatusOK, Value: []string{"a", "b"}}, `["a","b"]`},
		{Fact{Status: StatusAbsent}, "absent"},
		{Fact{Status: StatusError, Reason: "denied"}, "unknown (denied)"},
	}
	for _, c := range cases {
		if got := c.f.Display(); got != c.want {
			t.Errorf("Display(%+v) = %q, want %q", c.f, got, c.want)
		}
	}
}
