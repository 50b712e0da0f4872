package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"aadcready/catalog"
	"aadcready/results"
)

// promGauges are the metrics of a run (docs/monitoring.md lists them).
// Each is a gauge: it says what the last run found.
type promGauges struct {
	build, info, verdict, score, deadline, deadlineAt, scanned, duration, reachable, hosts, runStart, runDuration, exitCode *prometheus.GaugeVec
}

func newPromGauges(reg *prometheus.Registry) (*promGauges, error) {
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "aadcready", Name: name, Help: help}, labels)
	}
	m := &promGauges{
		build: g("build_info", "The aadcready version, requirement catalog and probe bundle that made the run (always 1).",
			"version", "catalog_version", "bundle_id"),
		// What the host reported about itself: untrusted strings, escaped by
		// the exposition code like every label value.
		info: g("host_info", "What a reached host reported: its OS caption and build and the AD Connect version installed (always 1).",
			"host", "os", "os_build", "aadc_version"),
		verdict: g("host_verdict", "The host's verdict: 1 for the verdict it got (OK, FIX, UPGRADE, FIX_THEN_UPGRADE, MIGRATE, INCOMPLETE, UNREACHABLE, NOT_INSTALLED).",
			"host", "verdict"),
		score: g("host_score", "The host's readiness score, 0 to 100 (docs/scoring.md); absent when the host could not be scored.", "host"),
		// Base units (seconds), as Prometheus' conventions and promtool
		// want: days are the value / 86400.
		deadline: g("host_next_deadline_seconds", "Time from the run's as-of date to the earliest date the host would fail a dated requirement (days x 86400), with that requirement and its action.",
			"host", "check", "action"),
		deadlineAt: g("host_next_deadline_timestamp_seconds", "The earliest date the host would fail a dated requirement, in seconds since the Unix epoch (alert on it minus time()).",
			"host", "check", "action"),
		scanned:     g("host_scan_timestamp_seconds", "When the host's scan started, in seconds since the Unix epoch.", "host"),
		duration:    g("host_scan_duration_seconds", "How long the host's scan took, retries included.", "host"),
		reachable:   g("host_reachable", "1 when a WinRM session to the host was established, 0 when it was unreachable or not tried.", "host"),
		hosts:       g("hosts", "Hosts of the run per verdict.", "verdict"),
		runStart:    g("run_timestamp_seconds", "When the run started, in seconds since the Unix epoch."),
		runDuration: g("run_duration_seconds", "How long the whole run took."),
		exitCode:    g("run_exit_code", "The run's exit code from its findings: 0 all OK, 1 some host needs action, 2 some host could not be checked, 130 interrupted (before --exit-zero-on-findings)."),
	}
	for _, c := range []prometheus.Collector{m.build, m.info, m.verdict, m.score, m.deadline, m.deadlineAt, m.scanned, m.duration, m.reachable, m.hosts, m.runStart, m.runDuration, m.exitCode} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// WritePrometheus writes the run in the Prometheus text exposition format,
// for node_exporter's textfile collector (docs/monitoring.md). Host names
// and check ids become label values; the exposition code escapes them, and
// bytes that are not UTF-8 are replaced (a label value must be UTF-8).
func WritePrometheus(w io.Writer, run *results.Run) error {
	reg := prometheus.NewPedanticRegistry()
	m, err := newPromGauges(reg)
	if err != nil {
		return err
	}
	set := func(vec *prometheus.GaugeVec, v float64, labels ...string) error {
		for i, l := range labels {
			labels[i] = strings.ToValidUTF8(l, "\uFFFD")
		}
		g, err := vec.GetMetricWithLabelValues(labels...)
		if err != nil {
			return err
		}
		g.Set(v)
		return nil
	}
	errs := []error{
		set(m.build, 1, run.ToolVersion, run.CatalogVersion, run.BundleID),
		set(m.runStart, unixSeconds(run.Started.UnixMilli())),
		set(m.runDuration, float64(run.DurationMS)/1000),
		set(m.exitCode, float64(run.ExitCode())),
	}
	for _, v := range catalog.VerdictOrder() {
		errs = append(errs, set(m.hosts, float64(run.Summary.ByVerdict[string(v)]), string(v)))
	}
	for _, h := range run.Hosts {
		errs = append(errs,
			set(m.verdict, 1, h.Name, string(h.Verdict)),
			set(m.scanned, unixSeconds(h.Started.UnixMilli()), h.Name),
			set(m.duration, float64(h.DurationMS)/1000, h.Name),
			set(m.reachable, boolGauge(h.Verdict != catalog.VerdictUnreachable && !h.Cancelled()), h.Name))
		if h.Facts != nil {
			errs = append(errs, set(m.info, 1, h.Name, fact(h, "os.caption"), fact(h, "os.build"), installedVersion(h)))
		}
		if h.Score != nil {
			errs = append(errs, set(m.score, float64(*h.Score), h.Name))
		}
		if d := h.NextDeadline; d != nil {
			date, err := time.Parse(time.DateOnly, d.Date)
			if err != nil {
				return fmt.Errorf("metrics: host %q: next deadline: %w", h.Name, err)
			}
			errs = append(errs, set(m.deadline, float64(d.DaysLeft)*secondsPerDay, h.Name, d.Check, d.Action),
				set(m.deadlineAt, float64(date.Unix()), h.Name, d.Check, d.Action))
		}
	}
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return err
		}
	}
	return nil
}

const secondsPerDay = 24 * 60 * 60

func unixSeconds(ms int64) float64 { return float64(ms) / 1000 }

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
