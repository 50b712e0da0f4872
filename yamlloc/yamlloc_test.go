package yamlloc

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestErrorText(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{File: "f.yaml", Line: 7, Scope: `host "aadc01"`, Field: "port", Msg: "must be a whole number"}, `f.yaml:7: host "aadc01": port: must be a whole number`},
		{Error{File: "f.yaml", Line: 2, Scope: "waiver 1", Msg: "unknown key"}, "f.yaml:2: waiver 1: unknown key"},
		{Error{File: "f.yaml", Line: 3, Field: "groups", Msg: "must be a list"}, "f.yaml:3: groups: must be a list"},
		{Error{File: "f.yaml", Msg: "no hosts"}, "f.yaml: no hosts"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestListSortsByLine(t *testing.T) {
	l := List{File: "f.yaml"}
	if l.Err() != nil {
		t.Fatal("an empty list is an error")
	}
	l.Add(9, "", "", "c")
	l.Add(0, "", "", "a")
	l.Add(2, "", "", "b1")
	l.Add(2, "", "", "b2")
	want := "f.yaml: a\nf.yaml:2: b1\nf.yaml:2: b2\nf.yaml:9: c"
	if l.Len() != 4 || l.Err().Error() != want {
		t.Errorf("%d problems:\n%v\nwant\n%s", l.Len(), l.Err(), want)
	}
}

// Document finds nothing to walk in an empty document and locates what is
// wrong with a bad one. yaml.v3 counts lines from 0 in some errors and
// leaves them out in others; every syntax error must still come out with
// its 1-based line.
func TestDocument(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"# nothing yet\n", ""},
		{"~\n", ""},
		{"- a\n---\n- b\n", "inv.yaml:2: a second YAML document (after ---); one only"},
		{"a: 1\nb: [x\nc: 2\n", "inv.yaml:2: invalid YAML: did not find expected ',' or ']'"},
		{"a: 1\n- b\n", "inv.yaml:2: invalid YAML: did not find expected key"},
		{"a: 1\nb: 2\n c: 3\n", "inv.yaml:3: invalid YAML: mapping values are not allowed in this context"},
		{"a: 1\nb: *nope\n", "inv.yaml:2: invalid YAML: unknown anchor 'nope' referenced"},
		{"a: 1\n\x01b: 2\n", "inv.yaml:2: invalid YAML: control characters are not allowed"},
		{"a: 1\nb: \xff\n", "inv.yaml:2: invalid YAML: invalid leading UTF-8 octet"},
		{`a: "CONTOSO\svc"` + "\n", "inv.yaml:1: invalid YAML: found unknown escape character"},
		{"- a: 1\n\tb: 2\n", "inv.yaml:2: invalid YAML: found a tab character that violates indentation; indent with spaces, not tabs"},
	} {
		errs := List{File: "inv.yaml"}
		root := Document([]byte(tt.in), &errs, "one only")
		got := ""
		if err := errs.Err(); err != nil {
			got = err.Error()
		}
		if root != nil || got != tt.want {
			t.Errorf("%q:\n got %v, %q\nwant no root, %q", tt.in, root, got, tt.want)
		}
	}

	errs := List{File: "f.yaml"}
	root := Document([]byte("a: &x [1]\nb: *x\n"), &errs, "one only")
	if errs.Err() != nil || root == nil || root.Kind != yaml.MappingNode {
		t.Fatalf("root %v, %v", root, errs.Err())
	}
	if b := Deref(root.Content[3]); b.Kind != yaml.SequenceNode || IsNull(b) {
		t.Errorf("alias b resolves to %v", b)
	}
}

func TestSuggest(t *testing.T) {
	valid := []string{"concurrency", "host-timeout", "keep-days", "retries"}
	for key, want := range map[string]string{
		"concurency":   " (did you mean concurrency?)",
		"host_timeout": " (did you mean host-timeout?)",
		"Retries":      " (did you mean retries?)",
		"password":     "",
		"x":            "",
	} {
		if got := Suggest(key, valid); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", key, got, want)
		}
	}
}
