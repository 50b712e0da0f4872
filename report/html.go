package report

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"aadcready/catalog"
	"aadcready/diff"
	"aadcready/results"
)

// The page is one self-contained file: the style sheet and the script are
// compiled in and written inline, so the report opens from a file share or an
// e-mail attachment with no network access at all.
var (
	//go:embed html.tmpl
	htmlTemplateText string
	//go:embed html.css
	htmlCSS string
	//go:embed html.js
	htmlJS string

	htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
		"thousands": thousands,
	}).Parse(htmlTemplateText))

	// htmlCSP allows exactly the inline script we ship (by its hash) and
	// nothing else: no other script, no connection, no font, no frame, no
	// image but data: (the blank favicon that stops a browser asking a web
	// server for /favicon.ico). Any markup a hostile host smuggled past the
	// escaping would still have nothing to run or load.
	htmlCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" +
		scriptHash(htmlJS) + "'; base-uri 'none'; form-action 'none'"
)

func scriptHash(js string) string {
	sum := sha256.Sum256([]byte(js))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// HTMLOptions are the inputs of WriteHTML besides the run.
type HTMLOptions struct {
	// Catalog supplies the requirement titles, the dated requirements for
	// the timeline and the only source links the page will show. Without
	// it the timeline has only the due dates recorded in the run.
	Catalog *catalog.Catalog
	// Previous is an earlier run of the same inventory; when set, the page
	// has a "what changed" section.
	Previous *results.Run
	// Now is when the report is rendered (shown in the footer; the fallback
	// when the run has no as-of date).
	Now time.Time
}

// WriteHTML renders run as one self-contained HTML page for change boards
// and managers: verdict tiles and charts, the deadline timeline, a sortable
// and filterable host table and the evidence of every check per host.
//
// Everything a host returned goes through html/template's contextual
// escaping; nothing host-supplied is ever marked as trusted HTML, script or
// URL.
func WriteHTML(w io.Writer, run *results.Run, opt HTMLOptions) error {
	if run == nil {
		return errors.New("html report: no run to render")
	}
	p, err := newPage(run, opt)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	sw := newSafeWriter(w)
	bw := bufio.NewWriterSize(sw, 64<<10)
	if err := htmlTemplate.Execute(bw, p); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return sw.Close()
}

// Verdict presentation. Each verdict has its own shape (an SVG symbol and a
// chart pattern named by slug) so that it reads in grayscale and to
// colour-blind readers; the colours are from the Okabe–Ito palette.
type verdictStyle struct {
	Slug, Label, Desc string
}

var verdictStyles = map[catalog.Verdict]verdictStyle{
	catalog.VerdictOK:             {"ok", "OK", "Ready: nothing to do"},
	catalog.VerdictFix:            {"fixonly", "FIX", "Change the server's configuration; no upgrade"},
	catalog.VerdictUpgrade:        {"upgrade", "UPGRADE", "Upgrade AD Connect in place"},
	catalog.VerdictFixThenUpgrade: {"fix", "FIX THEN UPGRADE", "Fix prerequisites, then upgrade"},
	catalog.VerdictMigrate:        {"migrate", "MIGRATE", "Swing-migrate to a new server"},
	catalog.VerdictIncomplete:     {"incomplete", "INCOMPLETE", "Reached, but some checks could not run"},
	catalog.VerdictUnreachable:    {"unreachable", "UNREACHABLE", "Could not connect or log on"},
	catalog.VerdictNotInstalled:   {"notinstalled", "NOT INSTALLED", "No AD Connect found on the host"},
}

func styleOf(v catalog.Verdict) verdictStyle {
	if s, ok := verdictStyles[v]; ok {
		return s
	}
	// A verdict this build does not know (a newer run document): show its
	// name with a neutral shape rather than dropping the host.
	return verdictStyle{Slug: "other", Label: string(v), Desc: "Verdict not known to this version"}
}

type page struct {
	CSP    string
	CSS    template.CSS
	Script template.JS

	Run       runView
	Generated string
	Banners   []banner
	Tiles     []tile
	Verdicts  chart
	TopChecks chart
	Timeline  timeline
	Deadlines []deadline
	Changes   *changesView
	Warned    listOf[hostRef]
	Hosts     []hostView
	Filters   filters
	Reqs      []reqView
	Data      scriptData
	// Details holds every host's check rows: JSON, gzip-compressed and
	// base64-encoded. Written out as markup they would make a 2,000-host
	// page over 20 MB; compressed they are a few hundred kilobytes (fleets
	// repeat themselves), and the script renders a host's rows as text
	// nodes when its card is opened or the page is printed.
	Details string
}

type runView struct {
	Inventory, Tool, ToolVersion, Catalog, AsOf, BundleID string
	Started, Finished, Duration                           string
	Hosts, Concurrency                                    int
	Interrupted                                           bool
	CredentialsDisabled                                   []string
}

type banner struct {
	Kind, Title, Text string
}

type tile struct {
	verdictStyle
	Verdict string
	Count   int
	Pct     string
}

type hostRef struct {
	ID, Name string
	Notes    []string
}

// listMax bounds the host lists outside the table (warnings, what changed):
// a catalog change can put every host of a large fleet on each of them, and
// the table's filters already show any subset in full.
const listMax = 100

// listOf is a list cut at listMax, with how many it left out.
type listOf[T any] struct {
	Items       []T
	More, Total int
}

func capList[T any](xs []T) listOf[T] {
	return listOf[T]{Items: xs[:min(len(xs), listMax)], More: max(0, len(xs)-listMax), Total: len(xs)}
}

func newPage(run *results.Run, opt HTMLOptions) (*page, error) {
	now := opt.Now.UTC()
	asOf, err := time.Parse(time.DateOnly, run.AsOf)
	if err != nil {
		asOf = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	}
	reqs := map[string]catalog.Requirement{}
	if opt.Catalog != nil {
		for _, r := range opt.Catalog.Requirements {
			reqs[r.ID] = r
		}
	}
	p := &page{
		CSP:       htmlCSP,
		CSS:       template.CSS(htmlCSS),
		Script:    template.JS(htmlJS),
		Generated: stamp(now),
		Run: runView{
			Inventory: run.Inventory, Tool: run.Tool, ToolVersion: run.ToolVersion,
			Catalog: run.CatalogVersion, AsOf: asOf.Format(time.DateOnly), BundleID: run.BundleID,
			Started: stamp(run.Started), Finished: stamp(run.Finished),
			Duration:    (time.Duration(run.DurationMS) * time.Millisecond).Round(time.Second).String(),
			Hosts:       run.Summary.Total,
			Concurrency: run.Concurrency, Interrupted: run.Interrupted,
			CredentialsDisabled: run.CredentialsDisabled,
		},
	}
	p.Tiles = tiles(run.Summary)
	p.Verdicts = verdictChart(p.Tiles)
	var details detailData
	p.Hosts, p.Data, details = hostViews(run, reqs)
	if p.Details, err = packDetails(details); err != nil {
		return nil, err
	}
	p.TopChecks = topChecksChart(run, reqs)
	p.Deadlines = deadlines(run, opt.Catalog, asOf)
	p.Timeline = newTimeline(p.Deadlines, asOf)
	p.Filters = newFilters(run, p.Tiles, reqs)
	p.Reqs = reqViews(opt.Catalog, run)
	var warned []hostRef
	for _, h := range p.Hosts {
		if len(h.Warnings) > 0 {
			warned = append(warned, hostRef{ID: h.ID, Name: h.Name, Notes: h.Warnings})
		}
	}
	p.Warned = capList(warned)
	if opt.Previous != nil {
		p.Changes = newChangesView(diff.Compare(opt.Previous, run), p.Hosts)
	}
	p.Banners = banners(run, p.Warned.Total)
	return p, nil
}

// packDetails compresses the details for the page (see page.Details). Hosts
// are encoded one by one so the uncompressed JSON (tens of megabytes for a
// large fleet) never sits in memory whole.
func packDetails(d detailData) (string, error) {
	var b strings.Builder
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	zw := gzip.NewWriter(enc)
	je := json.NewEncoder(zw)
	if _, err := io.WriteString(zw, `{"hosts":[`); err != nil {
		return "", err
	}
	for i, h := range d.Hosts {
		if i > 0 {
			if _, err := io.WriteString(zw, ","); err != nil {
				return "", err
			}
		}
		if err := je.Encode(h); err != nil {
			return "", err
		}
	}
	if _, err := io.WriteString(zw, "]}"); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

func banners(run *results.Run, warned int) []banner {
	var out []banner
	if run.Interrupted {
		out = append(out, banner{"warn", "The scan was interrupted.",
			"Hosts that had not finished are reported as not checked; rerun the scan for them."})
	}
	if len(run.CredentialsDisabled) > 0 {
		out = append(out, banner{"warn", "Credentials were withdrawn during the run.",
			"The first hosts refused them, so the run stopped using them to avoid locking the account out: " +
				strings.Join(run.CredentialsDisabled, ", ") + "."})
	}
	out = append(out, joinBanners(run)...)
	if warned > 0 {
		out = append(out, banner{"alert", plural(warned, "host was", "hosts were") + " scanned with a security warning.",
			"Unencrypted traffic or disabled certificate checks: see the list below before trusting these results."})
	}
	return out
}

func tiles(s results.Summary) []tile {
	var out []tile
	seen := map[string]bool{}
	add := func(v catalog.Verdict) {
		seen[string(v)] = true
		n := s.ByVerdict[string(v)]
		out = append(out, tile{verdictStyle: styleOf(v), Verdict: string(v), Count: n, Pct: percent(n, s.Total)})
	}
	for _, v := range catalog.VerdictOrder() {
		add(v)
	}
	for _, v := range slices.Sorted(maps.Keys(s.ByVerdict)) {
		if !seen[v] {
			add(catalog.Verdict(v))
		}
	}
	return out
}

// Host table and per-host detail.

type hostView struct {
	ID, Name, Group string
	verdictStyle
	Verdict          string
	Score            string
	OS, Build        string
	Blocking         []blockRef
	Waivers          []waiverRef
	WaiverNote       string
	WaiverExpired    bool
	Why              string // the reason, shortened, for the table row of a host that could not be checked
	Tags             []string
	Warnings         []string
	Failure          *results.Failure
	Attempts         []attemptView
	Reason, NextStep string
	// Deadline is the next deadline in words ("2027-04-07 (125 days): fix
	// (aadc-app-auth)"); Stopped says why the host has stopped syncing.
	Deadline, Stopped string
}

// blockRef is a check that decides a host's verdict, named in the table
// and on the host's card.
type blockRef struct{ ID, Title string }

type attemptView struct {
	Class, Message, Duration string
	Retried                  bool
}

// detailData is the packed per-host detail, in the host order of the
// table (short keys: it is repeated for every check of every host).
type detailData struct {
	Hosts []hostDetail `json:"hosts"`
}

type hostDetail struct {
	Meta          string      `json:"m"`           // address, transport, group, when
	Attention     []checkView `json:"a,omitempty"` // fail, waived, could not check: most urgent first
	Passed        []checkView `json:"p,omitempty"` // pass and not applicable, in catalog order
	ProbeProblems []string    `json:"pp,omitempty"`
	Stderr        string      `json:"e,omitempty"`
}

type checkView struct {
	ID          string      `json:"id"`
	Title       string      `json:"t"`
	Severity    string      `json:"sv,omitempty"`
	Status      string      `json:"st"`
	Evidence    [][2]string `json:"ev,omitempty"` // fact key, value; sorted by key
	Reason      string      `json:"r,omitempty"`
	Remediation string      `json:"rm,omitempty"`
	Source      string      `json:"src,omitempty"` // an https URL from the catalog, else empty
	SourceText  string      `json:"srt,omitempty"` // the run's own source note, shown as text only
	Due         string      `json:"due,omitempty"`
	Waiver      *waiverView `json:"w,omitempty"`
}

type waiverRef struct {
	Check string
	waiverView
}

type waiverView struct {
	Justification string `json:"j"`
	ApprovedBy    string `json:"by"`
	Expires       string `json:"x"`
	Expired       bool   `json:"exp,omitempty"`
}

// scriptData is what the table script sorts and filters on, embedded as
// JSON (html/template escapes it for the script element; the script reads it
// with JSON.parse and only ever writes text nodes).
type scriptData struct {
	Order []string  `json:"order"`
	Hosts []rowData `json:"hosts"`
}

type rowData struct {
	Verdict  string   `json:"v"`
	Score    *int     `json:"s"`
	Build    string   `json:"b,omitempty"`
	Failing  []string `json:"f,omitempty"`
	Tags     []string `json:"t,omitempty"`
	Blocking int      `json:"k,omitempty"`
	Waivers  int      `json:"w,omitempty"`
}

// attentionRank and severityRank order a host's checks so that what the
// reader must act on comes first.
var (
	attentionRank = map[catalog.Status]int{catalog.StatusFail: 0, catalog.StatusWaived: 1, catalog.StatusCouldNotCheck: 2}
	severityRank  = map[catalog.Severity]int{catalog.SeverityBlocker: 0, catalog.SeverityWarning: 1, catalog.SeverityInfo: 2}
)

func hostViews(run *results.Run, reqs map[string]catalog.Requirement) ([]hostView, scriptData, detailData) {
	data := scriptData{Hosts: make([]rowData, len(run.Hosts))}
	details := detailData{Hosts: make([]hostDetail, len(run.Hosts))}
	for _, v := range catalog.VerdictOrder() {
		data.Order = append(data.Order, string(v))
	}
	out := make([]hostView, len(run.Hosts))
	for i, h := range run.Hosts {
		hv := hostView{
			ID: "host-" + strconv.Itoa(i), Name: h.Name, Group: h.Group,
			verdictStyle: styleOf(h.Verdict), Verdict: string(h.Verdict),
			Score: "–", OS: fact(h, "os.caption"), Build: installedVersion(h),
			Tags: tagList(h.Tags), Warnings: h.Warnings,
			Failure: h.Failure, Reason: h.Reason, NextStep: h.NextStep,
			Deadline: deadlineText(h.NextDeadline), Stopped: h.StoppedSyncing,
		}
		hd := hostDetail{Meta: hostMeta(h), ProbeProblems: h.ProbeProblems, Stderr: h.Stderr}
		for _, id := range h.Blocking {
			title := reqs[id].Title
			if j := slices.IndexFunc(h.Checks, func(c catalog.CheckResult) bool { return c.ID == id }); j >= 0 {
				title = cmp.Or(h.Checks[j].Title, title)
			}
			hv.Blocking = append(hv.Blocking, blockRef{id, title})
		}
		if h.Score != nil {
			hv.Score = scoreText(*h.Score, h.ScorePartial)
		}
		if h.Verdict.CouldNotCheck() {
			hv.Why = ellipsis(h.Reason, 120)
		}
		for _, a := range h.Attempts {
			hv.Attempts = append(hv.Attempts, attemptView{a.Class, a.Message, millis(a.DurationMS), a.Retried})
		}
		row := rowData{Verdict: string(h.Verdict), Score: h.Score, Build: hv.Build, Tags: hv.Tags, Blocking: len(h.Blocking)}
		expired := 0
		for _, c := range h.Checks {
			cv := newCheckView(c, reqs)
			if cv.Waiver != nil {
				hv.Waivers = append(hv.Waivers, waiverRef{c.ID, *cv.Waiver})
				if cv.Waiver.Expired {
					expired++
				}
			}
			if c.Status == catalog.StatusFail {
				row.Failing = append(row.Failing, c.ID)
			}
			if _, ok := attentionRank[c.Status]; ok {
				hd.Attention = append(hd.Attention, cv)
			} else {
				hd.Passed = append(hd.Passed, cv)
			}
		}
		slices.SortStableFunc(hd.Attention, func(a, b checkView) int {
			if d := attentionRank[catalog.Status(a.Status)] - attentionRank[catalog.Status(b.Status)]; d != 0 {
				return d
			}
			return severityRank[catalog.Severity(a.Severity)] - severityRank[catalog.Severity(b.Severity)]
		})
		hv.WaiverExpired = expired > 0
		switch {
		case expired > 0:
			hv.WaiverNote = fmt.Sprintf("%d expired", expired)
			if active := len(hv.Waivers) - expired; active > 0 {
				hv.WaiverNote += fmt.Sprintf(", %d active", active)
			}
		case len(hv.Waivers) > 0:
			hv.WaiverNote = fmt.Sprintf("%d active", len(hv.Waivers))
		}
		row.Waivers = len(hv.Waivers)
		out[i] = hv
		data.Hosts[i] = row
		details.Hosts[i] = hd
	}
	return out, data, details
}

func newCheckView(c catalog.CheckResult, reqs map[string]catalog.Requirement) checkView {
	cv := checkView{
		ID: c.ID, Title: cmp.Or(c.Title, reqs[c.ID].Title), Severity: string(c.Severity), Status: string(c.Status),
		Reason: c.Reason, Remediation: c.Remediation,
	}
	// The link target comes from the catalog compiled into this binary,
	// never from the run document (a hand-edited or hostile results file
	// must not be able to plant a link).
	cv.Source = httpsOnly(reqs[c.ID].Source)
	if cv.Source == "" {
		cv.SourceText = c.Source
	}
	if c.Due != nil {
		cv.Due = c.Due.Format(time.DateOnly)
		if c.DaysLeft != nil {
			cv.Due += fmt.Sprintf(" (%d days left)", *c.DaysLeft)
		}
	}
	for _, it := range c.Evidence {
		cv.Evidence = append(cv.Evidence, [2]string{it.Fact, it.Value})
	}
	if w := c.Waiver; w != nil {
		cv.Waiver = &waiverView{Justification: w.Justification, ApprovedBy: w.ApprovedBy,
			Expires: w.Expires.Format(time.DateOnly), Expired: c.WaiverExpired}
	}
	return cv
}

// httpsOnly returns u when it is an https URL without spaces or control
// characters, else "". html/template would already neutralise javascript:
// and friends; this also keeps plain-http and relative links off the page.
func httpsOnly(u string) string {
	if !strings.HasPrefix(u, "https://") || len(u) == len("https://") {
		return ""
	}
	if strings.IndexFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f || r == utf8.RuneError }) >= 0 {
		return ""
	}
	return u
}

