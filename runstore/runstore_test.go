package runstore

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"aadcready/results"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		name   string
		ok     bool
		seq    int
		rescan bool
	}{
		{"20261126T020000Z", true, 0, false},
		{"20261126T020000Z-1", true, 1, false},
		{"20261126T020000Z-rescan", true, 0, true},
		{"20261126T020000Z-2-rescan", true, 2, true},
		{"20261126T020000", false, 0, false},
		{"20261326T020000Z", false, 0, false}, // month 13
		{"latest", false, 0, false},
		{".tmp-20261126T020000Z-123", false, 0, false},
		{"20261126T020000Z/..", false, 0, false},
		{"x20261126T020000Z", false, 0, false},
		{"20261126T020000Z-rescan-1", false, 0, false},
	}
	for _, tt := range tests {
		info, ok := ParseName(tt.name)
		if ok != tt.ok || info.Seq != tt.seq || info.Rescan != tt.rescan {
			t.Errorf("ParseName(%q) = %+v, %v; want ok=%v seq=%d rescan=%v", tt.name, info, ok, tt.ok, tt.seq, tt.rescan)
		}
	}
	if got := FolderName(time.Date(2026, 11, 26, 3, 4, 5, 999, time.FixedZone("CET", 3600)), false); got != "20261126T020405Z" {
		t.Errorf("FolderName = %q", got)
	}
}

// writeRun commits a minimal run started at ts into s.
func writeRun(t *testing.T, s *Store, ts time.Time, rescan bool) string {
	t.Helper()
	p, err := s.Begin(ts, rescan)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p.Path(RunFile))
	if err != nil {
		t.Fatal(err)
	}
	run := &results.Run{Schema: results.SchemaVersion, Tool: "aadcready", Started: ts}
	if err := run.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	name, err := p.Commit(ts)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func TestCommitNamesAndRuns(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "runs"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	got := []string{
		writeRun(t, s, t0, false),
		writeRun(t, s, t0.Add(500*time.Millisecond), false), // same second
		writeRun(t, s, t0, true),
		writeRun(t, s, t0.Add(24*time.Hour), false),
	}
	want := []string{"20261126T020000Z", "20261126T020000Z-1", "20261126T020000Z-rescan", "20261127T020000Z"}
	if !slices.Equal(got, want) {
		t.Fatalf("names = %v, want %v", got, want)
	}
	// Things that are not runs.
	mustMkdir(t, filepath.Join(s.Dir, "20251126T020000Z")) // no run.json
	mustMkdir(t, filepath.Join(s.Dir, "notes"))
	mustMkdir(t, filepath.Join(s.Dir, ".tmp-20261128T020000Z-42"))
	mustWrite(t, filepath.Join(s.Dir, "20241126T020000Z"), "a file")
	if runtime.GOOS != "windows" {
		if err := os.Symlink(filepath.Join(s.Dir, want[0]), filepath.Join(s.Dir, "20231126T020000Z")); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	// Newest second first; within a second the higher counter first, and
	// the rescan, which shares second and counter with the first run,
	// before it (ties break by name, descending).
	wantOrder := []string{"20261127T020000Z", "20261126T020000Z-1", "20261126T020000Z-rescan", "20261126T020000Z"}
	if !slices.Equal(names, wantOrder) {
		t.Errorf("Runs() = %v, want %v", names, wantOrder)
	}
	stale, err := s.Stale()
	if err != nil || len(stale) != 1 || filepath.Base(stale[0]) != ".tmp-20261128T020000Z-42" {
		t.Errorf("Stale() = %v, %v", stale, err)
	}
}

func TestLatestForms(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Latest(); !errors.Is(err, ErrNoLatest) {
		t.Fatalf("Latest() on an empty store: %v, want ErrNoLatest", err)
	}
	a := writeRun(t, s, time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC), false)
	b := writeRun(t, s, time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC), false)

	// The native form, twice: the second replaces the first.
	for _, name := range []string{a, b} {
		if err := s.SetLatest(name); err != nil {
			t.Fatal(err)
		}
		got, err := s.Latest()
		if err != nil || got != filepath.Join(s.Dir, name) {
			t.Fatalf("Latest() = %q, %v; want %s", got, err, name)
		}
	}
	fi, err := os.Lstat(filepath.Join(s.Dir, LatestName))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("latest is %v, want a symbolic link on %s", fi.Mode(), runtime.GOOS)
	}
	if target, _ := os.Readlink(filepath.Join(s.Dir, LatestName)); runtime.GOOS != "windows" && target != b {
		t.Errorf("latest links to %q, want the relative name %q", target, b)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(s.Dir, ".latest.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary pointers left: %v", leftovers)
	}

	// The Windows form, as a Windows jump box writes it (BOM, CRLF), over
	// the link.
	os.Remove(filepath.Join(s.Dir, LatestName))
	mustWrite(t, filepath.Join(s.Dir, LatestName), "\uFEFF"+a+"\r\n")
	got, err := s.Latest()
	if err != nil || got != filepath.Join(s.Dir, a) {
		t.Fatalf("Latest() from a text pointer = %q, %v", got, err)
	}
	ref, err := Resolve(filepath.Join(s.Dir, LatestName), "")
	if err != nil || ref.Folder != a || ref.File != filepath.Join(s.Dir, a, RunFile) {
		t.Errorf("Resolve(DIR/latest) with a text pointer = %+v, %v", ref, err)
	}
	// A text pointer may only name a run folder.
	for _, bad := range []string{"../../etc", "/etc/passwd", "", "notes"} {
		mustWrite(t, filepath.Join(s.Dir, LatestName), bad+"\n")
		if got, err := s.Latest(); err == nil {
			t.Errorf("latest holding %q resolved to %q", bad, got)
		}
	}
}

