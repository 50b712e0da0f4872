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
	if ev.Verdict != VerdictNotInstalled { // a server without AD Connect has no AD Connect deadline
		ev.NextDeadline = nextDeadline(ev.Checks, e.today)
	}
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
			o = outcome{status: StatusNotApplicable, reason: "does not apply: " + o.reason}
		case StatusCouldNotCheck:
			o.reason = "could not tell whether it applies: " + o.reason
			res.appliesUnknown = true
		}
	}
	if r.appliesWhen == nil || o.status == StatusPass {
		o = r.rule.eval(e)
	}
	res.Status, res.Reason = o.status, o.reason
	if o.action != "" && res.Status != StatusPass {
		res.Action = o.action
	}
	if o.warnOnly && res.Severity == SeverityBlocker {
		res.Severity = SeverityWarning
	}
	if o.due > 0 && (res.Status == StatusPass || res.Status == StatusFail) {
		due := time.Unix(int64(o.due)*86400, 0).UTC()
		res.Due = &due
	}

	if !r.Effective.IsZero() {
		eff := dayOf(r.Effective)
		if e.today < eff {
			res.Severity = SeverityWarning
		}
		if (res.Status == StatusFail || res.Status == StatusCouldNotCheck) && res.Due == nil {
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

	if res.Due != nil {
		if left := int(dayOf(*res.Due) - e.today); left > 0 {
			res.DaysLeft = &left
		}
	}

	// What to do, and the source, only where there is something to do: a
	// fleet's run document repeats every check of every host.
	if res.Status == StatusFail || res.Status == StatusCouldNotCheck {
		res.Remediation, res.Source = r.Remediation, r.Source
		res.Step = r.step(res.Action)
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

// step is what to do about the requirement, in words, for the action its
// failing part asks for.
func (r *Requirement) step(action string) string {
	if s := r.Steps[action]; s != "" {
		return s
	}
	return r.Title
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

// A host's verdict follows from the set of actions its failing blockers ask
// for (docs/scoring.md).
type actionSet uint8

const (
	needFix actionSet = 1 << iota
	needUpgrade
	needMigrate
)

var actionBits = map[string]actionSet{ActionFix: needFix, ActionUpgrade: needUpgrade, ActionMigrate: needMigrate}

func (a actionSet) verdict() Verdict {
	switch {
	case a&needMigrate != 0:
		return VerdictMigrate
	case a&needFix != 0 && a&needUpgrade != 0:
		return VerdictFixThenUpgrade
	case a&needFix != 0:
		return VerdictFix
	case a&needUpgrade != 0:
		return VerdictUpgrade
	}
	return VerdictOK
}

var weight = map[Severity]int{SeverityBlocker: 10, SeverityWarning: 3, SeverityInfo: 1}

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
	// known: the actions failing blockers ask for; maybe: those that
	// blockers which could not be checked would ask for if they failed.
	var known, maybe actionSet
	for i, ch := range ev.Checks {
		if i == c.gate || ch.Severity != SeverityBlocker {
			continue
		}
		switch ch.Status {
		case StatusFail:
			known |= actionBits[ch.Action]
		case StatusCouldNotCheck:
			if !c.Requirements[i].UnknownKeepsVerdict {
				maybe |= actionBits[ch.Action]
			}
		}
	}

	var deciding []*CheckResult
	switch {
	case gate.Status == StatusCouldNotCheck:
		// NOT_INSTALLED if it failed, something else if it passed. Every
		// check that applies only to an installed product is unknown too;
		// the gate is the one to name.
		ev.Verdict, deciding = VerdictIncomplete, []*CheckResult{&ev.Checks[c.gate]}
	case known.verdict() != (known | maybe).verdict():
		ev.Verdict = VerdictIncomplete
		for i := range ev.Checks {
			ch := &ev.Checks[i]
			if ch.Status == StatusCouldNotCheck && ch.Severity == SeverityBlocker && actionBits[ch.Action]&^known != 0 &&
				!c.Requirements[i].UnknownKeepsVerdict {
				deciding = append(deciding, ch)
			}
		}
	default:
		ev.Verdict = known.verdict()
		deciding = failing(ev.Checks, func(ch *CheckResult) bool {
			return ch.Severity == SeverityBlocker && actionBits[ch.Action] != 0 &&
				(known&needMigrate == 0 || ch.Action == ActionMigrate)
		})
	}
	for _, ch := range deciding {
		ev.Blocking = append(ev.Blocking, ch.ID)
	}
	ev.Stopped = c.stopped(ev.Checks)
	ev.Reason, ev.NextStep = explain(ev, deciding, today)
	if ev.Stopped != "" {
		ev.Reason = "HAS STOPPED SYNCING: " + ev.Stopped + "; " + ev.Reason
	}
	ev.Score, ev.ScorePartial = score(ev.Checks, known.verdict())
}

// stopped says why the facts show the host has stopped syncing: a failing
// last_export_within check (its reason), else "".
func (c *Catalog) stopped(checks []CheckResult) string {
	for i, ch := range checks {
		if _, ok := c.Requirements[i].rule.(lastExportRule); ok && ch.Status == StatusFail {
			return strings.TrimSuffix(ch.Reason, ": "+stoppedSyncing)
		}
	}
	return ""
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

// steps says what the checks ask for in words, each with its id.
func steps(checks []*CheckResult) string {
	s := make([]string, len(checks))
	for i, ch := range checks {
		s[i] = ch.Step + " (" + ch.ID + ")"
	}
	return strings.Join(s, "; ")
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
	blockers := func(action string) []*CheckResult {
		return failing(ev.Checks, func(ch *CheckResult) bool { return ch.Severity == SeverityBlocker && ch.Action == action })
	}
	switch ev.Verdict {
	case VerdictIncomplete:
		return "could not check " + first, "clear what stopped these checks (see the reason: rights, probe failure) and rescan: " + ids(deciding)
	case VerdictMigrate:
		return first, "swing-migrate to a new Windows Server 2022/2025 server with full GUI: export the configuration, " +
			"import it there in staging mode, then switch over (" + steps(deciding) + ")"
	case VerdictFixThenUpgrade:
		return first, "fix on this server: " + steps(blockers(ActionFix)) +
			"; then upgrade AD Connect in place to the newest build: " + steps(blockers(ActionUpgrade))
	case VerdictFix:
		return first, "change on this server (no upgrade needed): " + steps(deciding)
	case VerdictUpgrade:
		return first, "upgrade AD Connect in place to the newest build: " + steps(deciding)
	}
	// OK: warnings never change the verdict, but the next dated one is the
	// next step.
	warnings := failing(ev.Checks, func(ch *CheckResult) bool { return ch.Severity == SeverityWarning })
	reason = "no blocker fails as of " + today.String()
	if len(warnings) > 0 {
		reason += fmt.Sprintf("; %d warning(s)", len(warnings))
	}
	// Blockers that could not be checked but do not hold the verdict
	// (Requirement.UnknownKeepsVerdict) are named, never hidden.
	var unknown []*CheckResult
	for i := range ev.Checks {
		if ch := &ev.Checks[i]; ch.Status == StatusCouldNotCheck && ch.Severity == SeverityBlocker {
			unknown = append(unknown, ch)
		}
	}
	if len(unknown) > 0 {
		reason += "; could not check " + ids(unknown)
	}
	var soonest *CheckResult
	for _, ch := range warnings {
		if ch.Due != nil && dayOf(*ch.Due) > today && (soonest == nil || ch.Due.Before(*soonest.Due)) {
			soonest = ch
		}
	}
	switch {
	case soonest != nil:
		next = fmt.Sprintf("before %s (%d days): %s (%s)", soonest.Due.Format(dateLayout),
			int(dayOf(*soonest.Due)-today), soonest.Step, soonest.ID)
	case len(warnings) > 0:
		next = "none required; review the warnings: " + ids(warnings)
	case len(unknown) > 0:
		next = "none known; clear what stopped " + ids(unknown) + " and rescan"
	default:
		next = "none"
	}
	return reason, next
}

// score is built from earned / possible over the applicable checks,
// weighted by effective severity: pass and waived earn the full weight,
// could-not-check half, fail nothing. Counting in half points keeps the sum
// exact. That raw score is then placed in the band of the verdict the known
// failures give (OK 80-100, FIX 60-79, UPGRADE 40-59, FIX_THEN_UPGRADE
// 20-39, MIGRATE 0-19), so a host that needs more work never outscores one
// that needs less. partial is set when a check could not be checked.
func score(checks []CheckResult, v Verdict) (s *int, partial bool) {
	earned, possible := 0, 0
	for _, ch := range checks {
		w := 2 * weight[ch.Severity]
		switch ch.Status {
		case StatusPass, StatusWaived:
			earned += w
		case StatusCouldNotCheck:
			earned += w / 2
			partial = true
		case StatusFail:
		default: // not applicable
			continue
		}
		possible += w
	}
	if possible == 0 {
		return nil, partial
	}
	rank, _ := v.Work()
	const bands, width = 5, 20
	lo := (bands - 1 - rank) * width
	hi := lo + width - 1
	if rank == 0 {
		hi = 100
	}
	// Rounded down, so only a host whose every check passes reaches its
	// band's top (100 for OK).
	n := lo + int(math.Floor(float64(hi-lo)*float64(earned)/float64(possible)))
	return &n, partial
}
