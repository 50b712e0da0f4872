package probes

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"aadcready/facts"
)

// Diagnostics says what Parse met besides the facts, for logs.
type Diagnostics struct {
	NoiseLines int      // non-empty lines that are not records
	Problems   []string // protocol problems, with line numbers
	// NoBundle: the output holds no BUNDLE record at all, so the bundle
	// never started (NoBundleReason says why, from stderr).
	NoBundle bool
}

// maxProblems bounds Diagnostics.Problems, so that garbage output cannot
// grow it; the rest are only counted.
const maxProblems = 50

const recordPrefix = "##AADC "

// probeKeys lists each probe's fact keys in registry order.
var probeKeys = func() map[string][]string {
	m := map[string][]string{}
	for _, d := range facts.Registry {
		m[d.Probe] = append(m[d.Probe], d.Key)
	}
	return m
}()

// Parse reads the output of the bundle identified by bundleID, strictly as
// docs/probe-protocol.md says. Every probe of the bundle gets a status, and
// only facts of correctly framed probes are kept. Parse never fails: what
// went wrong is in the probe statuses and the Diagnostics.
func Parse(out []byte, bundleID string) (*facts.Set, Diagnostics) {
	set := facts.NewSet()
	set.Facts = make(map[string]facts.Fact, len(facts.Registry))
	p := parser{
		want:   bundleID,
		set:    set,
		via:    make(map[string]byte, len(facts.Registry)),
		status: make(map[string]facts.ProbeStatus, len(names)),
	}
	p.run(out)
	return p.set, p.diag
}

type parser struct {
	want    string
	set     *facts.Set
	diag    Diagnostics
	dropped int // problems beyond maxProblems

	line    int
	rec     []byte // the record being handled, quoted in problems
	started bool   // the BUNDLE record matched
	done    bool   // DONE was seen
	inFrame bool   // between BEGIN and END/FAIL
	cur     string // the framed probe; "" when it is not in the bundle
	curName []byte // the name its BEGIN gave
	curLine int    // line of that BEGIN

	via    map[string]byte              // how each key was given: 'F', 'L', '0' (L0), 'A', 'E'
	status map[string]facts.ProbeStatus // probes that ended or are malformed
}

func (p *parser) run(out []byte) {
	for len(out) > 0 {
		i := bytes.IndexByte(out, '\n')
		if i < 0 {
			// The bundle ends every line, so a last line without one was cut.
			p.rec = nil
			p.problem("output ends inside a line")
			break
		}
		line := bytes.TrimSuffix(out[:i], []byte("\r"))
		out = out[i+1:]
		p.line++
		r, isRecord := bytes.CutPrefix(line, []byte(recordPrefix))
		if !isRecord {
			if len(line) > 0 {
				p.diag.NoiseLines++
			}
			continue
		}
		p.rec = r
		if !p.record(r) {
			return
		}
	}
	p.finish()
}

// record handles one record; false means the output is not from this
// bundle and parsing stops.
func (p *parser) record(r []byte) bool {
	typ, rest, hasRest := bytes.Cut(r, []byte(" "))
	if !p.started {
		version, id, _ := bytes.Cut(rest, []byte(" "))
		switch {
		case string(typ) != "BUNDLE" || !hasRest:
			p.notFromBundle(fmt.Sprintf("it starts with %q, not a BUNDLE record", clip(r)))
		case string(version) != "1":
			p.notFromBundle(fmt.Sprintf("protocol version %q, not 1", clip(version)))
		case string(id) != p.want:
			p.notFromBundle(fmt.Sprintf("it comes from bundle %q, not %s", clip(id), p.want))
		default:
			p.started = true
			return true
		}
		return false
	}
	switch {
	case p.done:
		p.problem("record after DONE ignored")
	case !printable(r):
		p.malformed(p.cur, "record has a character outside printable ASCII")
	default:
		switch string(typ) {
		case "BEGIN":
			p.begin(rest, hasRest)
		case "END":
			p.end(rest, hasRest, false)
		case "FAIL":
			p.end(rest, hasRest, true)
		case "DONE":
			p.doneRecord(hasRest)
		case "F":
			p.fact('F', rest, hasRest)
		case "L":
			p.fact('L', rest, hasRest)
		case "L0":
			p.fact('0', rest, hasRest)
		case "A":
			p.fact('A', rest, hasRest)
		case "E":
			p.fact('E', rest, hasRest)
		default:
			p.malformed(p.cur, "unknown record type")
		}
	}
	return true
}

