package results

import (
	"slices"
	"strings"
	"time"

	"aadcready/catalog"
)

// ClassNotStarted is the failure class of a host the run ended while it
// waited for its turn (a credential being tried on other hosts first): it
// was never contacted.
const ClassNotStarted = "not_started"

// Cancelled tells whether the scan of h was cut short by an interrupt
// before it finished, or before it started: no finding, just not checked.
func (h Host) Cancelled() bool {
	return h.Failure != nil && (h.Failure.Class == "cancelled" || h.Failure.Class == ClassNotStarted)
}

// Merge returns base with the hosts of rescan (scan --only) in place of the
// same hosts, matched ignoring case as Windows does. A host the rescan did
// not finish (cancelled) keeps base's result; hosts only in the rescan are
// appended, and their names returned. The merged run counts as interrupted
// while any of its hosts is cancelled.
func Merge(base, rescan *Run) (*Run, []string) {
	out := *base
	out.Hosts = append([]Host(nil), base.Hosts...)
	index := map[string]int{}
	for i, h := range out.Hosts {
		index[strings.ToLower(h.Name)] = i
	}
	var added []string
	for _, h := range rescan.Hosts {
		i, ok := index[strings.ToLower(h.Name)]
		switch {
		case !ok:
			index[strings.ToLower(h.Name)] = len(out.Hosts)
			out.Hosts = append(out.Hosts, h)
			added = append(added, h.Name)
		case h.Cancelled() && !out.Hosts[i].Cancelled():
			// keep the finished result
		default:
			out.Hosts[i] = h
		}
	}
	if rescan.Finished.After(out.Finished) {
		out.Finished = rescan.Finished
	}
	if rescan.AsOf > out.AsOf {
		out.AsOf = rescan.AsOf // the newer date; a rescore judges all hosts on it
	}
	out.Interrupted = slices.ContainsFunc(out.Hosts, Host.Cancelled)
	creds := append([]string(nil), base.CredentialsDisabled...)
	for _, c := range rescan.CredentialsDisabled {
		if !slices.Contains(creds, c) {
			creds = append(creds, c)
		}
	}
	out.CredentialsDisabled = creds
	out.Summarize()
	return &out, added
}

// Rescore judges every host that has facts again with cat, as of asOf, with
// the waivers waived returns for it; with waived nil, the waivers recorded in
// the run apply again (so a re-render reproduces the run, and a later asOf
// lets them expire). Hosts without facts (unreachable) keep their verdict;
// every host keeps its failure.
func (r *Run) Rescore(cat *catalog.Catalog, asOf time.Time, waived func(host string) []catalog.Waiver) {
	for i := range r.Hosts {
		h := &r.Hosts[i]
		if h.Facts == nil {
			continue
		}
		var wv []catalog.Waiver
		if waived != nil {
			wv = waived(h.Name)
		} else {
			wv = recordedWaivers(h)
		}
		ev := cat.Evaluate(h.Facts, catalog.Options{AsOf: asOf, Waivers: wv})
		h.SetEvaluation(ev)
	}
	r.AsOf = asOf.Format(time.DateOnly)
	r.CatalogVersion = cat.Version
	r.Summarize()
}

func recordedWaivers(h *Host) []catalog.Waiver {
	var out []catalog.Waiver
	for _, c := range h.Checks {
		if c.Waiver != nil {
			out = append(out, *c.Waiver)
		}
	}
	return out
}
