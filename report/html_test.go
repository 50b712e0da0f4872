package report

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"aadcready/catalog"
	"aadcready/diff"
	"aadcready/facts"
	"aadcready/results"
)

// Payloads a hostile or compromised host could plant in anything it reports.
var hostile = []string{
	`<script>alert(1)</script>`,
	`javascript:alert(1)`,
	`" onmouseover=alert(1) x="`,
	`</script><script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	"\u2028</style><!--",
}

var testAsOf = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func loadCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// fleet builds a run of n hosts judged by the real catalog from synthetic
// facts, so the checks, evidence and verdicts are what a scan produces.
// Every verdict occurs once n >= 20. With evil, every host-supplied string
// carries one of the hostile payloads.
func fleet(t testing.TB, cat *catalog.Catalog, n int, evil bool) *results.Run {
	t.Helper()
	run := &results.Run{
		Schema: results.SchemaVersion, Tool: "aadcready", ToolVersion: "1.0.0-test", CatalogVersion: cat.Version,
		BundleID: "b-test", AsOf: testAsOf.Format(time.DateOnly), Inventory: "contoso-fleet.yaml", Concurrency: 16,
		Started:  time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC),
		Finished: time.Date(2026, 11, 26, 7, 12, 31, 0, time.UTC), DurationMS: 751_000,
	}
	payload := func(i int) string {
		if !evil {
			return ""
		}
		return hostile[i%len(hostile)]
	}
	for i := range n {
		h := results.Host{
			Name: fmt.Sprintf("aadc%04d.corp.contoso.com%s", i, payload(i)), Port: 5986, Scheme: "https", Auth: "kerberos",
			Group: []string{"emea", "amer", "apac"}[i%3] + payload(i+1),
			Tags: map[string]string{"owner": "identity-team" + payload(i+2), "environment": []string{"prod", "staging", "dr"}[i%3],
				"change_board": "CAB-" + strconv.Itoa(i%7)},
			Started: run.Started.Add(time.Duration(i) * time.Second), DurationMS: 3200 + int64(i%900), Requests: 9, Sealed: i%9 != 4,
		}
		if i%9 == 4 {
			h.Scheme, h.Port = "http", 5985
			h.Warnings = append(h.Warnings, "traffic to this host was not encrypted (allow_unencrypted: true)"+payload(i))
		}
		if i%13 == 5 {
			h.Warnings = append(h.Warnings, "certificate verification was disabled (insecure_skip_verify: true)")
		}
		switch i % 20 {
		case 7: // refused the connection
			h.Failure = &results.Failure{Class: "timeout", Op: "connect", Message: "dial tcp 10.20.0." + strconv.Itoa(i%250) +
				":5986: i/o timeout" + payload(i+3), Hint: "check that WinRM listens and the firewall allows 5986" + payload(i+4)}
			h.Attempts = []results.Attempt{{Class: "timeout", Message: "i/o timeout" + payload(i), DurationMS: 30_000, Retried: true}}
			h.Verdict, h.Reason, h.NextStep = catalog.VerdictUnreachable, h.Failure.Message, h.Failure.Hint
			run.Hosts = append(run.Hosts, h)
			continue
		case 13: // reached, then the probes broke off
			h.Failure = &results.Failure{Class: "shell", Op: "receive", Message: "the WinRM shell was closed" + payload(i), HTTPStatus: 500, FaultCode: 2150858843}
			h.Stderr = "Get-ADSyncScheduler : access denied" + payload(i+1)
		}
		set := hostFacts(i, payload(i+5), h.Failure != nil)
		var waivers []catalog.Waiver
		if i%10 == 3 {
			waivers = []catalog.Waiver{
				{Check: "reboot-pending", Host: h.Name, Justification: "patch window Saturday" + payload(i), ApprovedBy: "cab@contoso.com", Expires: testAsOf.AddDate(0, 1, 0)},
				{Check: "dotnet-framework", Host: h.Name, Justification: "vendor app pins .NET", ApprovedBy: "cab@contoso.com", Expires: testAsOf.AddDate(0, -1, 0)},
			}
		}
		ev := cat.Evaluate(set, catalog.Options{AsOf: testAsOf, Waivers: waivers})
		h.Facts = set
		h.SetEvaluation(ev)
		run.Hosts = append(run.Hosts, h)
	}
	run.Summarize()
	return run
}

// hostFacts varies the OS, .NET, TLS, build and identity of host i so that
// the fleet spreads over every verdict; extra is appended to the strings
// the host reports; broken drops the probes after the OS one.
func hostFacts(i int, extra string, broken bool) *facts.Set {
	s := facts.NewSet()
	for _, p := range facts.Probes() {
		s.Probes[p] = facts.ProbeStatus{Status: facts.ProbeOK}
	}
	put := func(k string, v any) { s.Facts[k] = facts.Fact{Status: facts.StatusOK, Value: v} }
	absent := func(k string) { s.Facts[k] = facts.Fact{Status: facts.StatusAbsent} }

	type osv struct {
		build   int64
		caption string
	}
	oses := []osv{{20348, "Microsoft Windows Server 2022 Standard"}, {17763, "Microsoft Windows Server 2019 Datacenter"},
		{14393, "Microsoft Windows Server 2016 Standard"}, {26100, "Microsoft Windows Server 2025 Standard"}, {9600, "Microsoft Windows Server 2012 R2 Standard"}}
	builds := []string{"2.6.92.0", "2.6.84.0", "2.5.190.0", "2.5.79.0", "2.4.131.0", "2.6.3.0", "1.6.16.0", "2.6.92.0"}
	o := oses[i%len(oses)]
	if i%20 == 0 || i%20 == 10 {
		o = oses[0] // the healthy ones
	}
	build := builds[i%len(builds)]
	if i%20 == 0 || i%20 == 10 {
		build = "2.6.92.0"
	}

	put("host.name", fmt.Sprintf("AADC%04d", i))
	put("os.caption", o.caption+extra)
	put("os.version", fmt.Sprintf("10.0.%d", o.build))
	put("os.build", o.build)
	put("os.ubr", int64(6901+i%700))
	put("os.installation_type", "Server")
	put("os.edition_id", "ServerStandard")
	put("os.product_type", "ServerNT")
	put("domain.part_of_domain", true)
	put("domain.name", "corp.contoso.com")
	put("domain.role", int64(3))
	put("dcom.ole_restrictions_present", true)
	put("ps.version", fmt.Sprintf("5.1.%d.%d", o.build, 1000+i%3000))
	put("ps.clr_version", "4.0.30319.42000")
	put("ps.language_mode", "FullLanguage")
	put("ps.execution_policy", "RemoteSigned")
	absent("ps.execution_policy_gpo")
	put("ps.transcription_enabled", false)
	release := int64(533320)
	if i%7 == 2 {
		release = 461308
	}
	put("dotnet.release", release)
	for _, k := range []string{"tls.net4.system_default_tls_versions", "tls.net4.sch_use_strong_crypto",
		"tls.net4_wow.system_default_tls_versions", "tls.net4_wow.sch_use_strong_crypto"} {
		put(k, int64(1))
	}
	for _, k := range []string{"tls.schannel12_server.enabled", "tls.schannel12_server.disabled_by_default",
		"tls.schannel12_client.enabled", "tls.schannel12_client.disabled_by_default"} {
		absent(k)
	}
	if i%11 == 6 { // TLS 1.2 turned off: FIX, or FIX_THEN_UPGRADE on an old build
		put("tls.net4_wow.sch_use_strong_crypto", int64(0))
		put("tls.schannel12_client.enabled", int64(0))
	}
	put("vcredist.x64_installed", true)
	put("vcredist.x64_version", "v14.38.33135.00")
	if i%20 == 17 { // decommissioned: no AD Connect
		absent("aadc.wizard_path")
		absent("aadc.wizard_version")
		put("aadc.uninstall_entries", []string{"Microsoft Azure AD Connect Health agent for sync|4.5.2466.0"})
		absent("adsync.service_state")
	} else {
		put("aadc.wizard_path", `C:\Program Files\Microsoft Azure Active Directory Connect\AzureADConnect.exe`)
		put("aadc.wizard_version", build+extra)
		put("aadc.uninstall_entries", []string{"Microsoft Entra Connect Sync|" + build})
		put("adsync.service_state", "Running")
	}
	put("adsync.install_location", `C:\Program Files\Microsoft Azure AD Sync\`)
	put("adsync.service_start_mode", "Auto")
	put("adsync.service_account", `NT SERVICE\ADSync`+extra)
	put("adsync.db_server", "(localdb)")
	put("adsync.db_instance", "ADSync2019")
	put("adsync.db_name", "ADSync")
	put("localdb.installed_versions", []string{"15.0"})
	put("localdb.mdf_path", `C:\Program Files\Microsoft Azure AD Sync\Data\ADSync2019\ADSync.mdf`)
	put("localdb.mdf_bytes", int64(1_400_000_000+i*1_000_000))
	put("adsync.staging_mode", i%6 == 1)
	put("adsync.sync_cycle_enabled", true)
	put("adsync.scheduler_suspended", false)
	put("adsync.auto_upgrade", "Enabled")
	identity := "Application"
	if i%4 == 1 {
		identity = "ServiceAccount"
	}
	put("adsync.connector_identity_type", identity)
	put("autoupgrade.detail", "Enabled")
	put("certrot.warning_events", int64(0))
	put("certrot.error_events", int64(0))
	put("tpm.present", true)
	put("tpm.ready", true)
	put("sync.entra_connector", "contoso.onmicrosoft.com - AAD")
	put("sync.running", []string{})
	put("sync.last_runs", []string{"contoso.onmicrosoft.com - AAD|Export|success|2026-11-26T06:31:12Z"})
	put("sync.last_export_utc", "2026-11-26T06:31:12Z")
	put("sync.last_export_age_hours", int64(1+i%20))
	put("hw.memory_bytes", int64(8<<30+(i%5)<<30))
	put("hw.cpu_max_mhz", int64(2600))
	put("hw.cpu_logical_count", int64(4))
	put("hw.system_drive", "C:")
	put("hw.system_drive_size_bytes", int64(127<<30))
	put("hw.system_drive_free_bytes", int64(80<<30-i*7_340_033))
	put("reboot.pending", i%8 == 3)
	put("reboot.reasons", []string{})
	if i%8 == 3 {
		put("reboot.reasons", []string{"PendingFileRenameOperations"})
	}
	if broken {
		for _, p := range []string{"aadconnect", "adsync", "hardware", "reboot"} {
			s.Probes[p] = facts.ProbeStatus{Status: facts.ProbeMissing, Reason: "no probe output: the WinRM shell was closed"}
			for _, d := range facts.Registry {
				if d.Probe == p {
					delete(s.Facts, d.Key)
				}
			}
		}
	}
	return s
}

func render(t testing.TB, run *results.Run, opt HTMLOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, run, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func parse(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	return strings.Contains(" "+v+" ", " "+class+" ")
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func TestWriteHTMLTilesMatchSummary(t *testing.T) {
	cat := loadCatalog(t)
	run := fleet(t, cat, 60, false)
	for _, v := range catalog.VerdictOrder() {
		if run.Summary.ByVerdict[string(v)] == 0 {
			t.Fatalf("fixture has no %s host: %v", v, run.Summary.ByVerdict)
		}
	}
	doc := parse(t, render(t, run, HTMLOptions{Catalog: cat, Now: testAsOf}))
	got := map[string]string{}
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" && hasClass(n, "tile") {
			v, _ := attr(n, "data-verdict")
			walk(n, func(c *html.Node) {
				if c.Type == html.ElementNode && hasClass(c, "n") {
					got[v] = textOf(c)
				}
			})
		}
	})
	if len(got) != len(catalog.VerdictOrder()) {
		t.Errorf("tiles %v, want one per verdict", got)
	}
	for v, n := range run.Summary.ByVerdict {
		if got[v] != strconv.Itoa(n) {
			t.Errorf("tile %s shows %q, summary has %d", v, got[v], n)
		}
	}
}

// A verdict this version does not know still gets a tile, so the tiles add
// up to the host count.
func TestWriteHTMLUnknownVerdictTile(t *testing.T) {
	run := &results.Run{AsOf: "2026-11-26", Hosts: []results.Host{{Name: "a", Verdict: "FUTURE_VERDICT"}}}
	run.Summarize()
	page := render(t, run, HTMLOptions{Now: testAsOf})
	if !strings.Contains(page, `data-verdict="FUTURE_VERDICT"`) {
		t.Error("no tile for the unknown verdict")
	}
}

func TestWriteHTMLEscapesHostileStrings(t *testing.T) {
	cat := loadCatalog(t)
	run := fleet(t, cat, 40, true)
	run.Inventory = hostile[0]
	run.CredentialsDisabled = []string{`CORP\svc` + hostile[3]}
	run.Hosts[0].Checks[0].Evidence = append(run.Hosts[0].Checks[0].Evidence, catalog.EvidenceItem{Fact: "os.caption", Value: hostile[2]})
	run.Hosts[0].Checks[0].Remediation = hostile[4]
	run.Hosts[0].Checks[0].Source = hostile[1] // a tampered run document
	page := render(t, run, HTMLOptions{Catalog: cat, Previous: fleet(t, cat, 30, true), Now: testAsOf})

	// Markup: outside the JSON data no payload survives unescaped...
	markup, data := splitData(t, page)
	for _, raw := range []string{`<script>alert(1)`, `<img src=x`, `" onmouseover`, `</style><!--`} {
		if strings.Contains(markup, raw) {
			t.Errorf("page contains %q unescaped", raw)
		}
	}
	// ...and the JSON data cannot end its script element or break a script.
	for _, raw := range []string{"<", ">", "\u2028", "\u2029"} {
		if strings.Contains(data, raw) {
			t.Errorf("script data contains %q", raw)
		}
	}
	if n := strings.Count(strings.ToLower(page), "</script"); n != 3 {
		t.Errorf("%d </script tags, want 3 (table data, details, script)", n)
	}

	doc := parse(t, page)
	var scripts, texts []string
	walk(doc, func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			if n.Parent == nil || n.Parent.Data != "script" {
				texts = append(texts, n.Data)
			}
		case html.ElementNode:
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s> has event handler %s=%q", n.Data, a.Key, a.Val)
				}
				if a.Key == "href" && !strings.HasPrefix(a.Val, "#") && !strings.HasPrefix(a.Val, "https://") && a.Val != "data:," {
					t.Errorf("<%s href=%q>", n.Data, a.Val)
				}
			}
			if n.Data == "script" {
				typ, _ := attr(n, "type")
				scripts = append(scripts, typ)
			}
			if n.Data == "img" || n.Data == "iframe" || n.Data == "object" || n.Data == "embed" {
				t.Errorf("page has an <%s> element", n.Data)
			}
		}
	})
	if fmt.Sprint(scripts) != "[application/json application/json ]" {
		t.Errorf("script elements %q, want the two JSON data blocks and the inline script", scripts)
	}
	// The payloads are shown to the reader as text.
	all := strings.Join(texts, "")
	for _, s := range []string{hostile[0], hostile[1], hostile[2], hostile[4]} {
		if !strings.Contains(all, s) {
			t.Errorf("payload %q is not shown as text", s)
		}
	}
	// The check rows travel as data, verbatim, for the script to show as text.
	d := unpackDetails(t, page)
	if got := d.Hosts[0].Attention; len(got) == 0 && len(d.Hosts[0].Passed) == 0 {
		t.Fatal("host 0 has no checks in the details")
	}
	var ev []string
	for _, c := range append(d.Hosts[0].Attention, d.Hosts[0].Passed...) {
		if c.Source != "" && !strings.HasPrefix(c.Source, "https://learn.microsoft.com/") {
			t.Errorf("check %s source %q", c.ID, c.Source)
		}
		for _, e := range c.Evidence {
			ev = append(ev, e[1])
		}
	}
	if !slices.Contains(ev, hostile[2]) {
		t.Errorf("hostile evidence not carried verbatim: %q", ev)
	}
}

