package catalog

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"aadcready/facts"
)

func TestLoad(t *testing.T) {
	c := loadCatalog(t)
	if c.Version == "" || len(c.Builds) == 0 || len(c.ProductNames) == 0 {
		t.Fatalf("incomplete catalog: version %q, %d builds, %d product names", c.Version, len(c.Builds), len(c.ProductNames))
	}
	var tlsKeys []string
	for _, r := range c.Requirements {
		for _, k := range r.Facts {
			if _, ok := facts.Lookup(k); !ok {
				t.Errorf("%s: fact %s is not in facts.Registry", r.ID, k)
			}
			if strings.HasPrefix(k, "tls.") {
				tlsKeys = append(tlsKeys, k)
			}
		}
		if u, err := url.Parse(r.Source); err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("%s: source %q is not an https URL", r.ID, r.Source)
		}
		if (r.Confidence == "U" || r.Confidence == "!") && r.Note == "" {
			t.Errorf("%s: confidence %s without a note", r.ID, r.Confidence)
		}
	}
	// The TLS checks name each of the eight values Get-ADSyncToolsTls12 reads.
	for _, d := range facts.Registry {
		if strings.HasPrefix(d.Key, "tls.") && !slices.Contains(tlsKeys, d.Key) {
			t.Errorf("no TLS check reads %s", d.Key)
		}
	}
	// The requirements the reference and the seed call for.
	for _, id := range []string{
		"os-supported-version", "os-ws2016-end-of-support", "os-ws2025-update", "os-full-gui", "os-edition",
		"domain-joined", "domain-controller", "dotnet-framework", "powershell-version", "tls12-dotnet",
		"tls12-schannel", "reboot-pending", "aadc-installed", "aadc-v2", "aadc-build-wizard-signin",
		"aadc-build-2-5-79", "aadc-app-auth", "aadc-build-support", "localdb-size-auto-upgrade",
		"localdb-size-limit", "sql-external", "aadc-auto-upgrade", "aadc-staging-mode",
		"adsync-service-account", "hw-memory", "hw-cpu", "hw-disk-size", "hw-disk-free",
		"ps-execution-policy", "ps-transcription", "vcredist-14", "dcom-restrictions",
	} {
		if !slices.ContainsFunc(c.Requirements, func(r Requirement) bool { return r.ID == id }) {
			t.Errorf("requirement %s is missing", id)
		}
	}
}

func TestDated(t *testing.T) {
	var got []string
	for _, d := range loadCatalog(t).Dated() {
		got = append(got, d.Date.Format(dateLayout)+" "+strings.Join(d.CheckIDs, ","))
	}
	want := []string{
		"2022-08-31 aadc-v2",
		"2025-04-30 aadc-build-wizard-signin",
		"2026-09-30 aadc-build-2-5-79",
		"2027-01-13 os-ws2016-end-of-support",
		"2027-04-07 aadc-app-auth",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Dated() = %q, want %q", got, want)
	}
}

const minimalCatalog = `version: test
product:
  uninstall_names: [Microsoft Entra Connect Sync]
builds_source: https://example.com/builds
builds_checked: 2026-12-03
builds:
  - {build: 2.6.92.0, released: 2026-09-23}
requirements:
  - id: aadc-installed
    title: installed
    severity: blocker
    action: none
    facts: [aadc.wizard_path, aadc.uninstall_entries, adsync.service_state]
    rule: {kind: aadc_installed}
    remediation: nothing
    source: https://example.com/installed
    checked: 2026-12-03
    confidence: C
  - id: dotnet
    title: .NET
    severity: blocker
    action: fix
    facts: [dotnet.release]
    rule: {kind: int_at_least, fact: dotnet.release, min: 461808}
    effective: 2026-01-01
    remediation: install it
    source: https://example.com/dotnet
    checked: 2026-12-03
    confidence: 3P
`

