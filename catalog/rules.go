package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"aadcready/facts"
)

// ruleSpec is a rule as written in the YAML: a kind plus the parameters that
// kind takes (kindParams). Scalars stay strings until compileRule parses
// them for the kind, so a bad number is reported with the kind it was for.
type ruleSpec struct {
	Kind                  string              `yaml:"kind"`
	Fact                  string              `yaml:"fact"`
	Min                   string              `yaml:"min"`
	Below                 string              `yaml:"below"`
	Value                 string              `yaml:"value"`
	Values                []string            `yaml:"values"`
	Patterns              []string            `yaml:"patterns"`
	Want                  map[string][]string `yaml:"want"`
	Reject                map[string][]string `yaml:"reject"`
	MaxHours              string              `yaml:"max_hours"`
	Action                string              `yaml:"action"`
	Absent                string              `yaml:"absent"`
	AbsentOKFromBuild     string              `yaml:"absent_ok_from_build"`
	Unit                  string              `yaml:"unit"`
	WarnWithinDays        string              `yaml:"warn_within_days"`
	NewerBuildGraceMonths string              `yaml:"newer_build_grace_months"`
	Rules                 []ruleSpec          `yaml:"rules"`
}

// params lists the parameters set in s, by their YAML names.
func (s ruleSpec) params() []string {
	var p []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"fact", s.Fact != ""}, {"min", s.Min != ""}, {"below", s.Below != ""}, {"value", s.Value != ""},
		{"values", s.Values != nil}, {"patterns", s.Patterns != nil}, {"want", s.Want != nil},
		{"reject", s.Reject != nil}, {"max_hours", s.MaxHours != ""}, {"action", s.Action != ""},
		{"absent", s.Absent != ""}, {"absent_ok_from_build", s.AbsentOKFromBuild != ""}, {"unit", s.Unit != ""},
		{"warn_within_days", s.WarnWithinDays != ""}, {"newer_build_grace_months", s.NewerBuildGraceMonths != ""},
		{"rules", s.Rules != nil},
	} {
		if f.set {
			p = append(p, f.name)
		}
	}
	return p
}

const kindInstalled = "aadc_installed"

// kindParams is the rule vocabulary: each kind and the parameters it takes.
var kindParams = map[string][]string{
	"int_at_least":       {"fact", "min", "absent", "unit"},
	"int_below":          {"fact", "below", "absent", "unit"},
	"version_at_least":   {"fact", "min", "absent"},
	"equals_any":         {"fact", "values", "absent"},
	"not_equals_any":     {"fact", "values", "absent"},
	"matches_any":        {"fact", "patterns", "absent"},
	"bool_is":            {"fact", "value", "absent"},
	"tls_values":         {"want", "reject", "absent_ok_from_build"},
	"build_at_least":     {"min"},
	"build_below":        {"below"},
	"last_export_within": {"max_hours"},
	"build_support":      {"warn_within_days", "newer_build_grace_months"},
	kindInstalled:        {},
	"all":                {"rules"},
	"any":                {"rules"},
}

// outcome is what a rule says about a host.
type outcome struct {
	status Status // pass, fail or could_not_check
	reason string
	// action overrides the requirement's action: the action of the part
	// that failed (or could not be checked). Empty: the requirement's.
	action string
	// warnOnly makes a failing blocker a warning (build_support inside its
	// warning window).
	warnOnly bool
	// due is a day the rule will fail on (build_support: the end of
	// support); 0 when none.
	due day
}

type rule interface {
	eval(e *env) outcome
	keys() []string // the fact keys the rule reads directly
	String() string // the rule in words, for docs/catalog.md and Requirement.Rule
}

func compileRule(s ruleSpec) (rule, error) {
	r, err := compileKind(s)
	if err != nil || s.Action == "" {
		return r, err
	}
	if !slices.Contains([]string{ActionMigrate, ActionFix, ActionUpgrade}, s.Action) {
		return nil, fmt.Errorf("%s: action %q is not migrate, fix or upgrade", s.Kind, s.Action)
	}
	return actionRule{rule: r, action: s.Action}, nil
}

// actionRule names the action a failing part asks for, so that one
// requirement can ask for an upgrade when its build part fails and for a fix
// when its configuration part does.
type actionRule struct {
	rule
	action string
}

func (r actionRule) eval(e *env) outcome {
	o := r.rule.eval(e)
	if o.status != StatusPass && o.action == "" {
		o.action = r.action
	}
	return o
}