// splitData returns the page without the contents of its JSON script
// elements, and those contents.
func splitData(t *testing.T, page string) (markup, data string) {
	t.Helper()
	re := regexp.MustCompile(`(?s)(<script type="application/json" id="[a-z-]+">)(.*?)(</script>)`)
	var b strings.Builder
	markup = re.ReplaceAllStringFunc(page, func(m string) string {
		s := re.FindStringSubmatch(m)
		b.WriteString(s[2])
		return s[1] + s[3]
	})
	if b.Len() == 0 {
		t.Fatal("no JSON data in the page")
	}
	return markup, b.String()
}

// unpackDetails decodes the compressed per-host details the way the
// script does: JSON string, base64, gzip, JSON.
func unpackDetails(t *testing.T, page string) detailData {
	t.Helper()
	var b64 string
	walk(parse(t, page), func(n *html.Node) {
		if id, _ := attr(n, "id"); id == "report-details" {
			if err := json.Unmarshal([]byte(textOf(n)), &b64); err != nil {
				t.Fatalf("details are not a JSON string: %v", err)
			}
		}
	})
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var d detailData
	if err := json.NewDecoder(zr).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWriteHTMLDataRoundTrips(t *testing.T) {
	cat := loadCatalog(t)
	run := fleet(t, cat, 25, true)
	doc := parse(t, render(t, run, HTMLOptions{Catalog: cat, Now: testAsOf}))
	var data scriptData
	walk(doc, func(n *html.Node) {
		if id, _ := attr(n, "id"); id == "report-data" {
			if err := json.Unmarshal([]byte(textOf(n)), &data); err != nil {
				t.Fatalf("report data is not JSON: %v", err)
			}
		}
	})
	if len(data.Hosts) != len(run.Hosts) {
		t.Fatalf("data has %d hosts, run %d", len(data.Hosts), len(run.Hosts))
	}
	for i, h := range run.Hosts {
		d := data.Hosts[i]
		if d.Verdict != string(h.Verdict) || installedVersion(h) != d.Build || strings.Join(d.Tags, ",") != strings.Join(tagList(h.Tags), ",") {
			t.Errorf("host %d: data %+v does not match the run", i, d)
		}
	}
}

func TestWriteHTMLNoExternalResources(t *testing.T) {
	cat := loadCatalog(t)
	sources := map[string]bool{}
	for _, r := range cat.Requirements {
		sources[r.Source] = true
	}
	run := fleet(t, cat, 40, true)
	for i := range run.Hosts {
		for j := range run.Hosts[i].Checks {
			run.Hosts[i].Checks[j].Source = "https://evil.example/" // the run document is not trusted for links
		}
	}
	page := render(t, run, HTMLOptions{Catalog: cat, Now: testAsOf})
	links := 0
	walk(parse(t, page), func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			switch a.Key {
			case "src", "srcset", "action", "formaction", "poster", "data", "xlink:href", "background":
				t.Errorf("<%s %s=%q>: the page loads nothing", n.Data, a.Key, a.Val)
			case "href":
				switch {
				case strings.HasPrefix(a.Val, "#"):
				case n.Data == "link" && a.Val == "data:,":
				case n.Data == "a" && sources[a.Val] && strings.HasPrefix(a.Val, "https://"):
					links++
				default:
					t.Errorf("<%s href=%q>: only in-page anchors and catalog sources", n.Data, a.Val)
				}
			case "style":
				if strings.Contains(a.Val, "url(") {
					t.Errorf("<%s style=%q>", n.Data, a.Val)
				}
			}
		}
	})
	if links == 0 {
		t.Error("no catalog source link rendered")
	}
	for _, m := range regexp.MustCompile(`url\([^)]*\)|@import`).FindAllString(htmlCSS, -1) {
		if !strings.HasPrefix(m, "url(#") {
			t.Errorf("style sheet refers to %s", m)
		}
	}
}