func tagList(tags map[string]string) []string {
	out := make([]string, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, k+"="+tags[k])
	}
	return out
}

// hostMeta is the card's line on how and when the host was scanned.
func hostMeta(h results.Host) string {
	addr := cmp.Or(h.Address, h.Name)
	if h.Port != 0 {
		addr += ":" + strconv.Itoa(h.Port)
	}
	parts := []string{addr}
	for _, s := range []string{h.Scheme, h.Auth} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if h.Sealed {
		parts = append(parts, "messages sealed")
	}
	if h.Group != "" {
		parts = append(parts, "group "+h.Group)
	}
	// The language mode decides what the probes could run (docs/probes.md).
	if mode, ok := h.Facts.Get("ps.language_mode").Str(); ok {
		parts = append(parts, "PowerShell "+mode)
	}
	if !h.Started.IsZero() {
		s := "scanned " + stamp(h.Started) + " in " + millis(h.DurationMS)
		if h.Requests > 0 {
			s += ", " + plural(h.Requests, "request", "requests")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " · ")
}

// Charts. Geometry is computed here so the template only places numbers.

type chart struct {
	Width, Height, LabelW, BarMax int
	Bars                          []chartBar
	Empty                         string
}

type chartBar struct {
	Y, W, TX                int // row offset, bar width, x of the count
	Label, Sub, Count, Note string
	Slug, Verdict, Check    string
}

const (
	chartWidth     = 720
	barRow         = 34
	labelCharWidth = 7.8 // advance of the bold 13px chart label font (generous: a long label must stop before the bars)
)

func verdictChart(ts []tile) chart {
	c := chart{Width: chartWidth, LabelW: 200}
	c.BarMax = c.Width - c.LabelW - 90
	maxN := 0
	for _, t := range ts {
		maxN = max(maxN, t.Count)
	}
	for i, t := range ts {
		w := scale(t.Count, maxN, c.BarMax)
		c.Bars = append(c.Bars, chartBar{
			Y: i * barRow, W: w, TX: c.LabelW + w + 8, Label: t.Label,
			Count: thousands(t.Count), Note: t.Pct, Slug: t.Slug, Verdict: t.Verdict,
		})
	}
	c.Height = len(c.Bars) * barRow
	return c
}

func topChecksChart(run *results.Run, reqs map[string]catalog.Requirement) chart {
	type agg struct {
		id, title, sev string
		n              int
	}
	byID := map[string]*agg{}
	for _, h := range run.Hosts {
		for _, c := range h.Checks {
			if c.Status != catalog.StatusFail {
				continue
			}
			a := byID[c.ID]
			if a == nil {
				a = &agg{id: c.ID, title: cmp.Or(c.Title, reqs[c.ID].Title), sev: string(c.Severity)}
				byID[c.ID] = a
			}
			a.n++
		}
	}
	all := slices.Collect(maps.Values(byID))
	slices.SortFunc(all, func(a, b *agg) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.id, b.id)
	})
	c := chart{Width: chartWidth, LabelW: 310, Empty: "No check fails on any host."}
	c.BarMax = c.Width - c.LabelW - 90
	for i, a := range all[:min(len(all), 10)] {
		w := scale(a.n, all[0].n, c.BarMax)
		c.Bars = append(c.Bars, chartBar{
			Y: i * barRow, W: w, TX: c.LabelW + w + 8,
			Label: ellipsis(a.title, int(float64(c.LabelW-10)/labelCharWidth)), Sub: a.id + " · " + a.sev,
			Count: thousands(a.n), Note: percent(a.n, len(run.Hosts)),
			Slug: "sev-" + sevSlug(a.sev), Check: a.id,
		})
	}
	c.Height = len(c.Bars) * barRow
	return c
}