func (p *parser) begin(name []byte, ok bool) {
	if p.inFrame {
		p.malformed(p.cur, "output ended inside the probe (BEGIN before END)")
	}
	p.inFrame, p.cur, p.curName, p.curLine = true, bundleName(name), name, p.line
	switch {
	case !ok || len(name) == 0 || bytes.IndexByte(name, ' ') >= 0:
		p.problem("BEGIN record does not parse")
	case p.cur == "":
		// Its records are ignored, not taken as records outside a probe.
		p.problem("probe is not in this bundle")
	case p.status[p.cur].Status != "":
		p.malformed(p.cur, "probe framed twice")
	}
}

// end handles END and FAIL.
func (p *parser) end(rest []byte, ok, fail bool) {
	if !p.inFrame {
		p.problem("END or FAIL outside a probe")
		return
	}
	name, reason := rest, ""
	if fail {
		n, r, hasReason := bytes.Cut(rest, []byte(" "))
		msg, escOK := unescape(r)
		ok = ok && hasReason && escOK
		name, reason = n, msg
	}
	switch {
	case !ok:
		p.malformed(p.cur, "record does not parse")
	case !bytes.Equal(name, p.curName):
		p.malformed(p.cur, "END or FAIL of another probe")
	case p.cur == "" || p.status[p.cur].Status != "":
		// not in the bundle, or already malformed
	case fail:
		p.status[p.cur] = facts.ProbeStatus{Status: facts.ProbeFailed, Reason: reason}
	default:
		p.status[p.cur] = facts.ProbeStatus{Status: facts.ProbeOK}
	}
	p.inFrame, p.cur = false, ""
}

func (p *parser) doneRecord(hasRest bool) {
	if hasRest {
		p.malformed(p.cur, "record does not parse")
		return
	}
	if p.inFrame {
		p.malformed(p.cur, "output ended inside the probe (DONE before END)")
		p.inFrame, p.cur = false, ""
	}
	p.done = true
}

// fact handles F, L, L0 ('0'), A and E.
func (p *parser) fact(typ byte, rest []byte, hasRest bool) {
	key, val, hasVal := rest, []byte(nil), false
	if typ == 'F' || typ == 'L' || typ == 'E' {
		key, val, hasVal = bytes.Cut(rest, []byte(" "))
	}
	def, known := facts.Lookup(string(key))
	switch {
	case !p.inFrame:
		if known {
			p.malformed(def.Probe, "record outside a probe")
		} else {
			p.problem("record outside a probe")
		}
		return
	case p.cur == "" || p.status[p.cur].Status != "":
		return // the frame is not in the bundle or already malformed
	case !hasRest || (typ != '0' && typ != 'A' && !hasVal):
		p.malformed(p.cur, "record does not parse")
		return
	case !known:
		p.malformed(p.cur, "unknown fact")
		return
	case def.Probe != p.cur:
		p.malformed(p.cur, "fact of another probe")
		return
	}
	k := def.Key
	if prev, seen := p.via[k]; seen && (typ != 'L' || prev != 'L') {
		p.malformed(p.cur, "fact given twice")
		return
	}
	text, ok := unescape(val)
	if !ok {
		p.malformed(p.cur, "bad escape")
		return
	}
	p.via[k] = typ
	isList := def.Kind == facts.List
	switch {
	case typ == 'A':
		p.set.Facts[k] = facts.Fact{Status: facts.StatusAbsent}
	case typ == 'E':
		p.set.Facts[k] = facts.Fact{Status: facts.StatusError, Reason: text}
	case (typ == 'F') == isList:
		if p.set.Facts[k].Status != facts.StatusError { // once for a run of L items
			p.wrongKind(k, fmt.Sprintf("host returned %s for a %s fact", given(typ), def.Kind))
		}
	case typ == '0':
		p.set.Facts[k] = facts.Fact{Status: facts.StatusOK, Value: []string{}}
	case typ == 'L':
		// Earlier items of this key can only have come from L records.
		items, _ := p.set.Facts[k].Value.([]string)
		p.set.Facts[k] = facts.Fact{Status: facts.StatusOK, Value: append(items, text)}
	default:
		v, err := facts.ParseValue(k, text)
		if err != nil {
			p.wrongKind(k, fmt.Sprintf("host returned %q, not %s", clip([]byte(text)), article(def.Kind)))
			return
		}
		p.set.Facts[k] = facts.Fact{Status: facts.StatusOK, Value: v}
	}
}

