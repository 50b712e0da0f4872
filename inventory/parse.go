package inventory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"aadcready/safefile"
	"aadcready/yamlloc"
)

// The file is walked as a yaml.Node tree instead of being decoded into
// structs: that is what lets every error carry its line and the loader
// report all errors at once rather than the decoder's first, and it keeps
// the value of a password written in the file out of every message.

var (
	topKeys     = []string{"defaults", "groups", "hosts"}
	groupKeys   = []string{"defaults", "hosts", "name"}
	settingKeys = []string{
		"allow_unencrypted", "auth", "ca_file", "insecure", "max_envelope_kb",
		"password_env", "password_file", "password_prompt", "port", "scheme",
		"server_name", "tags", "username",
	}
	hostKeys = slices.Sorted(slices.Values(append([]string{"address", "name"}, settingKeys...)))
)

const passwordRefused = "passwords are not read from the inventory file; use password_env: VARIABLE, " +
	"password_file: PATH (readable by its owner only) or password_prompt: true instead, " +
	"and change this password if the file was ever shared"

// Load reads and parses the inventory file at path.
func Load(path string) (*Inventory, error) { return LoadContext(context.Background(), path) }

// LoadContext reads and parses the inventory file at path, which must be a
// regular file of at most safefile.MaxInventory bytes; ctx ends the read.
func LoadContext(ctx context.Context, path string) (*Inventory, error) {
	data, err := safefile.Read(ctx, path, safefile.MaxInventory)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses an inventory. path only names the file in messages and in
// Host.Source, and anchors relative password_file and ca_file paths to the
// file's folder; nothing is read from disk. The error, when not nil, joins
// one "file:line: scope: field: message" error per problem, in line order.
func Parse(path string, data []byte) (*Inventory, error) {
	p := &parser{
		file:      path,
		dir:       filepath.Dir(path),
		errs:      yamlloc.List{File: path},
		hostSeen:  map[string]seen{},
		groupSeen: map[string]seen{},
	}
	if root := yamlloc.Document(data, &p.errs, "an inventory is a single document"); root != nil {
		p.top(root)
	}
	return p.result()
}

// origin is where a setting got its value, so that a problem found on a
// merged host can point at the line to change.
type origin struct {
	line  int
	scope string
}

// opt is one setting of one layer (defaults, group defaults or host).
type opt[T any] struct {
	v   T
	at  origin
	set bool
	bad bool // written but invalid: already reported, and must not count as missing
}

func pick[T any](parent, child opt[T]) opt[T] {
	if child.set {
		return child
	}
	return parent
}

// layer is the settings written in one mapping. A host's settings are its
// own layer over its group's defaults over the top-level defaults.
type layer struct {
	port, maxEnvelopeKB                        opt[int]
	scheme, auth, username, caFile, serverName opt[string]
	insecure, allowUnencrypted                 opt[bool]
	secret                                     opt[SecretRef]
	secretKey                                  string // key that set secret, for "two sources" messages
	tags                                       map[string]string
}

func (l layer) over(parent layer) layer {
	m := layer{
		port:             pick(parent.port, l.port),
		maxEnvelopeKB:    pick(parent.maxEnvelopeKB, l.maxEnvelopeKB),
		scheme:           pick(parent.scheme, l.scheme),
		auth:             pick(parent.auth, l.auth),
		username:         pick(parent.username, l.username),
		caFile:           pick(parent.caFile, l.caFile),
		serverName:       pick(parent.serverName, l.serverName),
		insecure:         pick(parent.insecure, l.insecure),
		allowUnencrypted: pick(parent.allowUnencrypted, l.allowUnencrypted),
		// A password source replaces the inherited one as a whole: a host
		// with password_file under defaults with password_env uses the file.
		secret:    pick(parent.secret, l.secret),
		secretKey: parent.secretKey,
		tags:      maps.Clone(parent.tags),
	}
	if l.secret.set {
		m.secretKey = l.secretKey
	}
	if m.tags == nil {
		m.tags = map[string]string{}
	}
	maps.Copy(m.tags, l.tags)
	return m
}

func (l layer) host() Host {
	return Host{
		Port:             l.port.v,
		Scheme:           l.scheme.v,
		Auth:             l.auth.v,
		Username:         l.username.v,
		Secret:           l.secret.v,
		CAFile:           l.caFile.v,
		ServerName:       l.serverName.v,
		Insecure:         l.insecure.v,
		AllowUnencrypted: l.allowUnencrypted.v,
		MaxEnvelopeKB:    l.maxEnvelopeKB.v,
		Tags:             maps.Clone(l.tags),
	}
}

// invalid tells checkHost which rules to skip because a value they depend
// on was invalid and has been reported already.
func (l layer) invalid(field string) bool {
	switch field {
	case "username":
		return l.username.bad
	case "password":
		return l.secret.bad
	case "auth":
		return l.auth.bad || l.scheme.bad || l.allowUnencrypted.bad
	case "insecure":
		return l.insecure.bad || l.scheme.bad
	}
	return false
}

// blame says where to report a problem with a merged host: on the value's
// own line when the host sets it, else on the host's line with a note
// saying where the inherited value was written.
func (l layer) blame(field string, hostLine int, hostScope string) (int, string) {
	var at origin
	switch field {
	case "auth":
		at = l.auth.at
	case "insecure":
		at = l.insecure.at
	default:
		return hostLine, ""
	}
	if at.scope == hostScope {
		return at.line, ""
	}
	return hostLine, fmt.Sprintf(" (%s is set in %s at line %d)", field, at.scope, at.line)
}

type seen struct {
	name string
	line int
}

type parser struct {
	file, dir string
	errs      yamlloc.List
	hosts     []Host
	nHosts    int // host entries met, valid or not
	hostSeen  map[string]seen
	groupSeen map[string]seen
	// The first host using password_prompt: the prompt is asked once per
	// run, so every host using it must log on as the same account.
	promptHost *Host
}

func (p *parser) add(line int, scope, field, msg string) { p.errs.Add(line, scope, field, msg) }

func (p *parser) result() (*Inventory, error) {
	if p.errs.Len() == 0 && p.nHosts == 0 {
		p.add(0, "", "", "no hosts; list them under hosts: or in groups: (see docs/inventory.md)")
	}
	if err := p.errs.Err(); err != nil {
		return nil, err
	}
	return &Inventory{Path: p.file, Hosts: p.hosts}, nil
}

func (p *parser) top(root *yaml.Node) {
	line := root.Line
	root = yamlloc.Deref(root)
	if root.Kind != yaml.MappingNode {
		p.add(line, "", "", "must be a mapping with the keys defaults, groups and hosts, got "+describe(root, ""))
		return
	}
	fields := p.fields(root, "", "")
	// Defaults first, so that groups and hosts inherit them wherever the
	// key is written.
	var defaults layer
	for _, f := range fields {
		if f.key == "defaults" {
			defaults = p.layer(f.v, "defaults")
		}
	}
	for _, f := range fields {
		switch f.key {
		case "defaults":
		case "groups":
			p.groups(f.v, defaults)
		case "hosts":
			p.hostList(f.v, "", "", defaults)
		default:
			p.unknown(f, "", topKeys, true)
		}
	}
}

func (p *parser) groups(v *yaml.Node, parent layer) {
	v = p.expect(v, yaml.SequenceNode, "", "groups", "a list of groups")
	if v == nil {
		return
	}
	for i, item := range v.Content {
		p.group(i, item, parent)
	}
}

func (p *parser) group(i int, item *yaml.Node, parent layer) {
	line := item.Line
	scope := fmt.Sprintf("group #%d", i+1)
	item = yamlloc.Deref(item)
	if item.Kind != yaml.MappingNode {
		p.add(line, scope, "", "must be a mapping with name, defaults and hosts, got "+describe(item, ""))
		return
	}
	name, scope := p.entryName(item, line, scope, "group", p.groupSeen, nonEmpty)
	fields := p.fields(item, scope, "")

	defaults := parent
	for _, f := range fields {
		if f.key == "defaults" {
			defaults = p.layer(f.v, scope+" defaults").over(parent)
		}
	}
	for _, f := range fields {
		switch f.key {
		case "name", "defaults":
		case "hosts":
			p.hostList(f.v, scope, name, defaults)
		default:
			p.unknown(f, scope, groupKeys, true)
		}
	}
}

// entryName reads the name of a group or host before anything else, so that
// every other message about the entry can say which one it is about. It
// returns the name ("" when missing or invalid) and the entry's scope.
func (p *parser) entryName(m *yaml.Node, line int, scope, kind string, seenNames map[string]seen, check func(string) (string, error)) (string, string) {
	var k, v *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if key := yamlloc.Deref(m.Content[i]); key.Kind == yaml.ScalarNode && key.Value == "name" {
			k, v = key, m.Content[i+1]
			break
		}
	}
	if k == nil {
		p.add(line, scope, "name", fmt.Sprintf("missing; every %s needs one", kind))
		return "", scope
	}
	name, ok := p.checkedStr(scope, "name", v, check)
	if !ok {
		return "", scope
	}
	scope = fmt.Sprintf("%s %q", kind, name)
	key := hostKey(name)
	if first, dup := seenNames[key]; dup {
		p.add(k.Line, scope, "name", fmt.Sprintf("duplicate %s: %q is already defined at line %d %s", kind, first.name, first.line, sameHostNote))
		return "", scope
	}
	seenNames[key] = seen{name, line}
	return name, scope
}

