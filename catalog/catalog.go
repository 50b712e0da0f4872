// Package catalog holds the AD Connect readiness requirements as data
// (requirements.yaml, embedded) and judges one host's facts against them.
//
// Every Microsoft threshold, date and build lives in the YAML; Go only
// implements a small set of rule kinds (rules.go), so that a new deadline is
// one YAML edit. Evaluate turns a facts.Set into per-check results, a verdict
// and a score as of a given day (docs/scoring.md); it never reads the clock.
package catalog

import (
	_ "embed"
	"slices"
	"time"
)

// Severity is how much a failing check matters.
type Severity string

const (
	SeverityBlocker Severity = "blocker"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Status is the outcome of one check on one host.
type Status string

const (
	StatusPass          Status = "pass"
	StatusFail          Status = "fail"
	StatusCouldNotCheck Status = "could_not_check"
	StatusNotApplicable Status = "not_applicable"
	StatusWaived        Status = "waived"
)

// Actions: what a failing blocker means for the change board.
const (
	ActionMigrate = "migrate" // the OS cannot run V2: a new server
	ActionFix     = "fix"     // a change on this server, no new build needed
	ActionUpgrade = "upgrade" // upgrade AD Connect in place
	ActionNone    = "none"    // warnings and info
)

// Verdict is the one-word answer per host.
type Verdict string

const (
	VerdictOK             Verdict = "OK"
	VerdictFix            Verdict = "FIX" // the build is current; something on the server must change
	VerdictUpgrade        Verdict = "UPGRADE"
	VerdictFixThenUpgrade Verdict = "FIX_THEN_UPGRADE"
	VerdictMigrate        Verdict = "MIGRATE"
	VerdictIncomplete     Verdict = "INCOMPLETE"
	VerdictUnreachable    Verdict = "UNREACHABLE" // set by the scanner, never by Evaluate
	VerdictNotInstalled   Verdict = "NOT_INSTALLED"
)

// VerdictOrder is the order reports list verdicts in: ready, then increasing
// work, then the hosts that could not be judged.
func VerdictOrder() []Verdict {
	return []Verdict{VerdictOK, VerdictFix, VerdictUpgrade, VerdictFixThenUpgrade, VerdictMigrate,
		VerdictIncomplete, VerdictUnreachable, VerdictNotInstalled}
}

// NeedsAction reports whether the verdict asks for work on the host.
func (v Verdict) NeedsAction() bool {
	return v == VerdictFix || v == VerdictUpgrade || v == VerdictFixThenUpgrade || v == VerdictMigrate
}

// Work ranks the verdicts that judged a host by the work they ask for: OK 0,
// FIX 1, UPGRADE 2, FIX_THEN_UPGRADE 3, MIGRATE 4. ok is false for the
// verdicts that are no readiness answer. Scores (docs/scoring.md) and diff
// follow this order.
func (v Verdict) Work() (rank int, ok bool) {
	rank = slices.Index(VerdictOrder()[:5], v)
	return rank, rank >= 0
}

// CouldNotCheck reports whether the host got no readiness answer.
func (v Verdict) CouldNotCheck() bool {
	return v == VerdictIncomplete || v == VerdictUnreachable || v == VerdictNotInstalled
}

// Waiver accepts a failing (or unverifiable) check on one host until Expires.
type Waiver struct {
	Check         string    `json:"check"`
	Host          string    `json:"host"`
	Justification string    `json:"justification"`
	ApprovedBy    string    `json:"approved_by"`
	Expires       time.Time `json:"expires"`
}

// Options control one evaluation.
type Options struct {
	// AsOf is the day the host is judged on: every dated rule and waiver
	// expiry compares against it. It must be set; the package never reads
	// the clock, so that a report can be re-rendered for any day.
	AsOf time.Time
	// Waivers for this host (the caller filters by host).
	Waivers []Waiver
}

// CheckResult is one requirement judged on one host.
type CheckResult struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`       // effective: a dated blocker is a warning before its date
	Action   string   `json:"action"`         // effective: the action of the part that failed
	Step     string   `json:"step,omitempty"` // what to do, in words, for a failing or unverifiable check
	Status   Status   `json:"status"`
	Evidence Evidence `json:"evidence,omitempty"` // the facts it read, as shown
	Reason   string   `json:"reason,omitempty"`   // why it failed or could not be checked; a note on some passes
	// Remediation and Source are set on failing, could-not-check and
	// waived checks: where there is something to do.
	Remediation string `json:"remediation,omitempty"`
	Source      string `json:"source,omitempty"`
	// Due is the requirement's date for a failing or unverifiable dated
	// check, and the installed build's end of support for build_support.
	Due           *time.Time `json:"due,omitempty"`
	DaysLeft      *int       `json:"days_left,omitempty"` // days from the as-of day to a future Due
	Waiver        *Waiver    `json:"waiver,omitempty"`    // the waiver applied, or the expired one that no longer applies
	WaiverExpired bool       `json:"waiver_expired,omitempty"`

	// appliesUnknown: could not be checked because it could not be told
	// whether the requirement applies (such a check sets no deadline).
	appliesUnknown bool
}

// Evaluation is the judgement of one host.
type Evaluation struct {
	Verdict  Verdict
	Score    *int // 0-100; nil when not scored (NOT_INSTALLED)
	Checks   []CheckResult
	Blocking []string // ids of the checks that decide the verdict
	Reason   string   // one line: why this verdict
	NextStep string   // one line: what to do, in words
	// ScorePartial is set when some applicable check could not be checked:
	// the score counts those at half weight and may change on a rescan.
	ScorePartial bool
	// NextDeadline is the earliest future day the host would fail a dated
	// requirement (nil: none known).
	NextDeadline *Deadline
	// Stopped is set when the facts show the host has stopped syncing
	// (why, in words); empty when it has not or that is unknown.
	Stopped string
}

// Requirement is one check of the catalog.
type Requirement struct {
	ID          string
	Title       string
	Severity    Severity // declared; see CheckResult.Severity for the effective one
	Action      string
	Facts       []string // fact keys shown as evidence; they include every key the rule reads
	Rule        string   // the rule in words
	AppliesWhen string   // the applicability rule in words; empty: always applies
	Remediation string
	Steps       map[string]string // action -> what to do in words; the title where none
	Source      string
	Checked     string    // YYYY-MM-DD the source was last checked
	Confidence  string    // C, 3P, U or ! as in the reference
	Note        string    // which side a disputed or unconfirmed fact takes
	Effective   time.Time // zero: undated; else a failure is a warning before this day
	// UnknownKeepsVerdict: when this blocker could not be checked, the
	// host is not held INCOMPLETE for it (the check still says could not
	// check, and the score is partial). For operating-state checks whose
	// facts were never collected before (older runs, denied cmdlets).
	UnknownKeepsVerdict bool

	rule        rule
	appliesWhen rule
}

// Build is a row of Microsoft's build table.
type Build struct {
	Version      string
	Released     string // YYYY-MM-DD, or YYYY-MM where only the month is known
	EndOfSupport string // YYYY-MM-DD, "retired" (date not recorded) or "" (none announced)
	Recalled     bool
	Notes        string
	Confidence   string

	v        version
	released time.Time
	eos      time.Time // zero unless EndOfSupport is a date
}

// Omission is something the reference lists that the catalog deliberately
// does not check, with the reason, so the gap is visible in docs/catalog.md.
type Omission struct {
	Topic, Reason, Source, Checked string
}

// DatedGroup is a date on the report's timeline: the requirements that
// take effect that day.
type DatedGroup struct {
	Date     time.Time
	Title    string
	CheckIDs []string
}

// Catalog is a loaded, validated requirement catalog. It is read-only after
// Parse, so one Catalog can evaluate many hosts concurrently.
type Catalog struct {
	Version       string
	Requirements  []Requirement
	Builds        []Build  // ascending by version
	BuildsSource  string   // where the build table comes from
	BuildsChecked string   // YYYY-MM-DD it was last checked
	ProductNames  []string // uninstall DisplayNames that mean the sync product
	NotChecked    []Omission

	gate int // index of the install-detection requirement
}

//go:embed requirements.yaml
var embedded []byte

// Load returns the embedded catalog.
func Load() (*Catalog, error) { return Parse(embedded) }

// Dated returns the dated requirements grouped by date, earliest first.
func (c *Catalog) Dated() []DatedGroup {
	var out []DatedGroup
	for _, r := range c.Requirements {
		if r.Effective.IsZero() {
			continue
		}
		i := slices.IndexFunc(out, func(d DatedGroup) bool { return d.Date.Equal(r.Effective) })
		if i < 0 {
			out = append(out, DatedGroup{Date: r.Effective, Title: r.Title})
			i = len(out) - 1
		} else {
			out[i].Title += "; " + r.Title
		}
		out[i].CheckIDs = append(out[i].CheckIDs, r.ID)
	}
	slices.SortStableFunc(out, func(a, b DatedGroup) int { return a.Date.Compare(b.Date) })
	return out
}
