package report

import (
	"fmt"
	"strconv"

	"aadcready/catalog"
)

// scoreText shows a score; "~" marks one that counts checks which could not
// be checked at half weight (results.Host.ScorePartial).
func scoreText(score int, partial bool) string {
	if partial {
		return "~" + strconv.Itoa(score)
	}
	return strconv.Itoa(score)
}

// deadlineText is a host's next deadline in words, e.g.
// "2027-04-07 (125 days): fix (aadc-app-auth)"; "" when there is none.
func deadlineText(d *catalog.Deadline) string {
	if d == nil {
		return ""
	}
	days := "days"
	if d.DaysLeft == 1 {
		days = "day"
	}
	return fmt.Sprintf("%s (%d %s): %s (%s)", d.Date, d.DaysLeft, days, d.Action, d.Check)
}