func (p *parser) hostList(v *yaml.Node, ownerScope, group string, parent layer) {
	v = p.expect(v, yaml.SequenceNode, ownerScope, "hosts", "a list of hosts")
	if v == nil {
		return
	}
	for i, item := range v.Content {
		p.host(i, item, group, parent)
	}
}

func (p *parser) host(i int, item *yaml.Node, group string, parent layer) {
	p.nHosts++
	line := item.Line
	scope := fmt.Sprintf("host #%d", i+1)
	if group != "" {
		scope += fmt.Sprintf(" of group %q", group)
	}
	item = yamlloc.Deref(item)
	if item.Kind != yaml.MappingNode {
		p.add(line, scope, "", "must be a mapping with at least name:, got "+describe(item, ""))
		return
	}
	name, scope := p.entryName(item, line, scope, "host", p.hostSeen, nameValue)
	fields := p.fields(item, scope, "")

	var own layer
	var address string
	for _, f := range fields {
		switch f.key {
		case "name":
		case "address":
			address, _ = p.checkedStr(scope, "address", f.v, nameValue)
		default:
			if !p.setting(&own, scope, f) {
				p.unknown(f, scope, hostKeys, false)
			}
		}
	}
	if name == "" {
		return
	}

	m := own.over(parent)
	h := m.host()
	h.Name, h.Address, h.Group = name, address, group
	h.Source = fmt.Sprintf("%s:%d", p.file, line)
	applyDefaults(&h)
	for _, pr := range checkHost(&h, m.invalid) {
		at, note := m.blame(pr.field, line, scope)
		p.add(at, scope, pr.field, pr.msg+note)
	}
	if h.Secret.Prompt && !m.secret.bad && h.Username != "" {
		if first := p.promptHost; first == nil {
			p.promptHost = &h
		} else if !strings.EqualFold(first.Username, h.Username) {
			p.add(line, scope, "password_prompt", fmt.Sprintf("the prompt is asked once per run and its password used for every host with password_prompt, but this host logs on as %q and host %q (%s) as %q; give one of them password_env or password_file", h.Username, first.Name, first.Source, first.Username))
		}
	}
	p.hosts = append(p.hosts, h)
}

