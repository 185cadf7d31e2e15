package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/source"
)

// IngestOptions configures AddPaths.
type IngestOptions struct {
	// Workers is the number of files decoded at once; 0 means GOMAXPROCS.
	Workers int
	Decode  decode.Options
	Source  source.Options
}

// IngestStats counts what AddPaths read.
type IngestStats struct {
	Files, Read, Rejected, Added, Duplicates int
}

// AddPaths decodes every log of paths (files, folders) and adds its events, with a pool of
// workers, then commits. It is the store-only ingest path (hunt --db adds the events hunt
// decodes instead, with Add).
func (w *Writer) AddPaths(ctx context.Context, paths []string, opts IngestOptions) (IngestStats, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	var mu sync.Mutex
	var total IngestStats
	err := source.Each(ctx, paths, opts.Source, opts.Workers, nil, func(gctx context.Context, inputs <-chan source.Input) error {
		var st IngestStats
		dec := decode.New(opts.Decode)
		h := decode.HandlerFuncs{EventFunc: func(ev *event.Event) error {
			added, err := w.Add(ev)
			if added {
				st.Added++
			} else if err == nil {
				st.Duplicates++
			}
			return err
		}}
		for in := range inputs {
			st.Files++
			rc, err := in.Open(gctx)
			if err != nil {
				st.Read++
				st.Rejected++
				continue
			}
			ds, err := dec.Decode(gctx, in.Name, rc, h)
			rc.Close()
			st.Read += ds.Read
			st.Rejected += ds.Rejected
			if err != nil {
				if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
					return err
				}
				return fmt.Errorf("storing %s: %w", in.Name, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		total.Files += st.Files
		total.Read += st.Read
		total.Rejected += st.Rejected
		total.Added += st.Added
		total.Duplicates += st.Duplicates
		return nil
	})
	if err != nil {
		return total, err
	}
	return total, w.Commit()
}
