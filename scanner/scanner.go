// Package scanner runs the probe bundle on every host of an inventory under
// a bounded worker pool and turns what comes back into scored results. A
// host's failure is that host's result: nothing one host does stops the run.
package scanner

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"aadcready/catalog"
	"aadcready/inventory"
	"aadcready/probes"
	"aadcready/results"
	"aadcready/wsman"
)

// Options configure a scan. Zero values take the documented defaults.
type Options struct {
	Concurrency int           // hosts in flight at once (default 16)
	HostTimeout time.Duration // per-host deadline, retries included (default 3m)
	Retries     int           // retries of connection errors, timeouts and quota faults (default 2; <0 = none)
	Backoff     time.Duration // base of the jittered exponential backoff (default 1s)
	// LockoutThreshold is how many hosts in a row may refuse a credential
	// before the run stops using it (default 3).
	LockoutThreshold int
	AsOf             time.Time // the date verdicts are judged on (default today, UTC)
	Catalog          *catalog.Catalog
	// Waivers returns the waivers that apply to a host (nil: none).
	Waivers func(host string) []catalog.Waiver
	// Password resolves a host's secret. Required.
	Password func(inventory.SecretRef) (string, error)
	// Bundle is the script sent to hosts (default probes.Bundle()).
	Bundle     string
	SaveRawDir string // keep each host's raw output here ("" = don't)
	// Transport adjusts each host's WinRM client settings (timeouts in tests
	// and benchmarks).
	Transport   func(*wsman.Config)
	Logger      *slog.Logger
	OnHostDone  func(results.Host) // called once per finished host, from worker goroutines
	ToolVersion string
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.HostTimeout <= 0 {
		o.HostTimeout = 3 * time.Minute
	}
	if o.Retries == 0 {
		o.Retries = 2
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.LockoutThreshold <= 0 {
		o.LockoutThreshold = 3
	}
	if o.AsOf.IsZero() {
		y, m, d := time.Now().UTC().Date()
		o.AsOf = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	if o.Bundle == "" {
		o.Bundle = probes.Bundle()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Scan scans every host of inv. It returns when every host has a result;
// when ctx is cancelled (SIGINT, SIGTERM) hosts not yet finished are
// reported as cancelled and the run is marked interrupted.
func Scan(ctx context.Context, inv *inventory.Inventory, opt Options) *results.Run {
	opt.defaults()
	s := &scan{opt: opt, guard: newCredGuard(opt.LockoutThreshold), bundle: []byte(opt.Bundle)}
	s.bundleID, _, _ = probes.ProbesInBundle(opt.Bundle)

	run := &results.Run{
		Schema:         results.SchemaVersion,
		Tool:           "aadcready",
		ToolVersion:    opt.ToolVersion,
		CatalogVersion: opt.Catalog.Version,
		BundleID:       s.bundleID,
		AsOf:           opt.AsOf.Format(time.DateOnly),
		Started:        time.Now().UTC(),
		Inventory:      inv.Path,
		Concurrency:    opt.Concurrency,
		Hosts:          make([]results.Host, len(inv.Hosts)),
	}
	var mu sync.Mutex // serialises OnHostDone for the caller
	forEach(ctx, len(inv.Hosts), opt.Concurrency, func(i int) {
		r := s.host(ctx, inv.Hosts[i])
		run.Hosts[i] = r
		if opt.OnHostDone != nil {
			mu.Lock()
			opt.OnHostDone(r)
			mu.Unlock()
		}
		// Logged after OnHostDone: a "host scanned" line means the
		// caller has the result (a run folder's journal has it).
		s.logHost(&r)
	})
	if ctx.Err() != nil {
		// Hosts never started, and those the interrupt cut short, are
		// reported as cancelled; finished ones keep their results.
		run.Interrupted = true
		for i, h := range inv.Hosts {
			if r := run.Hosts[i]; r.Name == "" || r.Cancelled() {
				run.Hosts[i] = s.cancelled(h, r.Failure)
			}
		}
	}
	run.CredentialsDisabled = s.guard.disabled()
	run.Finished = time.Now().UTC()
	run.DurationMS = run.Finished.Sub(run.Started).Milliseconds()
	run.Summarize()
	return run
}

type scan struct {
	opt      Options
	guard    *credGuard
	bundle   []byte
	bundleID string
}
