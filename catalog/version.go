package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// version is a dotted Windows-style version, compared part by part; missing
// parts are zero, so "5.0" equals "5.0.0.0".
type version [4]int

func parseVersion(s string) (version, error) {
	var v version
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) > len(v) {
		return v, fmt.Errorf("%q is not a version (more than %d parts)", s, len(v))
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || strings.HasPrefix(p, "+") {
			return v, fmt.Errorf("%q is not a version", s)
		}
		v[i] = n
	}
	return v, nil
}

func (v version) compare(w version) int { return slices.Compare(v[:], w[:]) }

func (v version) String() string { return fmt.Sprintf("%d.%d.%d.%d", v[0], v[1], v[2], v[3]) }

// day is a civil date as days since 1970-01-01. Catalog dates are days, not
// instants: a requirement effective on 2026-09-30 applies to any AsOf on that
// calendar day, whatever its time or zone.
type day int

func dayOf(t time.Time) day {
	y, m, d := t.Date()
	return day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (d day) String() string { return time.Unix(int64(d)*86400, 0).UTC().Format(dateLayout) }
