package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"aadcready/catalog"
	"aadcready/facts"
)

func TestWriteJSONStreamsAValidDocument(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		r := &Run{Schema: SchemaVersion, Tool: "aadcready", AsOf: "2026-11-26"}
		for i := 0; i < n; i++ {
			score := 90 + i
			r.Hosts = append(r.Hosts, Host{Name: fmt.Sprintf("h%d", i), Verdict: catalog.VerdictOK, Score: &score,
				Facts: facts.NewSet(), Tags: map[string]string{"owner": "</script>\u2028"}})
		}
		r.Summarize()
		var b bytes.Buffer
		if err := r.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		var generic map[string]any
		if err := json.Unmarshal(b.Bytes(), &generic); err != nil {
			t.Fatalf("%d hosts: invalid JSON: %v\n%s", n, err, b.String())
		}
		back, err := ReadJSON(&b)
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Hosts) != n || (n > 0 && *back.Hosts[n-1].Score != 90+n-1) || back.Summary.Total != n {
			t.Fatalf("%d hosts: read back %+v", n, back)
		}
	}
}