// wrongKind makes one fact unknown; the rest of its probe stands.
func (p *parser) wrongKind(key, reason string) {
	p.set.Facts[key] = facts.Fact{Status: facts.StatusError, Reason: reason}
	p.problem(key + ": " + reason)
}

// malformed marks a probe of the bundle malformed with its first reason and
// drops its facts; for any other probe it only logs. It formats nothing once
// there is nothing new to say, so that garbage costs no memory.
func (p *parser) malformed(probe, what string) {
	fresh := probe != "" && p.status[probe].Status != facts.ProbeMalformed
	if !fresh {
		p.problem(what)
		return
	}
	why := p.describe(what)
	p.status[probe] = facts.ProbeStatus{Status: facts.ProbeMalformed, Reason: why}
	for _, k := range probeKeys[probe] {
		delete(p.set.Facts, k)
	}
	p.addProblem(why)
}

func (p *parser) problem(what string) {
	if len(p.diag.Problems) >= maxProblems {
		p.dropped++
		return
	}
	p.addProblem(p.describe(what))
}

func (p *parser) addProblem(why string) {
	if len(p.diag.Problems) >= maxProblems {
		p.dropped++
		return
	}
	p.diag.Problems = append(p.diag.Problems, why)
}

// describe says what went wrong, where, and quotes the record.
func (p *parser) describe(what string) string {
	if p.rec == nil {
		return fmt.Sprintf("line %d: %s", p.line, what)
	}
	return fmt.Sprintf("line %d: %s: %q", p.line, what, clip(p.rec))
}

func (p *parser) notFromBundle(why string) {
	p.problem("output is not from this bundle: " + why)
	for _, n := range names {
		p.set.Probes[n] = facts.ProbeStatus{Status: facts.ProbeMalformed, Reason: "output is not from this bundle: " + why}
	}
}

func (p *parser) finish() {
	p.rec = nil
	if !p.started {
		p.diag.NoBundle = true
		p.notFromBundle("no BUNDLE record")
		return
	}
	if p.inFrame {
		p.malformed(p.cur, fmt.Sprintf("output ended inside the probe (BEGIN at line %d)", p.curLine))
	}
	if !p.done {
		p.problem("no DONE record: output cut short")
	}
	for _, n := range names {
		st, ok := p.status[n]
		switch {
		case ok:
		case p.done:
			st = facts.ProbeStatus{Status: facts.ProbeMissing, Reason: "not in the output"}
		default:
			st = facts.ProbeStatus{Status: facts.ProbeMissing, Reason: "output ended before the probe"}
		}
		p.set.Probes[n] = st
	}
	if p.dropped > 0 {
		p.diag.Problems = append(p.diag.Problems, fmt.Sprintf("%d more problems not shown", p.dropped))
	}
}