func (r actionRule) String() string { return r.rule.String() + ", else " + r.action }

func compileKind(s ruleSpec) (rule, error) {
	allowed, ok := kindParams[s.Kind]
	if !ok {
		known := make([]string, 0, len(kindParams))
		for k := range kindParams {
			known = append(known, k)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("unknown rule kind %q (known: %s)", s.Kind, strings.Join(known, ", "))
	}
	for _, p := range s.params() {
		if p != "action" && !slices.Contains(allowed, p) {
			return nil, fmt.Errorf("%s does not take %s", s.Kind, p)
		}
	}
	switch s.Kind {
	case "int_at_least", "int_below":
		fr, err := compileFact(s, facts.Int)
		if err != nil {
			return nil, err
		}
		bound, text := s.Min, "min"
		if s.Kind == "int_below" {
			bound, text = s.Below, "below"
		}
		n, err := strconv.ParseInt(bound, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %q is not an integer", s.Kind, text, bound)
		}
		if s.Unit != "" && s.Unit != "bytes" && s.Unit != "mhz" {
			return nil, fmt.Errorf("%s: unit %q is not bytes or mhz", s.Kind, s.Unit)
		}
		return intRule{factRule: fr, bound: n, atLeast: s.Kind == "int_at_least", unit: s.Unit}, nil
	case "version_at_least":
		fr, err := compileFact(s, facts.String)
		if err != nil {
			return nil, err
		}
		v, err := parseVersion(s.Min)
		if err != nil {
			return nil, fmt.Errorf("%s: min: %w", s.Kind, err)
		}
		return versionRule{factRule: fr, min: v, text: s.Min}, nil
	case "equals_any", "not_equals_any":
		fr, err := compileFact(s, facts.String, facts.Int)
		if err != nil {
			return nil, err
		}
		if len(s.Values) == 0 {
			return nil, fmt.Errorf("%s: values is empty", s.Kind)
		}
		if def, _ := facts.Lookup(s.Fact); def.Kind == facts.Int {
			for _, v := range s.Values {
				if _, err := strconv.ParseInt(v, 0, 64); err != nil {
					return nil, fmt.Errorf("%s: %s is an integer fact; value %q is not an integer", s.Kind, s.Fact, v)
				}
			}
		}
		return valuesRule{factRule: fr, values: s.Values, negate: s.Kind == "not_equals_any"}, nil
	case "matches_any":
		fr, err := compileFact(s, facts.String)
		if err != nil {
			return nil, err
		}
		if len(s.Patterns) == 0 {
			return nil, fmt.Errorf("%s: patterns is empty", s.Kind)
		}
		m := matchRule{factRule: fr}
		for _, p := range s.Patterns {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("%s: pattern %q: %w", s.Kind, p, err)
			}
			m.patterns = append(m.patterns, re)
		}
		return m, nil
	case "bool_is":
		fr, err := compileFact(s, facts.Bool)
		if err != nil {
			return nil, err
		}
		want, err := strconv.ParseBool(s.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: value %q is not true or false", s.Kind, s.Value)
		}
		return boolRule{factRule: fr, want: want}, nil
	case "tls_values":
		return compileTLS(s)
	case "build_at_least":
		v, err := parseVersion(s.Min)
		if err != nil {
			return nil, fmt.Errorf("%s: min: %w", s.Kind, err)
		}
		return buildAtLeastRule{min: v}, nil
	case "build_below":
		v, err := parseVersion(s.Below)
		if err != nil {
			return nil, fmt.Errorf("%s: below: %w", s.Kind, err)
		}
		return buildBelowRule{below: v}, nil
	case "last_export_within":
		h, err := strconv.Atoi(s.MaxHours)
		if err != nil || h <= 0 {
			return nil, fmt.Errorf("%s: max_hours %q is not a positive integer", s.Kind, s.MaxHours)
		}
		return lastExportRule{maxHours: h}, nil
	case "build_support":
		warn, err1 := strconv.Atoi(s.WarnWithinDays)
		grace, err2 := strconv.Atoi(s.NewerBuildGraceMonths)
		if err1 != nil || err2 != nil || warn < 0 || grace <= 0 {
			return nil, fmt.Errorf("%s: warn_within_days (>= 0) and newer_build_grace_months (> 0) must be integers", s.Kind)
		}
		return buildSupportRule{warnDays: warn, graceMonths: grace}, nil
	case kindInstalled:
		return installedRule{}, nil
	default: // all, any
		if len(s.Rules) < 2 {
			return nil, fmt.Errorf("%s needs at least two rules", s.Kind)
		}
		c := compositeRule{all: s.Kind == "all"}
		for i, sub := range s.Rules {
			r, err := compileRule(sub)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", s.Kind, i, err)
			}
			c.rules = append(c.rules, r)
		}
		return c, nil
	}
}

