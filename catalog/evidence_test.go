package catalog

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestEvidenceJSONIsAnObjectAndRoundTrips(t *testing.T) {
	e := Evidence{{"aadc.wizard_version", "2.6.92.0"}, {"os.caption", `Windows "2019" </script>`}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var asMap map[string]string
	if err := json.Unmarshal(b, &asMap); err != nil || asMap["os.caption"] != e[1].Value || len(asMap) != 2 {
		t.Fatalf("%s is not the object form: %v", b, err)
	}
	var back Evidence
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, e) {
		t.Fatalf("round trip: %v, %v", back, err)
	}
	if v, ok := back.Get("os.caption"); !ok || v != e[1].Value {
		t.Errorf("Get = %q, %v", v, ok)
	}
	if _, ok := back.Get("nope"); ok {
		t.Error("Get found a missing key")
	}
	if got := e.String(); got != `aadc.wizard_version=2.6.92.0; os.caption=Windows "2019" </script>` {
		t.Errorf("String = %q", got)
	}
	if b, _ := json.Marshal(Evidence(nil)); string(b) != "{}" {
		t.Errorf("empty evidence marshals as %s", b)
	}
}
