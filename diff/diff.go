// Package diff compares two runs of the same inventory (aadcready diff, scan
// --since): hosts whose verdict improved or regressed, checks newly failing
// or newly passing on each host (and failing checks whose date passed, which
// now block), hosts added to or gone from the inventory, and hosts that
// became unreachable. Hosts are matched by name, ignoring case
// as Windows does.
//
// Verdicts are ranked by the work they ask for (catalog.Verdict.Work): OK <
// FIX < UPGRADE < FIX_THEN_UPGRADE < MIGRATE. A move along that ladder is "improved" or
// "regressed". A move to or from a verdict that means the host got no
// readiness answer (INCOMPLETE, UNREACHABLE, NOT_INSTALLED) is neither:
// nothing says the server itself got better or worse. Such moves are listed
// as "changed", and a host that became UNREACHABLE is also listed on its own;
// the scan's exit code 2 already flags hosts that could not be checked.
//
// This package computes the changes (and writes them as JSON, diff.json);
// package report renders them: the table and CSV of `diff` and --since, and
// the HTML report's "what changed" section.
package diff

import (
	"strings"
	"time"

	"aadcready/catalog"
	"aadcready/results"
)

// Direction is how a verdict moved.
type Direction string

const (
	Improved  Direction = "improved"
	Regressed Direction = "regressed"
	Changed   Direction = "changed" // to or from a could-not-check verdict
)

// Kinds of check changes.
const (
	NewlyFailing = "newly_failing" // fails now, did not before (or is new in the catalog)
	NewlyPassing = "newly_passing" // failed before, passes or no longer applies now
	NowBlocking  = "now_blocking"  // failed before as a warning; its date passed and it blocks now
)

// Rank returns a verdict's place on the ladder (0 = OK, 4 = MIGRATE); ok
// is false for verdicts that are not a readiness answer.
func Rank(v catalog.Verdict) (rank int, ok bool) { return v.Work() }

// Side describes one of the two runs.
type Side struct {
	Label          string    `json:"label,omitempty"` // run folder name or file, set by the caller
	Started        time.Time `json:"started"`
	AsOf           string    `json:"as_of"`
	CatalogVersion string    `json:"catalog_version"`
	Hosts          int       `json:"hosts"`
}

// Result is what changed from run A to run B.
type Result struct {
	From Side `json:"from"`
	To   Side `json:"to"`
	// Verdicts lists hosts in both runs whose verdict changed, in B's order.
	Verdicts []VerdictChange `json:"verdicts"`
	// Checks lists checks that changed on hosts judged in both runs, by
	// host (B's order) then check (catalog order).
	Checks []CheckChange `json:"checks"`
	// Added and Gone are hosts in only B or only A.
	Added []HostRef `json:"added"`
	Gone  []HostRef `json:"gone"`
	// Unreachable lists hosts that were reached in A and are UNREACHABLE in B.
	Unreachable []Unreachable `json:"unreachable"`
	// Counts summarises the lists; Regressed is what `diff` exits 1 on.
	Counts Counts `json:"counts"`

	order []string // hosts with verdict or check changes, in B's order
}

// VerdictChange is one host whose verdict changed.
type VerdictChange struct {
	Host      string          `json:"host"`
	From      catalog.Verdict `json:"from"`
	To        catalog.Verdict `json:"to"`
	Direction Direction       `json:"direction"`
}

// CheckChange is one check that changed state on one host.
type CheckChange struct {
	Host     string           `json:"host"`
	Check    string           `json:"check"`
	Title    string           `json:"title"`
	Severity catalog.Severity `json:"severity"` // effective in B
	Change   string           `json:"change"`   // NewlyFailing, NewlyPassing or NowBlocking
	From     catalog.Status   `json:"from"`     // "" when A's catalog had no such check
	To       catalog.Status   `json:"to"`
	Reason   string           `json:"reason,omitempty"` // B's reason (untrusted host text may be quoted in it)
}

// HostRef is a host added or gone.
type HostRef struct {
	Host    string          `json:"host"`
	Verdict catalog.Verdict `json:"verdict"` // in the run that has it
}

// Unreachable is a host that became unreachable.
type Unreachable struct {
	Host   string          `json:"host"`
	From   catalog.Verdict `json:"from"`
	Class  string          `json:"class,omitempty"`  // failure class in B
	Reason string          `json:"reason,omitempty"` // failure message in B (untrusted)
}

// Counts summarises a Result.
type Counts struct {
	Improved     int  `json:"improved"`
	Regressed    int  `json:"regressed"`
	Changed      int  `json:"changed"`
	NewlyFailing int  `json:"newly_failing"`
	NewlyPassing int  `json:"newly_passing"`
	NowBlocking  int  `json:"now_blocking"`
	Added        int  `json:"added"`
	Gone         int  `json:"gone"`
	Unreachable  int  `json:"unreachable"`
	AnyRegressed bool `json:"any_regressed"`
}

// Regressed tells whether something got worse: a verdict moved up the
// ladder, or a check newly fails or now blocks on some host.
func (r Result) Regressed() bool { return r.Counts.AnyRegressed }

