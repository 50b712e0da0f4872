package report

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"aadcready/catalog"
	"aadcready/results"
	"aadcready/test/peer"
)

// hostileNames are host names a label value must carry unchanged (or, for
// bytes that are not UTF-8, replaced) without breaking the exposition.
var hostileNames = []string{
	`quote"host`, `back\slash`, "new\nline", "tab\there", `brace}{host="x"} 1`, "bad\xffutf8", "# HELP aadcready_hosts x",
}

func promRun() *results.Run {
	score, low := 97, 40
	started := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	run := &results.Run{ToolVersion: "v1.2.3", CatalogVersion: "2026.11.26", BundleID: "ff0846b6101d587f",
		AsOf: "2026-12-03", Started: started, DurationMS: 4250}
	run.Hosts = []results.Host{
		{Name: "aadc-ok", Verdict: catalog.VerdictOK, Score: &score, Started: started, DurationMS: 450},
		{Name: "aadc-old", Verdict: catalog.VerdictUpgrade, Score: &low, Started: started, DurationMS: 1500,
			NextDeadline: &catalog.Deadline{Date: "2027-04-07", DaysLeft: 125, Action: catalog.ActionUpgrade, Check: "app-auth"}},
		{Name: "aadc-down", Verdict: catalog.VerdictUnreachable, Started: started, DurationMS: 2500,
			Failure: &results.Failure{Class: "refused", Message: "connection refused"}},
	}
	for _, n := range hostileNames {
		run.Hosts = append(run.Hosts, results.Host{Name: n, Verdict: catalog.VerdictIncomplete, Started: started})
	}
	run.Summarize()
	return run
}

func TestPrometheusValuesAndEscaping(t *testing.T) {
	run := promRun()
	var b bytes.Buffer
	if err := WritePrometheus(&b, run); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, b.String())
	}
	// value returns the sample of family whose labels include want.
	value := func(family string, want map[string]string) (float64, bool) {
		mf := families[family]
		if mf == nil {
			return 0, false
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue next
				}
			}
			return m.GetGauge().GetValue(), true
		}
		return 0, false
	}
	cases := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"aadcready_host_verdict", map[string]string{"host": "aadc-old", "verdict": "UPGRADE"}, 1},
		{"aadcready_host_score", map[string]string{"host": "aadc-ok"}, 97},
		{"aadcready_host_next_deadline_seconds", map[string]string{"host": "aadc-old", "check": "app-auth", "action": "upgrade"}, 125 * 86400},
		{"aadcready_host_next_deadline_timestamp_seconds", map[string]string{"host": "aadc-old"}, float64(time.Date(2027, 4, 7, 0, 0, 0, 0, time.UTC).Unix())},
		{"aadcready_host_reachable", map[string]string{"host": "aadc-ok"}, 1},
		{"aadcready_host_reachable", map[string]string{"host": "aadc-down"}, 0},
		{"aadcready_host_scan_duration_seconds", map[string]string{"host": "aadc-old"}, 1.5},
		{"aadcready_host_scan_timestamp_seconds", map[string]string{"host": "aadc-ok"}, float64(run.Started.Unix())},
		{"aadcready_hosts", map[string]string{"verdict": "INCOMPLETE"}, float64(len(hostileNames))},
		{"aadcready_hosts", map[string]string{"verdict": "MIGRATE"}, 0},
		{"aadcready_run_exit_code", nil, 2},
		{"aadcready_run_timestamp_seconds", nil, float64(run.Started.Unix())},
		{"aadcready_run_duration_seconds", nil, 4.25},
		{"aadcready_build_info", map[string]string{"version": "v1.2.3", "catalog_version": "2026.11.26", "bundle_id": "ff0846b6101d587f"}, 1},
		{"aadcready_host_verdict", map[string]string{"host": "bad\uFFFDutf8", "verdict": "INCOMPLETE"}, 1},
	}
	for _, n := range hostileNames[:len(hostileNames)-2] {
		cases = append(cases, struct {
			family string
			labels map[string]string
			want   float64
		}{"aadcready_host_verdict", map[string]string{"host": n}, 1})
	}
	for _, c := range cases {
		got, ok := value(c.family, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.family, c.labels, got, ok, c.want)
		}
	}
	for _, absent := range []struct{ family, host string }{
		{"aadcready_host_score", "aadc-down"}, {"aadcready_host_next_deadline_seconds", "aadc-ok"},
	} {
		if _, ok := value(absent.family, map[string]string{"host": absent.host}); ok {
			t.Errorf("%s has a sample for %s", absent.family, absent.host)
		}
	}
	for name, mf := range families {
		if mf.GetHelp() == "" || mf.GetType().String() != "GAUGE" {
			t.Errorf("%s: help %q type %s", name, mf.GetHelp(), mf.GetType())
		}
	}
	peer.CheckMetrics(t, b.Bytes())
}

// The alert rules docs/monitoring.md documents load in Prometheus, and fire
// (and stay quiet) as their unit tests say.
func TestPrometheusRules(t *testing.T) {
	promtool := peer.Promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "aadcready.rules.yml"},
		{"test", "rules", "aadcready.rules.test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../docs/monitoring"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "check" && !strings.Contains(string(out), "3 rules found") {
			t.Errorf("promtool found other than the 3 documented rules:\n%s", out)
		}
	}
}

// docs/monitoring.md shows the rules file as it is.
func TestMonitoringDocShowsTheRules(t *testing.T) {
	rules, err := os.ReadFile("../docs/monitoring/aadcready.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/monitoring.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, append(append([]byte("```yaml\n"), rules...), "```"...)) {
		t.Error("docs/monitoring.md does not show docs/monitoring/aadcready.rules.yml as it is: copy the file into its yaml block")
	}
}
