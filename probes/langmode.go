package probes

import (
	_ "embed"
	"sort"
	"strings"
)

// The language-mode check: what a script does that PowerShell refuses in
// ConstrainedLanguage mode (about_Language_Modes), unless it sits in a
// branch that runs only in FullLanguage. test/psgrammar/check.mjs applies
// the same rules to the tree-sitter-powershell syntax tree; CI compares
// the two (TestLanguageModeCheckersAgree). This one needs only Go, so the
// simulator runs it on every command line and bundle a ConstrainedLanguage
// host receives.
//
// The rules are conservative: a checker cannot know the type of a
// variable, so a method call or a property set is accepted only where the
// receiver's type is visible (a type literal, a string literal, a cast to an
// allowed type in parentheses). Hashtable entries are therefore written with
// index syntax ($h['Key'] = ...), never $h.Key = ....
//
// Rules (Finding.Rule):
//
//	type          a type literal ([T], [T]::Member, a cast) of a type not allowed
//	method        a method call on a receiver not known to be of an allowed type
//	property-set  an assignment to a property of such a receiver
//	new-object    New-Object of a type not allowed, or of a COM object not allowed
//	add-type      Add-Type (arbitrary C# or Win32 APIs)
//	invoke-text   & or . of a script block built from text by a method call
//
// A branch is FullLanguage-only when it is the block of an if or elseif
// whose whole condition is one of guardConditions.

// Finding is one place a ConstrainedLanguage session would refuse.
type Finding struct {
	Line   int    `json:"line"`
	Rule   string `json:"rule"`
	Text   string `json:"text"`
	Offset int    `json:"-"` // byte offset in the script
}

//go:embed clm-allowed-types.txt
var allowedTypesData string

// allowedTypes (lower case, accelerators and full names) and allowedCOM
// come from clm-allowed-types.txt.
var allowedTypes, allowedCOM = func() (types, com map[string]bool) {
	types, com = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(allowedTypesData, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if c, ok := strings.CutPrefix(line, "com:"); ok {
			com[strings.ToLower(c)] = true
			continue
		}
		for _, name := range strings.Fields(line) {
			types[strings.ToLower(name)] = true
		}
	}
	return types, com
}()

// guardConditions are the if conditions, without blanks and in lower case,
// that hold only in FullLanguage.
var guardConditions = []string{
	"$aadcfulllanguage",
	"$executioncontext.sessionstate.languagemode-eq'fulllanguage'",
	"[string]$executioncontext.sessionstate.languagemode-eq'fulllanguage'",
}

// TypeAllowed reports whether ConstrainedLanguage allows a type, written
// as in a type literal (without the brackets).
func TypeAllowed(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), " ", ""))
	if allowedTypes[n] {
		return true
	}
	if el, ok := strings.CutSuffix(n, "[]"); ok {
		return allowedTypes[el] || allowedTypes["system."+el]
	}
	return false
}

// CheckConstrained returns what in script ConstrainedLanguage mode would
// refuse, outside FullLanguage-guarded branches, in source order.
func CheckConstrained(script string) []Finding {
	c := &clmCheck{src: script, toks: lexPS(script)}
	c.findGuards()
	c.scan()
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].Offset < c.out[j].Offset })
	return c.out
}

type psTokKind int

const (
	tkVar     psTokKind = iota // $name, ${name}
	tkType                     // [Type] (text without brackets)
	tkStr                      // a string literal of any kind
	tkWord                     // a command name, keyword, bare argument
	tkName                     // a member name after . or ::
	tkParam                    // -Name, -eq
	tkNum                      // a number
	tkPunct                    // ( ) { } [ ] @( @{ $( . :: , ; | & = += ...
	tkNewline                  // end of a line
)

type psTok struct {
	kind     psTokKind
	text     string
	pos, end int
	spaced   bool // blanks (or the line start) before it
}

