// Package faultmatrix scans one simulated fleet in which each host fails in
// its own way (docs/faults.md) and checks, host by host, the classification
// the README and docs/transport.md promise, that healthy hosts between them
// are untouched, and that every output the run is written to is complete
// and safe: the CSVs parse with one row per host, the table carries no
// terminal control bytes, the JSON is valid UTF-8 and reads back.
package faultmatrix

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"aadcready/catalog"
	"aadcready/facts"
	"aadcready/inventory"
	"aadcready/report"
	"aadcready/results"
	"aadcready/scanner"
	"aadcready/simulator"
	"aadcready/test/peer"
	"aadcready/wsman"
)

const (
	user     = `CONTOSO\svc-aadcready`
	password = "Fault-Matrix-Pw-1"
	// hostTimeout is the scan's per-host deadline: the hung, slow and
	// stuck hosts run into it; every other host finishes well within.
	hostTimeout = 6 * time.Second
)

// expect is what a host's result must show.
type expect struct {
	verdict catalog.Verdict
	class   wsman.Class   // the failure class; "" for a host that was scanned
	op      string        // the operation it failed in
	retried []wsman.Class // classes of the failed attempts, in order, that were retried
	facts   bool          // the os probe's facts were kept
	soap    int           // SOAP requests of the successful run, when it matters
}

// matrixHost is one row of docs/faults.md.
type matrixHost struct {
	host   simulator.Host
	https  bool
	expect expect
}

func fault(op simulator.Op, code uint32, times int) simulator.Fault {
	return simulator.Fault{Op: op, Code: code, Times: times}
}

