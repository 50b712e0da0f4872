package scanner

import (
	"context"
	"sync"
)

// credGuard keeps a bad credential from locking a domain account out.
// Until a credential has logged on to some host, at most `threshold` hosts
// try it at once; when `threshold` hosts in a row refuse it before any
// accepts it, it is disabled for the rest of the run and the remaining
// hosts that share it are not contacted.
type credGuard struct {
	threshold int
	mu        sync.Mutex
	cond      *sync.Cond
	creds     map[string]*credState
}

type credState struct {
	proven   bool
	disabled bool
	inflight int
	refused  int
}

func newCredGuard(threshold int) *credGuard {
	g := &credGuard{threshold: threshold, creds: map[string]*credState{}}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// acquire waits until the credential may be tried. It reports false when the
// credential has been disabled or ctx ended while waiting.
func (g *credGuard) acquire(ctx context.Context, key string) bool {
	stop := context.AfterFunc(ctx, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	defer stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.state(key)
	for !st.disabled && !st.proven && st.inflight >= g.threshold && ctx.Err() == nil {
		g.cond.Wait()
	}
	if st.disabled || ctx.Err() != nil {
		return false
	}
	st.inflight++
	return true
}

// outcome of one host's logon with the credential.
type outcome int

const (
	outcomeUnknown  outcome = iota // the host failed before authentication said yes or no
	outcomeAccepted                // the host accepted the credential
	outcomeRefused                 // the host refused it
)

// release records how the logon went and lets waiting hosts go on.
func (g *credGuard) release(key string, o outcome) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.creds[key]
	st.inflight--
	switch o {
	case outcomeAccepted:
		st.proven = true
	case outcomeRefused:
		if !st.proven {
			st.refused++
			if st.refused >= g.threshold {
				st.disabled = true
			}
		}
	}
	g.cond.Broadcast()
}

// state is key's state, created on first use; g.mu is held.
func (g *credGuard) state(key string) *credState {
	st := g.creds[key]
	if st == nil {
		st = &credState{}
		g.creds[key] = st
	}
	return st
}

// refuse disables a credential at once: the KDC refused it, so every
// host would, and each new try counts toward the account's lockout.
func (g *credGuard) refuse(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.state(key).disabled = true
	g.cond.Broadcast()
}

// prove records that a host accepted the credential, as soon as it did.
// Waiting for release instead would hold every other host of the first
// wave back for one whole host run (the PowerShell time included).
func (g *credGuard) prove(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st := g.creds[key]; st != nil && !st.proven {
		st.proven = true
		g.cond.Broadcast()
	}
}

// disabled lists the credentials the run stopped using.
func (g *credGuard) disabled() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for k, st := range g.creds {
		if st.disabled {
			out = append(out, k)
		}
	}
	return out
}
