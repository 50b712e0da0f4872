package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"aadcready/catalog"
	"aadcready/probes"
)

func TestBuildVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "e8912ade5e1887e0f405e3d0cda771c446366d38"
	for _, c := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release tag", debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"git checkout (pseudo-version)", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261203163001-e8912ade5e18+dirty"}, Settings: vcs(rev, "true")},
			"v0.0.0-20261203163001-e8912ade5e18+dirty"},
		{"revision only", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, "devel " + rev},
		{"revision, uncommitted changes", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "devel " + rev + "+dirty"},
		{"-buildvcs=false", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, versionUnknown},
	} {
		if got := buildVersion(&c.bi); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestVersionNamesCatalogAndBundle(t *testing.T) {
	stdout, _, code := run(t, "--version")
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := "aadcready " + toolVersion() + ", catalog " + cat.Version + ", probe bundle " + probes.BundleID() + "\n"
	if code != 0 || stdout != want {
		t.Errorf("--version: exit %d, %q, want %q", code, stdout, want)
	}
	if strings.Contains(stdout, " dev,") {
		t.Errorf("--version says dev: %q", stdout)
	}
}