// layer reads a defaults mapping.
func (p *parser) layer(v *yaml.Node, scope string) layer {
	var l layer
	v = p.expect(v, yaml.MappingNode, scope, "", "a mapping of settings")
	if v == nil {
		return l
	}
	for _, f := range p.fields(v, scope, "") {
		if !p.setting(&l, scope, f) {
			p.unknown(f, scope, settingKeys, false)
		}
	}
	return l
}

// setting reads one settings key into l, and reports false when key is not
// a setting.
func (p *parser) setting(l *layer, scope string, f field) bool {
	switch f.key {
	case "port":
		l.port = p.intOpt(scope, f, checkPort)
	case "max_envelope_kb":
		l.maxEnvelopeKB = p.intOpt(scope, f, checkEnvelope)
	case "scheme":
		l.scheme = p.strOpt(scope, f, normScheme)
	case "auth":
		l.auth = p.strOpt(scope, f, normAuth)
	case "username":
		l.username = p.strOpt(scope, f, nonEmpty)
	case "ca_file":
		l.caFile = p.strOpt(scope, f, p.filePath)
	case "server_name":
		l.serverName = p.strOpt(scope, f, nameValue)
	case "insecure":
		l.insecure = p.boolOpt(scope, f)
	case "allow_unencrypted":
		l.allowUnencrypted = p.boolOpt(scope, f)
	case "tags":
		p.tags(l, scope, f.v)
	case "password_env", "password_file", "password_prompt":
		p.secret(l, scope, f)
	case "password":
		p.add(f.k.Line, scope, f.key, passwordRefused)
		// Counts as a source already reported, so the host does not get a
		// second error for having none.
		if !l.secret.set {
			l.secret = opt[SecretRef]{at: origin{f.k.Line, scope}, set: true, bad: true}
			l.secretKey = f.key
		}
	default:
		return false
	}
	return true
}