func TestResolve(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "runs"))
	if err != nil {
		t.Fatal(err)
	}
	name := writeRun(t, s, time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC), false)
	if err := s.SetLatest(name); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(t.TempDir(), "board-run.json")
	mustWrite(t, loose, "{}")
	runJSON := filepath.Join(s.Dir, name, RunFile)
	tests := []struct {
		arg, out   string
		file, fold string
		err        string
	}{
		{filepath.Join(s.Dir, name), "", runJSON, name, ""},
		{filepath.Join(s.Dir, LatestName), "", runJSON, name, ""},
		{LatestName, s.Dir, runJSON, name, ""},
		{name, s.Dir, runJSON, name, ""},
		{runJSON, "", runJSON, name, ""},
		{loose, "", loose, "", ""},
		{LatestName, "", "", "", "give --out DIR"},
		{s.Dir, "", "", "", "is a folder of runs"},
		{filepath.Join(s.Dir, "20200101T000000Z"), "", "", "", "no such file"},
	}
	for _, tt := range tests {
		ref, err := Resolve(tt.arg, tt.out)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Resolve(%q, %q) error = %v, want %q", tt.arg, tt.out, err, tt.err)
			}
			continue
		}
		if err != nil || ref.File != tt.file || ref.Folder != tt.fold {
			t.Errorf("Resolve(%q, %q) = %+v, %v; want %s in %q", tt.arg, tt.out, ref, err, tt.file, tt.fold)
		}
	}
	if _, _, err := Load(LatestName, s.Dir); err != nil {
		t.Errorf("Load(latest): %v", err)
	}
}