// lexPS splits PowerShell into the tokens the rules need. Comments vanish;
// strings are single tokens (subexpressions inside double-quoted strings
// are not looked into: the probes keep code out of strings).
func lexPS(s string) []psTok {
	var toks []psTok
	spaced := true
	add := func(k psTokKind, start, end int) {
		toks = append(toks, psTok{kind: k, text: s[start:end], pos: start, end: end, spaced: spaced})
		spaced = false
	}
	prevExpr := func() bool { // the previous token ends an expression, touching this one
		if spaced || len(toks) == 0 {
			return false
		}
		p := toks[len(toks)-1]
		switch p.kind {
		case tkVar, tkType, tkStr, tkName:
			return true
		case tkPunct:
			return p.text == ")" || p.text == "]" || p.text == "}"
		}
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
			spaced = true
		case c == '`':
			i += 2 // an escape; `<newline> continues the line
			spaced = true
		case c == '\n':
			add(tkNewline, i, i+1)
			i++
			spaced = true
		case c == '<' && strings.HasPrefix(s[i:], "<#"):
			end := strings.Index(s[i+2:], "#>")
			if end < 0 {
				return toks
			}
			i += end + 4
			spaced = true
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			spaced = true
		case c == '@' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"') && hereStart(s[i+2:]):
			closing := "\n" + string(s[i+1]) + "@"
			end := strings.Index(s[i+2:], closing)
			if end < 0 {
				end = len(s) - i - 2 - len(closing)
			}
			add(tkStr, i, i+2+end+len(closing))
			i += 2 + end + len(closing)
		case c == '@' && i+1 < len(s) && (s[i+1] == '(' || s[i+1] == '{'):
			add(tkPunct, i, i+2)
			i += 2
		case c == '\'' || c == '"':
			j := quoteEnd(s, i)
			add(tkStr, i, min(j+1, len(s)))
			i = j + 1
		case c == '$':
			switch {
			case i+1 < len(s) && s[i+1] == '(':
				add(tkPunct, i, i+2)
				i += 2
			case i+1 < len(s) && s[i+1] == '{':
				j := strings.IndexByte(s[i:], '}')
				if j < 0 {
					j = len(s) - i - 1
				}
				add(tkVar, i, i+j+1)
				i += j + 1
			default:
				j := i + 1
				if j < len(s) && strings.IndexByte("_?$^", s[j]) >= 0 {
					j++
				}
				for j < len(s) && (isWordByte(s[j]) || s[j] == ':' && j+1 < len(s) && isWordByte(s[j+1])) {
					j++
				}
				add(tkVar, i, j)
				i = j
			}
		case c == '[':
			if prevExpr() {
				add(tkPunct, i, i+1) // an index
				i++
				continue
			}
			depth, j := 0, i
			for ; j < len(s); j++ {
				if s[j] == '[' {
					depth++
				} else if s[j] == ']' {
					depth--
					if depth == 0 {
						break
					}
				} else if s[j] == '\n' {
					break
				}
			}
			inner := ""
			if j < len(s) && s[j] == ']' {
				inner = s[i+1 : j]
			}
			if inner == "" || strings.ContainsAny(inner, "()'\"$=") {
				add(tkPunct, i, i+1) // an attribute or something else: look inside
				i++
				continue
			}
			toks = append(toks, psTok{kind: tkType, text: inner, pos: i, end: j + 1, spaced: spaced})
			spaced = false
			i = j + 1
		case c == '.':
			switch {
			case i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' && !prevExpr():
				j := i + 1
				for j < len(s) && isWordByte(s[j]) {
					j++
				}
				add(tkNum, i, j)
				i = j
			case i+1 < len(s) && s[i+1] == '.':
				add(tkPunct, i, i+2) // the range operator
				i += 2
			default:
				member := prevExpr()
				add(tkPunct, i, i+1)
				i++
				if member {
					toks[len(toks)-1].text = ".m" // member access, not dot-sourcing
					i = lexName(s, i, &toks)
				}
			}
		case c == ':' && i+1 < len(s) && s[i+1] == ':':
			add(tkPunct, i, i+2)
			i += 2
			i = lexName(s, i, &toks)
		case c == '-' && i+1 < len(s) && (isLetter(s[i+1])):
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '-' || s[j] == ':') {
				j++
			}
			add(tkParam, i, j)
			i = j
		case strings.IndexByte("+-*/%", c) >= 0 && i+1 < len(s) && s[i+1] == '=':
			add(tkPunct, i, i+2)
			i += 2
		case c == '&' && i+1 < len(s) && s[i+1] == '&', c == '|' && i+1 < len(s) && s[i+1] == '|':
			add(tkPunct, i, i+2)
			i += 2
		case strings.IndexByte("(){}],;|&=+-*/%!<>", c) >= 0:
			add(tkPunct, i, i+1)
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.' && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9') {
				j++
			}
			add(tkNum, i, j)
			i = j
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\r\n(){};,|&='\"[]`", s[j]) < 0 {
				j++
			}
			if j == i {
				j++
			}
			add(tkWord, i, j)
			i = j
		}
	}
	return toks
}