func TestWriteHTMLSourceLinksHTTPSOnly(t *testing.T) {
	day := time.Date(2027, 1, 12, 0, 0, 0, 0, time.UTC)
	cat := &catalog.Catalog{Version: "t", Requirements: []catalog.Requirement{
		{ID: "a", Title: "A", Source: "javascript:alert(1)"},
		{ID: "b", Title: "B", Source: "http://learn.microsoft.com/b"},
		{ID: "c", Title: "C", Source: "https://learn.microsoft.com/c", Effective: day},
		{ID: "d", Title: "D", Source: "https://learn.microsoft.com/d x"},
	}}
	var checks []catalog.CheckResult
	for _, r := range cat.Requirements {
		checks = append(checks, catalog.CheckResult{ID: r.ID, Title: r.Title, Status: catalog.StatusFail, Source: r.Source})
	}
	run := &results.Run{AsOf: "2026-11-26", Hosts: []results.Host{{Name: "h", Verdict: catalog.VerdictUpgrade, Checks: checks}}}
	run.Summarize()
	page := render(t, run, HTMLOptions{Catalog: cat, Now: testAsOf})
	var hrefs []string
	walk(parse(t, page), func(n *html.Node) {
		if v, ok := attr(n, "href"); ok && n.Data == "a" && !strings.HasPrefix(v, "#") {
			hrefs = append(hrefs, v)
		}
	})
	if want := "[https://learn.microsoft.com/c]"; fmt.Sprint(hrefs) != want { // the requirement table
		t.Errorf("links %v, want %s", hrefs, want)
	}
	srcs := map[string]string{}
	for _, c := range unpackDetails(t, page).Hosts[0].Attention {
		srcs[c.ID] = c.Source
	}
	if want := "map[a: b: c:https://learn.microsoft.com/c d:]"; fmt.Sprint(srcs) != want { // the host's check rows
		t.Errorf("check sources %v, want %s", srcs, want)
	}
}

