package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"aadcready/results"
	"aadcready/safefile"
)

// Policy says which runs to keep. A run is kept when any rule keeps it:
// it is one of the Keep newest, or it started less than KeepDays days
// before Now. A zero rule keeps nothing by itself; with both rules zero,
// nothing is pruned.
type Policy struct {
	Keep     int
	KeepDays int
	Now      time.Time
}

// Bounds of a policy. A larger value cannot mean what it says (a day count
// past 106751 overflows a time.Duration, which once turned "keep 999999
// days" into "keep nothing"); no sensible retention comes near them.
const (
	MaxKeep     = 1_000_000
	MaxKeepDays = 36_500 // a hundred years
)

// Validate reports a policy that is negative or past its bounds.
func (p Policy) Validate() error {
	switch {
	case p.Keep < 0 || p.KeepDays < 0:
		return errors.New("--keep and --keep-days must not be negative")
	case p.Keep > MaxKeep:
		return fmt.Errorf("--keep %d is more than %d runs; use 0 for no limit by count", p.Keep, MaxKeep)
	case p.KeepDays > MaxKeepDays:
		return fmt.Errorf("--keep-days %d is more than %d days (100 years); use 0 for no limit by age", p.KeepDays, MaxKeepDays)
	}
	return nil
}

// Active tells whether the policy prunes anything at all.
func (p Policy) Active() bool { return p.Keep > 0 || p.KeepDays > 0 }

// Prune removes the run folders the policy does not keep. The folders
// named in protect (the run just written) and the one "latest" points at
// are never removed, nor is anything that is not a run folder (see Runs)
// or whose run.json is not a run document written by this tool: a folder
// of runs may be shared with other things, and a wrong guess costs data.
// It also removes staging folders left by killed writers; call it only
// while holding the lock. It returns the paths removed and the first error
// (removal goes on past errors).
func (s *Store) Prune(p Policy, protect ...string) ([]string, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if !p.Active() {
		return nil, nil
	}
	all, err := s.Runs()
	if err != nil {
		return nil, err
	}
	var runs []Info
	for _, r := range all {
		if IsRunDocument(filepath.Join(r.Path, RunFile)) {
			runs = append(runs, r)
		}
	}
	keep := map[string]bool{}
	for _, name := range protect {
		keep[name] = true
	}
	if latest, err := s.Latest(); err == nil {
		keep[filepath.Base(latest)] = true
	}
	cutoff := p.Now.AddDate(0, 0, -p.KeepDays)
	var removed []string
	var firstErr error
	for i, r := range runs {
		if keep[r.Name] {
			continue
		}
		byCount := p.Keep > 0 && i < p.Keep
		byAge := p.KeepDays > 0 && !r.Started.Before(cutoff)
		if byCount || byAge {
			continue
		}
		if err := os.RemoveAll(r.Path); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("pruning %s: %w", r.Path, err)
			}
			continue
		}
		removed = append(removed, r.Path)
	}
	stale, err := s.Stale()
	if err != nil && firstErr == nil {
		firstErr = err
	}
	for _, dir := range stale {
		if err := os.RemoveAll(dir); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("pruning %s: %w", dir, err)
			}
			continue
		}
		removed = append(removed, dir)
	}
	return removed, firstErr
}

// IsRunDocument tells whether path is a run document of this tool: a
// regular file (not a link) that starts as run.WriteJSON writes it, with
// its schema and tool first, a start time, and the list of hosts last.
// Only the head before the hosts is read: a run of a large fleet is many
// megabytes.
func IsRunDocument(path string) bool {
	f, _, err := safefile.OpenOwn(path)
	if err != nil {
		return false
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, 64<<10))
	dec.UseNumber()
	for _, w := range []any{json.Delim('{'), "schema", json.Number(fmt.Sprint(results.SchemaVersion)), "tool", "aadcready"} {
		if tok, err := dec.Token(); err != nil || tok != w {
			return false
		}
	}
	started := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		switch key {
		case "hosts":
			tok, err := dec.Token()
			return err == nil && tok == json.Delim('[') && started
		case "started":
			var t time.Time
			if dec.Decode(&t) != nil || t.IsZero() {
				return false
			}
			started = true
		default:
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return false
			}
		}
	}
	return false
}