// lexName adds the member name after . or :: (if one follows) and returns
// where lexing goes on.
func lexName(s string, i int, toks *[]psTok) int {
	j := i
	for j < len(s) && isWordByte(s[j]) {
		j++
	}
	if j > i {
		*toks = append(*toks, psTok{kind: tkName, text: s[i:j], pos: i, end: j})
	}
	return j
}

// hereStart: a here-string's opening quote is followed by the line end.
func hereStart(rest string) bool {
	rest = strings.TrimLeft(rest, " \t")
	return strings.HasPrefix(rest, "\n") || strings.HasPrefix(rest, "\r\n")
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isWordByte(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' || c == '_' }

type clmCheck struct {
	src    string
	toks   []psTok
	guards [][2]int // byte ranges of FullLanguage-only blocks
	out    []Finding
}

// match returns the index of the token closing the bracket opened at i.
func (c *clmCheck) match(i int) int {
	open := c.toks[i].text
	closer := map[string]string{"(": ")", "@(": ")", "$(": ")", "{": "}", "@{": "}", "[": "]"}[open]
	depth := 0
	for j := i; j < len(c.toks); j++ {
		t := c.toks[j]
		if t.kind != tkPunct {
			continue
		}
		switch t.text {
		case "(", "@(", "$(", "{", "@{", "[":
			depth++
		case ")", "}", "]":
			depth--
			if depth == 0 {
				if t.text != closer {
					return -1
				}
				return j
			}
		}
	}
	return -1
}

func (c *clmCheck) findGuards() {
	for i, t := range c.toks {
		if t.kind != tkWord || !(strings.EqualFold(t.text, "if") || strings.EqualFold(t.text, "elseif")) {
			continue
		}
		if i+1 >= len(c.toks) || c.toks[i+1].text != "(" {
			continue
		}
		end := c.match(i + 1)
		if end < 0 {
			continue
		}
		cond := strings.ToLower(strings.Join(strings.Fields(c.src[c.toks[i+1].end:c.toks[end].pos]), ""))
		known := false
		for _, g := range guardConditions {
			known = known || cond == g
		}
		if !known {
			continue
		}
		b := end + 1
		for b < len(c.toks) && c.toks[b].kind == tkNewline {
			b++
		}
		if b < len(c.toks) && c.toks[b].text == "{" {
			if close := c.match(b); close >= 0 {
				c.guards = append(c.guards, [2]int{c.toks[b].pos, c.toks[close].end})
			}
		}
	}
}

func (c *clmCheck) guarded(pos int) bool {
	for _, g := range c.guards {
		if pos >= g[0] && pos < g[1] {
			return true
		}
	}
	return false
}

func (c *clmCheck) add(t psTok, rule, text string) {
	if c.guarded(t.pos) {
		return
	}
	c.out = append(c.out, Finding{Line: 1 + strings.Count(c.src[:t.pos], "\n"), Rule: rule, Text: text, Offset: t.pos})
}

// commandPosition says whether token i starts a command.
func (c *clmCheck) commandPosition(i int) bool {
	if i == 0 {
		return true
	}
	p := c.toks[i-1]
	if p.kind == tkNewline {
		return true
	}
	if p.kind != tkPunct {
		return false
	}
	switch p.text {
	case ";", "(", "{", "@(", "$(", "|", "=", "+=", "&&", "||", "&", ".":
		return true
	}
	return false
}

func (c *clmCheck) scan() {
	for i, t := range c.toks {
		switch t.kind {
		case tkType:
			if !TypeAllowed(t.text) {
				c.add(t, "type", "type ["+t.text+"] is not allowed")
			}
		case tkName:
			c.member(i)
		case tkWord:
			if !c.commandPosition(i) {
				continue
			}
			switch strings.ToLower(t.text) {
			case "add-type":
				c.add(t, "add-type", "Add-Type")
			case "new-object":
				c.newObject(i)
			}
		case tkPunct:
			if (t.text == "&" || t.text == ".") && c.commandPosition(i) && i+1 < len(c.toks) && c.toks[i+1].text == "(" {
				if end := c.match(i + 1); end > 0 && c.hasCall(i+1, end) {
					c.add(t, "invoke-text", "runs a script block built from text with "+t.text)
				}
			}
		}
	}
}

// member checks a member name: a call or an assignment.
func (c *clmCheck) member(i int) {
	t := c.toks[i]
	if i < 2 {
		return
	}
	op, recv := c.toks[i-1], c.toks[i-2]
	call := i+1 < len(c.toks) && c.toks[i+1].text == "(" && !c.toks[i+1].spaced
	assign := false
	if !call && i+1 < len(c.toks) && c.toks[i+1].kind == tkPunct {
		switch c.toks[i+1].text {
		case "=", "+=", "-=", "*=", "/=", "%=":
			assign = true
		}
	}
	if !call && !assign {
		return
	}
	if c.receiverAllowed(i-2, op.text) {
		return
	}
	desc := c.src[recv.pos:t.end]
	if recv.text == ")" {
		desc = "(...)" + op.text[:1] + t.text
		if op.text == "::" {
			desc = "(...)::" + t.text
		}
	}
	if call {
		c.add(t, "method", "method call "+desc+"() on a type not known to be allowed")
	} else {
		c.add(t, "property-set", "property set "+desc+" on a type not known to be allowed")
	}
}

// receiverAllowed: the receiver ending at token r is of an allowed type.
func (c *clmCheck) receiverAllowed(r int, op string) bool {
	recv := c.toks[r]
	switch {
	case op == "::":
		return recv.kind == tkType && TypeAllowed(recv.text)
	case recv.kind == tkStr:
		return true
	case recv.text != ")":
		return false
	}
	open := -1
	for j := r; j >= 0; j-- { // find the opening parenthesis
		if c.toks[j].kind == tkPunct && c.toks[j].text == "(" && c.match(j) == r {
			open = j
			break
		}
	}
	if open < 0 || open > 0 && !c.toks[open].spaced && c.toks[open-1].kind == tkName {
		return false // an argument list: the receiver is a call's result
	}
	// ([allowed]$var.Prop.Prop)
	in := c.toks[open+1 : r]
	if len(in) < 2 || in[0].kind != tkType || !TypeAllowed(in[0].text) || in[1].kind != tkVar {
		return false
	}
	for k := 2; k < len(in); k += 2 {
		if k+1 >= len(in) || in[k].text != ".m" || in[k+1].kind != tkName {
			return false
		}
	}
	return true
}

// hasCall: a method call between tokens from and to.
func (c *clmCheck) hasCall(from, to int) bool {
	for k := from; k < to; k++ {
		if c.toks[k].kind == tkName && k+1 < to && c.toks[k+1].text == "(" && !c.toks[k+1].spaced {
			return true
		}
	}
	return false
}

// newObject checks New-Object's type: -TypeName, -ComObject or the first
// positional argument.
func (c *clmCheck) newObject(i int) {
	var typ string
	com := false
	for k := i + 1; k < len(c.toks); k++ {
		t := c.toks[k]
		if t.kind == tkNewline || t.kind == tkPunct && strings.Contains(";)}|", t.text) {
			break
		}
		if t.kind == tkParam {
			p := strings.ToLower(strings.TrimPrefix(t.text, "-"))
			if k+1 < len(c.toks) && (strings.HasPrefix("comobject", p) && len(p) >= 3 || strings.HasPrefix("typename", p)) {
				com = strings.HasPrefix("comobject", p)
				typ = unquotePS(c.toks[k+1].text)
				break
			}
			k++ // another parameter's value
			continue
		}
		typ = unquotePS(t.text)
		break
	}
	switch {
	case com && !allowedCOM[strings.ToLower(typ)]:
		c.add(c.toks[i], "new-object", "New-Object -ComObject "+typ)
	case !com && !TypeAllowed(typ):
		c.add(c.toks[i], "new-object", "New-Object "+typ)
	}
}

func unquotePS(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// quoteEnd is the index of the quote that closes the string opening at
// s[i] (len(s) when it never closes): a doubled quote stands for itself,
// and in a double-quoted string a backtick escapes the next character.
func quoteEnd(s string, i int) int {
	q := s[i]
	j := i + 1
	for j < len(s) {
		switch {
		case q == '"' && s[j] == '`':
			j += 2
			continue
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j += 2
			continue
		case s[j] == q:
			return j
		}
		j++
	}
	return j
}