func (p *parser) secret(l *layer, scope string, f field) {
	var ref SecretRef
	var ok bool
	switch f.key {
	case "password_env":
		ref.Env, ok = p.checkedStr(scope, f.key, f.v, func(s string) (string, error) { return s, checkEnvName(s) })
	case "password_file":
		ref.File, ok = p.checkedStr(scope, f.key, f.v, p.filePath)
	case "password_prompt":
		var b bool
		if b, ok = p.boolean(scope, f.key, f.v); ok && !b {
			p.add(f.v.Line, scope, f.key, "false has no meaning; set password_prompt: true, or remove it and use password_env or password_file")
			ok = false
		}
		ref.Prompt = true
	}
	if l.secret.set && l.secretKey != "password" {
		p.add(f.k.Line, scope, f.key, fmt.Sprintf("a password source is already given by %s at line %d; give exactly one of password_env, password_file, password_prompt", l.secretKey, l.secret.at.line))
		l.secret.bad = true
		return
	}
	l.secret = opt[SecretRef]{v: ref, at: origin{f.k.Line, scope}, set: true, bad: !ok}
	l.secretKey = f.key
}

func (p *parser) tags(l *layer, scope string, v *yaml.Node) {
	v = p.expect(v, yaml.MappingNode, scope, "tags", "a mapping of name: value")
	if v == nil {
		return
	}
	if l.tags == nil {
		l.tags = map[string]string{}
	}
	for _, f := range p.fields(v, scope, "tags.") {
		if f.key == "" {
			p.add(f.k.Line, scope, "tags", "a tag has an empty name")
			continue
		}
		if s, ok := p.str(scope, fieldName("tags.", f.key), f.v); ok {
			l.tags[f.key] = s
		}
	}
}

// filePath anchors a relative path to the inventory's folder, so that the
// same file works whatever the current directory of a scheduled task is.
// On Windows, a path starting with \ or a drive ("C:") is not relative to
// the inventory even though filepath.IsAbs says it is not absolute.
func (p *parser) filePath(s string) (string, error) {
	if s == "" {
		return "", errors.New("is empty")
	}
	if !filepath.IsAbs(s) && !os.IsPathSeparator(s[0]) && filepath.VolumeName(s) == "" {
		s = filepath.Join(p.dir, s)
	}
	return s, nil
}

func nonEmpty(s string) (string, error) {
	if s == "" {
		return "", errors.New("is empty")
	}
	return s, nil
}

func nameValue(s string) (string, error) { return s, validateName(s) }

// expect returns the list or mapping a key holds, following aliases. An
// empty value (the key written with nothing after it) is nil without a
// complaint; anything but kind is reported, as "must be <want>", and nil.
func (p *parser) expect(v *yaml.Node, kind yaml.Kind, scope, field, want string) *yaml.Node {
	n := yamlloc.Deref(v)
	switch {
	case yamlloc.IsNull(n):
		return nil
	case n.Kind != kind:
		p.add(v.Line, scope, field, "must be "+want+", got "+describe(n, ""))
		return nil
	}
	return n
}

type field struct {
	key  string
	k, v *yaml.Node
}

