package catalog

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Evidence is what a check read: each fact key with the value shown
// (facts.Fact.Display), sorted by key. A slice rather than a map: a fleet's
// results hold one per check per host for the whole run, and a small map
// costs several times its contents (10,000 hosts × 32 checks).
type Evidence []EvidenceItem

// EvidenceItem is one fact a check read.
type EvidenceItem struct {
	Fact, Value string
}

// Get returns the value shown for fact key.
func (e Evidence) Get(key string) (string, bool) {
	i, ok := slices.BinarySearchFunc(e, key, func(it EvidenceItem, k string) int { return strings.Compare(it.Fact, k) })
	if !ok {
		return "", false
	}
	return e[i].Value, true
}

// String is the evidence on one line: "key=value; key=value".
func (e Evidence) String() string {
	var b strings.Builder
	for i, it := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(it.Fact + "=" + it.Value)
	}
	return b.String()
}

// MarshalJSON writes the evidence as an object, {"fact": "value"}.
func (e Evidence) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, it := range e {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(it.Fact)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(it.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the object form back, sorted by key.
func (e *Evidence) UnmarshalJSON(data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*e = newEvidence(len(m))
	for k, v := range m {
		*e = append(*e, EvidenceItem{k, v})
	}
	e.sort()
	return nil
}

func newEvidence(n int) Evidence {
	if n == 0 {
		return nil
	}
	return make(Evidence, 0, n)
}

func (e Evidence) sort() {
	slices.SortFunc(e, func(a, b EvidenceItem) int { return strings.Compare(a.Fact, b.Fact) })
}
