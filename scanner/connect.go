package scanner

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"aadcready/inventory"
	"aadcready/results"
	"aadcready/wsman"
)

// Step is one stage of a connection diagnostic with its timing.
type Step struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
	Err      string        `json:"error,omitempty"`
}

// ConnectResult is what `aadcready connect` found for one host.
type ConnectResult struct {
	Host    string `json:"host"`
	Address string `json:"address"`
	Port    int    `json:"port"`
	Scheme  string `json:"scheme"`
	Auth    string `json:"auth"`
	OK      bool   `json:"ok"`
	Sealed  bool   `json:"sealed"`
	Steps   []Step `json:"steps"`
	Stdout  string `json:"stdout,omitempty"` // cleaned and truncated for display
	// RawStdout is the command's standard output byte for byte (connect
	// --stdout); untrusted, never shown as it is.
	RawStdout  []byte            `json:"-"`
	Stderr     string            `json:"stderr,omitempty"` // CLIXML decoded; untrusted
	ExitCode   int               `json:"exit_code"`
	Failure    *results.Failure  `json:"failure,omitempty"`
	Attempts   []results.Attempt `json:"attempts,omitempty"`
	DurationMS int64             `json:"duration_ms"`
}

// Connect runs the connection diagnostic against one host: resolve, connect,
// TLS, authenticate, create a shell, run command (with stdin, which may be
// nil), clean up. onStep (may be nil) sees each step as it completes, for
// live output.
func Connect(ctx context.Context, h inventory.Host, opt Options, command string, stdin []byte, onStep func(Step)) ConnectResult {
	opt.defaults()
	s := &scan{opt: opt, guard: newCredGuard(opt.LockoutThreshold)}
	defer s.krb.close()
	return s.connect(ctx, h, command, stdin, onStep)
}

// Preflight runs the connection diagnostic against every host of inv under
// the same pool and credential guard as a scan: the nightly "which hosts can
// we reach and log on to?".
func Preflight(ctx context.Context, inv *inventory.Inventory, opt Options, command string) []ConnectResult {
	opt.defaults()
	s := &scan{opt: opt, guard: newCredGuard(opt.LockoutThreshold)}
	defer s.krb.close()
	out := make([]ConnectResult, len(inv.Hosts))
	forEach(ctx, len(inv.Hosts), opt.Concurrency, func(i int) {
		out[i] = s.connect(ctx, inv.Hosts[i], command, nil, nil)
	})
	for i, h := range inv.Hosts {
		if out[i].Host == "" {
			out[i] = ConnectResult{Host: h.Name, Address: h.DialAddress(), Port: h.Port, Scheme: h.Scheme, Auth: h.Auth,
				Failure: &results.Failure{Class: string(wsman.ClassCancelled), Message: "interrupted before this host was tried"}}
		}
	}
	return out
}

func (s *scan) connect(ctx context.Context, h inventory.Host, command string, stdin []byte, onStep func(Step)) (r ConnectResult) {
	start := time.Now()
	r = ConnectResult{Host: h.Name, Address: h.DialAddress(), Port: h.Port, Scheme: h.Scheme, Auth: h.Auth}
	// wsman reports connection steps from its dial goroutine, which may
	// still run when Run has returned (a deadline mid-dial): steps are
	// recorded under a lock, and none after this function returns.
	var mu sync.Mutex
	var steps []Step
	done := false
	record := func(st Step) {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		steps = append(steps, st)
		if onStep != nil {
			onStep(st)
		}
	}
	defer func() {
		mu.Lock()
		done = true
		r.Steps = steps
		mu.Unlock()
		r.DurationMS = time.Since(start).Milliseconds()
	}()

	// The name lookup has the host deadline of its own; runWithRetries
	// starts another once the credential guard gives the host its turn.
	rctx, cancel := context.WithTimeout(ctx, s.opt.HostTimeout)
	err := resolve(rctx, h.DialAddress(), record)
	cancel()
	if err != nil {
		e := wsman.Classify(err)
		r.Failure = &results.Failure{Class: string(e.Class), Op: "resolve", Message: clean(e.Message), Hint: e.Hint}
		return r
	}
	res, attempts, err := s.runWithRetries(ctx, h, command, stdin, func(step string, d time.Duration, err error) {
		st := Step{Name: step, Duration: d}
		if err != nil {
			st.Err = clean(err.Error())
		}
		record(st)
	})
	r.Attempts = attempts
	if err != nil {
		var he *hostError
		if errors.As(err, &he) {
			r.Failure = &results.Failure{Class: he.class, Message: he.msg, Hint: he.hint}
		} else {
			e := wsman.Classify(err)
			r.Failure = &results.Failure{Class: string(e.Class), Op: e.Op, Message: clean(e.Message), Hint: e.Hint,
				FaultCode: e.FaultCode, HTTPStatus: e.HTTPStatus}
		}
		return r
	}
	r.OK, r.Sealed, r.ExitCode = true, res.Sealed, res.ExitCode
	r.Stdout, r.RawStdout = truncate(string(res.Stdout), maxStderr), res.Stdout
	r.Stderr = truncate(wsman.DecodeCLIXML(res.Stderr), maxStderr)
	return r
}

// resolve looks the name up (IP literals need no lookup) so that DNS
// failures are named as such before any connection is tried.
func resolve(ctx context.Context, name string, record func(Step)) error {
	if _, err := netip.ParseAddr(name); err == nil {
		return nil
	}
	begin := time.Now()
	_, err := net.DefaultResolver.LookupHost(ctx, name)
	st := Step{Name: "resolve", Duration: time.Since(begin)}
	if err != nil {
		st.Err = err.Error()
	}
	record(st)
	return err
}