// Empty tells whether nothing changed.
func (r Result) Empty() bool {
	return len(r.Verdicts)+len(r.Checks)+len(r.Added)+len(r.Gone)+len(r.Unreachable) == 0
}

func side(run *results.Run) Side {
	return Side{Started: run.Started, AsOf: run.AsOf, CatalogVersion: run.CatalogVersion, Hosts: len(run.Hosts)}
}

// Compare computes what changed from run a to run b.
func Compare(a, b *results.Run) Result {
	res := Result{From: side(a), To: side(b),
		Verdicts: []VerdictChange{}, Checks: []CheckChange{}, Added: []HostRef{}, Gone: []HostRef{}, Unreachable: []Unreachable{}}
	before := map[string]*results.Host{}
	for i := range a.Hosts {
		k := strings.ToLower(a.Hosts[i].Name)
		if _, dup := before[k]; !dup {
			before[k] = &a.Hosts[i]
		}
	}
	seen := map[string]bool{}
	for i := range b.Hosts {
		h := &b.Hosts[i]
		k := strings.ToLower(h.Name)
		if seen[k] {
			continue
		}
		seen[k] = true
		p := before[k]
		if p == nil {
			res.Added = append(res.Added, HostRef{Host: h.Name, Verdict: h.Verdict})
			continue
		}
		nv, nc := len(res.Verdicts), len(res.Checks)
		if p.Verdict != h.Verdict {
			res.Verdicts = append(res.Verdicts, VerdictChange{Host: h.Name, From: p.Verdict, To: h.Verdict, Direction: direction(p.Verdict, h.Verdict)})
		}
		if h.Verdict == catalog.VerdictUnreachable && p.Verdict != catalog.VerdictUnreachable {
			u := Unreachable{Host: h.Name, From: p.Verdict, Reason: h.Reason}
			if h.Failure != nil {
				u.Class, u.Reason = h.Failure.Class, h.Failure.Message
			}
			res.Unreachable = append(res.Unreachable, u)
		}
		res.Checks = append(res.Checks, checkChanges(p, h)...)
		if len(res.Verdicts) > nv || len(res.Checks) > nc {
			res.order = append(res.order, h.Name)
		}
	}
	for _, h := range a.Hosts {
		k := strings.ToLower(h.Name)
		if !seen[k] {
			seen[k] = true
			res.Gone = append(res.Gone, HostRef{Host: h.Name, Verdict: h.Verdict})
		}
	}
	c := &res.Counts
	for _, v := range res.Verdicts {
		switch v.Direction {
		case Improved:
			c.Improved++
		case Regressed:
			c.Regressed++
		default:
			c.Changed++
		}
	}
	for _, ch := range res.Checks {
		switch ch.Change {
		case NewlyFailing:
			c.NewlyFailing++
		case NowBlocking:
			c.NowBlocking++
		default:
			c.NewlyPassing++
		}
	}
	c.Added, c.Gone, c.Unreachable = len(res.Added), len(res.Gone), len(res.Unreachable)
	c.AnyRegressed = c.Regressed > 0 || c.NewlyFailing > 0 || c.NowBlocking > 0
	return res
}

func direction(from, to catalog.Verdict) Direction {
	rf, okf := from.Work()
	rt, okt := to.Work()
	switch {
	case !okf || !okt:
		return Changed
	case rt < rf:
		return Improved
	default:
		return Regressed
	}
}

// checkChanges compares the checks of one host. Hosts with no checks in
// either run (unreachable, never scored) are skipped: every check would
// "change" without the host having changed.
func checkChanges(a, b *results.Host) []CheckChange {
	if len(a.Checks) == 0 || len(b.Checks) == 0 {
		return nil
	}
	was := make(map[string]catalog.CheckResult, len(a.Checks))
	for _, c := range a.Checks {
		was[c.ID] = c
	}
	var out []CheckChange
	for _, c := range b.Checks {
		prev := was[c.ID]
		from := prev.Status
		change := ""
		switch {
		case c.Status == catalog.StatusFail && from != catalog.StatusFail:
			change = NewlyFailing
		case c.Status == catalog.StatusFail && c.Severity == catalog.SeverityBlocker && prev.Severity != catalog.SeverityBlocker:
			change = NowBlocking
		case (c.Status == catalog.StatusPass || c.Status == catalog.StatusNotApplicable) && from == catalog.StatusFail:
			change = NewlyPassing
		default:
			continue
		}
		cc := CheckChange{Host: b.Name, Check: c.ID, Title: c.Title, Severity: c.Severity, Change: change, From: from, To: c.Status}
		if change != NewlyPassing {
			cc.Reason = c.Reason
		}
		out = append(out, cc)
	}
	return out
}

// Restrict drops from run the hosts not named in keep (case-insensitive).
// scan --only compares a rescan with the hosts it rescanned, not with the
// whole fleet.
func Restrict(run *results.Run, keep []string) *results.Run {
	names := map[string]bool{}
	for _, n := range keep {
		names[strings.ToLower(n)] = true
	}
	out := *run
	out.Hosts = nil
	for _, h := range run.Hosts {
		if names[strings.ToLower(h.Name)] {
			out.Hosts = append(out.Hosts, h)
		}
	}
	out.Summarize()
	return &out
}
