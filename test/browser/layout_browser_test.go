package browser

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"aadcready/catalog"
	"aadcready/report"
	"aadcready/results"
)

// titles are catalog-like titles as wide as chart labels get unshortened
// (the first ran into its bar in the demo's report).
var titles = []string{"AD Connect build within Microsoft support", "Windows Server 2016 before it leaves support", "Requirement with a long descriptive title"}

// denseRun has ten hosts, each with a check due on its own day of one
// month (and the catalog's dated requirements around it), and long tags.
func denseRun() *results.Run {
	run := &results.Run{Schema: results.SchemaVersion, Tool: "aadcready", ToolVersion: "1.0.0-browser", AsOf: asOf.Format(time.DateOnly),
		Started: asOf, Finished: asOf.Add(time.Minute)}
	for i := range 10 {
		due := time.Date(2027, 1, 2+3*i, 0, 0, 0, 0, time.UTC)
		score := 90
		run.Hosts = append(run.Hosts, results.Host{
			Name: fmt.Sprintf("aadc%02d.corp.example", i), Verdict: catalog.VerdictOK, Score: &score, Started: asOf,
			Tags: map[string]string{"environment": "production-west-europe", "owner": "identity-management-team", "change_board": "CAB-Tuesday-weekly"},
			Checks: []catalog.CheckResult{{ID: fmt.Sprintf("check-%d", i), Title: fmt.Sprintf("%d: %s", i, titles[i%len(titles)]),
				Severity: catalog.SeverityWarning, Status: catalog.StatusFail, Due: &due}},
		})
	}
	run.Summarize()
	return run
}

// Ten dates within a month: no two timeline labels overlap, no chart label
// runs into its bar, and no tag chip breaks across lines, even in a narrow
// window.
func TestTimelineAndChipsLayout(t *testing.T) {
	bin := chromium(t)
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := report.WriteHTML(&html, denseRun(), report.HTMLOptions{Catalog: cat, Now: asOf}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, html.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(startBrowser(t, bin), time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.ID("host-table"))); err != nil {
		t.Fatal(err)
	}
	// Pairs of timeline labels whose boxes intersect (by more than half a
	// pixel of anti-aliasing).
	const overlaps = `(() => {
		const boxes = Array.from(document.querySelectorAll('.timeline svg text')).map((e) => [e.textContent, e.getBoundingClientRect()]);
		const out = [];
		for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
			const [a, r] = boxes[i], [b, s] = boxes[j];
			if (r.left < s.right - 0.5 && s.left < r.right - 0.5 && r.top < s.bottom - 0.5 && s.top < r.bottom - 0.5) out.push(a + ' / ' + b);
		}
		return out;
	})()`
	// A chip's text on more than one line box: the chip wrapped.
	// Chart labels that reach into their row's bar track.
	const labelsOnBars = `Array.from(document.querySelectorAll('svg.chart g')).filter((g) => {
		const l = g.querySelector('text.lbl'), track = g.querySelector('rect.track');
		return l && track && l.getBoundingClientRect().right > track.getBoundingClientRect().left;
	}).map((g) => g.querySelector('text.lbl').textContent)`
	const brokenChips = `Array.from(document.querySelectorAll('.tag')).filter((e) => {
		const r = document.createRange();
		r.selectNodeContents(e);
		return new Set(Array.from(r.getClientRects()).map((b) => Math.round(b.top))).size > 1;
	}).map((e) => e.textContent)`
	for _, width := range []int64{1440, 800, 420} {
		var labels, onBars, chips []string
		err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Sleep(100*time.Millisecond))
		if err == nil {
			labels, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](overlaps))
		}
		if err == nil {
			chips, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](brokenChips))
		}
		if err == nil {
			onBars, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](labelsOnBars))
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(labels) > 0 {
			t.Errorf("%d px: timeline labels overlap: %q", width, labels)
		}
		if len(onBars) > 0 {
			t.Errorf("%d px: chart labels reach into their bars: %q", width, onBars)
		}
		if len(chips) > 0 {
			t.Errorf("%d px: tag chips broken across lines: %q", width, chips)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.timeline svg text').length`))
		if err != nil || n < 20 {
			t.Fatalf("%d timeline labels (%v): the dense run did not reach the timeline", n, err)
		}
	}
}
