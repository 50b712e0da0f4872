// Package runstore keeps the runs of a nightly job in one folder (--out DIR):
// one sub-folder per run, named after the run's UTC start
// (DIR/20261126T020000Z/), a "latest" pointer to the newest full run, pruning
// by count and age, and a lock so that two runs never write at once.
//
// A run is written into a hidden staging folder (DIR/.tmp-<name>-*/) and
// renamed into place when complete, so a run folder either holds a whole run
// or does not exist: a reader never sees half a run, even when the writer was
// killed. The pointer is replaced atomically: on Unix "latest" is a symbolic
// link to the folder name, created under a temporary name and renamed over
// the old one; on Windows (where symbolic links need a privilege), or on a
// file system without symbolic links, "latest" is a small text file holding
// the folder name, written to a temporary name and renamed. Readers accept
// both forms. docs/runs.md describes the layout.
//
// A Writer is one scan writing its run (scan --out): it takes the lock,
// renders the run's files into the staging folder, commits it, moves
// "latest" and prunes. Rescan selects the hosts of a saved run that scan
// --only rescans.
package runstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"aadcready/atomicfile"
	"aadcready/results"
	"aadcready/safefile"
)

// File names inside a run folder and the store.
const (
	RunFile    = "run.json"
	LatestName = "latest"
	LockName   = ".lock"
	stagingPre = ".tmp-"
	timeLayout = "20060102T150405Z"
	// RescanSuffix marks the folder of a partial run (scan --only): it
	// never becomes "latest".
	RescanSuffix = "-rescan"
)

// runName matches a run folder name: the UTC start, an optional counter
// when two runs started in the same second, and the rescan mark.
var runName = regexp.MustCompile(`^(\d{8}T\d{6}Z)(?:-(\d{1,4}))?(-rescan)?$`)

// stagingName matches the staging folder of a run being written (or of a
// writer that was killed).
var stagingName = regexp.MustCompile(`^\.tmp-\d{8}T\d{6}Z(?:-rescan)?-\d+$`)

// FolderName is the folder name of a run started at t.
func FolderName(t time.Time, rescan bool) string {
	name := t.UTC().Format(timeLayout)
	if rescan {
		name += RescanSuffix
	}
	return name
}

// Info describes one run folder.
type Info struct {
	Name    string    // folder name
	Path    string    // DIR/name
	Started time.Time // from the name (second precision)
	Seq     int       // same-second counter (0 for the first run of that second)
	Rescan  bool
}

// ParseName tells whether name is a run folder name and what it says.
func ParseName(name string) (Info, bool) {
	m := runName.FindStringSubmatch(name)
	if m == nil {
		return Info{}, false
	}
	t, err := time.Parse(timeLayout, m[1])
	if err != nil {
		return Info{}, false
	}
	seq := 0
	if m[2] != "" {
		seq, _ = strconv.Atoi(m[2])
	}
	return Info{Name: name, Started: t, Seq: seq, Rescan: m[3] != ""}, true
}

// Store is a folder of runs.
type Store struct {
	Dir string
}

// Open returns the store in dir, creating the folder (readable by its owner
// only, or its group with the group output mode: run documents describe
// Tier-0 servers) if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("no run folder given")
	}
	if err := atomicfile.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("run folder %s is not a directory", dir)
	}
	return &Store{Dir: dir}, nil
}

// Runs lists the complete run folders of the store, newest first. Only
// real directories (not links) with a run folder name and a run.json are
// runs; anything else in the folder is ignored.
func (s *Store) Runs() ([]Info, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, e := range entries {
		info, ok := ParseName(e.Name())
		if !ok || e.Type()&os.ModeType != os.ModeDir {
			continue
		}
		info.Path = filepath.Join(s.Dir, info.Name)
		if fi, err := os.Lstat(filepath.Join(info.Path, RunFile)); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b Info) int {
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		if a.Seq != b.Seq {
			return b.Seq - a.Seq
		}
		return strings.Compare(b.Name, a.Name)
	})
	return out, nil
}

// ErrNoLatest means the store has no "latest" pointer yet (no run was
// written to it).
var ErrNoLatest = errors.New("no run has been written there yet")

