package catalog

import (
	"fmt"
	"math"
	"strings"
	"time"

	"aadcready/facts"
)

// env is one evaluation's view of a host.
type env struct {
	set   *facts.Set
	cat   *Catalog
	today day
	prod  *product // detected on first use
}

func (e *env) product() *product {
	if e.prod == nil {
		e.prod = detectProduct(e.set, e.cat.ProductNames)
	}
	return e.prod
}

// Evaluate judges one host's facts as of opt.AsOf. It is safe for
// concurrent use.
func (c *Catalog) Evaluate(f *facts.Set, opt Options) Evaluation {
	e := &env{set: f, cat: c, today: dayOf(opt.AsOf)}
	ev := Evaluation{Checks: make([]CheckResult, len(c.Requirements))}
	for i := range c.Requirements {
		ev.Checks[i] = c.Requirements[i].check(e, opt)
	}
	c.decide(&ev, e.today)
	return ev
}

func (r *Requirement) check(e *env, opt Options) CheckResult {
	res := CheckResult{ID: r.ID, Title: r.Title, Severity: r.Severity, Action: r.Action,
		Evidence: newEvidence(len(r.Facts))}
	for _, k := range r.Facts {
		res.Evidence = append(res.Evidence, EvidenceItem{k, e.set.Get(k).Display()})
	}
	res.Evidence.sort()
	var o outcome
	if r.appliesWhen != nil {
		o = r.appliesWhen.eval(e)
		switch o.status {
		case StatusFail:
			o = outcome{StatusNotApplicable, "does not apply: " + o.reason}
		case StatusCouldNotCheck:
			o.reason = "could not tell whether it applies: " + o.reason
		}
	}
	if r.appliesWhen == nil || o.status == StatusPass {
		o = r.rule.eval(e)
	}
	res.Status, res.Reason = o.status, o.reason

	if !r.Effective.IsZero() {
		eff := dayOf(r.Effective)
		if e.today < eff {
			res.Severity = SeverityWarning
		}
		if res.Status == StatusFail || res.Status == StatusCouldNotCheck {
			due := r.Effective
			res.Due = &due
		}
		if res.Status == StatusFail {
			if e.today < eff {
				res.Reason = fmt.Sprintf("due %s (%d days): %s", eff, int(eff-e.today), res.Reason)
			} else {
				res.Reason = fmt.Sprintf("required since %s: %s", eff, res.Reason)
			}
		}
	}

	// What to do, and the source, only where there is something to do: a
	// fleet's run document repeats every check of every host.
	if res.Status == StatusFail || res.Status == StatusCouldNotCheck {
		res.Remediation, res.Source = r.Remediation, r.Source
		if w, active := pickWaiver(r.ID, opt.Waivers, opt.AsOf); w != nil {
			res.Waiver = w
			if active {
				res.Status = StatusWaived
			} else {
				res.WaiverExpired = true
			}
		}
	}
	return res
}

// pickWaiver returns the waiver for check id: an active one if any (the
// latest-expiring), else the latest expired one so the report can say it
// lapsed. A waiver is active while asOf is before its Expires.
func pickWaiver(id string, ws []Waiver, asOf time.Time) (*Waiver, bool) {
	var best *Waiver
	bestActive := false
	for i := range ws {
		if ws[i].Check != id {
			continue
		}
		active := asOf.Before(ws[i].Expires)
		if best == nil || (active && !bestActive) || (active == bestActive && ws[i].Expires.After(best.Expires)) {
			w := ws[i]
			best, bestActive = &w, active
		}
	}
	return best, bestActive
}

// Blocker actions ranked; the verdict is the highest-ranked failing action.
var (
	actionRank    = map[string]int{ActionNone: 0, ActionUpgrade: 1, ActionFix: 2, ActionMigrate: 3}
	verdictByRank = [...]Verdict{VerdictOK, VerdictUpgrade, VerdictFixThenUpgrade, VerdictMigrate}
	weight        = map[Severity]int{SeverityBlocker: 10, SeverityWarning: 3, SeverityInfo: 1}
)

