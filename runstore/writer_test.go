package runstore

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/diff"
	"aadcready/report"
	"aadcready/results"
)

// A Writer holds the lock while the run is written, saves every file of
// the layout, moves latest, and leaves nothing behind when it is closed
// unsaved.
func TestWriter(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "runs"))
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

	unsaved, err := s.Create(started, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(started, false); !IsBusy(err) {
		t.Errorf("second writer: %v, want busy", err)
	}
	unsaved.Close()
	if stale, _ := s.Stale(); len(stale) != 0 {
		t.Errorf("a writer closed unsaved left %v", stale)
	}

	w, err := s.Create(started, false)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	defer w.Close()
	h, err := w.LogHandler(slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	run := &results.Run{Schema: results.SchemaVersion, Started: started, AsOf: "2026-11-26",
		Hosts: []results.Host{{Name: "aadc01", Verdict: catalog.VerdictOK}}}
	run.Summarize()
	changes := diff.Compare(run, run)
	path, err := w.Save(run, &changes, report.HTMLOptions{Now: started}, Policy{}, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(s.Dir, "20261126T020000Z") {
		t.Errorf("saved in %s", path)
	}
	for _, f := range []string{RunFile, hostsFile, checksFile, htmlFile, diffFile, logFile, promFile} {
		if fi, err := os.Stat(filepath.Join(path, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if latest, err := s.Latest(); err != nil || latest != path {
		t.Errorf("latest = %s, %v", latest, err)
	}
	// Late log lines, after the log was closed, are dropped.
	if err := h.Handle(t.Context(), slog.NewRecord(time.Now(), slog.LevelInfo, "late", 0)); err != nil {
		t.Errorf("a log line after Save: %v", err)
	}
	runs, _ := s.Runs()
	if !slices.EqualFunc(runs, []string{"20261126T020000Z"}, func(i Info, n string) bool { return i.Name == n }) {
		t.Errorf("runs %+v", runs)
	}
}

func TestRescan(t *testing.T) {
	for _, spec := range []string{"latest", ":unreachable", "latest:broken", "latest:unreachable,"} {
		if _, err := ParseRescan(spec); err == nil {
			t.Errorf("ParseRescan(%q) accepted", spec)
		}
	}
	r, err := ParseRescan(`C:\runs\20261126T020000Z:unreachable,cancelled`)
	if err != nil || r.Run != `C:\runs\20261126T020000Z` || !slices.Equal(r.Selectors, []string{"unreachable", "cancelled"}) {
		t.Fatalf("ParseRescan = %+v, %v", r, err)
	}
	run := &results.Run{Hosts: []results.Host{
		{Name: "aadc01", Verdict: catalog.VerdictOK},
		{Name: "aadc02", Verdict: catalog.VerdictUnreachable},
		{Name: "aadc03", Verdict: catalog.VerdictIncomplete, Failure: &results.Failure{Class: "cancelled"}},
		{Name: "AADC02", Verdict: catalog.VerdictUnreachable},
		{Name: "aadc04", Verdict: catalog.VerdictMigrate},
	}}
	var got []string
	for _, h := range r.Hosts(run) {
		got = append(got, h.Name)
	}
	if !slices.Equal(got, []string{"aadc02", "aadc03"}) {
		t.Errorf("Hosts = %v", got)
	}
	notOK, _ := ParseRescan("latest:not-ok")
	if n := len(notOK.Hosts(run)); n != 3 {
		t.Errorf("not-ok picked %d hosts, want 3", n)
	}
}

// --resume takes over only the newest killed scan, and only when it is
// newer than the last saved run: killed A, complete B, killed C (nothing
// finished) never resumes A's stale hosts.
func TestResumableNewestOnly(t *testing.T) {
	day := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	killed := func(s *Store, at time.Time, hosts ...string) {
		t.Helper()
		dir := filepath.Join(s.Dir, stagingPre+FolderName(at, false)+"-42")
		mustMkdir(t, dir)
		var lines string
		for _, h := range hosts {
			lines += `{"name":"` + h + `","verdict":"OK"}` + "\n"
		}
		if hosts != nil {
			mustWrite(t, filepath.Join(dir, journalFile), lines)
		}
	}
	tests := []struct {
		name     string
		setup    func(s *Store)
		wantFrom string
		wantWhy  string
		hosts    int
	}{
		{"nothing", func(s *Store) {}, "", "no killed scan", 0},
		{"killed after the last run", func(s *Store) {
			writeRun(t, s, day, false)
			killed(s, day.Add(time.Hour), "a", "b")
		}, ".tmp-20261126T030000Z-42", "", 2},
		{"A, complete B, C with nothing", func(s *Store) {
			killed(s, day, "a", "b")
			writeRun(t, s, day.Add(time.Hour), false)
			killed(s, day.Add(2*time.Hour))
		}, "", "finished no host", 0},
		{"A, complete B", func(s *Store) {
			killed(s, day, "a", "b")
			writeRun(t, s, day.Add(time.Hour), false)
		}, "", "not newer than the last saved run 20261126T030000Z", 0},
		{"the newest of two killed scans", func(s *Store) {
			killed(s, day.Add(2*time.Hour), "c")
			killed(s, day.Add(time.Hour), "a", "b")
		}, ".tmp-20261126T040000Z-42", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(s)
			w, err := s.Create(day.Add(3*time.Hour), false)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			rs, err := w.Resumable()
			if err != nil {
				t.Fatal(err)
			}
			if rs.From != tt.wantFrom || len(rs.Hosts) != tt.hosts || !strings.Contains(rs.Why, tt.wantWhy) {
				t.Errorf("from %q with %d hosts (why %q), want from %q with %d (why %q)", rs.From, len(rs.Hosts), rs.Why, tt.wantFrom, tt.hosts, tt.wantWhy)
			}
		})
	}
}
