package catalog

import "fmt"

// Deadline is the earliest future day a host would fail a dated requirement.
type Deadline struct {
	Date     string `json:"date"`      // YYYY-MM-DD
	DaysLeft int    `json:"days_left"` // from the as-of day
	Action   string `json:"action"`    // ActionUpgrade, ActionFix or ActionMigrate
	Check    string `json:"check"`     // the requirement id
}

// String is the deadline as one cell: "2027-04-07 (125 days): fix".
func (d *Deadline) String() string {
	if d == nil {
		return ""
	}
	return fmt.Sprintf("%s (%d days): %s", d.Date, d.DaysLeft, d.Action)
}

// nextDeadline is the earliest check date after today on which a check that
// is not waived will fail: a dated requirement the host fails before its date
// (a warning now), or the installed build's end of support. Ties keep
// catalog order.
func nextDeadline(checks []CheckResult, today day) *Deadline {
	var best *Deadline
	var bestDay day
	for _, ch := range checks {
		if ch.Due == nil || ch.Status == StatusWaived || ch.Status == StatusNotApplicable || ch.Status == StatusCouldNotCheck {
			continue
		}
		d := dayOf(*ch.Due)
		if d <= today || (best != nil && d >= bestDay) {
			continue
		}
		best, bestDay = &Deadline{Date: d.String(), DaysLeft: int(d - today), Action: ch.Action, Check: ch.ID}, d
	}
	return best
}