// Latest returns the path of the run folder "latest" points at, in either
// form (symbolic link or text file).
func (s *Store) Latest() (string, error) {
	return resolveLatest(filepath.Join(s.Dir, LatestName))
}

// resolveLatest reads a "latest" pointer at path.
func resolveLatest(path string) (string, error) {
	dir := filepath.Dir(path)
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", dir, ErrNoLatest)
	}
	if err != nil {
		return "", err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		return target, nil
	case fi.Mode().IsRegular():
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, 256))
		if err != nil {
			return "", err
		}
		name := strings.TrimSpace(strings.TrimPrefix(string(data), "\uFEFF"))
		// Only a bare run folder name: a pointer file must not send a
		// reader (or the pruner) anywhere else.
		if _, ok := ParseName(name); !ok {
			return "", fmt.Errorf("%s does not name a run folder (it holds %q)", path, name)
		}
		return filepath.Join(dir, name), nil
	}
	return "", fmt.Errorf("%s is neither a link nor a file naming the latest run", path)
}

// SetLatest points "latest" at the run folder name, replacing the old
// pointer atomically. On Unix it is a relative symbolic link (so the
// folder can be moved or mounted elsewhere); on Windows, or where the file
// system refuses symbolic links (an SMB share), a text file with the name.
func (s *Store) SetLatest(name string) error {
	if _, ok := ParseName(name); !ok {
		return fmt.Errorf("latest: %q is not a run folder name", name)
	}
	latest := filepath.Join(s.Dir, LatestName)
	if runtime.GOOS != "windows" {
		tmp := filepath.Join(s.Dir, fmt.Sprintf(".%s.tmp-%d", LatestName, os.Getpid()))
		_ = os.Remove(tmp) // left by a killed writer with our pid
		if err := os.Symlink(name, tmp); err == nil {
			if err := os.Rename(tmp, latest); err != nil {
				os.Remove(tmp)
				return fmt.Errorf("latest: %w", err)
			}
			return nil
		}
	}
	return atomicfile.WriteBytes(latest, 0o644, []byte(name+"\n"))
}

// Pending is a run being written: files go into its staging folder, and
// Commit renames the folder into place.
type Pending struct {
	store   *Store
	dir     string
	rescan  bool
	started time.Time
	name    string // chosen by Name
}

// Begin creates the staging folder of a run starting now.
func (s *Store) Begin(started time.Time, rescan bool) (*Pending, error) {
	dir, err := os.MkdirTemp(s.Dir, stagingPre+FolderName(started, rescan)+"-")
	if err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	if err := os.Chmod(dir, atomicfile.DirPerm()); err != nil {
		os.Remove(dir)
		return nil, fmt.Errorf("run folder: %w", err)
	}
	return &Pending{store: s, dir: dir, rescan: rescan, started: started}, nil
}

// Dir is the staging folder (the run folder after Commit).
func (p *Pending) Dir() string { return p.dir }

// Path is where a file of the run is written before Commit.
func (p *Pending) Path(file string) string { return filepath.Join(p.dir, file) }

// Name picks the folder name of a run that started at started (the run
// document's start; when zero, the time given to Begin): its UTC second,
// with a counter when a run of that second exists already
// (20261126T020000Z-1). The store is locked, so the name stays free until
// Commit, which uses it; files written before Commit (diff.json) can name
// their run.
func (p *Pending) Name(started time.Time) (string, error) {
	if p.name != "" {
		return p.name, nil
	}
	if started.IsZero() {
		started = p.started
	}
	base := started.UTC().Format(timeLayout)
	suffix := ""
	if p.rescan {
		suffix = RescanSuffix
	}
	for seq := 0; seq < 10000; seq++ {
		name := base + suffix
		if seq > 0 {
			name = base + "-" + strconv.Itoa(seq) + suffix
		}
		if _, err := os.Lstat(filepath.Join(p.store.Dir, name)); err == nil {
			continue
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		p.name = name
		return name, nil
	}
	return "", fmt.Errorf("run folder: too many runs started at %s", base)
}

// Commit moves the staging folder into place under Name(started) and
// returns the name.
func (p *Pending) Commit(started time.Time) (string, error) {
	name, err := p.Name(started)
	if err != nil {
		return "", err
	}
	final := filepath.Join(p.store.Dir, name)
	// Rename never replaces a non-empty folder, and nobody else can take
	// the name while we hold the lock.
	if err := os.Rename(p.dir, final); err != nil {
		return "", fmt.Errorf("run folder: %w", err)
	}
	p.dir = final
	return name, nil
}

// Abort removes the staging folder.
func (p *Pending) Abort() error { return os.RemoveAll(p.dir) }

// Stale lists staging folders left by writers that were killed. Call it
// only while holding the lock: then no staging folder is in use.
func (s *Store) Stale() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && stagingName.MatchString(e.Name()) {
			out = append(out, filepath.Join(s.Dir, e.Name()))
		}
	}
	return out, nil
}