func sevSlug(s string) string {
	switch s {
	case "blocker", "warning":
		return s
	}
	return "info"
}

func scale(n, maxN, width int) int {
	if n <= 0 || maxN <= 0 {
		return 0
	}
	return max(2, int(math.Round(float64(n)*float64(width)/float64(maxN))))
}

// Deadlines: the catalog's dated requirements, plus the dates the run
// implies per host: due dates recorded on its checks and the end of support
// of the build each host runs (they differ per build).

type deadline struct {
	Date      time.Time
	Day, When string
	Title     string
	Checks    []string
	Hosts     int
	Past      bool
	Soon      bool // within 90 days of the as-of date
	Dated     bool // a dated requirement of the catalog
}

// hits says whether a check puts its host under the check's deadline: it
// fails (or is only waived) now, or it passes today but has a due date.
func hits(c catalog.CheckResult) bool {
	switch c.Status {
	case catalog.StatusFail, catalog.StatusWaived:
		return true
	case catalog.StatusPass:
		return c.Due != nil
	}
	return false
}

func deadlines(run *results.Run, cat *catalog.Catalog, asOf time.Time) []deadline {
	var out []deadline
	covered := map[string]bool{} // "date|check" already on a dated requirement
	if cat != nil {
		for _, d := range cat.Dated() {
			ids := map[string]bool{}
			for _, id := range d.CheckIDs {
				ids[id] = true
				covered[d.Date.Format(time.DateOnly)+"|"+id] = true
			}
			n := 0
			for _, h := range run.Hosts {
				if slices.ContainsFunc(h.Checks, func(c catalog.CheckResult) bool { return ids[c.ID] && hits(c) }) {
					n++
				}
			}
			out = append(out, deadline{Date: d.Date, Title: d.Title, Checks: d.CheckIDs, Hosts: n, Dated: true})
		}
	}

	// The per-host dates, merged by day: a check's due date and the build
	// table's end of support for the same build land on the same day.
	type agg struct {
		date           time.Time
		hosts          map[int]bool
		builds, checks map[string]bool
		title          string
	}
	byDay := map[string]*agg{}
	add := func(date time.Time, host int, build, check, title string) {
		k := date.Format(time.DateOnly)
		a := byDay[k]
		if a == nil {
			a = &agg{date: date, hosts: map[int]bool{}, builds: map[string]bool{}, checks: map[string]bool{}, title: title}
			byDay[k] = a
		}
		a.hosts[host] = true
		if build != "" {
			a.builds[build] = true
		}
		if check != "" {
			a.checks[check] = true
		}
	}
	eos := buildEndOfSupport(cat)
	for i, h := range run.Hosts {
		build := installedVersion(h)
		for _, c := range h.Checks {
			if c.Due != nil && hits(c) && !covered[c.Due.Format(time.DateOnly)+"|"+c.ID] {
				add(*c.Due, i, build, c.ID, c.Title)
			}
		}
		if d, ok := eos[build]; ok {
			add(d, i, build, "", "")
		}
	}
	for _, a := range byDay {
		title := a.title
		if len(a.builds) > 0 {
			builds := slices.Sorted(maps.Keys(a.builds))
			if len(builds) > 3 {
				builds = append(builds[:3], "…")
			}
			title = "End of support for build " + strings.Join(builds, ", ")
		}
		out = append(out, deadline{Date: a.date, Title: title, Checks: slices.Sorted(maps.Keys(a.checks)), Hosts: len(a.hosts)})
	}

	slices.SortFunc(out, func(a, b deadline) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		return strings.Compare(a.Title, b.Title)
	})
	for i := range out {
		d := &out[i]
		days := int(math.Round(d.Date.Sub(asOf).Hours() / 24))
		d.Day = d.Date.Format(time.DateOnly)
		d.Past = days < 0
		d.Soon = days >= 0 && days <= 90
		switch {
		case days == 0:
			d.When = "today"
		case days > 0:
			d.When = "in " + plural(days, "day", "days")
		default:
			d.When = plural(-days, "day", "days") + " ago"
		}
	}
	return out
}