// fields lists a mapping's keys and values, reporting keys that are not
// plain names or appear twice (yaml.v3 only catches those when decoding
// into Go values, which this parser does not do).
func (p *parser) fields(m *yaml.Node, scope, prefix string) []field {
	var fs []field
	firstLine := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := yamlloc.Deref(m.Content[i]), m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(m.Content[i].Line, scope, "", "keys must be plain names, got "+describe(k, ""))
			continue
		}
		if first, dup := firstLine[k.Value]; dup {
			p.add(k.Line, scope, fieldName(prefix, k.Value), fmt.Sprintf("set twice (first at line %d)", first))
			continue
		}
		firstLine[k.Value] = k.Line
		fs = append(fs, field{k.Value, k, v})
	}
	return fs
}

func fieldName(prefix, key string) string { return prefix + quoteIfNeeded(key) }

// quoteIfNeeded quotes text that would garble a one-line message, such as
// a key holding a line break.
func quoteIfNeeded(s string) string {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

func (p *parser) unknown(f field, scope string, valid []string, settingsBelow bool) {
	switch {
	case f.key == "password":
		p.add(f.k.Line, scope, f.key, passwordRefused)
	case f.k.ShortTag() == "!!merge":
		p.add(f.k.Line, scope, "", "YAML merge keys (<<) are not supported; put shared settings in defaults: or a group's defaults:")
	case settingsBelow && slices.Contains(settingKeys, f.key):
		p.add(f.k.Line, scope, f.key, "not allowed here; settings go under defaults:")
	default:
		p.add(f.k.Line, scope, "", fmt.Sprintf("unknown key %s; valid keys: %s", yamlloc.Quote(f.key), strings.Join(valid, ", ")))
	}
}

func (p *parser) intOpt(scope string, f field, check func(int64) error) opt[int] {
	n, ok := p.integer(scope, f.key, f.v)
	if ok {
		if err := check(n); err != nil {
			p.add(f.v.Line, scope, f.key, err.Error())
			ok = false
		}
	}
	return opt[int]{v: int(n), at: origin{f.v.Line, scope}, set: true, bad: !ok}
}

func (p *parser) strOpt(scope string, f field, check func(string) (string, error)) opt[string] {
	s, ok := p.checkedStr(scope, f.key, f.v, check)
	return opt[string]{v: s, at: origin{f.v.Line, scope}, set: true, bad: !ok}
}

func (p *parser) boolOpt(scope string, f field) opt[bool] {
	b, ok := p.boolean(scope, f.key, f.v)
	return opt[bool]{v: b, at: origin{f.v.Line, scope}, set: true, bad: !ok}
}

// checkedStr reads a string and passes it through check, which may
// normalise it.
func (p *parser) checkedStr(scope, key string, v *yaml.Node, check func(string) (string, error)) (string, bool) {
	s, ok := p.str(scope, key, v)
	if !ok {
		return "", false
	}
	s, err := check(s)
	if err != nil {
		p.add(v.Line, scope, key, err.Error())
		return "", false
	}
	return s, true
}

func (p *parser) str(scope, key string, v *yaml.Node) (string, bool) {
	n := yamlloc.Deref(v)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return n.Value, true
	}
	msg := "must be a string, got " + describe(n, key)
	if n.Kind == yaml.ScalarNode && !yamlloc.IsNull(n) && !strings.HasPrefix(key, "password") {
		msg += "; put it in quotes"
	}
	p.add(v.Line, scope, key, msg)
	return "", false
}

func (p *parser) integer(scope, key string, v *yaml.Node) (int64, bool) {
	n := yamlloc.Deref(v)
	var i int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		p.add(v.Line, scope, key, "must be a whole number, got "+describe(n, key))
		return 0, false
	}
	return i, true
}

func (p *parser) boolean(scope, key string, v *yaml.Node) (bool, bool) {
	n := yamlloc.Deref(v)
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		p.add(v.Line, scope, key, "must be true or false, got "+describe(n, key))
		return false, false
	}
	return b, true
}

// describe names what was found instead of the expected value. It never
// shows the value of a password_* key: people put the password itself there.
func describe(n *yaml.Node, key string) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case yamlloc.IsNull(n):
		return "nothing"
	case strings.HasPrefix(key, "password"):
		return "a value of type " + strings.TrimPrefix(n.ShortTag(), "!!")
	case n.ShortTag() == "!!str" || len(n.Value) > yamlloc.MaxEcho:
		return yamlloc.Quote(n.Value)
	}
	return quoteIfNeeded(n.Value)
}
