// Package browser drives the HTML report in headless Chromium (Debian's
// chromium package) over the Chrome DevTools Protocol: the page must load
// nothing from the network, its script must work under its own CSP, and no
// payload a hostile host planted may ever run.
package browser

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"aadcready/catalog"
	"aadcready/facts"
	"aadcready/report"
	"aadcready/results"
	"aadcready/test/peer"
)

// Each payload sets window.__pwned (or opens a dialog) if it ever runs.
var payloads = []string{
	`<script>window.__pwned=1;alert(1)</script>`,
	`<img src=x onerror="window.__pwned=1;alert(1)">`,
	`" onmouseover="window.__pwned=1" autofocus onfocus="window.__pwned=1" x="`,
	`javascript:window.__pwned=1;alert(1)`,
	`</script><script>window.__pwned=1</script>`,
	`<svg onload="window.__pwned=1"></svg>`,
	`'><iframe srcdoc="<script>parent.__pwned=1</script>">`,
}

var asOf = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	peer.Missing(t, "chromium", "sudo apt-get install -y chromium chromium-driver", exec.ErrNotFound)
	return ""
}

// fleet is a run with every verdict, in which a third of the hosts put a
// payload in everything they report: name, group, tags, OS caption, build,
// evidence, failure text and warnings.
func fleet(t *testing.T, cat *catalog.Catalog, n int) *results.Run {
	t.Helper()
	run := &results.Run{
		Schema: results.SchemaVersion, Tool: "aadcready", ToolVersion: "1.0.0-browser", CatalogVersion: cat.Version,
		AsOf: asOf.Format(time.DateOnly), Inventory: "fleet.yaml", Concurrency: 8,
		Started: asOf.Add(7 * time.Hour), Finished: asOf.Add(7*time.Hour + 4*time.Minute), DurationMS: 240_000,
		CredentialsDisabled: []string{`CORP\old-svc` + payloads[4]},
	}
	req := func(id string) catalog.Requirement {
		i := slices.IndexFunc(cat.Requirements, func(r catalog.Requirement) bool { return r.ID == id })
		if i < 0 {
			t.Fatalf("catalog has no requirement %s", id)
		}
		return cat.Requirements[i]
	}
	failing := map[catalog.Verdict][]string{
		catalog.VerdictUpgrade:        {"aadc-build-2-5-79"},
		catalog.VerdictFixThenUpgrade: {"dotnet-framework", "tls12-dotnet"},
		catalog.VerdictMigrate:        {"os-supported-version"},
		catalog.VerdictNotInstalled:   {"aadc-installed"},
	}
	ids := []string{"os-supported-version", "os-ws2016-end-of-support", "dotnet-framework", "tls12-dotnet",
		"aadc-installed", "aadc-build-2-5-79", "aadc-app-auth", "reboot-pending"}
	for i := range n {
		v := catalog.VerdictOrder()[i%len(catalog.VerdictOrder())]
		evil := ""
		if i%3 == 0 {
			evil = payloads[(i/3)%len(payloads)]
		}
		score := 100 - 7*(i%12)
		build := []string{"2.6.92.0", "2.5.79.0", "2.5.190.0", "2.4.131.0"}[i%4]
		set := facts.NewSet()
		set.Facts["os.caption"] = facts.Fact{Status: facts.StatusOK, Value: "Microsoft Windows Server 2019 Standard" + evil}
		set.Facts["aadc.wizard_version"] = facts.Fact{Status: facts.StatusOK, Value: build + " " + evil}
		h := results.Host{
			Name: fmt.Sprintf("aadc%02d.corp.example%s", i, evil), Port: 5986, Scheme: "https", Auth: "kerberos",
			Group: "site-" + strconv.Itoa(i%3) + evil, Tags: map[string]string{"env": []string{"prod", "dr"}[i%2], "owner": "idm" + evil},
			Verdict: v, Score: &score, Facts: set, Started: run.Started, DurationMS: 2100, Sealed: true,
			Reason: "judged as of 2026-11-26" + evil, NextStep: "see the failing checks" + evil,
		}
		if i%5 == 2 {
			h.Warnings = []string{"traffic to this host was not encrypted (allow_unencrypted: true)" + evil}
		}
		if v == catalog.VerdictUnreachable {
			h.Score, h.Facts = nil, nil
			h.Failure = &results.Failure{Class: "auth", Op: "connect", Message: "HTTP 401 from WinRM" + evil, Hint: "check the account" + evil, HTTPStatus: 401}
			run.Hosts = append(run.Hosts, h)
			continue
		}
		h.Blocking = failing[v]
		if v == catalog.VerdictNotInstalled {
			h.Score = nil // as the catalog leaves it: nothing to score
		}
		for _, id := range ids {
			r := req(id)
			c := catalog.CheckResult{ID: id, Title: r.Title, Severity: r.Severity, Action: r.Action, Status: catalog.StatusPass,
				Remediation: r.Remediation, Source: r.Source,
				Evidence: catalog.Evidence{{Fact: "aadc.wizard_version", Value: build + " " + evil}, {Fact: "os.caption", Value: "Microsoft Windows Server 2019" + evil}}}
			switch {
			case slices.Contains(failing[v], id):
				c.Status, c.Reason = catalog.StatusFail, "below the minimum"+evil
			case v == catalog.VerdictIncomplete && id == "aadc-installed":
				c.Status, c.Reason = catalog.StatusCouldNotCheck, "probe aadconnect failed: access denied"+evil
				h.Blocking = []string{id}
			}
			if !r.Effective.IsZero() && c.Status == catalog.StatusFail {
				due := r.Effective
				c.Due = &due
			}
			h.Checks = append(h.Checks, c)
		}
		run.Hosts = append(run.Hosts, h)
	}
	run.Summarize()
	return run
}