// buildEndOfSupport maps each build of the catalog's build table to its
// end-of-support date, where one is recorded.
func buildEndOfSupport(cat *catalog.Catalog) map[string]time.Time {
	m := map[string]time.Time{}
	if cat == nil {
		return m
	}
	for _, b := range cat.Builds {
		if d, err := time.Parse(time.DateOnly, b.EndOfSupport); err == nil {
			m[b.Version] = d
		}
	}
	return m
}

type timeline struct {
	Width, Height, AxisY, Left, Right int
	PastW                             int // width of the shaded past, from Left to the as-of line
	TickY, TickLabelY                 int
	TodayX, TodayY, TodayLabelY       int
	Today, TodayAnchor                string
	Ticks                             []tick
	Marks                             []mark
	Earlier                           int // deadlines before the window, listed in the table only
}

type tick struct {
	X     int
	Label string
	Year  bool
}

type mark struct {
	X, Y, LabelX, LabelY int
	Line1Y, StemTop      int
	Shape                string // SVG path of the diamond marking a dated requirement
	Anchor               string
	Day, Title, Hosts    string
	Class                string
	Dated                bool
}

const (
	timelineWidth = 1000
	laneHeight    = 38
	charWidth     = 7.0 // glyph advance of the 12px label font (bold, digits: the widest), for lane packing; over-estimating costs a lane, under-estimating overlaps
)

