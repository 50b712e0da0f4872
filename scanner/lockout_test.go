package scanner

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestCredGuardDisablesAfterThresholdRefusals(t *testing.T) {
	g := newCredGuard(3)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if !g.acquire(ctx, "u") {
			t.Fatalf("attempt %d refused before the threshold", i)
		}
		g.release("u", outcomeRefused)
	}
	if g.acquire(ctx, "u") {
		t.Fatal("credential still used after 3 refusals")
	}
	if got := g.disabled(); len(got) != 1 || got[0] != "u" {
		t.Fatalf("disabled = %v", got)
	}
	if !g.acquire(ctx, "other") {
		t.Fatal("another credential must not be affected")
	}
}

func TestCredGuardProvenCredentialIsNeverDisabled(t *testing.T) {
	g := newCredGuard(2)
	ctx := context.Background()
	g.acquire(ctx, "u")
	g.release("u", outcomeAccepted)
	for i := 0; i < 5; i++ {
		if !g.acquire(ctx, "u") {
			t.Fatalf("proven credential refused at %d", i)
		}
		g.release("u", outcomeRefused) // e.g. one host where the account lacks rights
	}
}

func TestCredGuardLimitsInflightUntilProven(t *testing.T) {
	g := newCredGuard(2)
	ctx := context.Background()
	g.acquire(ctx, "u")
	g.acquire(ctx, "u")
	third := make(chan bool)
	go func() { third <- g.acquire(ctx, "u") }()
	select {
	case <-third:
		t.Fatal("a third unproven attempt started while two were in flight")
	case <-time.After(50 * time.Millisecond):
	}
	g.release("u", outcomeAccepted)
	if !<-third {
		t.Fatal("waiting attempt not released after the credential was proven")
	}
}

func TestCredGuardWaitEndsWithContext(t *testing.T) {
	g := newCredGuard(1)
	g.acquire(context.Background(), "u")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var got bool
	go func() { defer wg.Done(); got = g.acquire(ctx, "u") }()
	cancel()
	wg.Wait()
	if got {
		t.Fatal("acquire succeeded after its context ended")
	}
}

// A credential is proven when a host accepts it, not when that host's scan
// ends: the hosts held back behind the first ones go on at once.
func TestCredGuardProveReleasesWaiters(t *testing.T) {
	g := newCredGuard(2)
	ctx := context.Background()
	g.acquire(ctx, "u")
	g.acquire(ctx, "u")
	third := make(chan bool)
	go func() { third <- g.acquire(ctx, "u") }()
	g.prove("u") // no release: both first hosts are still scanning
	select {
	case ok := <-third:
		if !ok {
			t.Fatal("waiting attempt refused after the credential was proven")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiting attempt still held after the credential was proven")
	}
	g.release("u", outcomeRefused) // a proven credential is never disabled
	if !g.acquire(ctx, "u") {
		t.Fatal("proven credential refused")
	}
}