// factRule is the part shared by rules that judge one fact.
type factRule struct {
	key    string
	absent Status // what an absent fact means: pass, fail or could_not_check
}

func compileFact(s ruleSpec, kinds ...facts.Kind) (factRule, error) {
	def, ok := facts.Lookup(s.Fact)
	switch {
	case s.Fact == "":
		return factRule{}, fmt.Errorf("%s: fact is missing", s.Kind)
	case !ok:
		return factRule{}, fmt.Errorf("%s: unknown fact %q", s.Kind, s.Fact)
	case !slices.Contains(kinds, def.Kind):
		want := make([]string, len(kinds))
		for i, k := range kinds {
			want[i] = string(k)
		}
		return factRule{}, fmt.Errorf("%s: fact %s is of kind %s, want %s", s.Kind, s.Fact, def.Kind, strings.Join(want, " or "))
	}
	fr := factRule{key: s.Fact}
	switch s.Absent {
	case "", "fail":
		fr.absent = StatusFail
	case "pass":
		fr.absent = StatusPass
	case "unknown":
		fr.absent = StatusCouldNotCheck
	default:
		return fr, fmt.Errorf("%s: absent %q is not pass, fail or unknown", s.Kind, s.Absent)
	}
	return fr, nil
}

func (fr factRule) keys() []string { return []string{fr.key} }

// read returns the fact when it has a value; otherwise ok is false and out
// is what the rule reports: the absent policy, or could-not-check with the
// probe's reason.
func (fr factRule) read(e *env) (f facts.Fact, out outcome, ok bool) {
	f = e.set.Get(fr.key)
	switch f.Status {
	case facts.StatusOK:
		return f, outcome{}, true
	case facts.StatusAbsent:
		return f, outcome{status: fr.absent, reason: fr.key + " is absent"}, false
	}
	return f, outcome{status: StatusCouldNotCheck, reason: fr.key + ": " + f.Reason}, false
}

// suffix describes a non-default absent policy.
func (fr factRule) suffix() string {
	switch fr.absent {
	case StatusPass:
		return " (absent passes)"
	case StatusCouldNotCheck:
		return " (absent: could not check)"
	}
	return ""
}

// readAs is read followed by one of the fact's typed accessors
// (facts.Fact.Int, Str, Bool): a value of another type cannot be judged.
func readAs[T any](fr factRule, e *env, as func(facts.Fact) (T, bool)) (v T, out outcome, ok bool) {
	f, out, ok := fr.read(e)
	if !ok {
		return v, out, false
	}
	if v, ok = as(f); !ok {
		return v, mistyped(fr.key), false
	}
	return v, outcome{}, true
}

func mistyped(key string) outcome {
	return outcome{status: StatusCouldNotCheck, reason: key + " has a value of the wrong type"}
}

type intRule struct {
	factRule
	bound   int64
	atLeast bool // value >= bound; else value < bound
	unit    string
}

func (r intRule) eval(e *env) outcome {
	n, out, ok := readAs(r.factRule, e, facts.Fact.Int)
	if !ok {
		return out
	}
	switch {
	case r.atLeast && n < r.bound:
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s is %s, below %s", r.key, formatInt(n, r.unit), formatInt(r.bound, r.unit))}
	case !r.atLeast && n >= r.bound:
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s is %s, at or above %s", r.key, formatInt(n, r.unit), formatInt(r.bound, r.unit))}
	}
	return outcome{status: StatusPass}
}

func (r intRule) String() string {
	op := ">="
	if !r.atLeast {
		op = "<"
	}
	return fmt.Sprintf("%s %s %s%s", r.key, op, formatInt(r.bound, r.unit), r.suffix())
}

func formatInt(n int64, unit string) string {
	switch unit {
	case "bytes":
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case "mhz":
		return fmt.Sprintf("%d MHz", n)
	}
	return strconv.FormatInt(n, 10)
}

type versionRule struct {
	factRule
	min  version
	text string // min as written, for messages
}