// decide sets the verdict, the deciding checks, the reason, the next step and
// the score (docs/scoring.md). Only blockers (by effective severity) count;
// waived checks count as passing.
func (c *Catalog) decide(ev *Evaluation, today day) {
	gate := ev.Checks[c.gate]
	if gate.Status == StatusFail {
		ev.Verdict, ev.Blocking = VerdictNotInstalled, []string{gate.ID}
		ev.Reason = gate.Reason
		ev.NextStep = "none: no AD Connect on this server; drop it from the scan list if that is expected"
		return
	}
	// lo assumes every could-not-check blocker passes, hi that it fails.
	lo, hi := 0, 0
	for i, ch := range ev.Checks {
		if i == c.gate || ch.Severity != SeverityBlocker {
			continue
		}
		switch ch.Status {
		case StatusFail:
			lo = max(lo, actionRank[ch.Action])
		case StatusCouldNotCheck:
			hi = max(hi, actionRank[ch.Action])
		}
	}
	hi = max(hi, lo)

	var deciding []*CheckResult
	switch {
	case gate.Status == StatusCouldNotCheck:
		// NOT_INSTALLED if it failed, something else if it passed. Every
		// check that applies only to an installed product is unknown too;
		// the gate is the one to name.
		ev.Verdict, deciding = VerdictIncomplete, []*CheckResult{&ev.Checks[c.gate]}
	case verdictByRank[lo] != verdictByRank[hi]:
		ev.Verdict = VerdictIncomplete
		for i := range ev.Checks {
			ch := &ev.Checks[i]
			if ch.Status == StatusCouldNotCheck && ch.Severity == SeverityBlocker && actionRank[ch.Action] > lo {
				deciding = append(deciding, ch)
			}
		}
	default:
		ev.Verdict = verdictByRank[lo]
		deciding = failing(ev.Checks, func(ch *CheckResult) bool {
			return ch.Severity == SeverityBlocker && lo > 0 && actionRank[ch.Action] == lo
		})
	}
	for _, ch := range deciding {
		ev.Blocking = append(ev.Blocking, ch.ID)
	}
	ev.Reason, ev.NextStep = explain(ev, deciding, today)
	ev.Score = score(ev.Checks)
}

func failing(checks []CheckResult, keep func(*CheckResult) bool) []*CheckResult {
	var out []*CheckResult
	for i := range checks {
		if checks[i].Status == StatusFail && keep(&checks[i]) {
			out = append(out, &checks[i])
		}
	}
	return out
}

func ids(checks []*CheckResult) string {
	s := make([]string, len(checks))
	for i, ch := range checks {
		s[i] = ch.ID
	}
	return strings.Join(s, ", ")
}

// explain writes the one-line reason and next step for the verdict.
func explain(ev *Evaluation, deciding []*CheckResult, today day) (reason, next string) {
	first := ""
	if len(deciding) > 0 {
		first = deciding[0].ID + ": " + deciding[0].Reason
		if len(deciding) > 1 {
			first += fmt.Sprintf(" (+%d more)", len(deciding)-1)
		}
	}
	switch ev.Verdict {
	case VerdictIncomplete:
		return "could not check " + first, "clear what stopped these checks (see the reason: rights, probe failure) and rescan: " + ids(deciding)
	case VerdictMigrate:
		return first, "swing-migrate to a new Windows Server 2022/2025 server with full GUI: export the configuration, " +
			"import it there in staging mode, then switch over (" + ids(deciding) + ")"
	case VerdictFixThenUpgrade:
		next = "fix on this server: " + ids(deciding)
		if up := failing(ev.Checks, func(ch *CheckResult) bool {
			return ch.Severity == SeverityBlocker && ch.Action == ActionUpgrade
		}); len(up) > 0 {
			return first, next + "; then upgrade AD Connect in place (" + ids(up) + ")"
		}
		return first, next + "; then rescan"
	case VerdictUpgrade:
		return first, "upgrade AD Connect in place to the newest build (" + ids(deciding) + ")"
	}
	// OK: warnings never change the verdict, but the next dated one is the
	// next step.
	warnings := failing(ev.Checks, func(ch *CheckResult) bool { return ch.Severity == SeverityWarning })
	reason = "no blocker fails as of " + today.String()
	if len(warnings) > 0 {
		reason += fmt.Sprintf("; %d warning(s)", len(warnings))
	}
	var soonest *CheckResult
	for _, ch := range warnings {
		if ch.Due != nil && (soonest == nil || ch.Due.Before(*soonest.Due)) {
			soonest = ch
		}
	}
	switch {
	case soonest != nil:
		next = fmt.Sprintf("before %s: %s (%s)", soonest.Due.Format(dateLayout), soonest.Title, soonest.ID)
	case len(warnings) > 0:
		next = "none required; review the warnings: " + ids(warnings)
	default:
		next = "none"
	}
	return reason, next
}

// score is round(100 × earned / possible) over the applicable checks,
// weighted by effective severity: pass and waived earn the full weight,
// could-not-check half, fail nothing. Counting in half points keeps the sum
// exact.
func score(checks []CheckResult) *int {
	earned, possible := 0, 0
	for _, ch := range checks {
		w := 2 * weight[ch.Severity]
		switch ch.Status {
		case StatusPass, StatusWaived:
			earned += w
		case StatusCouldNotCheck:
			earned += w / 2
		case StatusFail:
		default: // not applicable
			continue
		}
		possible += w
	}
	if possible == 0 {
		return nil
	}
	s := int(math.Round(100 * float64(earned) / float64(possible)))
	return &s
}
