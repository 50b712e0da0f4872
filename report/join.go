package report

import (
	"fmt"
	"strings"

	"aadcready/results"
)

// joinBanners say which runs a joined run (report RUN RUN...) came from,
// which shards are missing and what the join decided. Run labels are paths
// the operator gave; html/template escapes them.
func joinBanners(run *results.Run) []banner {
	if len(run.MergedFrom) == 0 {
		return nil
	}
	var parts []string
	for _, s := range run.MergedFrom {
		shard := ""
		if s.Shard != nil {
			shard = "shard " + s.Shard.String() + ", "
		}
		parts = append(parts, fmt.Sprintf("%s (%s%s, finished %s)", TerminalSafe(s.Label), shard,
			plural(s.Hosts, "host", "hosts"), s.Finished.UTC().Format("2006-01-02 15:04Z")))
	}
	out := []banner{{"info", fmt.Sprintf("This report joins %d runs.", len(run.MergedFrom)), strings.Join(parts, "; ") + "."}}
	if len(run.MissingShards) > 0 {
		var ms []string
		for _, s := range run.MissingShards {
			ms = append(ms, s.String())
		}
		out = append(out, banner{"alert", "Shards missing: " + strings.Join(ms, ", ") + ".",
			"Their hosts were not checked and are not in this report: rerun those shards and join again."})
	}
	var twice []string
	for _, n := range run.MergeNotes {
		if strings.Contains(n, "was scanned in") {
			twice = append(twice, TerminalSafe(n))
		}
	}
	if len(twice) > 0 {
		if len(twice) > 20 {
			twice = append(twice[:20], fmt.Sprintf("and %d more", len(twice)-20))
		}
		out = append(out, banner{"warn", plural(len(twice), "host was", "hosts were") + " scanned in more than one run.", strings.Join(twice, "; ") + "."})
	}
	return out
}