// newTimeline lays the deadlines on an axis from six months before the
// as-of date to shortly after the last deadline, packing the labels into
// as few lanes as keep them from overlapping.
func newTimeline(ds []deadline, asOf time.Time) timeline {
	t := timeline{Width: timelineWidth, Left: 20, Right: timelineWidth - 20, Today: asOf.Format(time.DateOnly)}
	start := asOf.AddDate(0, -6, 0)
	end := asOf.AddDate(0, 6, 0)
	for _, d := range ds {
		if d.Date.After(end) {
			end = d.Date
		}
	}
	end = end.AddDate(0, 1, 15)
	span := end.Sub(start).Hours()
	x := func(d time.Time) int {
		return t.Left + int(math.Round(float64(t.Right-t.Left)*d.Sub(start).Hours()/span))
	}
	t.TodayX = x(asOf)

	var lanes []int // right edge of the last label in each lane
	for _, d := range ds {
		if d.Date.Before(start) {
			t.Earlier++
			continue
		}
		m := mark{X: x(d.Date), Day: d.Day, Title: ellipsis(d.Title, 70), Dated: d.Dated}
		m.Hosts = plural(d.Hosts, "host", "hosts")
		switch {
		case d.Hosts == 0:
			m.Class = "none"
		case d.Past:
			m.Class = "past"
			m.Hosts += " overdue"
		default:
			m.Class = "hit"
		}
		w := int(charWidth*float64(max(utf8.RuneCountInString(m.Title), utf8.RuneCountInString(m.Day+" · "+m.Hosts)))) + 12
		lo, hi := m.X, m.X+w
		m.Anchor, m.LabelX = "start", m.X+6
		if hi > t.Width {
			lo, hi = m.X-w, m.X
			m.Anchor, m.LabelX = "end", m.X-6
		}
		lane := slices.IndexFunc(lanes, func(right int) bool { return right < lo })
		if lane < 0 {
			lane = len(lanes)
			lanes = append(lanes, 0)
		}
		lanes[lane] = hi
		m.LabelY = lane // resolved to y once the lane count is known
		t.Marks = append(t.Marks, m)
	}
	top := 8
	t.AxisY = top + max(1, len(lanes))*laneHeight + 14
	for i := range t.Marks {
		m := &t.Marks[i]
		m.LabelY = t.AxisY - 20 - m.LabelY*laneHeight
		m.Line1Y = m.LabelY - 14
		m.StemTop = m.Line1Y - 12
		m.Y = t.AxisY
		m.Shape = fmt.Sprintf("M%d %dl6 6-6 6-6-6z", m.X, m.Y-6)
	}
	t.PastW = max(0, t.TodayX-t.Left)
	t.TickY, t.TickLabelY = t.AxisY+6, t.AxisY+20
	t.TodayY, t.TodayLabelY = t.AxisY+26, t.AxisY+40
	t.TodayAnchor = "middle"
	switch {
	case t.TodayX < t.Left+60:
		t.TodayAnchor = "start"
	case t.TodayX > t.Right-60:
		t.TodayAnchor = "end"
	}
	t.Height = t.AxisY + 48

	// Month ticks; labels on quarters when the window is long.
	quarterly := end.Sub(start) > 400*24*time.Hour
	for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0); m.Before(end); m = m.AddDate(0, 1, 0) {
		tk := tick{X: x(m), Year: m.Month() == time.January}
		if !quarterly || (m.Month()-1)%3 == 0 {
			tk.Label = m.Format("Jan")
			if tk.Year {
				tk.Label = m.Format("2006")
			}
		}
		t.Ticks = append(t.Ticks, tk)
	}
	return t
}