// matrix is the fleet: every fault of docs/faults.md on a host of its own,
// with healthy hosts among them.
func matrix() []matrixHost {
	// A clean run: Create, Command, Send, Receive, Signal, Delete.
	ok := expect{verdict: catalog.VerdictOK, facts: true, soap: 6}
	okAfter := func(classes ...wsman.Class) expect { e := ok; e.retried = classes; return e }
	unreachable := func(class wsman.Class, op string, retried ...wsman.Class) expect {
		return expect{verdict: catalog.VerdictUnreachable, class: class, op: op, retried: retried}
	}
	incomplete := func(class wsman.Class, op string, facts bool, retried ...wsman.Class) expect {
		return expect{verdict: catalog.VerdictIncomplete, class: class, op: op, facts: facts, retried: retried}
	}
	h := func(name string) simulator.Host { return simulator.Host{Name: name} }
	with := func(name string, f func(*simulator.Host)) simulator.Host { x := h(name); f(&x); return x }
	return []matrixHost{
		{host: h("ok-1"), expect: ok},
		{host: with("refused", func(x *simulator.Host) { x.Behavior = simulator.BehaviorRefuse }),
			expect: unreachable(wsman.ClassRefused, "connect", wsman.ClassRefused, wsman.ClassRefused)},
		{host: with("reset-mid-response", func(x *simulator.Host) { x.Faults = []simulator.Fault{{Op: simulator.OpReceive, Reset: true}} }),
			expect: incomplete(wsman.ClassNetwork, "receive", false, wsman.ClassNetwork, wsman.ClassNetwork)},
		{host: with("never-answers", func(x *simulator.Host) { x.Behavior = simulator.BehaviorHang }),
			expect: unreachable(wsman.ClassDeadline, "create")},
		{host: with("slow-past-deadline", func(x *simulator.Host) { x.Latency = 4 * time.Second }),
			expect: unreachable(wsman.ClassDeadline, "create")},
		{host: with("powershell-past-deadline", func(x *simulator.Host) { x.PSRuntime = time.Minute }),
			expect: incomplete(wsman.ClassDeadline, "receive", false)},
		{host: with("tls-self-signed", func(x *simulator.Host) { x.HTTPS, x.TLSCert = true, simulator.TLSCertSelfSigned }), https: true,
			expect: unreachable(wsman.ClassTLSUnknownAuthority, "connect")},
		{host: with("tls-expired", func(x *simulator.Host) { x.HTTPS, x.TLSCert = true, simulator.TLSCertExpired }), https: true,
			expect: unreachable(wsman.ClassTLSHandshake, "connect")},
		{host: with("tls-wrong-name", func(x *simulator.Host) { x.HTTPS, x.TLSCert = true, simulator.TLSCertWrongName }), https: true,
			expect: unreachable(wsman.ClassTLSNameMismatch, "connect")},
		{host: with("https-ok", func(x *simulator.Host) { x.HTTPS = true }), https: true, expect: ok},
		{host: with("wrong-password", func(x *simulator.Host) { x.Users = []simulator.User{{Name: user, Password: "another"}} }),
			expect: unreachable(wsman.ClassAuthRefused, "connect")},
		{host: h("ok-2"), expect: ok},
		{host: with("operation-timeouts", func(x *simulator.Host) { x.Faults = []simulator.Fault{fault(simulator.OpReceive, 2150858793, 3)} }),
			expect: expect{verdict: catalog.VerdictOK, facts: true, soap: 9}}, // received three times more
		{host: with("shell-not-found-once", func(x *simulator.Host) { x.Faults = []simulator.Fault{fault(simulator.OpCommand, 2150858843, 1)} }),
			expect: okAfter(wsman.ClassShellNotFound)},
		{host: with("shell-not-found-always", func(x *simulator.Host) { x.Faults = []simulator.Fault{fault(simulator.OpCommand, 2150858843, 0)} }),
			expect: incomplete(wsman.ClassShellNotFound, "command", false, wsman.ClassShellNotFound, wsman.ClassShellNotFound)},
		{host: with("shell-vanishes", func(x *simulator.Host) {
			x.Faults = []simulator.Fault{{Op: simulator.OpReceive, Vanish: true, Times: 1}}
		}), expect: okAfter(wsman.ClassShellNotFound)},
		{host: with("quota-shells", func(x *simulator.Host) { x.Faults = []simulator.Fault{fault(simulator.OpCreate, 2150859173, 1)} }),
			expect: okAfter(wsman.ClassQuota)},
		{host: with("quota-operations", func(x *simulator.Host) { x.Faults = []simulator.Fault{fault(simulator.OpCommand, 2150859174, 1)} }),
			expect: okAfter(wsman.ClassQuota)},
		{host: with("command-too-long", func(x *simulator.Host) { x.Faults = []simulator.Fault{fault(simulator.OpCommand, 2147942606, 0)} }),
			expect: incomplete(wsman.ClassCommandTooLong, "command", false)},
		{host: with("schema-validation", func(x *simulator.Host) { x.Faults = []simulator.Fault{fault(simulator.OpSend, 2150858817, 0)} }),
			expect: incomplete(wsman.ClassWSManFault, "send", false)},
		{host: with("access-denied", func(x *simulator.Host) { x.Faults = []simulator.Fault{fault(simulator.OpCreate, 5, 0)} }),
			expect: unreachable(wsman.ClassAccessDenied, "create")},
		{host: with("truncated", func(x *simulator.Host) { x.TruncateOutput = 1500 }),
			expect: incomplete("", "", true)},
		{host: with("garbage", func(x *simulator.Host) { x.Behavior = simulator.BehaviorGarbage }),
			expect: incomplete("", "", false)},
		{host: with("hostile", func(x *simulator.Host) { x.Behavior = simulator.BehaviorHostile }),
			expect: incomplete("", "", true)},
		{host: with("ten-megabytes", func(x *simulator.Host) { x.NoiseOutput = 10 << 20 }),
			expect: incomplete(wsman.ClassOutputTooLarge, "receive", false)},
		{host: with("stuck-after-hardware", func(x *simulator.Host) { x.HangAfterProbe = "hardware" }),
			expect: incomplete(wsman.ClassDeadline, "receive", true)},
		{host: h("ok-3"), expect: ok},
	}
}

