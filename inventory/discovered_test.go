package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func hostsByName(t *testing.T, inv *Inventory) map[string]Host {
	t.Helper()
	m := map[string]Host{}
	for _, h := range inv.Hosts {
		h.Source = "" // lines move when hosts are added
		m[strings.ToLower(h.Name)] = h
	}
	return m
}

// Merging discoveries into a hand-written inventory changes no credential,
// setting or tag of an existing host; a second discovery only moves the
// ad_status tag of the discovered group's hosts.
func TestWriteDiscoveredMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.yaml")
	orig, err := os.ReadFile("testdata/good-inheritance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, orig, 0o640); err != nil {
		t.Fatal(err)
	}
	before, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	forest := map[string]string{"forest": "contoso.com"}
	tags := func(extra ...string) map[string]string {
		m := map[string]string{"forest": "contoso.com", "tenant": "contoso.onmicrosoft.com"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	found := []Found{
		{Name: "aadc02.emea.contoso.com", Short: "AADC02", Tags: tags()}, // listed by hand
		{Name: "aadc05.contoso.com", Short: "AADC05", Tags: tags()},      // listed by its short name
		{Name: "sync01.contoso.com", Short: "SYNC01", Tags: tags("staging_pair", "sync02.contoso.com", "note", "two\nlines")},
		{Name: "sync02.contoso.com", Short: "SYNC02", Tags: tags("staging_pair", "sync01.contoso.com")},
		{Name: "OLD01", Short: "OLD01", Stale: "computer object not found"},
		{Name: "bad name.contoso.com", Short: "bad name"},
	}
	rep, err := WriteDiscovered(path, found, MergeOptions{Scope: forest, Today: "2026-12-03", Username: `CONTOSO\svc-scan`, Secret: SecretRef{Env: "SCAN_PW"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Added, []string{"sync01.contoso.com", "sync02.contoso.com"}) ||
		!slices.Equal(rep.Listed, []string{"aadc02.emea.contoso.com", "aadc05.contoso.com"}) ||
		!slices.Equal(rep.Skipped, []string{"OLD01"}) || len(rep.Marked) != 0 || len(rep.Invalid) != 1 {
		t.Fatalf("report %+v", rep)
	}
	after, err := Load(path)
	if err != nil {
		t.Fatalf("merged inventory is not valid: %v", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the file's own 0640", st.Mode().Perm())
	}
	a := hostsByName(t, after)
	for name, h := range hostsByName(t, before) {
		if !reflect.DeepEqual(a[name], h) {
			t.Errorf("%s changed:\n%+v\n%+v", name, h, a[name])
		}
	}
	s1 := a["sync01.contoso.com"]
	if s1.Group != DiscoveredGroup || s1.Username != `CONTOSO\svc-scan` || s1.Secret.Env != "SCAN_PW" ||
		s1.Tags["tenant"] != "contoso.onmicrosoft.com" || s1.Tags["staging_pair"] != "sync02.contoso.com" || s1.Tags[StatusTag] != "active" ||
		s1.Tags["owner"] != "identity-team" || s1.Tags["note"] != "twolines" { // top-level defaults still apply
		t.Errorf("sync01: %+v", s1)
	}

	// Next discovery: sync02 gone from AD, sync01 disabled.
	again := []Found{{Name: "sync01.contoso.com", Short: "SYNC01", Stale: "computer account disabled"}}
	rep, err = WriteDiscovered(path, again, MergeOptions{Scope: forest, Today: "2027-01-10"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 0 || !slices.Equal(rep.Marked, []string{"sync01.contoso.com", "sync02.contoso.com"}) {
		t.Fatalf("report %+v", rep)
	}
	final, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f := hostsByName(t, final)
	if got := f["sync02.contoso.com"].Tags[StatusTag]; got != "not named in AD since 2027-01-10" {
		t.Errorf("sync02 ad_status %q", got)
	}
	if got := f["sync01.contoso.com"].Tags[StatusTag]; got != "stale: computer account disabled" {
		t.Errorf("sync01 ad_status %q", got)
	}
	for name, h := range hostsByName(t, before) {
		if !reflect.DeepEqual(f[name], h) {
			t.Errorf("%s changed on the second merge", name)
		}
	}
	// The same discovery again changes nothing.
	data, _ := os.ReadFile(path)
	if rep, err = WriteDiscovered(path, again, MergeOptions{Scope: forest, Today: "2027-01-11"}); err != nil || len(rep.Marked)+len(rep.Added) != 0 {
		t.Fatalf("repeat: %+v %v", rep, err)
	}
	if data2, _ := os.ReadFile(path); string(data2) != string(data) {
		t.Error("a repeated discovery rewrote the file differently")
	}
}

func TestWriteDiscoveredNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.yaml")
	found := []Found{{Name: "aadc01.aadc.test", Short: "AADC01", Tags: map[string]string{"tenant": "t.onmicrosoft.com"}}}
	// Without an account for the new hosts the file would not load: refused, nothing written.
	if _, err := WriteDiscovered(path, found, MergeOptions{Today: "2026-12-03"}); err == nil || !strings.Contains(err.Error(), "username") {
		t.Fatalf("got %v, want the loader's complaint about the username", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("an invalid inventory was written")
	}
	if _, err := WriteDiscovered(path, found, MergeOptions{Today: "2026-12-03", Username: "svc@aadc.test", Secret: SecretRef{Prompt: true}}); err != nil {
		t.Fatal(err)
	}
	inv, err := Load(path)
	if err != nil || len(inv.Hosts) != 1 || !inv.Hosts[0].Secret.Prompt {
		t.Fatalf("%+v %v", inv, err)
	}
	stale := []Found{{Name: "OLD01", Short: "OLD01", Stale: "computer account disabled"}}
	if rep, err := WriteDiscovered(path, stale, MergeOptions{Today: "2026-12-03", IncludeStale: true}); err != nil || len(rep.Added) != 1 {
		t.Fatalf("--include-stale: %+v %v", rep, err)
	}
	if inv, err = Load(path); err != nil || len(inv.Hosts) != 2 || inv.Hosts[1].Tags[StatusTag] != "stale: computer account disabled" {
		t.Fatalf("%+v %v", inv, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("new inventory mode %v, want 0600", st.Mode().Perm())
	}
}

func TestWriteDiscoveredRefusesInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("hosts:\n  - name: a\n    bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDiscovered(path, []Found{{Name: "b"}}, MergeOptions{}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("got %v", err)
	}
}