// Filters offered above the host table.

type filters struct {
	Verdicts []option
	Tags     []option
	Checks   []option
}

type option struct{ Value, Label string }

func newFilters(run *results.Run, ts []tile, reqs map[string]catalog.Requirement) filters {
	var f filters
	for _, t := range ts {
		if t.Count > 0 {
			f.Verdicts = append(f.Verdicts, option{t.Verdict, fmt.Sprintf("%s (%d)", t.Label, t.Count)})
		}
	}
	tags := map[string]int{}
	checks := map[string]int{}
	titles := map[string]string{}
	for _, h := range run.Hosts {
		for k, v := range h.Tags {
			tags[k+"="+v]++
		}
		for _, c := range h.Checks {
			if c.Status == catalog.StatusFail {
				checks[c.ID]++
				titles[c.ID] = cmp.Or(c.Title, reqs[c.ID].Title)
			}
		}
	}
	for _, t := range slices.Sorted(maps.Keys(tags)) {
		f.Tags = append(f.Tags, option{t, fmt.Sprintf("%s (%d)", t, tags[t])})
	}
	for _, id := range slices.Sorted(maps.Keys(checks)) {
		f.Checks = append(f.Checks, option{id, fmt.Sprintf("%s — %s (%d)", id, ellipsis(titles[id], 50), checks[id])})
	}
	return f
}