func TestPrune(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	// Runs 0..5 days old, newest first.
	ages := []time.Duration{0, day, 2 * day, 3 * day, 4 * day, 5*day + time.Hour}
	tests := []struct {
		name    string
		policy  Policy
		latest  int // index of the run latest points at (-1: none)
		protect int // index of the run just written
		kept    []int
	}{
		{"off", Policy{Now: now}, 0, 0, []int{0, 1, 2, 3, 4, 5}},
		{"keep 2", Policy{Keep: 2, Now: now}, 0, 0, []int{0, 1}},
		{"keep 1 keeps latest too", Policy{Keep: 1, Now: now}, 3, 0, []int{0, 3}},
		{"keep-days 2", Policy{KeepDays: 2, Now: now}, 0, 0, []int{0, 1, 2}},
		{"keep-days 5 (the oldest is 5 days and an hour old)", Policy{KeepDays: 5, Now: now}, 0, 0, []int{0, 1, 2, 3, 4}},
		{"either rule keeps", Policy{Keep: 4, KeepDays: 1, Now: now}, 0, 0, []int{0, 1, 2, 3}},
		{"either rule keeps (days wins)", Policy{Keep: 1, KeepDays: 3, Now: now}, 0, 0, []int{0, 1, 2, 3}},
		{"never the run being written", Policy{Keep: 1, Now: now.Add(30 * day)}, -1, 5, []int{0, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, age := range ages {
				names = append(names, writeRun(t, s, now.Add(-age), false))
			}
			if tt.latest >= 0 {
				if err := s.SetLatest(names[tt.latest]); err != nil {
					t.Fatal(err)
				}
			}
			// Bystanders that must survive any policy.
			mustMkdir(t, filepath.Join(s.Dir, "20191126T020000Z")) // run-like name, no run.json
			mustWrite(t, filepath.Join(s.Dir, "20181126T020000Z"), "a file")
			mustMkdir(t, filepath.Join(s.Dir, "archive"))
			mustWrite(t, filepath.Join(s.Dir, "notes.txt"), "keep me")
			stale := filepath.Join(s.Dir, ".tmp-20261120T020000Z-7")
			mustMkdir(t, stale)

			removed, err := s.Prune(tt.policy, names[tt.protect])
			if err != nil {
				t.Fatal(err)
			}
			runs, _ := s.Runs()
			var kept []string
			for _, r := range runs {
				kept = append(kept, r.Name)
			}
			var want []string
			for _, i := range tt.kept {
				want = append(want, names[i])
			}
			slices.Sort(kept)
			slices.Sort(want)
			if !slices.Equal(kept, want) {
				t.Errorf("kept %v, want %v (removed %v)", kept, want, removed)
			}
			for _, p := range []string{"20191126T020000Z", "20181126T020000Z", "archive", "notes.txt", LatestName} {
				if p == LatestName && tt.latest < 0 {
					continue
				}
				if _, err := os.Lstat(filepath.Join(s.Dir, p)); err != nil {
					t.Errorf("%s was removed: %v", p, err)
				}
			}
			_, err = os.Stat(stale)
			if tt.policy.Active() != errors.Is(err, os.ErrNotExist) {
				t.Errorf("stale staging folder after prune (active=%v): %v", tt.policy.Active(), err)
			}
		})
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPruneNeverGuesses: a retention that cannot be represented prunes
// nothing (it once overflowed into "keep nothing"), and a folder whose
// run.json is not a run document of this tool is never removed.
func TestPruneNeverGuesses(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	for _, p := range []Policy{
		{KeepDays: 106752, Now: now}, {KeepDays: 999999, Now: now}, {KeepDays: MaxKeepDays + 1, Now: now},
		{Keep: MaxKeep + 1, Now: now}, {Keep: -1, Now: now}, {KeepDays: -5, Now: now},
	} {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		old := writeRun(t, s, now.AddDate(-3, 0, 0), false)
		cur := writeRun(t, s, now, false)
		if _, err := s.Prune(p, cur); err == nil {
			t.Errorf("Prune(%+v) accepted the policy", p)
		}
		if _, err := os.Stat(filepath.Join(s.Dir, old)); err != nil {
			t.Errorf("Prune(%+v) removed the old run: %v", p, err)
		}
	}

	// Within the bounds, a day count of a hundred years keeps a run of
	// three years ago.
	s, _ := Open(t.TempDir())
	old := writeRun(t, s, now.AddDate(-3, 0, 0), false)
	cur := writeRun(t, s, now, false)
	if _, err := s.Prune(Policy{KeepDays: MaxKeepDays, Now: now}, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, old)); err != nil {
		t.Errorf("keep-days %d removed a run of three years ago", MaxKeepDays)
	}

	// Not run documents of this tool: kept whatever the policy.
	s, _ = Open(t.TempDir())
	cur = writeRun(t, s, now, false)
	foreign := map[string]string{
		"20200101T000000Z": "{}",
		"20200102T000000Z": `{"schema": 1, "tool": "other"}`,
		"20200103T000000Z": `{"tool": "aadcready", "schema": 1}`,
		"20200104T000000Z": "not json",
		"20200106T000000Z": `{"schema": 1, "tool": "aadcready"}`,
		"20200107T000000Z": `{"schema": 1, "tool": "aadcready", "started": "2020-01-07T00:00:00Z", "hosts": {}}`,
	}
	for name, body := range foreign {
		mustMkdir(t, filepath.Join(s.Dir, name))
		mustWrite(t, filepath.Join(s.Dir, name, RunFile), body)
	}
	// A run.json that is a link to a real run document is not one either.
	mustMkdir(t, filepath.Join(s.Dir, "20200105T000000Z"))
	if err := os.Symlink(filepath.Join(s.Dir, cur, RunFile), filepath.Join(s.Dir, "20200105T000000Z", RunFile)); err != nil {
		t.Fatal(err)
	}
	removed, err := s.Prune(Policy{Keep: 1, Now: now}, cur)
	if err != nil || len(removed) != 0 {
		t.Fatalf("Prune removed %v (err %v); want nothing", removed, err)
	}
	for name := range foreign {
		if _, err := os.Stat(filepath.Join(s.Dir, name)); err != nil {
			t.Errorf("%s (run.json %q) was removed", name, foreign[name])
		}
	}
}
