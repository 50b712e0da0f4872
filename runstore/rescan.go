package runstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"aadcready/catalog"
	"aadcready/results"
)

// Rescan is what scan --only RUN:SELECTOR[,SELECTOR] asks for: the hosts of
// the saved run RUN that match any of the selectors.
type Rescan struct {
	Run       string
	Selectors []string
}

// rescanSelectors are the selectors --only accepts.
var rescanSelectors = map[string]func(results.Host) bool{
	"unreachable": func(h results.Host) bool { return h.Verdict == catalog.VerdictUnreachable },
	"incomplete":  func(h results.Host) bool { return h.Verdict == catalog.VerdictIncomplete },
	"not-ok":      func(h results.Host) bool { return h.Verdict != catalog.VerdictOK },
	"cancelled":   results.Host.Cancelled,
}

// ParseRescan reads RUN:SELECTOR[,SELECTOR]. Its errors read after the
// flag's name ("--only wants ...").
func ParseRescan(spec string) (Rescan, error) {
	i := strings.LastIndex(spec, ":")
	if i <= 0 {
		return Rescan{}, errors.New("wants RUN:SELECTOR, e.g. latest:unreachable (selectors: cancelled, incomplete, not-ok, unreachable)")
	}
	r := Rescan{Run: spec[:i], Selectors: strings.Split(spec[i+1:], ",")}
	for _, s := range r.Selectors {
		if rescanSelectors[s] == nil {
			return Rescan{}, fmt.Errorf("%s: unknown selector %q (cancelled, incomplete, not-ok, unreachable)", spec, s)
		}
	}
	return r, nil
}

// Hosts returns the hosts of run that match, each once (names compared
// ignoring case), in the run's order.
func (r Rescan) Hosts(run *results.Run) []results.Host {
	var out []results.Host
	seen := map[string]bool{}
	for _, h := range run.Hosts {
		k := strings.ToLower(h.Name)
		match := slices.ContainsFunc(r.Selectors, func(s string) bool { return rescanSelectors[s](h) })
		if !match || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, h)
	}
	return out
}