func (r versionRule) eval(e *env) outcome {
	s, out, ok := readAs(r.factRule, e, facts.Fact.Str)
	if !ok {
		return out
	}
	v, err := parseVersion(s)
	if err != nil {
		return outcome{status: StatusCouldNotCheck, reason: r.key + ": " + err.Error()}
	}
	if v.compare(r.min) < 0 {
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s is %s, below %s", r.key, s, r.text)}
	}
	return outcome{status: StatusPass}
}

func (r versionRule) String() string { return fmt.Sprintf("%s >= %s%s", r.key, r.text, r.suffix()) }

// valuesRule compares a string fact case-insensitively (Windows does) or an
// integer fact by its decimal form against a list.
type valuesRule struct {
	factRule
	values []string
	negate bool // not_equals_any
}

func (r valuesRule) eval(e *env) outcome {
	f, out, ok := r.read(e)
	if !ok {
		return out
	}
	var got string
	switch v := f.Value.(type) {
	case string:
		got = v
	case int64:
		got = strconv.FormatInt(v, 10)
	default:
		return mistyped(r.key)
	}
	hit := slices.ContainsFunc(r.values, func(w string) bool {
		if n, err := strconv.ParseInt(w, 0, 64); err == nil {
			return strconv.FormatInt(n, 10) == got
		}
		return strings.EqualFold(w, got)
	})
	switch {
	case hit && r.negate:
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s is %q, one of %s", r.key, got, strings.Join(r.values, ", "))}
	case !hit && !r.negate:
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s is %q, not one of %s", r.key, got, strings.Join(r.values, ", "))}
	}
	return outcome{status: StatusPass}
}

func (r valuesRule) String() string {
	op := "is one of"
	if r.negate {
		op = "is none of"
	}
	return fmt.Sprintf("%s %s %s%s", r.key, op, strings.Join(r.values, ", "), r.suffix())
}

type matchRule struct {
	factRule
	patterns []*regexp.Regexp
}

func (r matchRule) eval(e *env) outcome {
	s, out, ok := readAs(r.factRule, e, facts.Fact.Str)
	if !ok {
		return out
	}
	for _, re := range r.patterns {
		if re.MatchString(s) {
			return outcome{status: StatusPass}
		}
	}
	return outcome{status: StatusFail, reason: fmt.Sprintf("%s is %q, matching none of %s", r.key, s, r.patternList())}
}

func (r matchRule) patternList() string {
	p := make([]string, len(r.patterns))
	for i, re := range r.patterns {
		p[i] = "`" + re.String() + "`"
	}
	return strings.Join(p, ", ")
}

func (r matchRule) String() string {
	return fmt.Sprintf("%s matches one of %s%s", r.key, r.patternList(), r.suffix())
}

type boolRule struct {
	factRule
	want bool
}

func (r boolRule) eval(e *env) outcome {
	b, out, ok := readAs(r.factRule, e, facts.Fact.Bool)
	if !ok {
		return out
	}
	if b != r.want {
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s is %t", r.key, b)}
	}
	return outcome{status: StatusPass}
}

func (r boolRule) String() string { return fmt.Sprintf("%s is %t%s", r.key, r.want, r.suffix()) }

// tlsRule checks a group of registry DWORDs. With want, every value must be
// one of the accepted ones; with reject, no value may be one of the rejected
// ones (an explicit "off"). An absent value is reported apart from a wrong
// one: with absentOKFromBuild set, an absent value on that OS build or later
// is the OS default (TLS 1.2 on) and passes with a note.
type tlsRule struct {
	want              []tlsWant // sorted by key
	reject            bool      // want lists rejected values
	absentOKFromBuild int64     // 0: absent fails
}

type tlsWant struct {
	key    string
	accept []int64 // the accepted (or, with reject, the rejected) values
}