func TestWriteHTMLContentSecurityPolicy(t *testing.T) {
	page := render(t, &results.Run{AsOf: "2026-11-26"}, HTMLOptions{Now: testAsOf})
	doc := parse(t, page)
	var csp, script string
	walk(doc, func(n *html.Node) {
		if v, _ := attr(n, "http-equiv"); n.Data == "meta" && v == "Content-Security-Policy" {
			csp, _ = attr(n, "content")
		}
		if _, typed := attr(n, "type"); n.Data == "script" && !typed {
			script = textOf(n)
		}
	})
	sum := sha256.Sum256([]byte(script))
	for _, want := range []string{"default-src 'none'", "style-src 'unsafe-inline'", "img-src data:",
		"script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if script != htmlJS {
		t.Error("the inline script differs from the embedded one")
	}
}

func TestWriteHTMLDeadlines(t *testing.T) {
	cat := loadCatalog(t)
	run := fleet(t, cat, 40, false)
	ds := deadlines(run, cat, testAsOf)
	byDay := map[string]deadline{}
	for _, d := range ds {
		byDay[d.Day] = d
	}
	// The three dates of the brief, each with the hosts it hits.
	for _, day := range []string{"2026-09-30", "2027-01-13", "2027-04-07"} {
		d, ok := byDay[day]
		if !ok {
			t.Errorf("no deadline on %s: %+v", day, ds)
			continue
		}
		want := 0
		for _, h := range run.Hosts {
			for _, c := range h.Checks {
				if c.Due != nil && c.Due.Format(time.DateOnly) == day && hits(c) {
					want++
					break
				}
			}
		}
		if d.Hosts != want || want == 0 {
			t.Errorf("%s hits %d hosts, want %d (> 0)", day, d.Hosts, want)
		}
	}
	// A build end of support from the build table: 2.5.190.0 retires 2027-02-02.
	if d := byDay["2027-02-02"]; !strings.Contains(d.Title, "2.5.190.0") || d.Hosts == 0 {
		t.Errorf("2027-02-02: %+v", d)
	}
	page := render(t, run, HTMLOptions{Catalog: cat, Now: testAsOf})
	if !strings.Contains(page, "as of 2026-11-26") {
		t.Error("timeline has no as-of marker")
	}
}