func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a fleet for several seconds")
	}
	hosts := matrix()
	fleet := &simulator.Fleet{Source: "fault-matrix", AddressBase: "127.30.0.1"}
	for _, m := range hosts {
		h := m.host
		if h.Users == nil {
			h.Users = []simulator.User{{Name: user, Password: password}}
		}
		fleet.Hosts = append(fleet.Hosts, h)
	}
	srv, err := simulator.Start(t.Context(), fleet, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Inventory{Path: "fault-matrix"}
	for _, m := range hosts {
		addr, httpsAddr := srv.Endpoint(m.host.Name)
		h := inventory.Host{Name: m.host.Name, Scheme: "http", Auth: "ntlm", Username: user, Secret: inventory.SecretRef{Env: "FAULT_MATRIX_PW"}}
		if m.https {
			addr, h.Scheme, h.CAFile = httpsAddr, "https", ca
		}
		ip, port, _ := net.SplitHostPort(addr)
		h.Address = ip
		h.Port, _ = strconv.Atoi(port)
		inv.Hosts = append(inv.Hosts, h)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	run := scanner.Scan(context.Background(), inv, scanner.Options{
		Concurrency: len(inv.Hosts),
		HostTimeout: hostTimeout,
		Backoff:     20 * time.Millisecond,
		AsOf:        time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Catalog:     cat,
		Password:    func(inventory.SecretRef) (string, error) { return password, nil },
	})

	if len(run.Hosts) != len(hosts) || run.Interrupted {
		t.Fatalf("%d results for %d hosts (interrupted %v)", len(run.Hosts), len(hosts), run.Interrupted)
	}
	for i, m := range hosts {
		t.Run(m.host.Name, func(t *testing.T) { checkHost(t, run.Hosts[i], m.expect) })
	}
	t.Run("outputs", func(t *testing.T) { checkOutputs(t, run, cat) })
	// The client cleans up after every failure (deadline, reset, fault,
	// output bound): Signal and Delete run before Scan returns.
	if open := srv.Stats().Total().ShellsOpen; open != 0 {
		t.Errorf("%d shells left open on the fleet", open)
	}
}

func checkHost(t *testing.T, h results.Host, want expect) {
	if h.Verdict != want.verdict {
		t.Errorf("verdict %s, want %s (reason %q, failure %+v)", h.Verdict, want.verdict, h.Reason, h.Failure)
	}
	switch {
	case want.class == "" && h.Failure != nil:
		t.Errorf("failure %+v, want none", h.Failure)
	case want.class != "" && (h.Failure == nil || h.Failure.Class != string(want.class) || h.Failure.Op != want.op):
		t.Errorf("failure %+v, want class %s during %s", h.Failure, want.class, want.op)
	}
	var retried []wsman.Class
	for _, a := range h.Attempts {
		if a.Retried {
			retried = append(retried, wsman.Class(a.Class))
		}
	}
	if !slices.Equal(retried, want.retried) {
		t.Errorf("retried attempts %v, want %v (attempts %+v)", retried, want.retried, h.Attempts)
	}
	if want.verdict == catalog.VerdictUnreachable {
		// Nothing was reached: no facts, no checks, the failure says why.
		if h.Facts != nil || len(h.Checks) > 0 || h.Reason == "" {
			t.Errorf("unreachable host with facts %v, %d checks, reason %q", h.Facts != nil, len(h.Checks), h.Reason)
		}
		return
	}
	if h.Facts == nil || len(h.Facts.Probes) != len(facts.Probes()) {
		t.Fatalf("probe statuses %v: a reached host gets one per probe", h.Facts)
	}
	if got := h.Facts.Probes["os"].Status == facts.ProbeOK; got != want.facts {
		t.Errorf("os probe %+v, want facts kept = %v", h.Facts.Probes["os"], want.facts)
	}
	if want.soap != 0 && h.Requests != want.soap {
		t.Errorf("%d SOAP requests, want %d", h.Requests, want.soap)
	}
	if want.verdict == catalog.VerdictOK {
		// A healthy or recovered host is scanned whole: every probe ended.
		for p, st := range h.Facts.Probes {
			if st.Status != facts.ProbeOK {
				t.Errorf("probe %s: %+v", p, st)
			}
		}
	}
}

// checkOutputs renders the run as the CLI does and checks each file.
func checkOutputs(t *testing.T, run *results.Run, cat *catalog.Catalog) {
	var hostsCSV, checksCSV, table, doc, page, prom bytes.Buffer
	for name, err := range map[string]error{
		"hosts CSV":  report.WriteHostsCSV(&hostsCSV, run),
		"checks CSV": report.WriteChecksCSV(&checksCSV, run),
		"table":      report.WriteTable(&table, run),
		"JSON":       run.WriteJSON(&doc),
		"HTML":       report.WriteHTML(&page, run, report.HTMLOptions{Catalog: cat, Now: time.Now()}),
		"metrics":    report.WritePrometheus(&prom, run),
	} {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	// Text files hold no control, C1 or bidi character a host planted
	// (`cat hosts.csv` must not retitle the terminal or reverse text): only
	// tabs, line ends and CR before LF (the CSVs' line ends).
	for name, b := range map[string][]byte{"hosts CSV": hostsCSV.Bytes(), "checks CSV": checksCSV.Bytes(), "HTML": page.Bytes()} {
		checkInert(t, name, b)
	}
	// The JSON is data and keeps them, escaped.
	if !bytes.Contains(doc.Bytes(), []byte(`\u001b]0;pwned`)) || !bytes.Contains(doc.Bytes(), []byte("\u202e")) {
		t.Error("the JSON does not keep the hostile host's reason exactly")
	}

	rows := readCSV(t, "hosts CSV", hostsCSV.Bytes())
	if len(rows) != len(run.Hosts)+1 {
		t.Fatalf("hosts CSV: %d rows for %d hosts", len(rows)-1, len(run.Hosts))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for i, h := range run.Hosts {
		if got := rows[i+1][col["host"]]; got != h.Name {
			t.Errorf("hosts CSV row %d is %q, want %q", i+1, got, h.Name)
		}
		if h.Name == "hostile" {
			if os := rows[i+1][col["os"]]; !strings.HasPrefix(os, `'=HYPERLINK(`) {
				t.Errorf("hostile os cell %q: a formula must be prefixed with '", os)
			}
		}
	}
	checks := readCSV(t, "checks CSV", checksCSV.Bytes())
	want := 1
	for _, h := range run.Hosts {
		want += len(h.Checks)
	}
	if len(checks) != want {
		t.Errorf("checks CSV: %d rows, want %d (a header and one per host and check)", len(checks), want)
	}
	for _, row := range checks {
		for _, cell := range row {
			if len(cell) > 0 && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("checks CSV cell %q starts a formula", cell)
			}
		}
	}

	if !utf8.Valid(table.Bytes()) {
		t.Error("the table is not valid UTF-8")
	}
	for i, c := range table.Bytes() {
		if c < 0x20 && c != '\n' || c == 0x7f {
			t.Fatalf("the table has control byte %#x at %d: %q", c, i, table.Bytes()[max(0, i-40):min(table.Len(), i+40)])
		}
	}
	for _, h := range run.Hosts {
		if !strings.Contains(table.String(), h.Name) {
			t.Errorf("the table lacks host %s", h.Name)
		}
	}
	// The hostile host's reason (its escapes neutralised) is in the table.
	if !strings.Contains(table.String(), "[2J") {
		t.Error("the hostile host's reason is not in the table: its escapes were not tested")
	}

	if !utf8.Valid(doc.Bytes()) || !json.Valid(doc.Bytes()) {
		t.Fatal("the JSON document is not valid UTF-8 JSON")
	}
	back, err := results.ReadJSON(bytes.NewReader(doc.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Hosts) != len(run.Hosts) {
		t.Fatalf("the JSON holds %d hosts, the run %d", len(back.Hosts), len(run.Hosts))
	}
	for _, h := range back.Hosts {
		if h.Name != "hostile" {
			continue
		}
		// The JSON is data: the hostile strings are kept as they came
		// (escaped by JSON), the broken ones as U+FFFD.
		if v, _ := h.Facts.Get("os.caption").Str(); !strings.HasPrefix(v, `=HYPERLINK(`) {
			t.Errorf("hostile os.caption in the JSON: %q", v)
		}
		if v, _ := h.Facts.Get("adsync.install_location").Str(); !strings.HasSuffix(v, "\uFFFD") {
			t.Errorf("hostile adsync.install_location in the JSON: %q", v)
		}
		if !strings.Contains(h.Stderr, "\uFFFD") {
			t.Errorf("hostile stderr in the JSON: %q, want its bytes that are not UTF-8 as U+FFFD", h.Stderr)
		}
	}

	checkMetrics(t, run, prom.Bytes())

	// The page escapes markup; the terminal escapes it passes through are
	// inert in a browser (docs/faults.md).
	if bytes.Contains(page.Bytes(), []byte("<script>alert")) || !bytes.Contains(page.Bytes(), []byte("&lt;script&gt;alert")) {
		t.Error("the HTML report does not escape the hostile host's markup")
	}
}

// checkInert fails when b holds a control, C1 or bidi character other
// than tab, LF and the CR of a CRLF, or is not UTF-8.
func checkInert(t *testing.T, name string, b []byte) {
	t.Helper()
	if !utf8.Valid(b) {
		t.Errorf("%s is not valid UTF-8", name)
	}
	s := string(b)
	for i, r := range s {
		bidi := unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
		crlf := r == '\r' && strings.HasPrefix(s[i+1:], "\n")
		if (unicode.IsControl(r) && r != '\t' && r != '\n' && !crlf) || bidi {
			t.Errorf("%s holds %U at byte %d: %q", name, r, i, s[max(0, i-30):min(len(s), i+30)])
			return
		}
	}
}

// checkMetrics: Prometheus accepts the metrics; each host has its one
// verdict, and the hostile host's planted OS caption (quotes, a formula)
// is its os label, escaped on the way out and intact on the way in.
func checkMetrics(t *testing.T, run *results.Run, exposition []byte) {
	peer.CheckMetrics(t, exposition)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(exposition))
	if err != nil {
		t.Fatalf("the metrics do not parse: %v", err)
	}
	labels := func(family, name string) map[string][]string {
		byHost := map[string][]string{}
		for _, m := range families[family].GetMetric() {
			var host, value string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "host":
					host = l.GetValue()
				case name:
					value = l.GetValue()
				}
			}
			byHost[host] = append(byHost[host], value)
		}
		return byHost
	}
	verdicts, oses := labels("aadcready_host_verdict", "verdict"), labels("aadcready_host_info", "os")
	for _, h := range run.Hosts {
		if got := verdicts[h.Name]; len(got) != 1 || got[0] != string(h.Verdict) {
			t.Errorf("metrics: host %q has verdicts %v, want [%s]", h.Name, got, h.Verdict)
		}
	}
	if len(verdicts) != len(run.Hosts) {
		t.Errorf("metrics: %d hosts, the run has %d", len(verdicts), len(run.Hosts))
	}
	const planted = `=HYPERLINK("http://attacker.example/","Microsoft Windows Server 2019 Datacenter")`
	if got := oses["hostile"]; len(got) != 1 || got[0] != planted {
		t.Errorf("metrics: the hostile host's os label is %q, want %q", got, planted)
	}
}

func readCSV(t *testing.T, name string, b []byte) [][]string {
	t.Helper()
	b, ok := bytes.CutPrefix(b, []byte("\uFEFF"))
	if !ok {
		t.Errorf("%s: no UTF-8 byte-order mark", name)
	}
	if !utf8.Valid(b) {
		t.Errorf("%s is not valid UTF-8", name)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%s does not parse: %v", name, err)
	}
	for i, r := range rows {
		if len(r) != len(rows[0]) {
			t.Fatalf("%s row %d has %d cells, the header %d", name, i, len(r), len(rows[0]))
		}
	}
	return rows
}
