package probes

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"aadcready/facts"
)

// FuzzParse: whatever a host prints, Parse does not panic, gives every probe
// a status, keeps only well-typed facts of probes that ran, and what it keeps
// survives Render and Parse again unchanged. Seeds: testdata/*.txt, a
// rendered rich set, and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(Render(richSet(), fixtureID, RenderOptions{}))
	f.Fuzz(func(t *testing.T, out []byte) {
		set, diag := Parse(out, fixtureID)
		if len(set.Probes) != len(Names()) || len(diag.Problems) > maxProblems+1 {
			t.Fatalf("%d probe statuses, %d problems", len(set.Probes), len(diag.Problems))
		}
		var opt RenderOptions
		for _, n := range Names() {
			switch st := set.Probes[n]; st.Status {
			case facts.ProbeOK:
			case facts.ProbeFailed:
				if opt.Fail == nil {
					opt.Fail = map[string]string{}
				}
				opt.Fail[n] = st.Reason
			case facts.ProbeMissing, facts.ProbeMalformed:
				opt.Omit = append(opt.Omit, n)
			default:
				t.Fatalf("probe %s has status %q", n, st.Status)
			}
		}
		kept := facts.NewSet()
		for k, f := range set.Facts {
			def, ok := facts.Lookup(k)
			if !ok {
				t.Fatalf("unknown fact %s", k)
			}
			switch st := set.Probes[def.Probe].Status; {
			case st != facts.ProbeOK && st != facts.ProbeFailed:
				t.Fatalf("fact %s kept from a %s probe", k, st)
			case f.Status == facts.StatusOK && kindOf(f.Value) != def.Kind:
				t.Fatalf("fact %s is a %s, value %#v", k, def.Kind, f.Value)
			}
			if st := set.Probes[def.Probe].Status; st == facts.ProbeOK {
				kept.Facts[k] = f
			}
		}
		again, _ := Parse(Render(kept, fixtureID, opt), fixtureID)
		if !reflect.DeepEqual(again.Facts, kept.Facts) {
			t.Fatalf("Render/Parse changed the facts:\n got %#v\nwant %#v", again.Facts, kept.Facts)
		}
		for n, st := range set.Probes {
			if st.Status == facts.ProbeOK || st.Status == facts.ProbeFailed {
				if again.Probes[n] != st {
					t.Fatalf("probe %s: %+v after Render/Parse, was %+v", n, again.Probes[n], st)
				}
			}
		}
	})
}

func kindOf(v any) facts.Kind {
	switch v.(type) {
	case string:
		return facts.String
	case int64:
		return facts.Int
	case bool:
		return facts.Bool
	case []string:
		return facts.List
	}
	return ""
}
