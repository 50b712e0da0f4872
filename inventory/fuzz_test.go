package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input panics the loader, that every error is
// located in the file, and that an accepted inventory only holds hosts the
// scanner can use as they are.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, "../inventory.example.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("fuzz.yaml", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("error line not located in the file: %q", line)
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, h := range inv.Hosts {
			switch {
			case validateName(h.Name) != nil:
				t.Errorf("accepted bad name %q", h.Name)
			case seen[hostKey(h.Name)]:
				t.Errorf("accepted duplicate %q", h.Name)
			case h.Port < 1 || h.Port > 65535:
				t.Errorf("%s: accepted port %d", h.Name, h.Port)
			case len(checkValues(&h)) > 0 || len(checkHost(&h, func(string) bool { return false })) > 0:
				t.Errorf("%s: accepted a host FromNames would refuse: %+v", h.Name, h)
			case h.Tags == nil:
				t.Errorf("%s: nil tags", h.Name)
			}
			seen[hostKey(h.Name)] = true
		}
	})
}
