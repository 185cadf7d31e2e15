package investigate

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/trailhound/trailhound/internal/event"
)

// EventSource is a set of stored events LoadStore reads, split in parts that can be read
// concurrently (store.Store satisfies it). Events are delivered in parts, each part from one
// goroutine; an event and its bytes are valid only during the callback.
type EventSource interface {
	// Parts returns the number of parts.
	Parts() int
	// PartEvents calls fn for every event of part i (0 ≤ i < Parts()), from the calling
	// goroutine; an error from fn stops it and is returned.
	PartEvents(ctx context.Context, i int, fn func(*event.Event) error) error
}

// LoadStore builds an Index from the events of src, as Load does from log files: the same
// records, lineage, enrichment (opts.Enricher) and eventID dedup. opts.Workers bounds the
// parts read at once; opts.Decode and opts.Source are not used. An event's position is the
// one src reports (for a store, where it was first read), so Index.Raw reads the original
// files when they are still there.
func LoadStore(ctx context.Context, src EventSource, opts LoadOptions) (*Index, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	n := src.Parts()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Workers)
	var mu sync.Mutex
	var parts []*builder
	for i := range n {
		g.Go(func() error {
			b := newBuilder(opts.Enricher)
			err := src.PartEvents(gctx, i, func(ev *event.Event) error {
				b.stats.Read++
				b.curFile = b.in.s(ev.Pos.File)
				b.add(ev)
				return nil
			})
			if err != nil {
				return err
			}
			mu.Lock()
			parts = append(parts, b)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("loading stored events: %w", err)
	}
	x := merge(parts)
	x.opts = opts
	x.hasGeo = opts.Enricher != nil && opts.Enricher.Provides() != 0
	if opts.Logger != nil {
		opts.Logger.Debug("index loaded from store", "parts", n, "events", len(x.recs))
	}
	return x, nil
}
