package results

import (
	"fmt"
	"testing"
	"time"

	"aadcready/catalog"
)

func TestShardSplit(t *testing.T) {
	for _, bad := range []string{"", "1", "4/4", "-1/4", "0/0", "a/b", "1/2/3"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Every name in exactly one shard; a host's shard ignores case; adding
	// hosts moves none of the others.
	const n = 4
	where := map[string]int{}
	for i := range 400 {
		name := fmt.Sprintf("aadc%03d.contoso.com", i)
		k := 0
		for s := range n {
			if (Shard{s, n}).Has(name) {
				where[name] = s
				k++
			}
		}
		if k != 1 {
			t.Fatalf("%s in %d shards", name, k)
		}
		if !(Shard{where[name], n}).Has("AADC" + name[4:]) {
			t.Errorf("%s: the shard depends on case", name)
		}
	}
	per := make([]int, n)
	for _, s := range where {
		per[s]++
	}
	for s, c := range per {
		if c < 60 || c > 140 {
			t.Errorf("shard %d has %d of 400 hosts: the hash spreads badly %v", s, c, per)
		}
	}
}

func TestJoin(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 12, 3, h, 0, 0, 0, time.UTC) }
	run := func(i int, finished time.Time, hosts ...Host) *Run {
		return &Run{Shard: &Shard{i, 3}, Started: finished.Add(-time.Hour), Finished: finished, AsOf: "2026-12-03", CatalogVersion: "c1", Concurrency: 8, Hosts: hosts}
	}
	a := run(0, at(5), Host{Name: "b", Verdict: catalog.VerdictOK}, Host{Name: "twice", Verdict: catalog.VerdictUnreachable})
	b := run(1, at(3), Host{Name: "a", Verdict: catalog.VerdictUpgrade}, Host{Name: "TWICE", Verdict: catalog.VerdictOK})
	got, notes, err := Join([]*Run{a, b}, []string{"A", "B"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range got.Hosts {
		names = append(names, h.Name+":"+string(h.Verdict))
	}
	// "twice": A finished later, so A's result wins whatever the order given.
	if fmt.Sprint(names) != "[a:UPGRADE b:OK twice:UNREACHABLE]" {
		t.Errorf("hosts %v", names)
	}
	if len(got.MissingShards) != 1 || got.MissingShards[0] != (Shard{2, 3}) || got.Concurrency != 16 || !got.Started.Equal(at(2)) || !got.Finished.Equal(at(5)) {
		t.Errorf("joined %+v", got)
	}
	if len(notes) != 2 || got.ExitCode() != ExitNotChecked {
		t.Errorf("notes %q, exit %d", notes, got.ExitCode())
	}
	if _, _, err := Join([]*Run{a, {Shard: &Shard{0, 4}}}, []string{"A", "C"}); err == nil {
		t.Error("runs of 3 and 4 shards joined")
	}
	c := run(2, at(4))
	c.AsOf = "2026-12-04"
	if m := Mismatch([]*Run{a, b, c}, []string{"A", "B", "C"}); m != "as of 2026-12-03 in A but 2026-12-04 in C" {
		t.Errorf("mismatch %q", m)
	}
}

// BenchmarkJoin4x2500 joins four shard runs of a 10,000-host fleet.
func BenchmarkJoin4x2500(b *testing.B) {
	runs := make([]*Run, 4)
	labels := make([]string, 4)
	for i := range runs {
		runs[i] = &Run{Shard: &Shard{i, 4}, Finished: time.Date(2026, 12, 3, i, 0, 0, 0, time.UTC)}
		labels[i] = fmt.Sprintf("shard-%d", i)
	}
	for n := range 10000 {
		name := fmt.Sprintf("aadc%05d.contoso.com", n)
		for i := range runs {
			if (Shard{i, 4}).Has(name) {
				runs[i].Hosts = append(runs[i].Hosts, Host{Name: name, Verdict: catalog.VerdictOK})
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Join(runs, labels); err != nil {
			b.Fatal(err)
		}
	}
}
