package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"aadcready/report"
	"aadcready/simulator"
)

// csvRows reads a change-board CSV without its timing columns, in order.
func csvRows(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	skip := map[int]bool{}
	for i, c := range report.HostColumns {
		if c == "scanned_at" || c == "duration_ms" {
			skip[i] = true
		}
	}
	var rows []string
	for _, rec := range recs[1:] {
		var kept []string
		for i, v := range rec {
			if !skip[i] {
				kept = append(kept, v)
			}
		}
		rows = append(rows, strings.Join(kept, "|"))
	}
	return rows
}

// One fleet scanned once, and as 4 shards in parallel joined by report:
// every host in exactly one shard, the same CSV rows and exit code.
func TestShardsJoinedEqualOneScan(t *testing.T) {
	const pw = "Shard-Pa55"
	profiles := simulator.ProfileNames()
	var hosts []simulator.Host
	for i := range 18 {
		// Names out of alphabetical order: the join must keep the inventory's.
		hosts = append(hosts, simHost(fmt.Sprintf("aadc-%02d.contoso.test", (i*7)%18), profiles[i%len(profiles)], pw))
	}
	f := startFleet(t, hosts...)
	t.Setenv(testPasswordEnv, pw)
	dir := t.TempDir()
	common := []string{"-i", f.inv, "--as-of", "2026-12-03", "--progress=false", "--concurrency", "4"}

	single := runCLI(t, append([]string{"scan", "--csv", filepath.Join(dir, "single.csv")}, common...)...)
	if single.code == 3 {
		t.Fatalf("single scan: %s", single.stderr)
	}

	shards := make([]string, 4)
	codes := make([]int, 4)
	var wg sync.WaitGroup
	for i := range shards {
		shards[i] = filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := runCLI(t, append([]string{"scan", "--shard", fmt.Sprintf("%d/4", i), "--json", shards[i]}, common...)...)
			codes[i] = r.code
			if r.code == 3 {
				t.Errorf("shard %d: %s", i, r.stderr)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	seen := map[string]int{}
	for i, p := range shards {
		run := readRun(t, p)
		if run.Shard == nil || run.Shard.Index != i || run.Shard.Count != 4 {
			t.Errorf("%s records shard %+v", p, run.Shard)
		}
		for _, h := range run.Hosts {
			seen[h.Name]++
		}
		t.Logf("shard %d/4: %d hosts, exit %d", i, len(run.Hosts), codes[i])
	}
	for _, h := range hosts {
		if seen[h.Name] != 1 {
			t.Errorf("%s is in %d shards, want exactly 1", h.Name, seen[h.Name])
		}
	}
	if len(seen) != len(hosts) {
		t.Errorf("%d hosts in the shards, want %d", len(seen), len(hosts))
	}

	joinedCSV, joinedJSON, joinedHTML := filepath.Join(dir, "joined.csv"), filepath.Join(dir, "joined.json"), filepath.Join(dir, "joined.html")
	joined := runCLI(t, append(append([]string{"report"}, shards...), "--csv", joinedCSV, "--json", joinedJSON, "--html", joinedHTML)...)
	if joined.code != single.code {
		t.Fatalf("joined report exit %d, single scan %d: %s", joined.code, single.code, joined.stderr)
	}
	got, want := csvRows(t, joinedCSV), csvRows(t, filepath.Join(dir, "single.csv"))
	t.Logf("%d CSV rows, single scan exit %d", len(want), single.code)
	if len(want) != len(hosts) || !slices.Equal(got, want) { // in the same order too
		t.Errorf("joined CSV differs from the single scan's:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if run := readRun(t, joinedJSON); len(run.MergedFrom) != 4 || len(run.MissingShards) != 0 || run.Shard != nil || run.Summary.Total != len(hosts) {
		t.Errorf("joined run: merged from %d, missing %v, shard %v, %d hosts", len(run.MergedFrom), run.MissingShards, run.Shard, run.Summary.Total)
	}
	html, _ := os.ReadFile(joinedHTML)
	if !strings.Contains(string(html), "This report joins 4 runs.") || !strings.Contains(string(html), "shard 3/4") {
		t.Error("the joined HTML does not say which runs it came from")
	}

	t.Run("missing shard", func(t *testing.T) {
		r := runCLI(t, append([]string{"report"}, shards[:3]...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "shard 3/4 is missing") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("host scanned twice, latest wins", func(t *testing.T) {
		again := filepath.Join(dir, "shard-1-again.json")
		if r := runCLI(t, append([]string{"scan", "--shard", "1/4", "--json", again}, common...)...); r.code == 3 {
			t.Fatal(r.stderr)
		}
		r := runCLI(t, append(append([]string{"report"}, shards...), again)...)
		if r.code != single.code || !strings.Contains(r.stderr, "the later result ("+again+") is kept") || !strings.Contains(r.stderr, "shard 1/4 appears in more than one run") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("different as-of refused unless rescored", func(t *testing.T) {
		other := filepath.Join(dir, "shard-0-later.json")
		args := append(append([]string{"scan", "--shard", "0/4", "--json", other}, common...), "--as-of", "2027-01-20") // the last --as-of wins
		if r := runCLI(t, args...); r.code == 3 {
			t.Fatal(r.stderr)
		}
		r := runCLI(t, append([]string{"report", other}, shards[1:]...)...)
		if r.code != 3 || !strings.Contains(r.stderr, "as of 2027-01-20") || !strings.Contains(r.stderr, "--rescore") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		js := filepath.Join(dir, "rescored.json")
		if r := runCLI(t, append([]string{"report", "--rescore", "--json", js, other}, shards[1:]...)...); r.code == 3 {
			t.Fatal(r.stderr)
		}
		if run := readRun(t, js); run.AsOf != "2027-01-20" {
			t.Errorf("rescored as of %s, want the latest date 2027-01-20", run.AsOf)
		}
	})
	t.Run("shard from the environment", func(t *testing.T) {
		t.Setenv("JOB_COMPLETION_INDEX", "2")
		js := filepath.Join(dir, "env.json")
		if r := runCLI(t, append([]string{"scan", "--shard-from-env", "JOB_COMPLETION_INDEX", "--shard-count", "4", "--json", js}, common...)...); r.code == 3 {
			t.Fatal(r.stderr)
		}
		got, want := readRun(t, js), readRun(t, shards[2])
		if got.Shard == nil || *got.Shard != *want.Shard || len(got.Hosts) != len(want.Hosts) {
			t.Errorf("shard %v with %d hosts, want %v with %d", got.Shard, len(got.Hosts), want.Shard, len(want.Hosts))
		}
	})
	for _, bad := range [][]string{{"--shard", "4/4"}, {"--shard", "x"}, {"--shard-from-env", "AADCREADY_TEST_NO_SUCH_INDEX", "--shard-count", "4"}, {"--shard-from-env", "JOB_COMPLETION_INDEX"}, {"--shard", "0/2", "--shard-from-env", "X"}} {
		if r := runCLI(t, append(append([]string{"scan"}, bad...), common...)...); r.code != 3 {
			t.Errorf("scan %v: exit %d, want 3", bad, r.code)
		}
	}
}

// `aadcready merge` is report's other name; --merge stays the one-rescan
// flag and refuses a second value rather than dropping it.
func TestMergeCommandIsReport(t *testing.T) {
	f := startFleet(t, simHost("aadc-a.contoso.test", "ws2019-v2-current", "Pw-1"), simHost("aadc-b.contoso.test", "ws2016-v2-old", "Pw-1"))
	t.Setenv(testPasswordEnv, "Pw-1")
	dir := t.TempDir()
	var runs []string
	for i := range 2 {
		js := filepath.Join(dir, fmt.Sprintf("s%d.json", i))
		if r := runCLI(t, "scan", "-i", f.inv, "--shard", fmt.Sprintf("%d/2", i), "--json", js, "--progress=false"); r.code == 3 {
			t.Fatal(r.stderr)
		}
		runs = append(runs, js)
	}
	joined := filepath.Join(dir, "joined.json")
	r := runCLI(t, append([]string{"merge", "--json", joined}, runs...)...)
	if r.code == 3 || !strings.Contains(r.stderr, "joined 2 runs: 2 hosts") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if run := readRun(t, joined); len(run.Hosts) != 2 || len(run.MergedFrom) != 2 {
		t.Errorf("joined %d hosts from %d runs", len(run.Hosts), len(run.MergedFrom))
	}
	if r := runCLI(t, "report", runs[0], "--merge", runs[1], "--merge", runs[1]); r.code != 3 || !strings.Contains(r.stderr, "--merge takes one rescan") {
		t.Errorf("two --merge: exit %d: %s", r.code, r.stderr)
	}
}
