// Package progress shows how far a scan is: on a terminal a progress bar
// (done/total, ok / need action / could not check, rate, elapsed, estimate),
// elsewhere (a scheduler's log, a pipe) a plain status line every interval
// with no escape codes or carriage returns at all.
package progress

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"aadcready/results"
)

// DefaultInterval is how often the plain status line is printed.
const DefaultInterval = 30 * time.Second

// Options configure a Reporter.
type Options struct {
	// Enabled false turns every output off (--progress=false).
	Enabled bool
	// Terminal draws a bar; false prints plain lines (see IsTerminal).
	Terminal bool
	// Interval between plain lines (default DefaultInterval).
	Interval time.Duration
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// IsTerminal tells whether w is a terminal that can show a bar.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	return runtime.GOOS == "windows" || os.Getenv("TERM") != "dumb"
}

// Reporter follows one scan. Its methods are safe for concurrent use.
type Reporter struct {
	opt Options
	w   io.Writer

	mu                          sync.Mutex
	started                     bool
	finished                    bool
	start                       time.Time
	total, done                 int
	ok, needsAction, notChecked int
	cancelled                   int
	bar                         *progressbar.ProgressBar
	stop                        chan struct{}
	wg                          sync.WaitGroup
}

// New returns a Reporter writing to w (stderr).
func New(w io.Writer, opt Options) *Reporter {
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Reporter{opt: opt, w: w}
}

// Start begins following a scan of total hosts.
func (r *Reporter) Start(total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || !r.opt.Enabled {
		return
	}
	r.started, r.total, r.start = true, total, r.opt.Now()
	if total <= 0 {
		return
	}
	if r.opt.Terminal {
		r.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(r.w),
			progressbar.OptionSetDescription(r.counts()),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("hosts"),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(24),
			// ASCII, like the table: any console code page shows it.
			progressbar.OptionSetTheme(progressbar.Theme{Saucer: "=", SaucerHead: ">", SaucerPadding: " ", BarStart: "[", BarEnd: "]"}),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
		)
		return
	}
	r.stop = make(chan struct{})
	r.wg.Add(1)
	go r.tick()
}

func (r *Reporter) tick() {
	defer r.wg.Done()
	t := time.NewTicker(r.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.mu.Lock()
			if !r.finished {
				fmt.Fprintln(r.w, r.line(false))
			}
			r.mu.Unlock()
		}
	}
}

// HostDone counts a finished host.
func (r *Reporter) HostDone(h results.Host) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || r.finished {
		return
	}
	r.done++
	switch {
	case h.Cancelled():
		r.cancelled++ // cut short by an interrupt: not a finding
	case h.Verdict.CouldNotCheck():
		r.notChecked++
	case h.Verdict.NeedsAction():
		r.needsAction++
	default:
		r.ok++
	}
	if r.bar != nil {
		r.bar.Describe(r.counts())
		_ = r.bar.Add(1)
	}
}

// Finish ends the display: the bar is cleared (the table follows), or a
// last plain line says where the scan ended.
func (r *Reporter) Finish() {
	r.mu.Lock()
	if !r.started || r.finished {
		r.mu.Unlock()
		return
	}
	r.finished = true
	if r.bar != nil {
		_ = r.bar.Clear()
		_ = r.bar.Exit()
	} else if r.total > 0 {
		fmt.Fprintln(r.w, r.line(true))
	}
	stop := r.stop
	r.mu.Unlock()
	if stop != nil {
		close(stop)
		r.wg.Wait()
	}
}

// Line returns the current plain status line.
func (r *Reporter) Line() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.line(false)
}

func (r *Reporter) counts() string {
	s := fmt.Sprintf("ok %d, need action %d, could not check %d", r.ok, r.needsAction, r.notChecked)
	if r.cancelled > 0 {
		s += fmt.Sprintf(", cancelled %d", r.cancelled)
	}
	return s
}

func (r *Reporter) line(final bool) string {
	elapsed := r.opt.Now().Sub(r.start)
	s := fmt.Sprintf("progress: %d/%d hosts done (%s), elapsed %s", r.done, r.total, r.counts(), round(elapsed))
	if final || r.done == 0 || elapsed <= 0 {
		return s
	}
	perMin := float64(r.done) / elapsed.Minutes()
	left := time.Duration(float64(r.total-r.done) / perMin * float64(time.Minute))
	return fmt.Sprintf("%s, %.1f hosts/min, about %s left", s, perMin, round(left))
}

func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// LogWriter wraps the writer logs share with the display (stderr): each
// write takes the display's lock, so log lines and status lines never
// interleave, and on a terminal the bar is cleared before the log line and
// drawn again after it. slog handlers write one record per Write call.
func (r *Reporter) LogWriter(w io.Writer) io.Writer { return &logWriter{r: r, w: w} }

type logWriter struct {
	r *Reporter
	w io.Writer
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.r.mu.Lock()
	defer l.r.mu.Unlock()
	bar := l.r.bar != nil && !l.r.finished
	if bar {
		_ = l.r.bar.Clear()
	}
	n, err := l.w.Write(p)
	if bar {
		_ = l.r.bar.RenderBlank()
	}
	return n, err
}