// The "what changed" section groups diff.Compare's result: verdict moves
// by direction, check changes by kind and check, hosts linked to their cards.
func TestChangesView(t *testing.T) {
	check := func(id string, s catalog.Status) catalog.CheckResult {
		return catalog.CheckResult{ID: id, Title: id, Status: s, Severity: catalog.SeverityBlocker}
	}
	warning := check("eos", catalog.StatusFail)
	warning.Severity = catalog.SeverityWarning
	prev := &results.Run{Hosts: []results.Host{
		{Name: "up", Verdict: catalog.VerdictMigrate, Checks: []catalog.CheckResult{check("x", catalog.StatusFail)}},
		{Name: "DOWN", Verdict: catalog.VerdictOK, Checks: []catalog.CheckResult{check("x", catalog.StatusPass)}},
		{Name: "lost", Verdict: catalog.VerdictUpgrade},
		{Name: "gone", Verdict: catalog.VerdictOK},
		{Name: "dated", Verdict: catalog.VerdictMigrate, Checks: []catalog.CheckResult{warning, check("y", catalog.StatusFail)}},
	}}
	cur := &results.Run{Hosts: []results.Host{
		{Name: "up", Verdict: catalog.VerdictUpgrade, Checks: []catalog.CheckResult{check("x", catalog.StatusPass), check("new", catalog.StatusFail)}},
		{Name: "down", Verdict: catalog.VerdictFixThenUpgrade, Checks: []catalog.CheckResult{check("x", catalog.StatusFail)}},
		{Name: "lost", Verdict: catalog.VerdictUnreachable},
		{Name: "fresh", Verdict: catalog.VerdictOK},
		{Name: "dated", Verdict: catalog.VerdictMigrate, Checks: []catalog.CheckResult{check("eos", catalog.StatusFail), check("y", catalog.StatusFail)}},
	}}
	cur.Summarize()
	hosts, _, _ := hostViews(cur, nil)
	ref := func(i int) hostRef { return hostRef{ID: "host-" + strconv.Itoa(i), Name: cur.Hosts[i].Name} }
	got := newChangesView(diff.Compare(prev, cur), hosts)
	want := &changesView{
		Improved:     capList([]verdictChangeView{{ref(0), styleOf(catalog.VerdictMigrate), styleOf(catalog.VerdictUpgrade)}}),
		Regressed:    capList([]verdictChangeView{{ref(1), styleOf(catalog.VerdictOK), styleOf(catalog.VerdictFixThenUpgrade)}}),
		Other:        capList([]verdictChangeView{{ref(2), styleOf(catalog.VerdictUpgrade), styleOf(catalog.VerdictUnreachable)}}),
		New:          capList([]hostRef{ref(3)}),
		Gone:         capList([]string{"gone"}),
		NewlyFailing: []checkChangeView{{"new", "new", capList([]hostRef{ref(0)})}, {"x", "x", capList([]hostRef{ref(1)})}},
		NowBlocking:  []checkChangeView{{"eos", "eos", capList([]hostRef{ref(4)})}},
		NewlyPassing: []checkChangeView{{"x", "x", capList([]hostRef{ref(0)})}},
	}
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		t.Errorf("changes:\n got %s\nwant %s", g, w)
	}
	if got.Empty || !newChangesView(diff.Compare(cur, cur), hosts).Empty {
		t.Error("Empty is wrong")
	}
	page := render(t, cur, HTMLOptions{Previous: prev, Now: testAsOf})
	if !strings.Contains(page, `<span class="n">1</span> checks now blocking`) || !strings.Contains(page, "<h3>Checks now blocking</h3>") {
		t.Error("the page does not show the check that now blocks")
	}
}

