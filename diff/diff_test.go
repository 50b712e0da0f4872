package diff

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/results"
)

// host builds a scored host: checks is "id=status,...".
func host(name string, v catalog.Verdict, checks string) results.Host {
	h := results.Host{Name: name, Verdict: v}
	if checks == "" {
		return h
	}
	for _, kv := range strings.Split(checks, ",") {
		id, st, _ := strings.Cut(kv, "=")
		h.Checks = append(h.Checks, catalog.CheckResult{ID: id, Title: "title of " + id, Status: catalog.Status(st), Severity: catalog.SeverityBlocker, Reason: "reason " + id})
	}
	return h
}

func unreachable(name, msg string) results.Host {
	return results.Host{Name: name, Verdict: catalog.VerdictUnreachable, Reason: msg,
		Failure: &results.Failure{Class: "connect", Message: msg}}
}

func run(day int, hosts ...results.Host) *results.Run {
	r := &results.Run{Schema: 1, Started: time.Date(2026, 11, day, 2, 0, 0, 0, time.UTC),
		AsOf: time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), CatalogVersion: "2026.11.26", Hosts: hosts}
	r.Summarize()
	return r
}

func TestCompareVerdicts(t *testing.T) {
	tests := []struct {
		from, to catalog.Verdict
		want     Direction
	}{
		{catalog.VerdictOK, catalog.VerdictUpgrade, Regressed},
		{catalog.VerdictUpgrade, catalog.VerdictMigrate, Regressed},
		{catalog.VerdictMigrate, catalog.VerdictFixThenUpgrade, Improved},
		{catalog.VerdictUpgrade, catalog.VerdictOK, Improved},
		// FIX is better than FIX_THEN_UPGRADE and worse than OK.
		{catalog.VerdictOK, catalog.VerdictFix, Regressed},
		{catalog.VerdictFix, catalog.VerdictOK, Improved},
		{catalog.VerdictFixThenUpgrade, catalog.VerdictFix, Improved},
		{catalog.VerdictFix, catalog.VerdictFixThenUpgrade, Regressed},
		{catalog.VerdictFix, catalog.VerdictIncomplete, Changed},
		{catalog.VerdictOK, catalog.VerdictIncomplete, Changed},
		{catalog.VerdictIncomplete, catalog.VerdictMigrate, Changed},
		{catalog.VerdictNotInstalled, catalog.VerdictOK, Changed},
		{catalog.VerdictOK, catalog.VerdictUnreachable, Changed},
	}
	for _, tt := range tests {
		res := Compare(run(25, host("h", tt.from, "")), run(26, host("h", tt.to, "")))
		if len(res.Verdicts) != 1 || res.Verdicts[0].Direction != tt.want {
			t.Errorf("%s -> %s: %+v, want %s", tt.from, tt.to, res.Verdicts, tt.want)
		}
		if got := res.Regressed(); got != (tt.want == Regressed) {
			t.Errorf("%s -> %s: Regressed() = %v", tt.from, tt.to, got)
		}
	}
}

func TestCompareChecks(t *testing.T) {
	tests := []struct {
		name     string
		from, to string // one check: status before, after ("" = absent)
		want     string // change kind or ""
	}{
		{"pass to fail", "pass", "fail", NewlyFailing},
		{"waiver expired", "waived", "fail", NewlyFailing},
		{"new check in the catalog", "", "fail", NewlyFailing},
		{"could not check, now fails", "could_not_check", "fail", NewlyFailing},
		{"not applicable, now fails", "not_applicable", "fail", NewlyFailing},
		{"fixed", "fail", "pass", NewlyPassing},
		{"no longer applies", "fail", "not_applicable", NewlyPassing},
		{"still failing", "fail", "fail", ""},
		{"fail to could not check", "fail", "could_not_check", ""},
		{"newly waived", "fail", "waived", ""},
		{"still passing", "pass", "pass", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := "other=pass"
			if tt.from != "" {
				before += ",c=" + tt.from
			}
			res := Compare(run(25, host("h", catalog.VerdictOK, before)), run(26, host("h", catalog.VerdictOK, "other=pass,c="+tt.to)))
			var got string
			if len(res.Checks) > 1 {
				t.Fatalf("changes: %+v", res.Checks)
			}
			if len(res.Checks) == 1 {
				c := res.Checks[0]
				got = c.Change
				if c.Host != "h" || c.Check != "c" || string(c.From) != tt.from || string(c.To) != tt.to {
					t.Errorf("change = %+v", c)
				}
			}
			if got != tt.want {
				t.Errorf("change = %q, want %q", got, tt.want)
			}
			if res.Regressed() != (tt.want == NewlyFailing) {
				t.Errorf("Regressed() = %v", res.Regressed())
			}
		})
	}
}

// A failing dated check that was a warning before its date and blocks
// after it explains a verdict that moved with the calendar.
func TestCompareNowBlocking(t *testing.T) {
	a := run(25, host("h", catalog.VerdictUpgrade, "eos=fail,other=fail"))
	a.Hosts[0].Checks[0].Severity = catalog.SeverityWarning
	b := run(26, host("h", catalog.VerdictMigrate, "eos=fail,other=fail"))
	res := Compare(a, b)
	if len(res.Checks) != 1 || res.Checks[0].Check != "eos" || res.Checks[0].Change != NowBlocking || res.Checks[0].Reason != "reason eos" {
		t.Errorf("Checks = %+v", res.Checks)
	}
	if !res.Regressed() || res.Counts.NowBlocking != 1 || res.Counts.Regressed != 1 {
		t.Errorf("Counts = %+v", res.Counts)
	}
	// A check that blocks in both runs did not change.
	if c := Compare(b, b); !c.Empty() {
		t.Errorf("same run: %+v", c)
	}
}

