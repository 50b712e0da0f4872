// Package yamlloc locates the problems of the YAML files people write by
// hand (the inventory, the waiver file): each problem is an Error naming the
// file, line, entry and field, and a List gathers every problem of a file so
// that one run of the loader reports them all, in line order, instead of the
// decoder's first.
//
// Loaders walk the yaml.Node tree themselves (that is what gives every
// problem its line); Document decodes the tree and turns yaml.v3's syntax
// errors into located ones.
package yamlloc

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a file. Its text is
// "file:line: scope: field: message", leaving out the parts that are empty.
type Error struct {
	File  string
	Line  int    // from 1; 0 when the problem has no single line
	Scope string // the entry: `defaults`, `host "aadc01"`, `waiver 2`; "" for the file
	Field string
	Msg   string
}

func (e Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	for _, s := range []string{e.Scope, e.Field} {
		if s != "" {
			b.WriteString(s)
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Msg)
	return b.String()
}

// List gathers the problems of one file.
type List struct {
	File string
	errs []Error
}

// Add records a problem.
func (l *List) Add(line int, scope, field, msg string) {
	l.errs = append(l.errs, Error{File: l.File, Line: line, Scope: scope, Field: field, Msg: msg})
}

// Len is the number of problems recorded.
func (l *List) Len() int { return len(l.errs) }

// MaxProblems is how many problems of one file a message lists: a file of
// a million bad lines must not produce a message of a million lines.
const MaxProblems = 100

// Err joins the problems, one per line, in line order (problems on the same
// line, or with none, in the order they were found), the first MaxProblems
// of them and a count of the rest; nil when there are none.
func (l *List) Err() error {
	if len(l.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(l.errs, func(a, b Error) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, 0, min(len(l.errs), MaxProblems+1))
	for _, e := range l.errs[:min(len(l.errs), MaxProblems)] {
		errs = append(errs, e)
	}
	if more := len(l.errs) - MaxProblems; more > 0 {
		errs = append(errs, fmt.Errorf("%s: %d more problems not shown; fix these first", l.File, more))
	}
	return errors.Join(errs...)
}

// Document decodes data, which must hold a single YAML document, and returns
// its root node; nil when there is nothing to walk: an empty document, or a
// syntax error or a second document, which are added to errs. single ends
// the message about a second document ("an inventory is a single document").
func Document(data []byte, errs *List, single string) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			syntaxError(errs, err, data)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		syntaxError(errs, err, data)
		return nil
	default:
		errs.Add(next.Line, "", "", "a second YAML document (after ---); "+single)
		return nil
	}
	if len(doc.Content) == 0 || IsNull(doc.Content[0]) {
		return nil
	}
	return doc.Content[0]
}

// IsNull tells whether n is an empty value (a key with nothing after it, ~
// or null).
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Deref follows YAML aliases (*name) to the anchored node, so anchors work
// anywhere a value does.
func Deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

var yamlErrLine = regexp.MustCompile(`^line (\d+): `)

// syntaxError records a yaml.v3 syntax error with its line. yaml.v3 gives
// the line where the construct it was reading starts, counts it from 0 in
// parser errors (from 1 in scanner errors), and leaves it out when it is
// the first line or when the bytes themselves are bad; the line is
// corrected or found here.
func syntaxError(errs *List, err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		if isParserError(msg) {
			line++
		}
	} else {
		line = unlocatedLine(msg, data)
	}
	if strings.Contains(msg, "tab character") {
		msg += "; indent with spaces, not tabs"
	}
	errs.Add(line, "", "", "invalid YAML: "+msg)
}

// isParserError recognises the messages of yaml.v3's parser (parserc.go),
// whose lines are counted from 0; all its other errors count from 1.
func isParserError(msg string) bool {
	for _, prefix := range []string{"did not find expected", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// unlocatedLine finds the line of an error yaml.v3 reported without one.
func unlocatedLine(msg string, data []byte) int {
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			return bytes.Count(data[:i], []byte("\n")) + 1
		}
	}
	// A byte YAML does not allow (yaml.v3's reader errors): find it.
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 || !yamlChar(r) {
			return bytes.Count(data[:i], []byte("\n")) + 1
		}
		i += size
	}
	// Otherwise yaml.v3 left the line out because it was line 1.
	return 1
}

// yamlChar reports whether YAML allows r in a document (c-printable).
func yamlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0x7E || r == 0x85 ||
		0xA0 <= r && r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF
}

// Suggest returns " (did you mean X?)" for the entry of valid closest to
// key when it is a likely misspelling (at most a third of its letters
// differ), else "".
func Suggest(key string, valid []string) string {
	best, bestDist := "", len(key)/3+1
	for _, v := range valid {
		if d := editDistance(strings.ToLower(key), strings.ToLower(v)); d < bestDist {
			best, bestDist = v, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance of a and b, by bytes: keys are
// ASCII names.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 { // not a misspelling of a key
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// MaxEcho is how much of a bad value a message shows: enough to find it,
// never a 10 MB line repeated into the terminal and the log.
const MaxEcho = 80

// Quote quotes a value for a message, cut to MaxEcho bytes (at a character
// boundary) with its full length said.
func Quote(s string) string {
	if len(s) <= MaxEcho {
		return strconv.Quote(s)
	}
	cut := MaxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:cut]), len(s))
}
