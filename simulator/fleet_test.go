package simulator

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"aadcready/facts"
)

// TestLoadBadFleets: each invalid file fails with the file, line, host and
// field in its message.
func TestLoadBadFleets(t *testing.T) {
	for file, want := range map[string]string{
		"invalid-address.yaml":        `invalid-address.yaml:4: host "aadc01": address: 10.0.0.5 is not a loopback address`,
		"invalid-behavior.yaml":       `invalid-behavior.yaml:4: host "aadc01": behavior: "explode" is not one of normal, refuse, hang, garbage, slow, hostile`,
		"invalid-count.yaml":          `invalid-count.yaml:3: host "aadc": name: with count 3 the name needs one %d verb`,
		"invalid-duplicate.yaml":      `invalid-duplicate.yaml:4: host "AADC01": name: "AADC01" is also host 1`,
		"invalid-duration.yaml":       `invalid-duration.yaml:4: host "aadc01": latency: "5" is not a duration`,
		"invalid-envelope.yaml":       `invalid-envelope.yaml:4: host "aadc01": max_envelope_kb: 16 is below the Windows minimum of 32`,
		"invalid-fact-key.yaml":       `invalid-fact-key.yaml:6: host "aadc01": facts: unknown fact "os.bulid"`,
		"invalid-fact-kind.yaml":      `invalid-fact-kind.yaml:5: host "aadc01": facts: fact os.build: "abc" is not an integer`,
		"invalid-fact-list.yaml":      `invalid-fact-list.yaml:5: host "aadc01": facts: fact os.build is an int, not a list`,
		"invalid-fact-special.yaml":   `invalid-fact-special.yaml:5: host "aadc01": facts: fact os.build: write {absent: true} or {error: "text"}`,
		"invalid-fail-probe.yaml":     `invalid-fail-probe.yaml:4: host "aadc01": fail_probes: unknown probe "adsinc"`,
		"invalid-fault-field.yaml":    `invalid-fault-field.yaml:5: host "aadc01": faults: unknown field "cod"`,
		"invalid-fault-op.yaml":       `invalid-fault-op.yaml:4: host "aadc01": faults: op "recieve" is not one of create, command, send, receive, signal, delete`,
		"invalid-listener.yaml":       `invalid-listener.yaml:7: host "aadc02": port: 127.0.10.1:5985 is also a listener of host "aadc01"`,
		"invalid-noise.yaml":          `invalid-noise.yaml:4: host "aadc01": noise_output: -1: must be a byte count up to 67108864`,
		"invalid-corrupt-value.yaml":  `invalid-corrupt-value.yaml:4: host "aadc01": corrupt_values: the probes never read value "Version" of HKLM\SOFTWARE\Contoso\Agent`,
		"invalid-unreadable-key.yaml": `invalid-unreadable-key.yaml:4: host "aadc01": unreadable_keys: key HKCU\Software\Microsoft: write a key under HKLM\`,
		"invalid-tls-cert.yaml":       `invalid-tls-cert.yaml:4: host "aadc01": tls_cert: "expried" is not one of ca, self_signed, expired, wrong_name`,
		"invalid-vanish.yaml":         `invalid-vanish.yaml:4: host "aadc01": faults: vanish on create: there is no shell yet to lose`,
		"invalid-no-hosts.yaml":       `invalid-no-hosts.yaml:2: hosts: no hosts`,
		"invalid-no-users.yaml":       `invalid-no-users.yaml:2: host "aadc01": users: no users`,
		"invalid-port-type.yaml":      "invalid-port-type.yaml:4: host \"aadc01\": port: cannot unmarshal !!str `fast` into int",
		"invalid-profile.yaml":        `invalid-profile.yaml:4: host "aadc01": profile: unknown profile "ws2008"; known: server-core,`,
		"invalid-syntax.yaml":         `invalid-syntax.yaml:2: did not find expected '-' indicator`,
		"invalid-top-field.yaml":      `invalid-top-field.yaml:2: host: unknown field (did you mean "hosts"?)`,
		"invalid-unknown-field.yaml":  `invalid-unknown-field.yaml:4: host "aadc01": behaviour: unknown field (did you mean "behavior"?)`,
		"does-not-exist-fleet.yaml":   "no such file or directory",
	} {
		t.Run(file, func(t *testing.T) {
			_, err := LoadFleet(filepath.Join("testdata", file))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v\nwant it to contain %s", err, want)
			}
		})
	}
}

func TestLoadFullFleet(t *testing.T) {
	f, err := LoadFleet("testdata/fleet-full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Hosts) != 5 {
		t.Fatalf("%d hosts, want 5 (count expands to 3)", len(f.Hosts))
	}
	h := f.Hosts[0]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"address", h.Address, "127.0.40.9"},
		{"port", h.Port, 15985},
		{"https", h.HTTPS && h.HTTPSPort == 15986, true},
		{"tls_cert", h.TLSCert, TLSCertWrongName},
		{"users", len(h.Users), 2},
		{"allow_unencrypted", h.AllowUnencrypted, true},
		{"basic", h.Basic, true},
		{"max_envelope_kb", h.MaxEnvelopeKB, 150},
		{"max_shells_per_user", h.MaxShellsPerUser, 5},
		{"max_timeout_ms", h.MaxTimeoutMS, 20000},
		{"behavior", h.Behavior, BehaviorSlow},
		{"latency", h.Latency, 250 * time.Millisecond},
		{"ps_runtime", h.PSRuntime, 2 * time.Second},
		{"faults", h.Faults, []Fault{{Op: OpReceive, Code: 2150858793, Times: 2}, {Op: OpCreate, HTTPStatus: 503}, {Op: OpDelete, Reset: true, Times: 1}, {Op: OpSignal, Vanish: true, Times: 1}}},
		{"profile", h.Profile, "ws2016-v2-old"},
		{"fact value", h.Facts["os.ubr"], facts.Fact{Status: facts.StatusOK, Value: int64(1234)}},
		{"fact list", h.Facts["aadc.uninstall_entries"].Display(), `["Microsoft Entra Connect Sync|2.4.18.0"]`},
		{"fact absent", h.Facts["tls.net4.sch_use_strong_crypto"].Status, facts.StatusAbsent},
		{"fact error", h.Facts["adsync.staging_mode"], facts.Fact{Status: facts.StatusError, Reason: "Access is denied"}},
		{"fail_probes", h.FailProbes["adsync"], "Access is denied"},
		{"omit_probes", h.OmitProbes, []string{"reboot"}},
		{"truncate_output", h.TruncateOutput, 4096},
		{"noise_output", h.NoiseOutput, 1000},
		{"language_mode", h.LanguageMode, "ConstrainedLanguage"},
	} {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	// Counted hosts and defaults: sequential addresses from address_base,
	// fleet users, Windows defaults.
	for i, want := range []string{"bench-001 127.0.40.1", "bench-002 127.0.40.2", "bench-003 127.0.40.3", "down 127.0.40.4"} {
		got := f.Hosts[i+1]
		if got.Name+" "+got.Address != want {
			t.Errorf("host %d = %s %s, want %s", i+2, got.Name, got.Address, want)
		}
	}
	d := f.Hosts[1]
	if d.Port != 5985 || d.HTTPS || d.AllowUnencrypted || d.Basic || d.MaxEnvelopeKB != 500 || d.MaxShellsPerUser != 30 ||
		d.MaxTimeoutMS != 60000 || d.Behavior != BehaviorNormal || d.Profile != DefaultProfile || d.Users[0].Name != `CONTOSO\svc-aadcready` ||
		d.TLSCert != TLSCertCA || d.NoiseOutput != 0 {
		t.Errorf("defaults not applied: %+v", d)
	}
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case []Fault:
		return slices.Equal(a, b.([]Fault))
	case []string:
		return slices.Equal(a, b.([]string))
	case facts.Fact:
		bf := b.(facts.Fact)
		return a.Status == bf.Status && a.Reason == bf.Reason && a.Display() == bf.Display()
	}
	return a == b
}

// TestOldProfileEnvelope: a 2012 R2 host defaults to 150 KB envelopes, as
// old Windows does.
func TestOldProfileEnvelope(t *testing.T) {
	f, err := ParseFleet("old.yaml", []byte("users: [{username: a, password: b}]\nhosts:\n  - {name: old, profile: ws2012r2-v1}\n  - {name: old500, profile: ws2012r2-v1, max_envelope_kb: 500}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Hosts[0].MaxEnvelopeKB != 150 || f.Hosts[1].MaxEnvelopeKB != 500 {
		t.Fatalf("envelopes %d, %d", f.Hosts[0].MaxEnvelopeKB, f.Hosts[1].MaxEnvelopeKB)
	}
}

// TestProfilesComplete: every profile reports every fact of the registry
// with a value of the right kind, so a simulated host is never silently
// missing a fact.
func TestProfilesComplete(t *testing.T) {
	for _, name := range ProfileNames() {
		p := profiles[name]
		if ProfileDoc(name) == "" {
			t.Errorf("%s has no description", name)
		}
		for _, def := range facts.Registry {
			f, ok := p.facts[def.Key]
			if !ok {
				t.Errorf("%s: no %s", name, def.Key)
				continue
			}
			if err := checkFact(def.Key, f); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if len(p.facts) != len(facts.Registry) {
			t.Errorf("%s has %d facts, the registry %d", name, len(p.facts), len(facts.Registry))
		}
	}
}

func TestDemoFleet(t *testing.T) {
	f := DemoFleet()
	if err := f.clone().resolve(); err != nil {
		t.Fatal(err)
	}
	if len(f.Hosts) < 8 {
		t.Fatalf("%d hosts", len(f.Hosts))
	}
	seen := map[Behavior]bool{}
	for _, h := range f.Hosts {
		if !strings.HasPrefix(h.Address, "127.0.10.") || h.Port != 5985 {
			t.Errorf("%s on %s:%d", h.Name, h.Address, h.Port)
		}
		if len(h.Users) != 1 || h.Users[0].Name != DemoUser || h.Users[0].Password != DemoPassword {
			t.Errorf("%s users %v", h.Name, h.Users)
		}
		seen[h.Behavior] = true
	}
	for _, b := range []Behavior{BehaviorRefuse, BehaviorHang, BehaviorGarbage, BehaviorSlow} {
		if !seen[b] {
			t.Errorf("no %s host", b)
		}
	}
	// The fleet is not shared: changing one copy leaves the next alone.
	f.Hosts[0].Name = "changed"
	if DemoFleet().Hosts[0].Name == "changed" {
		t.Error("DemoFleet returns shared state")
	}
}
