package inventory

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"aadcready/atomicfile"
	"aadcready/yamlloc"
)

// DiscoveredGroup is the inventory group that `aadcready discover` owns:
// new servers go there, and only its hosts' ad_status tag is ever changed.
const DiscoveredGroup = "discovered"

// StatusTag is the tag that says what AD last said about a discovered host.
const StatusTag = "ad_status"

// Found is a server that discovery found in AD.
type Found struct {
	Name  string            // the name to scan (DNS host name)
	Short string            // its computer (NetBIOS) name, to recognise a host listed by it
	Tags  map[string]string // for a new host (tenant, forest, staging_pair, ...)
	Stale string            // why AD suggests it is decommissioned; "" when active
}

// MergeOptions says how to merge what discovery found into an inventory.
type MergeOptions struct {
	// Scope limits "AD no longer knows this host" to the discovered hosts
	// whose tags all match (e.g. forest=contoso.com): a discovery of one
	// forest says nothing about another's servers.
	Scope map[string]string
	// Today is written into the status of hosts AD no longer names.
	Today string
	// IncludeStale adds stale servers too (tagged ad_status: stale: why),
	// for those who would rather see them fail a scan than not see them.
	IncludeStale bool
	// Defaults of the discovered group when it is created (the account and
	// password source to scan the new hosts with), if the file's defaults
	// do not give them.
	Username string
	Secret   SecretRef
}

// MergeReport says what a merge did, host by host.
type MergeReport struct {
	Added   []string // new hosts in the discovered group
	Listed  []string // found, already in the inventory: untouched
	Skipped []string // found stale and not in the inventory: not added
	Marked  []string // discovered hosts whose ad_status changed
	Invalid []string // found, but its name cannot be an inventory host: "name: why"
}

// WriteDiscovered merges found into the inventory file at path (created
// when it does not exist) and writes it atomically. Existing hosts keep
// every setting, credential and tag; only the ad_status tag of hosts in the
// discovered group changes. The result must pass the strict loader, or
// nothing is written.
func WriteDiscovered(path string, found []Found, opt MergeOptions) (MergeReport, error) {
	data, err := os.ReadFile(path)
	perm := os.FileMode(0o644) // a new file: as the output mode allows (0600 by default)
	existed := false
	switch {
	case err == nil:
		if st, err := os.Stat(path); err == nil {
			perm, existed = st.Mode().Perm(), true
		}
		if _, err := Parse(path, data); err != nil {
			return MergeReport{}, fmt.Errorf("not merging into an invalid inventory (fix it first):\n%w", err)
		}
	case os.IsNotExist(err):
		data = nil
	default:
		return MergeReport{}, err
	}
	out, rep, err := mergeDiscovered(data, found, opt)
	if err != nil {
		return rep, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := Parse(path, out); err != nil {
		return rep, fmt.Errorf("the merged inventory would not be valid, nothing written (for new hosts give --scan-username and a --scan-password-* source, or set them in the file's defaults):\n%w", err)
	}
	if err := atomicfile.WriteBytes(path, perm, out); err != nil {
		return rep, err
	}
	if !existed {
		return rep, nil
	}
	// The operator's own file keeps the permissions they gave it (the
	// output mode governs what the tool creates, not what it edits).
	return rep, os.Chmod(path, perm)
}

func mergeDiscovered(data []byte, found []Found, opt MergeOptions) ([]byte, MergeReport, error) {
	var rep MergeReport
	var doc yaml.Node
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, rep, err
		}
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
		doc.HeadComment = "aadcready inventory, written by `aadcready discover` (docs/discover.md, docs/inventory.md)"
	}
	root := yamlloc.Deref(doc.Content[0])

	// Every host of the file, by lower-case name and by its first label.
	type listed struct {
		node  *yaml.Node
		group string
	}
	byName := map[string]listed{}
	each := func(hosts *yaml.Node, group string) {
		for _, h := range yamlloc.Deref(hosts).Content {
			h = yamlloc.Deref(h)
			if n := mapValue(h, "name"); n != nil {
				name := strings.ToLower(n.Value)
				byName[name] = listed{h, group}
				short, _, _ := strings.Cut(name, ".")
				if _, taken := byName[short]; !taken {
					byName[short] = listed{h, group}
				}
			}
		}
	}
	if hs := mapValue(root, "hosts"); hs != nil {
		each(hs, "")
	}
	groups := mapValue(root, "groups")
	var disc *yaml.Node // the discovered group's hosts
	if groups != nil {
		for _, g := range yamlloc.Deref(groups).Content {
			g = yamlloc.Deref(g)
			name := mapValue(g, "name")
			hs := mapValue(g, "hosts")
			if name == nil || hs == nil {
				continue
			}
			each(hs, name.Value)
			if name.Value == DiscoveredGroup {
				disc = yamlloc.Deref(hs)
			}
		}
	}

	seen := map[*yaml.Node]bool{}
	for _, f := range found {
		l, ok := byName[strings.ToLower(f.Name)]
		if !ok && f.Short != "" {
			l, ok = byName[strings.ToLower(f.Short)]
		}
		status := "active"
		if f.Stale != "" {
			status = "stale: " + f.Stale
		}
		switch {
		case ok && l.group == DiscoveredGroup:
			seen[l.node] = true
			if setTag(l.node, StatusTag, status) {
				rep.Marked = append(rep.Marked, f.Name)
			}
		case ok:
			rep.Listed = append(rep.Listed, f.Name)
		case f.Stale != "" && !opt.IncludeStale:
			rep.Skipped = append(rep.Skipped, f.Name)
		case validateName(f.Name) != nil:
			rep.Invalid = append(rep.Invalid, fmt.Sprintf("%q: %v", f.Name, validateName(f.Name)))
		default:
			if disc == nil {
				disc = addGroup(root, opt)
			}
			tags := map[string]string{StatusTag: status}
			for k, v := range f.Tags {
				tags[k] = strings.Map(dropControl, v) // directory data: one line each
			}
			disc.Content = append(disc.Content, hostNode(f.Name, tags))
			rep.Added = append(rep.Added, f.Name)
		}
	}
	if disc != nil {
		gone := "not named in AD since " + opt.Today
		for _, h := range disc.Content {
			h = yamlloc.Deref(h)
			if seen[h] || !inScope(h, opt.Scope) || strings.HasPrefix(tagValue(h, StatusTag), "not named in AD") {
				continue
			}
			if name := mapValue(h, "name"); name != nil && !slices.Contains(rep.Added, name.Value) && setTag(h, StatusTag, gone) {
				rep.Marked = append(rep.Marked, name.Value)
			}
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, rep, err
	}
	if err := enc.Close(); err != nil {
		return nil, rep, err
	}
	return buf.Bytes(), rep, nil
}

