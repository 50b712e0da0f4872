package simulator

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"aadcready/facts"
)

// factSpecs decodes a host's facts: overrides, each checked against the
// fact registry where it is written:
//
//	os.build: 17763                      a value of the key's kind
//	aadc.uninstall_entries: [a, b]       a list
//	tls.net4.sch_use_strong_crypto: {absent: true}
//	adsync.staging_mode: {error: "Access is denied"}
type factSpecs map[string]facts.Fact

func (fs *factSpecs) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: facts must be a mapping of fact keys to values", n.Line)}}
	}
	out := factSpecs{}
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, err := decodeFact(k.Value, v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("line %d: %v", k.Line, err))
			continue
		}
		out[k.Value] = f
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*fs = out
	return nil
}

func decodeFact(key string, v *yaml.Node) (facts.Fact, error) {
	def, ok := facts.Lookup(key)
	if !ok {
		return facts.Fact{}, fmt.Errorf("unknown fact %q", key)
	}
	switch v.Kind {
	case yaml.MappingNode:
		var special struct {
			Absent bool   `yaml:"absent"`
			Error  string `yaml:"error"`
		}
		if err := decodeStrict(v, &special); err != nil {
			return facts.Fact{}, fmt.Errorf("fact %s: %v", key, err)
		}
		switch {
		case special.Absent && special.Error == "":
			return facts.Fact{Status: facts.StatusAbsent}, nil
		case !special.Absent && special.Error != "":
			return facts.Fact{Status: facts.StatusError, Reason: special.Error}, nil
		}
		return facts.Fact{}, fmt.Errorf("fact %s: write {absent: true} or {error: \"text\"}", key)
	case yaml.SequenceNode:
		if def.Kind != facts.List {
			return facts.Fact{}, fmt.Errorf("fact %s is %s, not a list", key, kindName(def.Kind))
		}
		items := []string{}
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return facts.Fact{}, fmt.Errorf("fact %s: list items must be strings", key)
			}
			items = append(items, it.Value)
		}
		return facts.Fact{Status: facts.StatusOK, Value: items}, nil
	case yaml.ScalarNode:
		val, err := facts.ParseValue(key, v.Value)
		if err != nil {
			return facts.Fact{}, err
		}
		return facts.Fact{Status: facts.StatusOK, Value: val}, nil
	}
	return facts.Fact{}, fmt.Errorf("fact %s: unsupported value", key)
}

// decodeStrict decodes one node refusing unknown fields (Node.Decode has no
// KnownFields switch, so the fields are checked by hand).
func decodeStrict(n *yaml.Node, v any) error {
	known := structTags(reflect.ValueOf(v).Elem().Interface())
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !slices.Contains(known, n.Content[i].Value) {
			return fmt.Errorf("unknown field %q (want one of %s)", n.Content[i].Value, strings.Join(known, ", "))
		}
	}
	return n.Decode(v)
}

// structTags lists the yaml field names of a struct value.
func structTags(v any) []string {
	t := reflect.TypeOf(v)
	var out []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// editDistance is the Levenshtein distance, for "did you mean" hints.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// firstAddress parses the optional first address of a counted host group.
func firstAddress(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	if err := checkLoopback(s); err != nil {
		return netip.Addr{}, err
	}
	return netip.MustParseAddr(s), nil
}

// kindName is a kind with its article, for messages.
func kindName(k facts.Kind) string {
	if k == facts.Int {
		return "an int"
	}
	return "a " + string(k)
}
