package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/diff"
	"aadcready/results"
	"aadcready/runstore"
)

const fleetPassword = "Fleet-Test-Only-7"

// Two nightly runs into one --out folder, with one host's facts changed in
// between: two run folders, latest at the second, and a diff naming exactly
// that host and check. Then the saved run is re-scored for a later date
// with the simulator stopped.
func TestNightlyRunsDiffAndReport(t *testing.T) {
	t.Setenv(testPasswordEnv, fleetPassword)
	out := filepath.Join(t.TempDir(), "runs")
	hosts := []string{"aadc-a", "aadc-b", "aadc-appauth"}

	night1 := startFleet(t,
		simHost("aadc-a", "ws2019-v2-current", fleetPassword),
		simHost("aadc-b", "ws2019-v2-current", fleetPassword),
		simHost("aadc-appauth", "ws2022-v2-needs-appauth", fleetPassword))
	r1 := runCLI(t, "scan", "-i", night1.inv, "--out", out, "--since", "latest", "--as-of", "2026-11-26")
	if r1.code != 0 {
		t.Fatalf("first scan: exit %d\n%s\n%s", r1.code, r1.stdout, r1.stderr)
	}
	if !strings.Contains(r1.stdout, "no earlier run in "+out) {
		t.Errorf("first run should say there is nothing to compare with:\n%s", r1.stdout)
	}
	night1.stop()

	// Overnight someone removes SchUseStrongCrypto on aadc-b.
	night2 := startFleet(t,
		simHost("aadc-a", "ws2019-v2-current", fleetPassword),
		weakTLS(simHost("aadc-b", "ws2019-v2-current", fleetPassword)),
		simHost("aadc-appauth", "ws2022-v2-needs-appauth", fleetPassword))
	r2 := runCLI(t, "scan", "-i", night2.inv, "--out", out, "--since", "latest", "--as-of", "2026-11-26")
	if r2.code != 1 {
		t.Fatalf("second scan: exit %d, want 1\n%s\n%s", r2.code, r2.stdout, r2.stderr)
	}
	night2.stop()

	folders := runFolders(t, out)
	if len(folders) != 2 {
		t.Fatalf("run folders %v, want 2", folders)
	}
	if got := filepath.Base(latestRun(t, out)); got != folders[1] {
		t.Errorf("latest -> %s, want the second run %s", got, folders[1])
	}
	for _, f := range folders {
		run := checkRunFolder(t, filepath.Join(out, f))
		if len(run.Hosts) != 3 {
			t.Errorf("%s: %d hosts", f, len(run.Hosts))
		}
		log, _ := os.ReadFile(filepath.Join(out, f, "scan.log"))
		if n := countLines(string(log), `"msg":"host scanned"`); n != 3 {
			t.Errorf("%s/scan.log has %d 'host scanned' lines, want 3 (info by default)", f, n)
		}
	}
	if _, err := os.Stat(filepath.Join(out, folders[0], "diff.json")); err == nil {
		t.Error("the first run has a diff.json, but there was nothing to compare with")
	}

	// What changed: exactly aadc-b, exactly tls12-schannel.
	assertOnlyTLSChange := func(t *testing.T, res diff.Result) {
		t.Helper()
		wantV := []diff.VerdictChange{{Host: "aadc-b", From: catalog.VerdictOK, To: catalog.VerdictFix, Direction: diff.Regressed}}
		if !slices.Equal(res.Verdicts, wantV) {
			t.Errorf("verdict changes %+v, want %+v", res.Verdicts, wantV)
		}
		if len(res.Checks) != 1 || res.Checks[0].Host != "aadc-b" || res.Checks[0].Check != "tls12-schannel" || res.Checks[0].Change != diff.NewlyFailing {
			t.Errorf("check changes %+v, want aadc-b tls12-schannel newly failing", res.Checks)
		}
		if len(res.Added)+len(res.Gone)+len(res.Unreachable) != 0 || !res.Regressed() {
			t.Errorf("unexpected changes: %+v", res)
		}
	}
	var saved diff.Result
	data, err := os.ReadFile(filepath.Join(out, folders[1], "diff.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	assertOnlyTLSChange(t, saved)
	if saved.From.Label != folders[0] || saved.To.Label != folders[1] {
		t.Errorf("diff.json labels %q -> %q, want %s -> %s", saved.From.Label, saved.To.Label, folders[0], folders[1])
	}
	if !strings.Contains(r2.stdout, "changes from "+folders[0]) || !strings.Contains(r2.stdout, "tls12-schannel") {
		t.Errorf("the scan did not print the changes after the table:\n%s", r2.stdout)
	}
	if strings.Index(r2.stdout, "hosts as of") > strings.Index(r2.stdout, "changes from") {
		t.Errorf("changes printed before the table:\n%s", r2.stdout)
	}

	// aadcready diff, both ways of naming runs.
	d := runCLI(t, "diff", filepath.Join(out, folders[0]), filepath.Join(out, "latest"), "--json", "-")
	if d.code != 1 {
		t.Fatalf("diff: exit %d, want 1 (regressed)\n%s%s", d.code, d.stdout, d.stderr)
	}
	var cli diff.Result
	if err := json.Unmarshal([]byte(d.stdout), &cli); err != nil {
		t.Fatalf("diff --json -: %v\n%s", err, d.stdout)
	}
	assertOnlyTLSChange(t, cli)
	back := runCLI(t, "diff", "--out", out, "latest", folders[0], "--csv", filepath.Join(t.TempDir(), "d.csv"))
	if back.code != 0 || !strings.Contains(back.stdout, "verdict improved") {
		t.Errorf("diff newer->older: exit %d, want 0 and an improvement\n%s%s", back.code, back.stdout, back.stderr)
	}
	if u := runCLI(t, "diff", "latest"); u.code != 3 {
		t.Errorf("diff with one run: exit %d, want 3", u.code)
	}

	// Scan once, render many: re-score the saved run for 2027-04-08 with
	// no simulator running. aadc-appauth is fine today but not then.
	today := readRun(t, filepath.Join(out, folders[1], "run.json"))
	for _, h := range []string{"aadc-a", "aadc-appauth"} {
		if v := hostByName(t, today, h).Verdict; v != catalog.VerdictOK {
			t.Fatalf("precondition: %s is %s today, want OK", h, v)
		}
	}
	reqs := night2.requests()
	rendered := filepath.Join(t.TempDir(), "later.json")
	html := filepath.Join(t.TempDir(), "later.html")
	rep := runCLI(t, "report", "latest", "--out", out, "--as-of", "2027-04-08", "--json", rendered,
		"--csv", filepath.Join(t.TempDir(), "b.csv"), "--html", html, "--since", folders[0])
	if rep.code != 1 {
		t.Fatalf("report: exit %d\n%s%s", rep.code, rep.stdout, rep.stderr)
	}
	if page, err := os.ReadFile(html); err != nil || !strings.Contains(string(page), "aadc-appauth") {
		t.Errorf("report --html: %v", err)
	}
	if !strings.Contains(rep.stdout, "changes from "+folders[0]) || !strings.Contains(rep.stdout, "check now blocking") {
		t.Errorf("report --since did not print the changes:\n%s", rep.stdout)
	}
	later := readRun(t, rendered)
	if later.AsOf != "2027-04-08" {
		t.Errorf("re-scored run as of %s", later.AsOf)
	}
	if v := hostByName(t, later, "aadc-appauth").Verdict; v != catalog.VerdictUpgrade {
		t.Errorf("aadc-appauth as of 2027-04-08: %s, want UPGRADE", v)
	}
	if v := hostByName(t, later, "aadc-a").Verdict; v != catalog.VerdictOK {
		t.Errorf("aadc-a as of 2027-04-08: %s, want OK", v)
	}
	if v := hostByName(t, later, "aadc-b").Verdict; v != catalog.VerdictFix {
		t.Errorf("aadc-b as of 2027-04-08: %s, want FIX_THEN_UPGRADE still", v)
	}
	if night2.requests() != reqs {
		t.Error("report contacted a host")
	}
	// Without --as-of a re-render reproduces the saved verdicts.
	same := runCLI(t, "report", filepath.Join(out, folders[1], "run.json"), "--json", rendered)
	if same.code != 1 {
		t.Errorf("report as saved: exit %d", same.code)
	}
	if sameRun := readRun(t, rendered); sameRun.AsOf != "2026-11-26" || sameRun.Summary.ByVerdict["OK"] != 2 {
		t.Errorf("report without flags changed the run: as of %s, %v", sameRun.AsOf, sameRun.Summary.ByVerdict)
	}
	for _, h := range hosts {
		_ = hostByName(t, later, h) // every host is still there
	}
}

// Waivers: an active one waives, an expired one counts again and says so,
// the as-of date decides which it is, and a malformed file stops the run
// before any host is contacted.
func TestWaivers(t *testing.T) {
	t.Setenv(testPasswordEnv, fleetPassword)
	dir := t.TempDir()
	write := func(name, expires string) string {
		p := filepath.Join(dir, name)
		doc := fmt.Sprintf(`- check: tls12-schannel
  host: AADC-W*
  justification: TLS hardening ships with the January patch window (CHG0041).
  approved_by: CAB 2026-11-20
  expires: %s
`, expires)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	active := write("active.yaml", "2027-01-31")
	expired := write("expired.yaml", "2026-11-01")

	f := startFleet(t,
		weakTLS(simHost("aadc-w1", "ws2019-v2-current", fleetPassword)),
		simHost("aadc-ok", "ws2019-v2-current", fleetPassword))

	tests := []struct {
		name     string
		args     []string
		code     int
		verdict  catalog.Verdict
		status   catalog.Status
		expired  bool
		mentions string
	}{
		{"no waiver", nil, 1, catalog.VerdictFix, catalog.StatusFail, false, "tls12-schannel"},
		{"active waiver", []string{"--waivers", active}, 0, catalog.VerdictOK, catalog.StatusWaived, false,
			"waived: aadc-w1 tls12-schannel (waiver expires 2027-01-31, approved by CAB 2026-11-20)"},
		{"expired waiver", []string{"--waivers", expired}, 1, catalog.VerdictFix, catalog.StatusFail, true,
			"WAIVER EXPIRED: aadc-w1 tls12-schannel: expired 2026-11-01 (approved by CAB 2026-11-20); the failure counts again"},
		{"active waiver, expiry day", []string{"--waivers", active, "--as-of", "2027-01-31"}, 1, catalog.VerdictFix, catalog.StatusFail, true,
			"WAIVER EXPIRED: aadc-w1 tls12-schannel: expired 2027-01-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := filepath.Join(t.TempDir(), "run.json")
			args := append([]string{"scan", "-i", f.inv, "--json", js, "--as-of", "2026-11-26"}, tt.args...)
			r := runCLI(t, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.mentions) {
				t.Errorf("stdout lacks %q:\n%s", tt.mentions, r.stdout)
			}
			assertWaiver(t, readRun(t, js), tt.verdict, tt.status, tt.expired)
		})
	}

	// report applies and judges waivers the same way, without a host.
	saved := filepath.Join(t.TempDir(), "run.json")
	if r := runCLI(t, "scan", "-i", f.inv, "--json", saved, "--as-of", "2026-11-26", "--waivers", active); r.code != 0 {
		t.Fatalf("scan: exit %d\n%s", r.code, r.stderr)
	}
	before := f.requests()
	for _, tt := range []struct {
		name    string
		args    []string
		code    int
		verdict catalog.Verdict
		status  catalog.Status
		expired bool
	}{
		{"recorded waiver, same day", nil, 0, catalog.VerdictOK, catalog.StatusWaived, false},
		{"recorded waiver, after expiry", []string{"--as-of", "2027-02-01"}, 1, catalog.VerdictFix, catalog.StatusFail, true},
		{"other waiver file", []string{"--waivers", expired}, 1, catalog.VerdictFix, catalog.StatusFail, true},
		{"exit zero on findings", []string{"--as-of", "2027-02-01", "--exit-zero-on-findings"}, 0, catalog.VerdictFix, catalog.StatusFail, true},
	} {
		t.Run("report/"+tt.name, func(t *testing.T) {
			js := filepath.Join(t.TempDir(), "r.json")
			r := runCLI(t, append([]string{"report", saved, "--json", js}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			assertWaiver(t, readRun(t, js), tt.verdict, tt.status, tt.expired)
		})
	}
	if f.requests() != before {
		t.Error("report contacted a host")
	}

	// A malformed file: exit 3, the file and line named, no host contacted.
	fresh := startFleet(t, simHost("aadc-w1", "ws2019-v2-current", fleetPassword))
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("- check: tls12-schannel\n  host: aadc-w1\n  justification: later\n  approved_by: CAB\n  expires: 2027-02-30\n"), 0o644)
	outDir := filepath.Join(t.TempDir(), "runs")
	r := runCLI(t, "scan", "-i", fresh.inv, "--waivers", bad, "--out", outDir)
	if r.code != 3 || !strings.Contains(r.stderr, bad+`:5: waiver 1: expires: "2027-02-30" is not a date YYYY-MM-DD`) {
		t.Errorf("malformed waivers: exit %d\n%s", r.code, r.stderr)
	}
	if n := fresh.contacts(); n != 0 {
		t.Errorf("the simulator saw %d connections and requests before the waiver file was refused", n)
	}
	if folders := runFolders(t, outDir); len(folders) != 0 {
		t.Errorf("a refused run left run folders %v", folders)
	}
	if r := runCLI(t, "report", saved, "--waivers", bad); r.code != 3 {
		t.Errorf("report with a malformed waiver file: exit %d", r.code)
	}
}

func assertWaiver(t *testing.T, r *results.Run, verdict catalog.Verdict, status catalog.Status, expired bool) {
	t.Helper()
	h := hostByName(t, r, "aadc-w1")
	if h.Verdict != verdict {
		t.Errorf("aadc-w1 verdict %s, want %s", h.Verdict, verdict)
	}
	for _, c := range h.Checks {
		if c.ID != "tls12-schannel" {
			continue
		}
		if c.Status != status || c.WaiverExpired != expired {
			t.Errorf("tls12-schannel status %s expired %v, want %s %v", c.Status, c.WaiverExpired, status, expired)
		}
		if (status == catalog.StatusWaived || expired) && (c.Waiver == nil || c.Waiver.ApprovedBy != "CAB 2026-11-20") {
			t.Errorf("tls12-schannel waiver %+v", c.Waiver)
		}
	}
	if v := hostByName(t, r, "aadc-ok").Verdict; v != catalog.VerdictOK {
		t.Errorf("aadc-ok verdict %s", v)
	}
}

// A second writer is refused with the holder named, before any host is
// contacted; the lock is released when the holder ends.
func TestOutFolderLocked(t *testing.T) {
	t.Setenv(testPasswordEnv, fleetPassword)
	f := startFleet(t, simHost("aadc-a", "ws2019-v2-current", fleetPassword))
	out := t.TempDir()
	store, _ := runstore.Open(out)
	started := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	lock, err := store.Lock(started)
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "scan", "-i", f.inv, "--out", out)
	want := fmt.Sprintf("another scan (pid %d, started 2026-11-26T02:00:00Z) is writing to %s", os.Getpid(), out)
	if r.code != 3 || !strings.Contains(r.stderr, want) {
		t.Errorf("scan while locked: exit %d, stderr %q; want 3 and %q", r.code, r.stderr, want)
	}
	if n := f.contacts(); n != 0 {
		t.Errorf("a refused run contacted the fleet (%d)", n)
	}
	lock.Unlock()
	if r := runCLI(t, "scan", "-i", f.inv, "--out", out); r.code != 0 {
		t.Errorf("scan after unlock: exit %d\n%s", r.code, r.stderr)
	}
}

// --keep and --keep-days prune old runs after a successful write and
// nothing else.
func TestPruneRuns(t *testing.T) {
	t.Setenv(testPasswordEnv, fleetPassword)
	f := startFleet(t, simHost("aadc-a", "ws2019-v2-current", fleetPassword))
	out := t.TempDir()
	now := time.Now().UTC()
	old := func(age time.Duration) string {
		name := runstore.FolderName(now.Add(-age), false)
		dir := filepath.Join(out, name)
		os.MkdirAll(dir, 0o755)
		doc := `{"schema":1,"tool":"aadcready","started":"` + now.Add(-age).Format(time.RFC3339) + `","hosts":[]}`
		os.WriteFile(filepath.Join(dir, "run.json"), []byte(doc), 0o644)
		return name
	}
	day := 24 * time.Hour
	a, b, c := old(100*day), old(40*day), old(2*day)
	os.MkdirAll(filepath.Join(out, "20200101T000000Z"), 0o755) // no run.json: not a run
	os.MkdirAll(filepath.Join(out, "board-exports"), 0o755)
	// A run-like folder whose run.json is not a run document of this tool.
	foreign := runstore.FolderName(now.Add(-300*day), false)
	os.MkdirAll(filepath.Join(out, foreign), 0o755)
	os.WriteFile(filepath.Join(out, foreign, "run.json"), []byte(`{}`), 0o644)

	// A retention past what can be represented is refused before the scan
	// (it once overflowed into "keep nothing").
	for _, days := range []string{"106752", "999999", "9223372036854775807"} {
		if r := runCLI(t, "scan", "-i", f.inv, "--out", out, "--keep-days", days); r.code != 3 {
			t.Errorf("--keep-days %s: exit %d, want 3\n%s", days, r.code, r.stderr)
		}
	}
	if got := runFolders(t, out); len(got) != 4 {
		t.Fatalf("a refused retention touched the runs: %v", got)
	}

	if r := runCLI(t, "scan", "-i", f.inv, "--out", out, "--keep-days", "30"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got := runFolders(t, out)
	if len(got) != 3 || got[0] != foreign || got[1] != c || slices.Contains(got, a) || slices.Contains(got, b) {
		t.Errorf("after --keep-days 30: %v, want %s and the new run", got, c)
	}
	if r := runCLI(t, "scan", "-i", f.inv, "--out", out, "--keep", "1"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got = runFolders(t, out)
	if len(got) != 2 || got[0] != foreign || filepath.Base(latestRun(t, out)) != got[1] {
		t.Errorf("after --keep 1: %v, want only the foreign folder and the new run (latest)", got)
	}
	for _, keep := range []string{"20200101T000000Z", "board-exports", ".lock"} {
		if _, err := os.Stat(filepath.Join(out, keep)); err != nil {
			t.Errorf("%s: %v", keep, err)
		}
	}
	if r := runCLI(t, "scan", "-i", f.inv, "--keep", "3"); r.code != 3 {
		t.Errorf("--keep without --out: exit %d, want 3", r.code)
	}
}

// Rerun what failed: --only picks the unreachable hosts of a saved run,
// skips those gone from the inventory, writes a rescan folder that does not
// move latest, and report --merge folds it into the run.
func TestRescanAndMerge(t *testing.T) {
	t.Setenv(testPasswordEnv, fleetPassword)
	out := filepath.Join(t.TempDir(), "runs")
	down := simHost("aadc-down", "ws2019-v2-current", fleetPassword)
	down.Behavior = "refuse"
	gone := simHost("aadc-retired", "ws2019-v2-current", fleetPassword)
	gone.Behavior = "refuse"
	first := startFleet(t, simHost("aadc-a", "ws2019-v2-current", fleetPassword), down, gone)
	if r := runCLI(t, "scan", "-i", first.inv, "--out", out, "--retries", "0"); r.code != 2 {
		t.Fatalf("first scan: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	first.stop()
	nightly := filepath.Base(latestRun(t, out))

	// The network team fixed aadc-down; aadc-retired left the inventory.
	second := startFleet(t, simHost("aadc-a", "ws2019-v2-current", fleetPassword), simHost("aadc-down", "ws2019-v2-current", fleetPassword))
	r := runCLI(t, "scan", "-i", second.inv, "--out", out, "--only", "latest:unreachable", "--since", "latest")
	if r.code != 0 {
		t.Fatalf("rescan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "aadc-retired (UNREACHABLE in "+nightly+") is no longer in the inventory; skipped") {
		t.Errorf("the skipped host was not reported:\n%s", r.stderr)
	}
	if st := second.srv.Stats().Hosts; st["aadc-a"].Requests != 0 || st["aadc-down"].Requests == 0 {
		t.Errorf("requests: aadc-a %d (want 0), aadc-down %d", st["aadc-a"].Requests, st["aadc-down"].Requests)
	}
	if !strings.Contains(r.stdout, "changes from "+nightly) || strings.Contains(r.stdout, "gone from the inventory") {
		t.Errorf("the rescan's diff should cover only the rescanned host:\n%s", r.stdout)
	}
	folders := runFolders(t, out)
	if len(folders) != 2 || !strings.HasSuffix(folders[1], runstore.RescanSuffix) {
		t.Fatalf("run folders %v, want the nightly run and a -rescan", folders)
	}
	if got := filepath.Base(latestRun(t, out)); got != nightly {
		t.Errorf("a rescan moved latest to %s", got)
	}
	rescan := checkRunFolder(t, filepath.Join(out, folders[1]))
	if len(rescan.Hosts) != 1 || rescan.Hosts[0].Verdict != catalog.VerdictOK {
		t.Errorf("rescan hosts %+v", rescan.Hosts)
	}

	merged := filepath.Join(t.TempDir(), "merged.json")
	m := runCLI(t, "report", "latest", "--out", out, "--merge", folders[1], "--json", merged)
	if m.code != 2 { // aadc-retired is still unreachable in the nightly run
		t.Errorf("report --merge: exit %d\n%s%s", m.code, m.stdout, m.stderr)
	}
	run := readRun(t, merged)
	want := map[string]catalog.Verdict{"aadc-a": catalog.VerdictOK, "aadc-down": catalog.VerdictOK, "aadc-retired": catalog.VerdictUnreachable}
	if len(run.Hosts) != 3 {
		t.Fatalf("merged run has %d hosts", len(run.Hosts))
	}
	for name, v := range want {
		if got := hostByName(t, run, name).Verdict; got != v {
			t.Errorf("merged %s: %s, want %s", name, got, v)
		}
	}
	if run.Summary.ByVerdict["OK"] != 2 || run.Hosts[1].Name != "aadc-down" {
		t.Errorf("merged summary %v / order %v", run.Summary.ByVerdict, run.Hosts)
	}

	// Nothing left to rescan: not an error, no run written.
	second.stop()
	third := startFleet(t, simHost("aadc-a", "ws2019-v2-current", fleetPassword))
	n := runCLI(t, "scan", "-i", third.inv, "--out", out, "--only", folders[1]+":unreachable")
	if n.code != 0 || !strings.Contains(n.stderr, "nothing to rescan") || third.contacts() != 0 {
		t.Errorf("empty rescan: exit %d, %q, %d contacts", n.code, n.stderr, third.contacts())
	}
	if bad := runCLI(t, "scan", "-i", third.inv, "--only", "latest:broken", "--out", out); bad.code != 3 {
		t.Errorf("--only with a bad selector: exit %d", bad.code)
	}
}

// When stderr is not a terminal, progress is a plain line and nothing on
// stderr or stdout carries an escape code, even at debug level with a host
// printing garbage.
func TestNoEscapeCodesWhenNotATerminal(t *testing.T) {
	t.Setenv(testPasswordEnv, fleetPassword)
	garbled := simHost("aadc-garbled", "ws2019-v2-current", fleetPassword)
	garbled.Behavior = "garbage"
	f := startFleet(t, simHost("aadc-a", "ws2019-v2-current", fleetPassword), garbled,
		weakTLS(simHost("aadc-b", "ws2019-v2-current", fleetPassword)))
	for _, format := range []string{"text", "json"} {
		r := runCLI(t, "scan", "-i", f.inv, "--log-level", "debug", "--log-format", format, "--out", t.TempDir())
		if r.code != 2 {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		if strings.ContainsAny(r.stderr, "\x1b\r") || strings.Contains(r.stdout, "\x1b") {
			t.Errorf("--log-format %s: escape codes on a non-terminal:\nstderr %q\nstdout %q", format, r.stderr, r.stdout)
		}
		if !strings.Contains(r.stderr, "progress: 3/3 hosts done (ok 1, need action 1, could not check 1)") {
			t.Errorf("no plain progress line:\n%s", r.stderr)
		}
	}
	if r := runCLI(t, "scan", "-i", f.inv, "--progress=false"); strings.Contains(r.stderr, "progress:") {
		t.Errorf("--progress=false still printed progress:\n%s", r.stderr)
	}
}