func TestParseErrors(t *testing.T) {
	if _, err := Parse([]byte(minimalCatalog)); err != nil {
		t.Fatalf("the minimal catalog should parse: %v", err)
	}
	tests := []struct {
		name    string
		edits   []string // old, new pairs applied to minimalCatalog
		wantErr string
	}{
		{"unknown key", []string{"    title: .NET\n", "    title: .NET\n    colour: red\n"}, "field colour not found"},
		{"unknown policy", []string{"    confidence: 3P\n", "    confidence: 3P\n    unknown: ignore\n"}, `unknown "ignore" is not keep_verdict`},
		{"no checked date", []string{"    checked: 2026-12-03\n    confidence: 3P\n", "    confidence: 3P\n"}, `checked: "" is not a date`},
		{"no builds source", []string{"builds_source: https://example.com/builds\n", ""}, `builds_source: source "" is not an https URL`},
		{"unknown fact", []string{"[dotnet.release]", "[dotnet.relase]"}, `requirement dotnet: facts: unknown fact "dotnet.relase"`},
		{"unknown fact in a rule", []string{"fact: dotnet.release", "fact: dotnet.relase"}, `unknown fact "dotnet.relase"`},
		{"bad date", []string{"effective: 2026-01-01", "effective: 2026-13-01"}, `requirement dotnet: effective "2026-13-01" is not a date`},
		{"unknown rule kind", []string{"kind: int_at_least", "kind: int_at_most"}, `unknown rule kind "int_at_most" (known: aadc_installed, all, any,`},
		{"parameter the kind does not take", []string{"min: 461808}", "min: 461808, value: true}"}, "int_at_least does not take value"},
		{"bad number", []string{"min: 461808", "min: lots"}, `min "lots" is not an integer`},
		{"fact of the wrong kind", []string{"kind: int_at_least, fact: dotnet.release, min: 461808", "kind: bool_is, fact: dotnet.release, value: true"},
			"bool_is: fact dotnet.release is of kind int, want bool"},
		{"bad regex", []string{"kind: int_at_least, fact: dotnet.release, min: 461808", "kind: matches_any, fact: ps.version, patterns: ['(']"},
			"pattern \"(\""},
		{"rule reads an unlisted fact", []string{"fact: dotnet.release", "fact: os.build"}, "rule reads os.build, which facts does not list"},
		{"duplicate id", []string{"id: dotnet", "id: aadc-installed"}, "requirement aadc-installed: id is used twice"},
		{"id not kebab-case", []string{"id: dotnet", "id: DotNet_1"}, `id "DotNet_1" is not kebab-case`},
		{"http source", []string{"https://example.com/dotnet", "http://example.com/dotnet"}, `source "http://example.com/dotnet" is not an https URL`},
		{"bad build version", []string{"build: 2.6.92.0", "build: 2.6.x"}, `"2.6.x" is not a version`},
		{"bad end of support", []string{"released: 2026-09-23}", "released: 2026-09-23, end_of_support: soon}"}, `end_of_support "soon"`},
		{"unconfirmed without a note", []string{"confidence: 3P", "confidence: U"}, "confidence U needs a note"},
		{"warning with an action", []string{"severity: blocker\n    action: fix", "severity: warning\n    action: fix"}, `a warning must have action none, not "fix"`},
		{"blocker without an action", []string{"action: fix", "action: none"}, "a blocker needs action migrate, fix or upgrade"},
		{"no install gate", []string{"rule: {kind: aadc_installed}", "rule: {kind: bool_is, fact: aadc.wizard_path, value: true}"}, "fact aadc.wizard_path is of kind string"},
		{"no install gate at all", []string{
			"facts: [aadc.wizard_path, aadc.uninstall_entries, adsync.service_state]\n    rule: {kind: aadc_installed}",
			"facts: [domain.part_of_domain]\n    rule: {kind: bool_is, fact: domain.part_of_domain, value: true}",
			"action: none", "action: fix",
		}, "no requirement uses rule kind aadc_installed"},
		{"composite of one", []string{"rule: {kind: int_at_least, fact: dotnet.release, min: 461808}", "rule: {kind: all, rules: [{kind: int_at_least, fact: dotnet.release, min: 1}]}"},
			"all needs at least two rules"},
		{"second document", []string{"confidence: 3P\n", "confidence: 3P\n---\nversion: again\n"}, "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := minimalCatalog
			for i := 0; i < len(tt.edits); i += 2 {
				if !strings.Contains(text, tt.edits[i]) {
					t.Fatalf("edit %q does not apply", tt.edits[i])
				}
				text = strings.Replace(text, tt.edits[i], tt.edits[i+1], 1)
			}
			_, err := Parse([]byte(text))
			if err == nil || !strings.HasPrefix(err.Error(), "catalog: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