func TestCompareHosts(t *testing.T) {
	a := run(25,
		host("aadc01", catalog.VerdictOK, "x=pass"),
		host("AADC02", catalog.VerdictUpgrade, "x=fail"),
		host("aadc03", catalog.VerdictOK, "x=pass"),
		unreachable("aadc04", "refused"),
		host("aadc05", catalog.VerdictMigrate, "x=fail"),
	)
	b := run(26,
		host("aadc02", catalog.VerdictOK, "x=pass"), // same host, other case
		unreachable("aadc03", "dial tcp: i/o timeout"),
		host("aadc04", catalog.VerdictMigrate, "x=fail"), // reached again: no check changes
		host("aadc01", catalog.VerdictOK, "x=pass"),
		host("aadc06", catalog.VerdictOK, "x=pass"),
	)
	res := Compare(a, b)
	wantVerdicts := []VerdictChange{
		{"aadc02", catalog.VerdictUpgrade, catalog.VerdictOK, Improved},
		{"aadc03", catalog.VerdictOK, catalog.VerdictUnreachable, Changed},
		{"aadc04", catalog.VerdictUnreachable, catalog.VerdictMigrate, Changed},
	}
	if !reflect.DeepEqual(res.Verdicts, wantVerdicts) {
		t.Errorf("Verdicts = %+v\nwant %+v", res.Verdicts, wantVerdicts)
	}
	if len(res.Checks) != 1 || res.Checks[0].Host != "aadc02" || res.Checks[0].Change != NewlyPassing {
		t.Errorf("Checks = %+v", res.Checks)
	}
	if !reflect.DeepEqual(res.Added, []HostRef{{"aadc06", catalog.VerdictOK}}) || !reflect.DeepEqual(res.Gone, []HostRef{{"aadc05", catalog.VerdictMigrate}}) {
		t.Errorf("Added = %+v, Gone = %+v", res.Added, res.Gone)
	}
	if !reflect.DeepEqual(res.Unreachable, []Unreachable{{"aadc03", catalog.VerdictOK, "connect", "dial tcp: i/o timeout"}}) {
		t.Errorf("Unreachable = %+v", res.Unreachable)
	}
	if res.Regressed() {
		t.Error("nothing moved up the ladder and no check newly fails, yet Regressed()")
	}
	want := Counts{Improved: 1, Changed: 2, NewlyPassing: 1, Added: 1, Gone: 1, Unreachable: 1}
	if res.Counts != want {
		t.Errorf("Counts = %+v, want %+v", res.Counts, want)
	}

	if !Compare(a, a).Empty() {
		t.Error("a run compared with itself has changes")
	}
	r := Restrict(a, []string{"AADC04", "aadc01"})
	if len(r.Hosts) != 2 || r.Hosts[0].Name != "aadc01" || r.Hosts[1].Name != "aadc04" || r.Summary.Total != 2 || len(a.Hosts) != 5 {
		t.Errorf("Restrict = %+v", r.Hosts)
	}
}

// Rows list the changes host by host in B's order, the verdict before its
// checks, added and gone hosts last; they survive a JSON round trip (a
// diff.json read back).
func TestRowsAndJSON(t *testing.T) {
	a := run(25,
		host("aadc01", catalog.VerdictOK, "tls12-dotnet=pass"),
		host("aadc03", catalog.VerdictOK, "x=pass"),
		host("gone01", catalog.VerdictMigrate, "x=fail"),
	)
	b := run(26, host("aadc01", catalog.VerdictFixThenUpgrade, "tls12-dotnet=fail"),
		unreachable("aadc03", "connection refused"), host("new01", catalog.VerdictOK, "x=pass"))
	res := Compare(a, b)
	want := []Row{
		{Host: "aadc01", Change: "verdict regressed", Before: "OK", Now: "FIX_THEN_UPGRADE"},
		{Host: "aadc01", Change: "check newly failing", Before: "pass", Now: "fail", Check: "tls12-dotnet", Detail: "reason tls12-dotnet"},
		{Host: "aadc03", Change: "became unreachable", Before: "OK", Now: "UNREACHABLE", Detail: "connection refused"},
		{Host: "new01", Change: "added to the inventory", Now: "OK"},
		{Host: "gone01", Change: "gone from the inventory", Before: "MIGRATE"},
	}
	if got := res.Rows(); !reflect.DeepEqual(got, want) {
		t.Errorf("Rows:\n got %+v\nwant %+v", got, want)
	}
	if got, want := res.Summary(), "1 regressed, 0 improved, 1 changed to or from could-not-check; checks: 1 newly failing, 0 now blocking, 0 newly passing; hosts: 1 added, 1 gone, 1 became unreachable"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}

	var j bytes.Buffer
	if err := res.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(j.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !back.Regressed() || back.Counts != res.Counts || len(back.Rows()) != len(res.Rows()) {
		t.Errorf("JSON round trip lost data: %+v", back)
	}
}