// Requirement reference at the end of the page.

type reqView struct {
	ID, Title, Severity, Action, Effective, Remediation, Source string
	Failing                                                     int
}

func reqViews(cat *catalog.Catalog, run *results.Run) []reqView {
	if cat == nil {
		return nil
	}
	failing := map[string]int{}
	for _, h := range run.Hosts {
		for _, c := range h.Checks {
			if c.Status == catalog.StatusFail {
				failing[c.ID]++
			}
		}
	}
	out := make([]reqView, 0, len(cat.Requirements))
	for _, r := range cat.Requirements {
		v := reqView{ID: r.ID, Title: r.Title, Severity: string(r.Severity), Action: r.Action,
			Remediation: r.Remediation, Source: httpsOnly(r.Source), Failing: failing[r.ID]}
		if !r.Effective.IsZero() {
			v.Effective = r.Effective.Format(time.DateOnly)
		}
		out = append(out, v)
	}
	return out
}

// Small formatting helpers.

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func millis(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d < time.Second {
		return d.String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func percent(n, total int) string {
	if total == 0 {
		return "0%"
	}
	p := 100 * float64(n) / float64(total)
	if p > 0 && p < 1 {
		return "<1%"
	}
	return strconv.Itoa(int(math.Round(p))) + "%"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// thousands groups digits so 2000-host fleets read at a glance.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ellipsis shortens s to at most n runes for a chart label or a summary
// cell (the full text is elsewhere on the page). It cuts at a space when
// one is in the second half, so a word is not cut in two.
func ellipsis(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	if r[len(r)-1] != ' ' && []rune(s)[n-1] != ' ' {
		if i := strings.LastIndexByte(string(r), ' '); i >= len(string(r))/2 {
			return strings.TrimSpace(string(r)[:i]) + "…"
		}
	}
	return strings.TrimSpace(string(r)) + "…"
}

type changesView struct {
	Since, PrevCatalog                      string
	Improved, Regressed, Other              listOf[verdictChangeView]
	New                                     listOf[hostRef]
	Gone                                    listOf[string]
	NewlyFailing, NowBlocking, NewlyPassing []checkChangeView
	Empty                                   bool
}

type verdictChangeView struct {
	Host     hostRef
	From, To verdictStyle
}

// checkChangeView is one check and the hosts on which it changed the same
// way: a fleet-wide change reads as one line, not one per host.
type checkChangeView struct {
	Check, Title string
	Hosts        listOf[hostRef]
}

// newChangesView groups diff.Compare's result for the page: verdict moves
// by direction, check changes by kind and then by check (sorted by ID, hosts
// in the current run's order). Host names link to their cards.
func newChangesView(ch diff.Result, hosts []hostView) *changesView {
	ids := map[string]string{}
	for _, h := range hosts {
		if k := strings.ToLower(h.Name); ids[k] == "" {
			ids[k] = h.ID
		}
	}
	ref := func(name string) hostRef { return hostRef{ID: ids[strings.ToLower(name)], Name: name} }

	v := &changesView{
		Since: cmp.Or(stamp(ch.From.Started), ch.From.AsOf), PrevCatalog: ch.From.CatalogVersion,
		Empty: ch.Empty(),
	}
	var improved, regressed, other []verdictChangeView
	for _, vc := range ch.Verdicts {
		cv := verdictChangeView{ref(vc.Host), styleOf(vc.From), styleOf(vc.To)}
		switch vc.Direction {
		case diff.Improved:
			improved = append(improved, cv)
		case diff.Regressed:
			regressed = append(regressed, cv)
		default:
			other = append(other, cv)
		}
	}
	v.Improved, v.Regressed, v.Other = capList(improved), capList(regressed), capList(other)

	var added []hostRef
	for _, a := range ch.Added {
		added = append(added, ref(a.Host))
	}
	var gone []string
	for _, g := range ch.Gone {
		gone = append(gone, g.Host)
	}
	v.New, v.Gone = capList(added), capList(gone)

	byKind := map[string]map[string]*checkChange{}
	for _, c := range ch.Checks {
		m := byKind[c.Change]
		if m == nil {
			m = map[string]*checkChange{}
			byKind[c.Change] = m
		}
		cc := m[c.Check]
		if cc == nil {
			cc = &checkChange{title: c.Title}
			m[c.Check] = cc
		}
		cc.hosts = append(cc.hosts, ref(c.Host))
	}
	checks := func(kind string) []checkChangeView {
		m := byKind[kind]
		out := make([]checkChangeView, 0, len(m))
		for _, id := range slices.Sorted(maps.Keys(m)) {
			out = append(out, checkChangeView{Check: id, Title: m[id].title, Hosts: capList(m[id].hosts)})
		}
		return out
	}
	v.NewlyFailing, v.NowBlocking, v.NewlyPassing = checks(diff.NewlyFailing), checks(diff.NowBlocking), checks(diff.NewlyPassing)
	return v
}

// checkChange collects the hosts of one check's change.
type checkChange struct {
	title string
	hosts []hostRef
}
