package runstore

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
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

// Active tells whether the policy prunes anything at all.
func (p Policy) Active() bool { return p.Keep > 0 || p.KeepDays > 0 }

// Prune removes the run folders the policy does not keep. The folders
// named in protect (the run just written) and the one "latest" points at
// are never removed, nor is anything that is not a run folder (see Runs).
// It also removes staging folders left by killed writers; call it only
// while holding the lock. It returns the paths removed and the first error
// (removal goes on past errors).
func (s *Store) Prune(p Policy, protect ...string) ([]string, error) {
	if !p.Active() {
		return nil, nil
	}
	runs, err := s.Runs()
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, name := range protect {
		keep[name] = true
	}
	if latest, err := s.Latest(); err == nil {
		keep[filepath.Base(latest)] = true
	}
	cutoff := p.Now.Add(-time.Duration(p.KeepDays) * 24 * time.Hour)
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
