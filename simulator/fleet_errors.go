package simulator

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is a problem with one field of a fleet.
type FieldError struct {
	Source string
	Line   int // 0 when not from a file
	Host   string
	Index  int // host index, -1 for fleet-level fields
	Field  string
	Msg    string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	switch {
	case e.Host != "":
		fmt.Fprintf(&b, "host %q: ", e.Host)
	case e.Index >= 0:
		fmt.Fprintf(&b, "host %d: ", e.Index+1)
	}
	fmt.Fprintf(&b, "%s: %s", e.Field, e.Msg)
	return b.String()
}

var yamlSyntax = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxError(name string, err error) error {
	if m := yamlSyntax.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: %s", name, m[1], m[2])
	}
	return fmt.Errorf("%s: %w", name, err)
}

// layout maps lines of the file to hosts and fields, for error messages.
type layout struct {
	top   *yaml.Node
	hosts []*yaml.Node
}

func newLayout(top *yaml.Node) *layout {
	l := &layout{top: top}
	if hosts := mapValue(top, "hosts"); hosts != nil && hosts.Kind == yaml.SequenceNode {
		l.hosts = hosts.Content
	}
	return l
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func (l *layout) topLine(field string) int {
	if l.top == nil || l.top.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(l.top.Content); i += 2 {
		if l.top.Content[i].Value == field {
			return l.top.Content[i].Line
		}
	}
	return l.top.Line
}

// hostAt is the index of the host whose entry contains line, or -1.
func (l *layout) hostAt(line int) int {
	idx := -1
	for i, h := range l.hosts {
		if h.Line <= line {
			idx = i
		}
	}
	return idx
}

// fieldAt is the host field whose key is on line or, for a value spread
// over several lines, the last key before it.
func fieldAt(host *yaml.Node, line int) string {
	field := ""
	for i := 0; i+1 < len(host.Content); i += 2 {
		if host.Content[i].Line <= line {
			field = host.Content[i].Value
		}
	}
	return field
}

func hostName(host *yaml.Node) string {
	if n := mapValue(host, "name"); n != nil {
		return n.Value
	}
	return ""
}

// fieldLine is the line of a host's field, or of the host entry.
func (l *layout) fieldLine(idx int, field string) int {
	if idx < 0 || idx >= len(l.hosts) {
		return l.topLine(field)
	}
	h := l.hosts[idx]
	for i := 0; i+1 < len(h.Content); i += 2 {
		if h.Content[i].Value == field {
			return h.Content[i].Line
		}
	}
	return h.Line
}

var (
	yamlLine     = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// typeErrors turns the decoder's "line N: ..." errors into FieldErrors.
func (l *layout) typeErrors(name string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return syntaxError(name, err)
	}
	var errs []error
	for _, e := range te.Errors {
		m := yamlLine.FindStringSubmatch(e)
		if m == nil {
			errs = append(errs, fmt.Errorf("%s: %s", name, e))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		fe := &FieldError{Source: name, Line: line, Index: l.hostAt(line), Msg: m[2]}
		var unknown string
		if u := unknownField.FindStringSubmatch(m[2]); u != nil {
			unknown = u[1]
		}
		if fe.Index >= 0 {
			host := l.hosts[fe.Index]
			fe.Host, fe.Field = hostName(host), fieldAt(host, line)
		} else {
			fe.Field = unknown
		}
		if unknown != "" {
			fe.Msg = unknownMessage(unknown, fe.Field, fe.Index >= 0)
		}
		errs = append(errs, fe)
	}
	return errors.Join(errs...)
}

func unknownMessage(unknown, field string, inHost bool) string {
	if unknown == field {
		return "unknown field" + suggest(unknown, inHost)
	}
	return fmt.Sprintf("unknown field %q", unknown)
}

// suggest names the field the user probably meant.
func suggest(unknown string, inHost bool) string {
	var fields []string
	for _, f := range yamlFields(inHost) {
		if editDistance(unknown, f) <= 2 {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", fields[0])
}

func yamlFields(inHost bool) []string {
	var t any = fleetSpec{}
	if inHost {
		t = hostSpec{}
	}
	return structTags(t)
}

// placeFieldErrors adds lines to validation errors. origin maps expanded
// host indexes to spec entries; nil means the indexes are spec indexes.
func (l *layout) placeFieldErrors(err error, origin []int) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		var fe *FieldError
		if !errors.As(e, &fe) {
			continue
		}
		idx := fe.Index
		if origin != nil && idx >= 0 {
			idx = origin[idx]
		}
		fe.Line = l.fieldLine(idx, fe.Field)
	}
	return errors.Join(list...)
}
