package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/results"
)

// clock is a settable clock for the status line's rate and estimate.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a bytes.Buffer safe for the ticker goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var verdicts = []catalog.Verdict{catalog.VerdictOK, catalog.VerdictUpgrade, catalog.VerdictUnreachable, catalog.VerdictMigrate, catalog.VerdictNotInstalled}

func TestStatusLine(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)}
	var out syncBuffer
	r := New(&out, Options{Enabled: true, Terminal: false, Interval: time.Hour, Now: c.now})
	r.Start(10)
	if got, want := r.Line(), "progress: 0/10 hosts done (ok 0, need action 0, could not check 0), elapsed 0s"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
	for _, v := range verdicts {
		c.add(12 * time.Second)
		r.HostDone(results.Host{Verdict: v})
	}
	// 5 hosts in 60s: 5 hosts/min, 5 left: about 1m.
	want := "progress: 5/10 hosts done (ok 1, need action 2, could not check 2), elapsed 1m0s, 5.0 hosts/min, about 1m0s left"
	if got := r.Line(); got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
	// A log line goes through the display's writer unchanged.
	lw := r.LogWriter(&out)
	if _, err := lw.Write([]byte("level=INFO msg=\"host scanned\"\n")); err != nil {
		t.Fatal(err)
	}
	r.HostDone(results.Host{Verdict: catalog.VerdictIncomplete, Failure: &results.Failure{Class: "cancelled"}})
	r.Finish()
	r.Finish()                                           // idempotent
	r.HostDone(results.Host{Verdict: catalog.VerdictOK}) // after Finish: ignored
	got := out.String()
	wantOut := "level=INFO msg=\"host scanned\"\n" +
		"progress: 6/10 hosts done (ok 1, need action 2, could not check 2, cancelled 1), elapsed 1m0s\n"
	if got != wantOut {
		t.Errorf("output:\n%q\nwant:\n%q", got, wantOut)
	}
}

// The ticker prints plain lines without escape codes or carriage returns.
// The interval is short so that lines appear; the test asserts what they
// look like, never how many there are.
func TestPlainLinesHaveNoEscapes(t *testing.T) {
	var out syncBuffer
	r := New(&out, Options{Enabled: true, Terminal: false, Interval: time.Millisecond})
	r.Start(len(verdicts))
	for _, v := range verdicts {
		r.HostDone(results.Host{Verdict: v})
		time.Sleep(2 * time.Millisecond)
	}
	r.Finish()
	got := out.String()
	if strings.ContainsAny(got, "\x1b\r") {
		t.Errorf("escape codes or carriage returns in plain output: %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "progress: ") {
			t.Errorf("unexpected line %q", l)
		}
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "progress: 5/5 hosts done (ok 1, need action 2, could not check 2), elapsed ") || strings.Contains(last, "left") {
		t.Errorf("last line %q", last)
	}
}

// On a terminal the bar redraws in place; a log line clears it first.
func TestBar(t *testing.T) {
	var out syncBuffer
	r := New(&out, Options{Enabled: true, Terminal: true})
	r.Start(3)
	r.HostDone(results.Host{Verdict: catalog.VerdictOK})
	lw := r.LogWriter(&out)
	lw.Write([]byte("a log line\n"))
	r.HostDone(results.Host{Verdict: catalog.VerdictMigrate})
	r.Finish()
	got := out.String()
	for _, want := range []string{"ok 1, need action 0, could not check 0", "ok 1, need action 1, could not check 0", "1/3", "2/3", "\r", "a log line\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar output lacks %q: %q", want, got)
		}
	}
}

func TestDisabled(t *testing.T) {
	var out syncBuffer
	r := New(&out, Options{Enabled: false, Interval: time.Millisecond})
	r.Start(3)
	r.HostDone(results.Host{Verdict: catalog.VerdictOK})
	time.Sleep(5 * time.Millisecond)
	r.LogWriter(&out).Write([]byte("log\n"))
	r.Finish()
	if got := out.String(); got != "log\n" {
		t.Errorf("disabled progress wrote %q", got)
	}
	if IsTerminal(&out) {
		t.Error("a buffer is not a terminal")
	}
}
