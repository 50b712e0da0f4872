package probes

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateField = flag.Bool("update", false, "rewrite the .golden.json files of testdata/field")

// TestFieldOutputs pins how raw outputs kept with `scan --save-raw DIR`
// parse. To turn a field failure into a test: copy DIR/HOST.stdout to
// testdata/field/NAME.stdout, run `go test ./probes -run FieldOutputs
// -update`, check the NAME.golden.json written, and commit both. Outputs
// are parsed with the bundle id they carry, so fixtures outlive bundle
// changes.
func TestFieldOutputs(t *testing.T) {
	files, err := filepath.Glob("testdata/field/*.stdout")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no field outputs in testdata/field")
	}
	idRE := regexp.MustCompile(`(?m)^##AADC BUNDLE 1 ([0-9a-f]+)\r?$`)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			out, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			id := ""
			if m := idRE.FindSubmatch(out); m != nil {
				id = string(m[1])
			}
			set, diag := Parse(out, id)
			got, err := json.MarshalIndent(struct {
				Facts       any `json:"facts"`
				Diagnostics any `json:"diagnostics"`
			}{set, diag}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(path, ".stdout") + ".golden.json"
			if *updateField {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
				t.Errorf("%s parses differently from %s:\n%s", path, golden, got)
			}
		})
	}
}
