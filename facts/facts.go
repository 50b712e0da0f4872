// Package facts defines what the probes report about a host: a registry of
// fact keys with their types, and the per-host Set the scanner records.
//
// A fact is either known (StatusOK, with a typed value), known to be absent
// (StatusAbsent: the probe ran and the registry value, file or service does
// not exist), or unknown (StatusError: the probe could not read it, with the
// reason). Absent and unknown are never confused: the TLS checks, for example,
// treat an absent SCHANNEL key differently from a wrong value.
package facts

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// SchemaVersion is the version of the facts JSON document. Bump it when a key
// changes meaning or type; adding keys does not change it.
const SchemaVersion = 1

// Kind is the type of a fact's value.
type Kind string

const (
	String Kind = "string"
	Int    Kind = "int"
	Bool   Kind = "bool"
	List   Kind = "list"
)

// Status says whether a fact is known.
type Status string

const (
	StatusOK     Status = "ok"
	StatusAbsent Status = "absent"
	StatusError  Status = "error"
)

// Fact is one observation. Value is string, int64, bool or []string by Kind.
type Fact struct {
	Status Status `json:"status"`
	Value  any    `json:"value,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Def describes a fact key.
type Def struct {
	Key   string
	Probe string
	Kind  Kind
	Doc   string
}

// Probe statuses recorded per probe in a Set.
const (
	ProbeOK        = "ok"        // framed, ended normally
	ProbeFailed    = "failed"    // the probe threw; its reason is recorded
	ProbeMissing   = "missing"   // no frame for this probe in the output
	ProbeMalformed = "malformed" // a frame that does not parse
)

// ProbeStatus is how one probe script ended on a host.
type ProbeStatus struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Set is everything the probes reported for one host.
type Set struct {
	Schema int                    `json:"schema"`
	Facts  map[string]Fact        `json:"facts"`
	Probes map[string]ProbeStatus `json:"probes"`
}

// NewSet returns an empty set at the current schema version.
func NewSet() *Set {
	return &Set{Schema: SchemaVersion, Facts: map[string]Fact{}, Probes: map[string]ProbeStatus{}}
}

// Get returns the fact for key. A fact the output did not contain is
// reported as StatusError with the reason its probe gave, so that a check
// reading it becomes could-not-check with that reason.
func (s *Set) Get(key string) Fact {
	if s == nil {
		return Fact{Status: StatusError, Reason: "no facts were collected"}
	}
	if f, ok := s.Facts[key]; ok {
		return f
	}
	def, ok := Lookup(key)
	if !ok {
		return Fact{Status: StatusError, Reason: fmt.Sprintf("unknown fact %q", key)}
	}
	ps, ok := s.Probes[def.Probe]
	switch {
	case !ok:
		return Fact{Status: StatusError, Reason: fmt.Sprintf("probe %s did not run", def.Probe)}
	case ps.Status == ProbeOK:
		return Fact{Status: StatusError, Reason: fmt.Sprintf("probe %s did not report %s", def.Probe, key)}
	case ps.Reason != "":
		return Fact{Status: StatusError, Reason: fmt.Sprintf("probe %s %s: %s", def.Probe, ps.Status, ps.Reason)}
	default:
		return Fact{Status: StatusError, Reason: fmt.Sprintf("probe %s %s", def.Probe, ps.Status)}
	}
}

// Str returns a string value.
func (f Fact) Str() (string, bool) { v, ok := f.Value.(string); return v, ok && f.Status == StatusOK }

// Int returns an integer value.
func (f Fact) Int() (int64, bool) { v, ok := f.Value.(int64); return v, ok && f.Status == StatusOK }

// Bool returns a boolean value.
func (f Fact) Bool() (bool, bool) { v, ok := f.Value.(bool); return v, ok && f.Status == StatusOK }

// List returns a list value.
func (f Fact) List() ([]string, bool) {
	v, ok := f.Value.([]string)
	return v, ok && f.Status == StatusOK
}

// Display renders the fact for tables and evidence: the value, "absent", or
// "unknown (reason)".
func (f Fact) Display() string {
	switch f.Status {
	case StatusAbsent:
		return "absent"
	case StatusError:
		return "unknown (" + f.Reason + ")"
	}
	switch v := f.Value.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case []string:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprint(f.Value)
}

// ParseValue converts the textual form of a value (as the probes print it)
// to the Go type of key's kind. Lists are never parsed here: the probe output
// carries list items one per line.
func ParseValue(key, text string) (any, error) {
	def, ok := Lookup(key)
	if !ok {
		return nil, fmt.Errorf("unknown fact %q", key)
	}
	switch def.Kind {
	case String:
		return text, nil
	case Int:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("fact %s: %q is not an integer", key, text)
		}
		return n, nil
	case Bool:
		switch text {
		case "true", "True", "1":
			return true, nil
		case "false", "False", "0":
			return false, nil
		}
		return nil, fmt.Errorf("fact %s: %q is not a boolean", key, text)
	case List:
		return nil, fmt.Errorf("fact %s is a list: give its items one per line", key)
	}
	return nil, fmt.Errorf("fact %s has unknown kind %q", key, def.Kind)
}

// UnmarshalJSON restores typed values (JSON numbers would otherwise come
// back as float64) using the registry.
func (s *Set) UnmarshalJSON(b []byte) error {
	var raw struct {
		Schema int                    `json:"schema"`
		Facts  map[string]rawFact     `json:"facts"`
		Probes map[string]ProbeStatus `json:"probes"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	s.Schema, s.Probes, s.Facts = raw.Schema, raw.Probes, make(map[string]Fact, len(raw.Facts))
	if s.Probes == nil {
		s.Probes = map[string]ProbeStatus{}
	}
	for k, rf := range raw.Facts {
		f := Fact{Status: rf.Status, Reason: rf.Reason}
		if rf.Status == StatusOK {
			v, err := decodeValue(k, rf.Value)
			if err != nil {
				return err
			}
			f.Value = v
		}
		s.Facts[k] = f
	}
	return nil
}

type rawFact struct {
	Status Status          `json:"status"`
	Value  json.RawMessage `json:"value"`
	Reason string          `json:"reason"`
}

func decodeValue(key string, raw json.RawMessage) (any, error) {
	def, ok := Lookup(key)
	if !ok {
		return nil, fmt.Errorf("facts: unknown fact %q", key)
	}
	var err error
	switch def.Kind {
	case String:
		var v string
		err = json.Unmarshal(raw, &v)
		if err == nil {
			return v, nil
		}
	case Int:
		var v int64
		err = json.Unmarshal(raw, &v)
		if err == nil {
			return v, nil
		}
	case Bool:
		var v bool
		err = json.Unmarshal(raw, &v)
		if err == nil {
			return v, nil
		}
	case List:
		var v []string
		err = json.Unmarshal(raw, &v)
		if err == nil {
			return v, nil
		}
	}
	return nil, fmt.Errorf("facts: %s: %w", key, err)
}

var index = func() map[string]Def {
	m := make(map[string]Def, len(Registry))
	for _, d := range Registry {
		if _, dup := m[d.Key]; dup {
			panic("facts: duplicate key " + d.Key)
		}
		m[d.Key] = d
	}
	return m
}()

// Lookup returns the definition of key.
func Lookup(key string) (Def, bool) { d, ok := index[key]; return d, ok }

// Probes returns the probe names that own at least one fact, sorted.
func Probes() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range Registry {
		if !seen[d.Probe] {
			seen[d.Probe] = true
			out = append(out, d.Probe)
		}
	}
	sort.Strings(out)
	return out
}