// startBrowser starts headless Chromium for the test; it stops when the
// test ends.
func startBrowser(t *testing.T, bin string) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// The first Run starts the browser and must not carry the deadline
	// (it would stop the browser); later calls use a bounded context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

type events struct {
	mu         sync.Mutex
	requests   []string
	dialogs    []string
	exceptions []string
}

func (e *events) add(list *[]string, s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	*list = append(*list, s)
}

func (e *events) get(list *[]string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(*list)
}

func TestReportInChromium(t *testing.T) {
	bin := chromium(t)
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	run := fleet(t, cat, 42)
	prev := fleet(t, cat, 40)
	prev.Hosts[1].Verdict = catalog.VerdictOK
	var html bytes.Buffer
	if err := report.WriteHTML(&html, run, report.HTMLOptions{Catalog: cat, Previous: prev, Now: asOf.Add(8 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, html.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + file
	ctx := startBrowser(t, bin)
	tctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()

	var ev events
	if err := chromedp.Listen(ctx, func(e any) {
		switch e := e.(type) {
		case *network.EventRequestWillBeSent:
			ev.add(&ev.requests, e.Request.URL)
		case *page.EventJavascriptDialogOpening:
			ev.add(&ev.dialogs, e.Type.String()+": "+e.Message)
			// Close it from another goroutine: a listener must not send commands.
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			ev.add(&ev.exceptions, fmt.Sprintf("%s (line %d)", msg, d.LineNumber))
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	// Record Content-Security-Policy violations: the page's own script must
	// cause none, and anything injected would.
	if _, err := chromedp.Call(tctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("host-table"))); err != nil {
		t.Fatal(err)
	}

	// The helpers take the (sub)test they report to.
	eval := func(t *testing.T, js string) string {
		t.Helper()
		v, err := chromedp.Run(tctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	evalList := func(t *testing.T, js string) []string {
		t.Helper()
		v, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	do := func(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	shots := screenshotDir(t)
	shoot := func(t *testing.T, name string, a chromedp.Action[[]byte]) {
		t.Helper()
		png, err := chromedp.Run(tctx, a)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(shots, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", p)
	}

	t.Run("script runs under its CSP", func(t *testing.T) {
		if cls := eval(t, `document.documentElement.className`); strings.Contains(cls, "no-js") {
			t.Errorf("html class %q: the script did not run", cls)
		}
		if v := evalList(t, `window.__csp`); len(v) > 0 {
			t.Errorf("CSP violations: %q", v)
		}
		// The policy is in force: a script element that did get into the
		// page would be refused.
		do(t, chromedp.Evaluate[chromedp.Void](`(() => {
			const s = document.createElement('script');
			s.textContent = 'window.__injected = 1';
			document.body.appendChild(s);
			s.remove();
		})()`), chromedp.Sleep(100*time.Millisecond))
		if got := eval(t, `typeof window.__injected`); got != "undefined" {
			t.Error("an injected inline script ran: the Content-Security-Policy is not enforced")
		}
		if v := evalList(t, `window.__csp.splice(0)`); len(v) != 1 || !strings.HasPrefix(v[0], "script-src") {
			t.Errorf("CSP violations %q, want the one refused script", v)
		}
	})

	t.Run("tiles", func(t *testing.T) {
		for _, v := range catalog.VerdictOrder() {
			got := eval(t, fmt.Sprintf(`document.querySelector('.tile[data-verdict=%q] .n').textContent`, v))
			if want := strconv.Itoa(run.Summary.ByVerdict[string(v)]); got != want {
				t.Errorf("tile %s shows %s, want %s", v, got, want)
			}
		}
	})

	shoot(t, "report-top.png", chromedp.CaptureScreenshot())

	visible := `Array.from(document.querySelectorAll('#host-table tbody tr')).filter((r) => !r.hidden)`
	t.Run("sort", func(t *testing.T) {
		scores := func() []int {
			var out []int
			for _, s := range evalList(t, visible+`.map((r) => r.cells[2].textContent)`) {
				if n, err := strconv.Atoi(s); err == nil {
					out = append(out, n)
				}
			}
			return out
		}
		do(t, chromedp.Click(chromedp.CSS(`#host-table th:nth-child(3) button`)))
		if s := scores(); !slices.IsSorted(s) || len(s) == 0 {
			t.Errorf("after one click scores are %v, want ascending", s)
		}
		if last := evalList(t, visible+`.map((r) => r.cells[2].textContent)`); last[len(last)-1] != "–" {
			t.Errorf("hosts without a score should sort last: %v", last)
		}
		do(t, chromedp.Click(chromedp.CSS(`#host-table th:nth-child(3) button`)))
		s := scores()
		if !slices.IsSortedFunc(s, func(a, b int) int { return b - a }) {
			t.Errorf("after two clicks scores are %v, want descending", s)
		}
		if got := eval(t, `document.querySelector('#host-table th:nth-child(3)').getAttribute('aria-sort')`); got != "descending" {
			t.Errorf("aria-sort %q", got)
		}
		do(t, chromedp.Click(chromedp.CSS(`#host-table th:nth-child(1) button`)))
		names := evalList(t, visible+`.map((r) => r.cells[0].querySelector('a').textContent)`)
		if !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
			t.Errorf("host names not sorted: %q", names)
		}
	})

	t.Run("verdict filter", func(t *testing.T) {
		do(t, chromedp.Click(chromedp.CSS(`.tile[data-verdict="MIGRATE"]`)))
		got := evalList(t, visible+`.map((r) => r.cells[1].textContent)`)
		if len(got) != run.Summary.ByVerdict["MIGRATE"] || slices.ContainsFunc(got, func(s string) bool { return s != "MIGRATE" }) {
			t.Errorf("MIGRATE tile shows rows %q", got)
		}
		if n := eval(t, `String(Array.from(document.querySelectorAll('details.host')).filter((d) => !d.hidden).length)`); n != strconv.Itoa(len(got)) {
			t.Errorf("%s host cards visible, want %d", n, len(got))
		}
		do(t, chromedp.SetValue(chromedp.ID("f-verdict"), "UNREACHABLE"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('f-verdict').dispatchEvent(new Event('change'))`))
		got = evalList(t, visible+`.map((r) => r.cells[1].textContent)`)
		if len(got) != run.Summary.ByVerdict["UNREACHABLE"] || slices.ContainsFunc(got, func(s string) bool { return s != "UNREACHABLE" }) {
			t.Errorf("UNREACHABLE filter shows rows %q", got)
		}
		do(t, chromedp.Click(chromedp.ID("f-clear")), chromedp.SendKeys(chromedp.ID("f-text"), "aadc07."))
		if got := evalList(t, visible+`.map((r) => r.cells[0].querySelector('a').textContent)`); len(got) != 1 || got[0] != "aadc07.corp.example" {
			t.Errorf("search aadc07. shows %q", got)
		}
		do(t, chromedp.Click(chromedp.ID("f-clear")))
		if n := eval(t, visible+`.length.toString()`); n != strconv.Itoa(len(run.Hosts)) {
			t.Errorf("after clearing %s rows visible, want %d", n, len(run.Hosts))
		}
	})

	shoot(t, "report-full.png", chromedp.FullScreenshot(100))
	for _, id := range []string{"deadlines", "changes", "hosts"} {
		shoot(t, "report-"+id+".png", chromedp.Screenshot(chromedp.ID(id)))
	}

	t.Run("hostile host card", func(t *testing.T) {
		// Host 3 (MIGRATE) carries payload 1 in everything it reported;
		// open its card from the table.
		do(t, chromedp.Click(chromedp.CSS(`#host-table a[href="#host-3"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#host-3 .checks-slot table`)))
		text := eval(t, `document.getElementById('host-3').textContent`)
		for _, want := range []string{"aadc03.corp.example" + payloads[1], "below the minimum" + payloads[1],
			"aadc.wizard_version 2.4.131.0 " + payloads[1], "Microsoft Windows Server 2019" + payloads[1]} {
			if !strings.Contains(text, want) {
				t.Errorf("card does not show %q as text", want)
			}
		}
		links := evalList(t, `Array.from(document.querySelectorAll('#host-3 a')).map((a) => a.getAttribute('href'))`)
		for _, l := range links {
			if !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "https://learn.microsoft.com/") {
				t.Errorf("card links to %q", l)
			}
		}
		shoot(t, "report-host-card.png", chromedp.Screenshot(chromedp.ID("host-3")))
	})

	t.Run("no payload runs", func(t *testing.T) {
		// Give every handler a chance: hover, focus and open everything.
		do(t, chromedp.Click(chromedp.ID("expand-all")),
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('*').forEach((e) => {
				e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
				if (e.focus) e.focus();
			})`),
			chromedp.Sleep(300*time.Millisecond))
		if got := eval(t, `typeof window.__pwned`); got != "undefined" {
			t.Errorf("window.__pwned is %s: a payload ran", got)
		}
		if d := ev.get(&ev.dialogs); len(d) > 0 {
			t.Errorf("dialogs opened: %q", d)
		}
		if bad := evalList(t, `Array.from(document.querySelectorAll('*')).flatMap((e) =>
				Array.from(e.attributes).filter((a) => a.name.startsWith('on')).map((a) => e.tagName + ' ' + a.name))`); len(bad) > 0 {
			t.Errorf("elements with event-handler attributes: %q", bad)
		}
		if n := eval(t, `String(document.querySelectorAll('script, iframe, img, object, embed').length)`); n != "3" {
			t.Errorf("%s script/iframe/img/object/embed elements, want the page's 3 scripts", n)
		}
		if v := evalList(t, `window.__csp`); len(v) > 0 {
			t.Errorf("CSP violations: %q", v)
		}
		if x := ev.get(&ev.exceptions); len(x) > 0 {
			t.Errorf("script exceptions: %q", x)
		}
	})

	t.Run("print", func(t *testing.T) {
		do(t, chromedp.Click(chromedp.ID("collapse-all")),
			chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
				return err
			}))
		for js, want := range map[string]string{
			`getComputedStyle(document.querySelector('.filters')).display`:         "none",
			`getComputedStyle(document.querySelector('#host-table th')).position`:  "static",
			`getComputedStyle(document.querySelector('details.host')).breakInside`: "avoid",
		} {
			if got := eval(t, js); got != want {
				t.Errorf("print: %s = %q, want %q", js, got, want)
			}
		}
		pdf, err := chromedp.Run(tctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Error("print produced no PDF")
		}
		// Printing opened and drew every card, then closed them again.
		if n := eval(t, `String(document.querySelectorAll('details.host[open]').length)`); n != "0" {
			t.Errorf("%s cards left open after printing", n)
		}
		if n := eval(t, `String(document.querySelectorAll('details.host .checks-slot table').length)`); n == "0" {
			t.Error("printing drew no check tables")
		}
		if err := os.WriteFile(filepath.Join(shots, "report-a4.pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		shoot(t, "report-print.png", chromedp.FullScreenshot(100))
		do(t, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	})

	t.Run("no network", func(t *testing.T) {
		for _, u := range ev.get(&ev.requests) {
			if u != url {
				t.Errorf("request to %s: the page must load nothing but itself", u)
			}
		}
		if !slices.Contains(ev.get(&ev.requests), url) {
			t.Error("the network listener saw no request at all (is it working?)")
		}
	})

	t.Run("grayscale", func(t *testing.T) {
		// For a person judging the design: the verdicts must stay apart by
		// shape and label without colour. (The emulation itself loads a
		// data: filter, so this runs after the network check.)
		do(t, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedVisionDeficiency,
				emulation.SetEmulatedVisionDeficiencyParams{Type: emulation.SetEmulatedVisionDeficiencyTypeAchromatopsia})
			return err
		}), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		shoot(t, "report-grayscale.png", chromedp.CaptureScreenshot())
	})

}

// screenshotDir is $AADCREADY_SCREENSHOT_DIR, or a new directory that
// outlives the test so the pictures can be looked at.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("AADCREADY_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "aadcready-report-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}