func TestWriteHTMLChangesSection(t *testing.T) {
	cat := loadCatalog(t)
	cur := fleet(t, cat, 30, false)
	prev := fleet(t, cat, 30, false)
	prev.Hosts[0].Verdict = catalog.VerdictMigrate
	prev.Hosts = prev.Hosts[1:] // host 0 is new in cur
	page := render(t, cur, HTMLOptions{Catalog: cat, Previous: prev, Now: testAsOf})
	if !strings.Contains(page, `id="changes"`) || !strings.Contains(page, "New hosts") {
		t.Error("no what-changed section")
	}
	if strings.Contains(render(t, cur, HTMLOptions{Catalog: cat, Now: testAsOf}), `id="changes"`) {
		t.Error("what-changed section without a previous run")
	}
}

// A change that hits every host of a large fleet lists the first hosts and
// counts the rest, so the page stays small.
func TestWriteHTMLChangesListsAreCapped(t *testing.T) {
	prev, cur := &results.Run{AsOf: "2026-11-25"}, &results.Run{AsOf: "2026-11-26"}
	for i := range listMax + 50 {
		name := fmt.Sprintf("h%03d", i)
		prev.Hosts = append(prev.Hosts, results.Host{Name: name, Verdict: catalog.VerdictOK})
		cur.Hosts = append(cur.Hosts, results.Host{Name: name, Verdict: catalog.VerdictMigrate})
	}
	cur.Summarize()
	page := render(t, cur, HTMLOptions{Previous: prev, Now: testAsOf})
	if !strings.Contains(page, `<span class="n">150</span> regressed`) || !strings.Contains(page, "and 50 more") {
		t.Error("the regressed list is not counted in full and cut at the limit")
	}
	if n := strings.Count(page, `<li><a href="#host-`); n != listMax {
		t.Errorf("%d hosts listed, want %d", n, listMax)
	}
}

