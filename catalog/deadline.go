package catalog

import "fmt"

// Deadline is the earliest future day a host would fail a dated requirement.
type Deadline struct {
	Date     string `json:"date"`      // YYYY-MM-DD
	DaysLeft int    `json:"days_left"` // from the as-of day
	Action   string `json:"action"`    // ActionUpgrade, ActionFix or ActionMigrate
	Check    string `json:"check"`     // the requirement id
	// Unverified: the check could not be checked, so the host fails on
	// Date unless the missing fact turns out fine.
	Unverified bool `json:"unverified,omitempty"`
}

// String is the deadline in words, e.g.
// "2027-04-07 (125 days): fix (aadc-app-auth)".
func (d *Deadline) String() string {
	if d == nil {
		return ""
	}
	days := "days"
	if d.DaysLeft == 1 {
		days = "day"
	}
	s := fmt.Sprintf("%s (%d %s): %s (%s)", d.Date, d.DaysLeft, days, d.Action, d.Check)
	if d.Unverified {
		s += ", could not check"
	}
	return s
}

// nextDeadline is the earliest check date after today on which a check that
// is not waived will fail: a dated requirement the host fails (or could not
// check, though it applies) before its date, or the installed build's end of
// support. On the
// same day a known failure wins over an unverified one; otherwise ties keep
// catalog order.
func nextDeadline(checks []CheckResult, today day) *Deadline {
	var best *Deadline
	var bestDay day
	for _, ch := range checks {
		if ch.Due == nil || ch.Status == StatusWaived || ch.Status == StatusNotApplicable || ch.appliesUnknown {
			continue
		}
		d := dayOf(*ch.Due)
		unverified := ch.Status == StatusCouldNotCheck
		if d <= today || (best != nil && (d > bestDay || d == bestDay && (unverified || !best.Unverified))) {
			continue
		}
		best, bestDay = &Deadline{Date: d.String(), DaysLeft: int(d - today), Action: ch.Action, Check: ch.ID, Unverified: unverified}, d
	}
	return best
}
