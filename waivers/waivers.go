// Package waivers reads the waiver file (--waivers FILE): the change
// board's list of accepted failures, reviewed like code. Each waiver names
// a check of the catalog, the hosts it covers (a name or a glob pattern,
// case-insensitive), why it is accepted, who approved it and the day it
// expires. While a waiver is active a failing (or unverifiable) check on a
// matching host shows as "waived" and stops counting toward the verdict and
// the exit code; from its expiry date on it counts again and the reports say
// the waiver expired (package catalog applies them; docs/waivers.md).
//
// Loading is strict, like the inventory's: an unknown key, a missing or
// empty field, a bad date or pattern, or a check the catalog does not have
// is an error naming the file, line, waiver and field, and every problem in
// the file is reported at once. A run refuses to start on a bad file.
package waivers

import (
	"context"
	"fmt"

	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"aadcready/catalog"
	"aadcready/safefile"
	"aadcready/yamlloc"
)

// Waiver is one entry of the file.
type Waiver struct {
	catalog.Waiver // Host holds the pattern as written
	Line           int
}

// Matches tells whether the waiver's host pattern covers host.
func (w Waiver) Matches(host string) bool { return Match(w.Host, host) }

// Set is a loaded waiver file.
type Set struct {
	Path    string
	Waivers []Waiver
}

// Match reports whether a host pattern (a name, or a glob with *, ? and
// [...] as in path.Match) covers host, ignoring case as Windows does.
// A malformed pattern matches nothing (Parse refuses it).
func Match(pattern, host string) bool {
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(host))
	return err == nil && ok
}

// For returns the waivers that apply to host, in file order.
func (s *Set) For(host string) []catalog.Waiver {
	if s == nil {
		return nil
	}
	var out []catalog.Waiver
	for _, w := range s.Waivers {
		if w.Matches(host) {
			out = append(out, w.Waiver)
		}
	}
	return out
}

// Unmatched returns the waivers that cover none of hosts: usually a typo
// in the pattern or a host that left the inventory.
func (s *Set) Unmatched(hosts []string) []Waiver {
	if s == nil {
		return nil
	}
	var out []Waiver
	for _, w := range s.Waivers {
		if !slices.ContainsFunc(hosts, w.Matches) {
			out = append(out, w)
		}
	}
	return out
}

// Load reads and checks the waiver file at path against cat. The file must
// be a regular file of at most safefile.MaxSmall bytes (a waiver list is a
// few kilobytes).
func Load(path string, cat *catalog.Catalog) (*Set, error) {
	data, err := safefile.Read(context.Background(), path, safefile.MaxSmall)
	if err != nil {
		return nil, fmt.Errorf("waivers: %w", err)
	}
	return Parse(path, data, cat)
}

// Fields of a waiver, in the order the error messages list them.
var fields = []string{"approved_by", "check", "expires", "host", "justification"}

// fieldHelp says what a missing field should hold.
var fieldHelp = map[string]string{
	"check":         "the id of the check to waive (aadcready checks lists them)",
	"host":          "a host name or a pattern such as aadc-emea-*",
	"justification": "why the change board accepts this failure",
	"approved_by":   "who on the change board approved it",
	"expires":       "the day the waiver stops applying, YYYY-MM-DD",
}

// Parse checks a waiver file's contents; name is used in messages. The
// error, when not nil, joins one "file:line: waiver N: field: message"
// error per problem, in line order.
func Parse(name string, data []byte, cat *catalog.Catalog) (*Set, error) {
	p := &parser{errs: yamlloc.List{File: name}, known: map[string]bool{}}
	if cat != nil {
		for _, r := range cat.Requirements {
			p.known[r.ID] = true
		}
	}
	set := &Set{Path: name}
	root := yamlloc.Document(data, &p.errs, "a waiver file is a single list")
	if root != nil {
		if root.Kind != yaml.SequenceNode {
			p.add(root.Line, 0, "", "must be a list of waivers (each \"- check: ...\"), got "+kindName(root))
		} else {
			for i, item := range root.Content {
				if w, ok := p.waiver(i+1, item); ok {
					set.Waivers = append(set.Waivers, w)
				}
			}
		}
	}
	if err := p.errs.Err(); err != nil {
		return nil, err
	}
	return set, nil
}

type parser struct {
	errs  yamlloc.List
	known map[string]bool
}

// add records a problem with waiver number index (from 1), or with the
// file as a whole when index is 0.
func (p *parser) add(line, index int, field, msg string) {
	scope := ""
	if index > 0 {
		scope = "waiver " + strconv.Itoa(index)
	}
	p.errs.Add(line, scope, field, msg)
}

func (p *parser) waiver(index int, n *yaml.Node) (Waiver, bool) {
	n = yamlloc.Deref(n)
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, index, "", "must be a mapping with the keys "+strings.Join(fields, ", ")+", got "+kindName(n))
		return Waiver{}, false
	}
	before := p.errs.Len()
	values := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], yamlloc.Deref(n.Content[i+1])
		key := k.Value
		switch {
		case !slices.Contains(fields, key):
			p.add(k.Line, index, "", fmt.Sprintf("unknown key %s; valid keys: %s", yamlloc.Quote(key), strings.Join(fields, ", ")))
		case values[key] != nil:
			p.add(k.Line, index, key, fmt.Sprintf("given twice (first on line %d)", values[key].Line))
		case v.Kind != yaml.ScalarNode:
			p.add(v.Line, index, key, "must be a single value, got "+kindName(v))
			values[key] = v
		default:
			values[key] = v
		}
	}
	var w Waiver
	w.Line = n.Line
	text := func(key string) (string, int, bool) {
		v := values[key]
		if v == nil {
			p.add(n.Line, index, key, "required: "+fieldHelp[key])
			return "", n.Line, false
		}
		if v.Kind != yaml.ScalarNode {
			return "", v.Line, false // reported above
		}
		s := strings.TrimSpace(v.Value)
		if s == "" || v.Tag == "!!null" {
			p.add(v.Line, index, key, "must not be empty: "+fieldHelp[key])
			return "", v.Line, false
		}
		return s, v.Line, true
	}
	if id, line, ok := text("check"); ok {
		if !p.known[id] {
			p.add(line, index, "check", fmt.Sprintf("unknown check %s; aadcready checks lists the catalog's checks", yamlloc.Quote(id)))
		}
		w.Check = id
	}
	if pattern, line, ok := text("host"); ok {
		if _, err := path.Match(pattern, ""); err != nil {
			p.add(line, index, "host", fmt.Sprintf("%s is not a valid pattern (use * and ? as wildcards, [abc] for a set)", yamlloc.Quote(pattern)))
		} else if len(pattern) > maxPattern {
			p.add(line, index, "host", fmt.Sprintf("%s is longer than %d characters: it matches no host name", yamlloc.Quote(pattern), maxPattern))
		}
		w.Host = pattern
	}
	if s, _, ok := text("justification"); ok {
		w.Justification = s
	}
	if s, _, ok := text("approved_by"); ok {
		w.ApprovedBy = s
	}
	if s, line, ok := text("expires"); ok {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			p.add(line, index, "expires", fmt.Sprintf("%s is not a date YYYY-MM-DD", yamlloc.Quote(s)))
		}
		w.Expires = d
	}
	return w, p.errs.Len() == before
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return yamlloc.Quote(n.Value)
}

// maxPattern is the longest host pattern: a DNS name has at most 253
// characters, and a pattern a few more for its wildcards.
const maxPattern = 300
