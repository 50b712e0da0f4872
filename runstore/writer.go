package runstore

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"aadcready/atomicfile"
	"aadcready/diff"
	"aadcready/report"
	"aadcready/results"
	"aadcready/safefile"
)

// Files of a run folder besides RunFile (docs/runs.md).
const (
	hostsFile  = "hosts.csv"
	checksFile = "checks.csv"
	htmlFile   = "report.html"
	diffFile   = "diff.json"
	logFile    = "scan.log"
	promFile   = "prom.txt" // the metrics of --prom (docs/monitoring.md)
)

// Writer writes one run into the store (scan --out). It holds the store's
// lock from Create to Close, so no other scan writes to the store meanwhile
// and "latest" cannot move under it.
type Writer struct {
	store     *Store
	lock      *Lock
	pending   *Pending
	log       *closingFile
	committed bool
	keep      bool // keep the staging folder if not committed (Save failed)
	journal   journal
	// resumedFrom is the staging folder of a killed scan whose hosts this
	// run took over (Resumable); Save removes it.
	resumedFrom string
}

// Create takes the store's lock and opens the staging folder of a run
// starting at now; rescan marks a partial run (scan --only). When another
// writer holds the lock the error is a *BusyError.
func (s *Store) Create(now time.Time, rescan bool) (*Writer, error) {
	lock, err := s.Lock(now)
	if err != nil {
		return nil, err
	}
	pending, err := s.Begin(now, rescan)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	return &Writer{store: s, lock: lock, pending: pending}, nil
}

// LogHandler opens the run's scan.log: JSON lines at level. It is written
// under a temporary name; Save gives it its own.
func (w *Writer) LogHandler(level slog.Leveler) (slog.Handler, error) {
	f, err := os.OpenFile(w.pending.Path("."+logFile+".tmp"), os.O_CREATE|os.O_EXCL|os.O_WRONLY|safefile.NoFollow, atomicfile.FilePerm(0o640))
	if err != nil {
		return nil, err
	}
	w.log = &closingFile{f: f}
	return slog.NewJSONHandler(w.log, &slog.HandlerOptions{Level: level}), nil
}

// Name is the folder name the run will be saved under (see Pending.Name),
// for what names the run before Save (diff.json, the changes printed).
func (w *Writer) Name(started time.Time) (string, error) { return w.pending.Name(started) }

// Save writes the run's files into the staging folder (run.json, hosts.csv,
// checks.csv, report.html rendered with html, and diff.json when changes is
// not nil), moves the folder into place, points latest at it (not for a
// rescan) and prunes by policy. It returns the run folder's path.
func (w *Writer) Save(run *results.Run, changes *diff.Result, html report.HTMLOptions, policy Policy, logger *slog.Logger) (string, error) {
	// From here on a failure keeps the staging folder: run.json may be in
	// it, and a scan of a whole fleet is worth recovering by hand.
	w.keep = true
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("%w (the run's files so far are in %s)", err, w.pending.Dir())
	}
	for _, f := range []struct {
		name   string
		format report.Format
	}{{RunFile, report.FormatJSON}, {hostsFile, report.FormatCSV}, {checksFile, report.FormatChecksCSV},
		{promFile, report.FormatProm}} {
		if err := report.WriteFile(w.pending.Path(f.name), f.format, run); err != nil {
			return fail(err)
		}
	}
	if changes != nil {
		err := atomicfile.Write(w.pending.Path(diffFile), 0o644, func(out io.Writer) error { return changes.WriteJSON(out) })
		if err != nil {
			return fail(err)
		}
	}
	// The page is for people; the run is in run.json. A renderer failure
	// is reported, not allowed to cost the night's run.
	if err := report.WriteHTMLFile(w.pending.Path(htmlFile), run, html); err != nil {
		logger.Error("the HTML report could not be written; re-render it with aadcready report RUN --html FILE", "err", err)
	}
	if err := w.closeJournal(); err != nil {
		logger.Warn("the host journal could not be written; a killed scan could not have been resumed", "err", err)
	}
	logger.Info("run folder written")
	if w.log != nil {
		if err := w.log.Close(); err != nil {
			return fail(fmt.Errorf("writing %s: %w", logFile, err))
		}
		if err := os.Rename(w.pending.Path("."+logFile+".tmp"), w.pending.Path(logFile)); err != nil {
			return fail(fmt.Errorf("writing %s: %w", logFile, err))
		}
	}
	name, err := w.pending.Commit(run.Started)
	if err != nil {
		return fail(err)
	}
	w.committed = true
	if w.resumedFrom != "" {
		if err := os.RemoveAll(w.resumedFrom); err != nil {
			logger.Warn("removing the resumed scan's staging folder", "folder", w.resumedFrom, "err", err)
		}
	}
	path := filepath.Join(w.store.Dir, name)
	if !w.pending.rescan {
		if err := w.store.SetLatest(name); err != nil {
			return path, err
		}
	}
	if policy.Active() && !run.Interrupted {
		policy.Now = time.Now()
		removed, err := w.store.Prune(policy, name)
		for _, r := range removed {
			logger.Info("pruned old run", "folder", r)
		}
		if err != nil {
			logger.Warn("pruning old runs", "err", err)
		}
	}
	return path, nil
}

// Close releases the lock. A staging folder that was not committed is
// removed when nothing was saved into it (an error before the scan), and
// kept when saving the run failed.
func (w *Writer) Close() {
	if w.log != nil {
		w.log.Close()
	}
	if w.journal.f != nil {
		w.journal.f.Close()
	}
	if !w.committed && !w.keep {
		w.pending.Abort()
	}
	w.lock.Unlock()
}

// closingFile is scan.log: writes after Close (late log lines from
// cleanup) are dropped instead of failing.
type closingFile struct {
	mu     sync.Mutex
	f      *os.File
	closed bool
}

func (c *closingFile) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return len(p), nil
	}
	return c.f.Write(p)
}

func (c *closingFile) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.f.Sync(); err != nil {
		c.f.Close()
		return err
	}
	return c.f.Close()
}
