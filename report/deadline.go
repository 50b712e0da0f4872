package report

import (
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

// deadlineText is a host's next deadline in words; "" when there is none.
func deadlineText(d *catalog.Deadline) string { return d.String() }