func compileTLS(s ruleSpec) (rule, error) {
	values := s.Want
	var r tlsRule
	switch {
	case len(s.Want) > 0 && len(s.Reject) > 0:
		return nil, errors.New("tls_values: want and reject exclude each other")
	case len(s.Reject) > 0:
		values, r.reject = s.Reject, true
	case len(s.Want) == 0:
		return nil, errors.New("tls_values: want (or reject) is empty")
	}
	for key, vals := range values {
		if def, ok := facts.Lookup(key); !ok || def.Kind != facts.Int {
			return nil, fmt.Errorf("tls_values: %q is not an integer fact", key)
		}
		if len(vals) == 0 {
			return nil, fmt.Errorf("tls_values: %s lists no value", key)
		}
		w := tlsWant{key: key}
		for _, v := range vals {
			n, err := strconv.ParseInt(v, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("tls_values: %s: %q is not an integer", key, v)
			}
			w.accept = append(w.accept, n)
		}
		r.want = append(r.want, w)
	}
	slices.SortFunc(r.want, func(a, b tlsWant) int { return strings.Compare(a.key, b.key) })
	if s.AbsentOKFromBuild != "" {
		n, err := strconv.ParseInt(s.AbsentOKFromBuild, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("tls_values: absent_ok_from_build %q is not a build number", s.AbsentOKFromBuild)
		}
		r.absentOKFromBuild = n
	}
	return r, nil
}

func (r tlsRule) keys() []string {
	k := make([]string, 0, len(r.want)+1)
	for _, w := range r.want {
		k = append(k, w.key)
	}
	if r.absentOKFromBuild > 0 {
		k = append(k, "os.build")
	}
	return k
}

func (r tlsRule) eval(e *env) outcome {
	var bad, unknown, defaulted []string
	for _, w := range r.want {
		f := e.set.Get(w.key)
		switch f.Status {
		case facts.StatusOK:
			n, ok := f.Int()
			switch {
			case !ok:
				unknown = append(unknown, w.key+" has a value of the wrong type")
			case r.reject && slices.Contains(w.accept, n):
				bad = append(bad, fmt.Sprintf("%s = %s (turns TLS 1.2 off)", w.key, formatDWORD(n)))
			case !r.reject && !slices.Contains(w.accept, n):
				bad = append(bad, fmt.Sprintf("%s = %s (want %s)", w.key, formatDWORD(n), w.accepted()))
			}
		case facts.StatusAbsent:
			if r.absentOKFromBuild == 0 {
				bad = append(bad, fmt.Sprintf("%s absent (want %s)", w.key, w.accepted()))
			} else {
				defaulted = append(defaulted, w.key)
			}
		default:
			unknown = append(unknown, w.key+": "+f.Reason)
		}
	}
	if len(defaulted) > 0 {
		b := e.set.Get("os.build")
		n, ok := b.Int()
		switch {
		case ok && n < r.absentOKFromBuild:
			for _, k := range defaulted {
				bad = append(bad, fmt.Sprintf("%s absent (TLS 1.2 is the OS default only from build %d)", k, r.absentOKFromBuild))
			}
			defaulted = nil
		case !ok:
			unknown = append(unknown, "os.build (needed to judge absent values): "+b.Display())
		}
	}
	switch {
	case len(bad) > 0:
		return outcome{status: StatusFail, reason: strings.Join(bad, "; ")}
	case len(unknown) > 0:
		return outcome{status: StatusCouldNotCheck, reason: joinUnknown(unknown)}
	case len(defaulted) > 0:
		return outcome{status: StatusPass, reason: "OS default: " + strings.Join(defaulted, ", ") + " absent"}
	}
	return outcome{status: StatusPass}
}

func (r tlsRule) String() string {
	parts := make([]string, len(r.want))
	op := " = "
	if r.reject {
		op = " is not "
	}
	for i, w := range r.want {
		parts[i] = w.key + op + w.accepted()
	}
	s := strings.Join(parts, ", ")
	if r.absentOKFromBuild > 0 {
		return fmt.Sprintf("%s; absent = OS default from os.build %d", s, r.absentOKFromBuild)
	}
	return s + "; absent fails"
}

func (w tlsWant) accepted() string {
	s := make([]string, len(w.accept))
	for i, n := range w.accept {
		s[i] = formatDWORD(n)
	}
	return strings.Join(s, " or ")
}

