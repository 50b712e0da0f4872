package scanner

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// forEach runs fn for every index under at most limit goroutines. It stops
// starting new calls once ctx ends; calls already running see ctx and
// return promptly.
func forEach(ctx context.Context, n, limit int, fn func(i int)) {
	var g errgroup.Group
	g.SetLimit(limit)
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			fn(i)
			return nil // a host's failure is its result, never the pool's
		})
	}
	_ = g.Wait()
}