// addGroup appends the discovered group (with its defaults, where given)
// to the file's groups and returns its empty host list.
func addGroup(root *yaml.Node, opt MergeOptions) *yaml.Node {
	groups := mapValue(root, "groups")
	if groups == nil {
		groups = &yaml.Node{Kind: yaml.SequenceNode}
		root.Content = append(root.Content, scalar("groups"), groups)
	}
	groups = yamlloc.Deref(groups)
	g := &yaml.Node{Kind: yaml.MappingNode, HeadComment: "Servers found in Active Directory by `aadcready discover`: it adds hosts here and\nchanges only their ad_status tag; edit everything else as you like."}
	g.Content = append(g.Content, scalar("name"), scalar(DiscoveredGroup))
	var defs []*yaml.Node
	if opt.Username != "" {
		defs = append(defs, scalar("username"), scalar(opt.Username))
	}
	switch s := opt.Secret; {
	case s.Env != "":
		defs = append(defs, scalar("password_env"), scalar(s.Env))
	case s.File != "":
		defs = append(defs, scalar("password_file"), scalar(s.File))
	case s.Prompt:
		defs = append(defs, scalar("password_prompt"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	if defs != nil {
		g.Content = append(g.Content, scalar("defaults"), &yaml.Node{Kind: yaml.MappingNode, Content: defs})
	}
	hosts := &yaml.Node{Kind: yaml.SequenceNode}
	g.Content = append(g.Content, scalar("hosts"), hosts)
	groups.Content = append(groups.Content, g)
	return hosts
}

func hostNode(name string, tags map[string]string) *yaml.Node {
	t := &yaml.Node{Kind: yaml.MappingNode}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Content = append(t.Content, scalar(k), scalar(tags[k]))
	}
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("name"), scalar(name), scalar("tags"), t}}
}

// setTag sets a host's tag, reporting whether it changed.
func setTag(h *yaml.Node, key, value string) bool {
	tags := mapValue(h, "tags")
	if tags == nil {
		tags = &yaml.Node{Kind: yaml.MappingNode}
		h.Content = append(h.Content, scalar("tags"), tags)
	}
	tags = yamlloc.Deref(tags)
	if v := mapValue(tags, key); v != nil {
		if v.Value == value {
			return false
		}
		*v = *scalar(value)
		return true
	}
	tags.Content = append(tags.Content, scalar(key), scalar(value))
	return true
}

func tagValue(h *yaml.Node, key string) string {
	if tags := mapValue(h, "tags"); tags != nil {
		if v := mapValue(yamlloc.Deref(tags), key); v != nil {
			return v.Value
		}
	}
	return ""
}

func inScope(h *yaml.Node, scope map[string]string) bool {
	for k, v := range scope {
		if !strings.EqualFold(tagValue(h, k), v) {
			return false
		}
	}
	return true
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := yamlloc.Deref(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return yamlloc.Deref(m.Content[i+1])
		}
	}
	return nil
}

func dropControl(r rune) rune {
	if unicode.IsControl(r) {
		return -1
	}
	return r
}

// scalar is a string node, always a string (quoted where YAML would read it
// as something else).
func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