// formatDWORD shows small values in decimal and the rest as the DWORD in
// hex: PowerShell reads 0xFFFFFFFF as -1, and "0xFFFFFFFF" is what an
// administrator sees in regedit.
func formatDWORD(n int64) string {
	if n >= 0 && n <= 0xFFFF {
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("0x%X", uint32(n))
}

// compositeRule combines rules: all fails if any part fails, any passes if
// any part passes; otherwise an unknown part makes it could-not-check.
type compositeRule struct {
	all   bool
	rules []rule
}

func (c compositeRule) eval(e *env) outcome {
	decisive, other := StatusFail, StatusPass // for all
	if !c.all {
		decisive, other = StatusPass, StatusFail
	}
	var hits, unknown, rest []string
	// The action of the first failing (else unknown) part, in the order the
	// rules are listed: list the part whose action should win first.
	hitAction, unknownAction := "", ""
	for _, r := range c.rules {
		o := r.eval(e)
		switch o.status {
		case decisive:
			if c.all || len(hits) == 0 { // any: the first passing part is reason enough
				hits = append(hits, o.reason)
			}
			if hitAction == "" {
				hitAction = o.action
			}
		case StatusCouldNotCheck:
			unknown = append(unknown, o.reason)
			if unknownAction == "" {
				unknownAction = o.action
			}
		default:
			rest = append(rest, o.reason)
		}
	}
	switch {
	case len(hits) > 0:
		return outcome{status: decisive, reason: joinNonEmpty(hits), action: hitAction}
	case len(unknown) > 0:
		return outcome{status: StatusCouldNotCheck, reason: joinUnknown(unknown), action: unknownAction}
	}
	return outcome{status: other, reason: joinNonEmpty(rest)}
}

func joinNonEmpty(s []string) string {
	return strings.Join(slices.DeleteFunc(s, func(x string) bool { return x == "" }), "; ")
}

func (c compositeRule) keys() []string {
	var k []string
	for _, r := range c.rules {
		for _, key := range r.keys() {
			if !slices.Contains(k, key) {
				k = append(k, key)
			}
		}
	}
	return k
}

func (c compositeRule) String() string {
	parts := make([]string, len(c.rules))
	for i, r := range c.rules {
		parts[i] = "(" + r.String() + ")"
	}
	op := " or "
	if c.all {
		op = " and "
	}
	return strings.Join(parts, op)
}

// joinUnknown joins "key: reason" items, naming the keys that share a
// reason once: a probe that failed makes every fact it owns unknown for
// the same reason, and the report should say so once.
func joinUnknown(items []string) string {
	var order []string
	keys := map[string][]string{}
	for _, it := range items {
		if it == "" {
			continue
		}
		key, reason, ok := strings.Cut(it, ": ")
		if !ok || strings.ContainsAny(key, " (") {
			key, reason = "", it
		}
		if _, seen := keys[reason]; !seen {
			order = append(order, reason)
		}
		if key != "" {
			keys[reason] = append(keys[reason], key)
		} else if keys[reason] == nil {
			keys[reason] = []string{}
		}
	}
	parts := make([]string, len(order))
	for i, reason := range order {
		if ks := keys[reason]; len(ks) > 0 {
			parts[i] = strings.Join(ks, ", ") + ": " + reason
		} else {
			parts[i] = reason
		}
	}
	return strings.Join(parts, "; ")
}

// lastExportRule judges how long ago the host last exported to Entra ID
// successfully, on the host's own clock (the probe computes the age), so a
// scan judged again --as-of another day does not move it.
type lastExportRule struct{ maxHours int }

const (
	factExportAge  = "sync.last_export_age_hours"
	factExportTime = "sync.last_export_utc"
	stoppedSyncing = "this host has stopped syncing"
)

func (lastExportRule) keys() []string { return []string{factExportAge, factExportTime} }

func (r lastExportRule) String() string {
	return fmt.Sprintf("%s < %d (the last successful export to Entra ID is less than %d hours old)", factExportAge, r.maxHours, r.maxHours)
}

func (r lastExportRule) eval(e *env) outcome {
	f := e.set.Get(factExportAge)
	switch f.Status {
	case facts.StatusAbsent:
		return outcome{status: StatusFail, reason: "no successful export to Entra ID in the run history: " + stoppedSyncing}
	case facts.StatusOK:
	default:
		return outcome{status: StatusCouldNotCheck, reason: factExportAge + ": " + f.Reason}
	}
	h, ok := f.Int()
	if !ok {
		return mistyped(factExportAge)
	}
	when := ""
	if t, ok := e.set.Get(factExportTime).Str(); ok {
		when = " (" + t + ")"
	}
	if h >= int64(r.maxHours) {
		return outcome{status: StatusFail, reason: fmt.Sprintf("last successful export to Entra ID %s ago%s: %s", hoursText(h), when, stoppedSyncing)}
	}
	return outcome{status: StatusPass, reason: fmt.Sprintf("last successful export to Entra ID %s ago%s", hoursText(h), when)}
}

func hoursText(h int64) string {
	if h >= 48 {
		return fmt.Sprintf("%d days", h/24)
	}
	return fmt.Sprintf("%d hours", h)
}
