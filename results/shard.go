package results

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Shard is one part of a fleet scanned on its own (scan --shard i/N), so
// that several runners (pods, jump boxes) can each take a part.
type Shard struct {
	Index int `json:"index"` // 0 .. Count-1, like Kubernetes' JOB_COMPLETION_INDEX
	Count int `json:"count"`
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard reads "i/N" (0 <= i < N).
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("%q is not i/N (for example 0/4: the first of four shards)", s)
	}
	sh := Shard{Index: i, Count: n}
	return sh, sh.Check()
}

// Check reports a shard outside 0..Count-1.
func (s Shard) Check() error {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %d/%d: the index must be between 0 and %d", s.Index, s.Count, max(s.Count-1, 0))
	}
	return nil
}

// Has reports whether host name falls in the shard: a stable hash (FNV-1a)
// of the lower-cased name modulo Count. A host's shard depends only on its
// name and Count, so hosts added to the inventory move no other host.
func (s Shard) Has(name string) bool {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(name)))
	return int(h.Sum64()%uint64(s.Count)) == s.Index
}

// Source is a run a joined run was made of.
type Source struct {
	Label          string    `json:"label"`
	Shard          *Shard    `json:"shard,omitempty"`
	Hosts          int       `json:"hosts"`
	Started        time.Time `json:"started"`
	Finished       time.Time `json:"finished"`
	CatalogVersion string    `json:"catalog_version"`
	AsOf           string    `json:"as_of"`
}

// Mismatch describes runs that were judged differently (another catalog or
// as-of date); "" when they agree. Joining such runs is only meaningful
// when every host is judged again.
func Mismatch(runs []*Run, labels []string) string {
	var diffs []string
	for i, r := range runs[1:] {
		if r.CatalogVersion != runs[0].CatalogVersion {
			diffs = append(diffs, fmt.Sprintf("catalog %s in %s but %s in %s", runs[0].CatalogVersion, labels[0], r.CatalogVersion, labels[i+1]))
		}
		if r.AsOf != runs[0].AsOf {
			diffs = append(diffs, fmt.Sprintf("as of %s in %s but %s in %s", runs[0].AsOf, labels[0], r.AsOf, labels[i+1]))
		}
	}
	return strings.Join(diffs, "; ")
}

// hostOrder is the order of a joined run: the inventory's when every run is
// a shard of the same inventory (each host records its place), else by name.
func hostOrder(runs []*Run) func(a, b Host) int {
	byName := func(a, b Host) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) }
	for _, r := range runs {
		if r.Shard == nil || r.Inventory != runs[0].Inventory {
			return byName
		}
		for _, h := range r.Hosts {
			if h.InventoryPos == 0 {
				return byName
			}
		}
	}
	return func(a, b Host) int {
		if a.InventoryPos != b.InventoryPos {
			return a.InventoryPos - b.InventoryPos
		}
		return byName(a, b)
	}
}

// Join makes one run of the runs of parts of a fleet (shards, network
// zones), with Merge: a host in more than one run keeps the result of the
// run that finished last (a note says so). Missing shards (runs recorded
// as i/N with an i absent) are listed in MissingShards, and the runs in
// MergedFrom. Hosts are in inventory order when the runs are shards of one
// inventory, else sorted by name, whatever order the runs came in.
func Join(runs []*Run, labels []string) (*Run, []string, error) {
	if len(runs) == 0 {
		return nil, nil, fmt.Errorf("no runs to join")
	}
	count := 0
	for i, r := range runs {
		if r.Shard == nil {
			continue
		}
		if count != 0 && r.Shard.Count != count {
			return nil, nil, fmt.Errorf("%s is shard %s but another run is of %d shards: runs of different splits cannot be joined", labels[i], r.Shard, count)
		}
		count = r.Shard.Count
	}
	order := make([]int, len(runs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return runs[a].Finished.Compare(runs[b].Finished) })

	var notes []string
	out := *runs[order[0]]
	out.Hosts = slices.Clone(out.Hosts)
	from := map[string]string{} // host -> label of the run its result comes from
	for _, h := range out.Hosts {
		from[strings.ToLower(h.Name)] = labels[order[0]]
	}
	for _, i := range order[1:] {
		for _, h := range runs[i].Hosts {
			key := strings.ToLower(h.Name)
			prev, dup := from[key]
			switch {
			case !dup:
				from[key] = labels[i]
			case h.Cancelled():
				notes = append(notes, fmt.Sprintf("%s was scanned in %s and %s; the later scan did not finish, so the result of %s is kept", h.Name, prev, labels[i], prev))
			default:
				notes = append(notes, fmt.Sprintf("%s was scanned in %s and %s; the later result (%s) is kept", h.Name, prev, labels[i], labels[i]))
				from[key] = labels[i]
			}
		}
		merged, _ := Merge(&out, runs[i])
		out = *merged
	}

	out.Shard = nil
	out.MergedFrom = nil
	present := map[int]bool{}
	out.Concurrency = 0 // the load all runners put on the fleet together
	for i, r := range runs {
		out.Concurrency += r.Concurrency
		out.MergedFrom = append(out.MergedFrom, Source{Label: labels[i], Shard: r.Shard, Hosts: len(r.Hosts),
			Started: r.Started, Finished: r.Finished, CatalogVersion: r.CatalogVersion, AsOf: r.AsOf})
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		if r.Shard != nil {
			if present[r.Shard.Index] {
				notes = append(notes, fmt.Sprintf("shard %s appears in more than one run", r.Shard))
			}
			present[r.Shard.Index] = true
		}
	}
	out.MissingShards = nil
	for i := 0; i < count; i++ {
		if !present[i] {
			out.MissingShards = append(out.MissingShards, Shard{Index: i, Count: count})
			notes = append(notes, fmt.Sprintf("shard %d/%d is missing: its hosts are not in this report", i, count))
		}
	}
	out.DurationMS = out.Finished.Sub(out.Started).Milliseconds()
	out.MergeNotes = notes
	slices.SortStableFunc(out.Hosts, hostOrder(runs))
	out.Summarize()
	return &out, notes, nil
}