// bundleName returns the bundle's own string for a probe name, "" if the
// bundle has no such probe.
func bundleName(b []byte) string {
	for _, n := range names {
		if string(b) == n {
			return n
		}
	}
	return ""
}

// unescape decodes a value or reason. Unpaired surrogates become U+FFFD;
// anything but \\ \n \r \t \uXXXX after a backslash is an error.
func unescape(b []byte) (string, bool) {
	i := bytes.IndexByte(b, '\\')
	if i < 0 {
		return string(b), true
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:i]...)
	high := rune(-1) // a high surrogate waiting for its low half
	for i < len(b) {
		r, n := rune(b[i]), 1
		if b[i] == '\\' {
			if i+1 >= len(b) {
				return "", false
			}
			n = 2
			switch b[i+1] {
			case '\\':
				r = '\\'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				var ok bool
				if i+6 > len(b) {
					return "", false
				}
				if r, ok = hex4(b[i+2 : i+6]); !ok {
					return "", false
				}
				n = 6
			default:
				return "", false
			}
		}
		i += n
		if high >= 0 {
			if r >= 0xDC00 && r <= 0xDFFF {
				out = utf8.AppendRune(out, utf16.DecodeRune(high, r))
				high = -1
				continue
			}
			out = utf8.AppendRune(out, utf8.RuneError)
			high = -1
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			high = r
		case r >= 0xDC00 && r <= 0xDFFF:
			out = utf8.AppendRune(out, utf8.RuneError)
		default:
			out = utf8.AppendRune(out, r)
		}
	}
	if high >= 0 {
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	return string(out), true
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

// clip shortens untrusted text quoted in a problem or reason.
func clip(b []byte) string {
	const max = 60
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// given names what a record gave, for a wrong-kind reason.
func given(typ byte) string {
	if typ == 'F' {
		return "a single value"
	}
	return "a list"
}

func article(k facts.Kind) string {
	switch k {
	case facts.Int:
		return "an integer"
	case facts.Bool:
		return "a boolean"
	}
	return "a " + string(k)
}

// maxQuotedStderr bounds the stderr NoBundleReason quotes.
const maxQuotedStderr = 400

// noBundleCauses are what stops the bundle before its first line, each
// with words of PowerShell's error that point to it.
var noBundleCauses = []struct{ cause, words string }{
	{"Constrained Language mode (WDAC or AppLocker) refused the bootstrap or the bundle", "language mode|core types|ConstrainedLanguage"},
	{"AMSI or antivirus blocked the script", "malicious content|antivirus|AMSI|ScriptContainedMaliciousContent"},
	{"an execution policy or another policy stopped PowerShell", "execution polic|digitally signed|UnauthorizedAccess|group policy"},
}

// NoBundleReason explains a host whose output has no BUNDLE record: the
// exit code, PowerShell's error (stderr, CLIXML decoded) quoted on one
// line, and the likely cause — the one the error names, else all of them.
func NoBundleReason(stderr string, exitCode int) string {
	quoted := strings.Join(strings.FieldsFunc(stderr, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(quoted) > maxQuotedStderr {
		quoted = strings.ToValidUTF8(quoted[:maxQuotedStderr], "") + "..."
	}
	var causes []string
	for _, c := range noBundleCauses {
		for _, w := range strings.Split(c.words, "|") {
			if strings.Contains(strings.ToLower(stderr), strings.ToLower(w)) {
				causes = append(causes, c.cause)
				break
			}
		}
	}
	hint := "likely cause: "
	if len(causes) == 0 {
		hint = "likely causes: "
		for _, c := range noBundleCauses {
			causes = append(causes, c.cause)
		}
	}
	s := fmt.Sprintf("powershell.exe printed no BUNDLE line (exit code %d); ", exitCode)
	if quoted == "" {
		s += "stderr is empty"
	} else {
		s += fmt.Sprintf("stderr: %q", quoted)
	}
	return s + "; " + hint + strings.Join(causes, "; or ") + " (docs/probes.md, \"What the SOC sees\")"
}