func TestWriteHTMLNoCatalog(t *testing.T) {
	run := fleet(t, loadCatalog(t), 20, false)
	page := render(t, run, HTMLOptions{Now: testAsOf})
	walk(parse(t, page), func(n *html.Node) {
		if v, ok := attr(n, "href"); ok && n.Data == "a" && !strings.HasPrefix(v, "#") {
			t.Errorf("link %q rendered without a catalog to vouch for it", v)
		}
	})
	for _, h := range unpackDetails(t, page).Hosts {
		for _, c := range append(h.Attention, h.Passed...) {
			if c.Source != "" {
				t.Errorf("check %s links to %q without a catalog", c.ID, c.Source)
			}
		}
	}
}

func TestWriteHTMLSizeFor2000Hosts(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 2,000 hosts")
	}
	cat := loadCatalog(t)
	run := fleet(t, cat, 2000, false)
	var n countWriter
	if err := WriteHTML(&n, run, HTMLOptions{Catalog: cat, Previous: fleet(t, cat, 1990, false), Now: testAsOf}); err != nil {
		t.Fatal(err)
	}
	const limit = 5 << 20
	t.Logf("2,000 hosts: %.2f MB", float64(n)/(1<<20))
	if n > limit {
		t.Errorf("2,000-host report is %d bytes, limit %d", n, limit)
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func BenchmarkWriteHTML2000(b *testing.B) {
	cat := loadCatalog(b)
	run := fleet(b, cat, 2000, false)
	prev := fleet(b, cat, 1990, false)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteHTML(io.Discard, run, HTMLOptions{Catalog: cat, Previous: prev, Now: testAsOf}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteHTMLLanguageMode: a host's details name its PowerShell language
// mode, so a reader sees a ConstrainedLanguage server as such.
func TestWriteHTMLLanguageMode(t *testing.T) {
	cat := loadCatalog(t)
	run := fleet(t, cat, 2, false)
	run.Hosts[1].Facts.Facts["ps.language_mode"] = facts.Fact{Status: facts.StatusOK, Value: "ConstrainedLanguage"}
	d := unpackDetails(t, render(t, run, HTMLOptions{Catalog: cat, Now: testAsOf}))
	if !strings.Contains(d.Hosts[1].Meta, "PowerShell ConstrainedLanguage") {
		t.Errorf("meta %q does not name the language mode", d.Hosts[1].Meta)
	}
}

func TestEllipsisCutsBetweenWords(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"probe aadconnect malformed", 12, "probe…"},
		{"probe aadconnect malformed", 17, "probe aadconnect…"},
		{"probe aadconnect malformed", 18, "probe aadconnect…"},
		{"averyveryverylongtoken", 10, "averyvery…"},   // no space to cut at
		{"a averyveryverylongtoken", 10, "a averyve…"}, // the space is too early
	} {
		if got := ellipsis(c.in, c.n); got != c.want {
			t.Errorf("ellipsis(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