// Ref names a run given on the command line.
type Ref struct {
	// File is the run document (run.json) to read.
	File string
	// Folder is the run folder name when the run is in a store ("" for a
	// loose run.json elsewhere).
	Folder string
}

// Label is how reports and diffs name the run.
func (r Ref) Label() string {
	if r.Folder != "" {
		return r.Folder
	}
	return r.File
}

// Resolve turns a RUN argument into the run document to read. arg is a run
// folder, a store's "latest" (DIR/latest, or "latest" or a bare folder name
// together with outDir), or the path of a run.json.
func Resolve(arg, outDir string) (Ref, error) {
	if arg == "" {
		return Ref{}, errors.New("no run given")
	}
	path := arg
	_, isName := ParseName(arg)
	if (arg == LatestName || isName) && !strings.ContainsAny(arg, `/\`) {
		if outDir != "" {
			path = filepath.Join(outDir, arg)
		} else if _, err := os.Lstat(arg); err != nil {
			return Ref{}, fmt.Errorf("%q: give --out DIR to say which folder of runs it is in (or write DIR/%s)", arg, arg)
		}
	}
	if filepath.Base(path) == LatestName {
		fi, err := os.Lstat(path)
		if err == nil && (fi.Mode()&os.ModeSymlink != 0 || fi.Mode().IsRegular()) {
			target, err := resolveLatest(path)
			if err != nil {
				return Ref{}, err
			}
			path = target
		} else if errors.Is(err, os.ErrNotExist) {
			return Ref{}, fmt.Errorf("%s: %w", filepath.Dir(path), ErrNoLatest)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Ref{}, fmt.Errorf("run %s: %w", arg, err)
	}
	if fi.IsDir() {
		file := filepath.Join(path, RunFile)
		if _, err := os.Stat(file); err != nil {
			if _, lerr := os.Lstat(filepath.Join(path, LatestName)); lerr == nil {
				return Ref{}, fmt.Errorf("%s is a folder of runs: name one of its runs, or %s", arg, filepath.Join(arg, LatestName))
			}
			return Ref{}, fmt.Errorf("%s is not a run folder: %w", arg, err)
		}
		return Ref{File: file, Folder: folderOf(path)}, nil
	}
	ref := Ref{File: path}
	if filepath.Base(path) == RunFile {
		ref.Folder = folderOf(filepath.Dir(path))
	}
	return ref, nil
}

func folderOf(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if _, ok := ParseName(filepath.Base(dir)); ok {
		return filepath.Base(dir)
	}
	return ""
}

// Load reads the run document a RUN argument names.
func Load(arg, outDir string) (*results.Run, Ref, error) {
	ref, err := Resolve(arg, outDir)
	if err != nil {
		return nil, Ref{}, err
	}
	// A run named on the command line may be anywhere (a link is fine),
	// but must be a regular file: a pipe would block the command.
	f, _, err := safefile.Open(ref.File)
	if err != nil {
		return nil, ref, err
	}
	defer f.Close()
	run, err := results.ReadJSON(f)
	if err != nil {
		return nil, ref, fmt.Errorf("%s: %w", ref.File, err)
	}
	return run, ref, nil
}
