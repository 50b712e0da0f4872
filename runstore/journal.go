package runstore

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"aadcready/atomicfile"
	"aadcready/results"
	"aadcready/safefile"
)

// journalFile holds one finished host per line while a run is written. A
// scan killed outright (SIGKILL, OOM, a reboot of the jump box) never gets
// to save run.json; its staging folder keeps the journal, and `scan
// --resume` takes the finished hosts from it instead of scanning them again.
const journalFile = "hosts.jsonl"

// journal appends finished hosts to the staging folder's journal. Each line
// is written with one write call, so a kill leaves at worst a torn last
// line, which Resumable skips.
type journal struct {
	mu  sync.Mutex
	f   *os.File
	err error
}

// Record appends h to the journal (hosts cut short by an interrupt are not
// finished and are left out). The first write error is kept and returned
// by Close; the scan goes on either way.
func (w *Writer) Record(h results.Host) {
	if h.Cancelled() {
		return
	}
	line, err := json.Marshal(h)
	if err != nil {
		return
	}
	j := &w.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return
	}
	if j.f == nil {
		if j.f, j.err = os.OpenFile(w.pending.Path(journalFile), os.O_CREATE|os.O_EXCL|os.O_APPEND|os.O_WRONLY|safefile.NoFollow, atomicfile.FilePerm(0o640)); j.err != nil {
			return
		}
	}
	_, j.err = j.f.Write(append(line, '\n'))
}

// closeJournal closes and removes the journal: once run.json is written it
// says nothing more (and an open file would block the folder's rename on
// Windows).
func (w *Writer) closeJournal() error {
	j := &w.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		if err := j.f.Close(); err != nil && j.err == nil {
			j.err = err
		}
		j.f = nil
	}
	j.err = errors.Join(j.err, ignoreNotExist(os.Remove(w.pending.Path(journalFile))))
	return j.err
}

// Resume is what --resume can take over.
type Resume struct {
	Hosts   []results.Host // the finished hosts of the killed scan
	From    string         // its staging folder's name ("" when there is nothing to take over)
	Started time.Time      // when it started
	// Why says, when nothing is taken over, why not.
	Why string
}

// Resumable returns the finished hosts of the newest scan of this store
// that was killed before it saved its run, and remembers that scan's
// staging folder so that Save removes it once this run holds its hosts.
// Only the newest killed scan counts, and only when it is newer than the
// newest saved run: results older than a complete run are stale (a killed
// scan A, then a complete B, then a scan C killed before any host
// finished: C is what --resume would resume, and it has nothing). Nothing
// to take over is not an error; Why says why.
func (w *Writer) Resumable() (Resume, error) {
	stale, err := w.store.Stale()
	if err != nil {
		return Resume{}, err
	}
	var newest string
	var started time.Time
	for _, dir := range stale {
		if dir == w.pending.Dir() {
			continue
		}
		t, ok := stagingStart(filepath.Base(dir))
		if ok && (newest == "" || t.After(started) || t.Equal(started) && dir > newest) {
			newest, started = dir, t
		}
	}
	if newest == "" {
		return Resume{Why: "no killed scan to resume in this run folder"}, nil
	}
	name := filepath.Base(newest)
	runs, err := w.store.Runs()
	if err != nil {
		return Resume{}, err
	}
	if len(runs) > 0 && !started.After(runs[0].Started) {
		return Resume{Why: fmt.Sprintf("the newest killed scan (%s, started %s) is not newer than the last saved run %s: its results are stale",
			name, started.Format(time.RFC3339), runs[0].Name)}, nil
	}
	hosts, err := readJournal(filepath.Join(newest, journalFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Resume{Why: fmt.Sprintf("the newest killed scan (%s, started %s) finished no host", name, started.Format(time.RFC3339))}, nil
	}
	if err != nil {
		return Resume{}, err
	}
	w.resumedFrom = newest
	return Resume{Hosts: hosts, From: name, Started: started}, nil
}

// stagingStart is the start of the scan that wrote a staging folder.
func stagingStart(name string) (time.Time, bool) {
	if !stagingName.MatchString(name) {
		return time.Time{}, false
	}
	t, err := time.Parse(timeLayout, strings.TrimPrefix(name, stagingPre)[:len(timeLayout)])
	return t, err == nil
}

// readJournal reads the finished hosts of a journal; a torn last line (the
// process was killed while writing it) is skipped. When a host appears
// twice (a resumed scan records the hosts it took over) the last line wins.
func readJournal(path string) ([]results.Host, error) {
	// Never through a link, never from a pipe: the journal is ours, and
	// anything else in its place is not read.
	f, _, err := safefile.OpenOwn(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var hosts []results.Host
	index := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		var h results.Host
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			if !sc.Scan() { // only the last line may be torn
				break
			}
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		key := strings.ToLower(h.Name)
		if i, ok := index[key]; ok {
			hosts[i] = h
			continue
		}
		index[key] = len(hosts)
		hosts = append(hosts, h)
	}
	return hosts, sc.Err()
}

func ignoreNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
