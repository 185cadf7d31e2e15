package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/trailhound/trailhound/internal/event"
)

// Every commit writes a segment, so a store fed every few minutes (hunt --db over a live
// trail) would collect thousands of small segments, each an open file and a footer to read
// on every lookup. Compaction rewrites the small ones into full-size segments.

// CompactMin is how many small segments make Compact rewrite them: fewer are left alone.
const CompactMin = 8

// smallSegment reports whether a segment counts as small: under a quarter of the segment
// size.
func (s *Store) smallSegment(m segmentMeta) bool { return m.Events < s.opts.SegmentEvents/4 }

// CompactStats says what Compact did.
type CompactStats struct {
	// Merged segments were rewritten into Written new ones, holding Events events.
	Merged, Written, Events int
}

// Compact rewrites the store's small segments (under a quarter of Options.SegmentEvents
// events) into as few segments as they fill, once there are at least CompactMin of them; it
// commits what was added first. The events, their positions and the store's answers do not
// change; the new segments take the place of the first small one in commit order. The
// manifest is replaced atomically, so a crash leaves either the old segments or the new
// ones. Files of the replaced segments are removed; readers that still have them open keep
// reading them (this process keeps them open until Close).
func (w *Writer) Compact(ctx context.Context) (CompactStats, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.commitLocked(Batch{}); err != nil {
		return CompactStats{}, err
	}
	s := w.s
	segs := s.snapshot()
	var small []*segment
	var names []string
	var sourceGen uint64
	for _, sg := range segs {
		if s.smallSegment(sg.meta) {
			small = append(small, sg)
			names = append(names, sg.name)
			sourceGen = max(sourceGen, sg.ft.sourceGeneration())
		}
	}
	if len(small) < CompactMin {
		return CompactStats{}, nil
	}
	st := CompactStats{Merged: len(small)}
	gen := s.man.Generation + 1
	var made []*segWriter
	var opened []*segment
	fail := func(err error) (CompactStats, error) {
		if w.seg != nil {
			w.seg.wait()
			w.seg.discard()
			w.seg = nil
		}
		for _, o := range opened {
			o.close()
		}
		for _, sg := range made {
			sg.discard()
		}
		return CompactStats{}, fmt.Errorf("compacting store %s: %w", s.dir, err)
	}
	finish := func() error {
		sg := w.seg
		w.seg = nil
		if err := sg.finish(gen); err != nil {
			sg.discard()
			return err
		}
		made = append(made, sg)
		return nil
	}
	for _, sg := range small {
		err := s.segmentEvents(ctx, sg, func(ev *event.Event) error {
			if w.seg == nil {
				if err := w.startSegment(); err != nil {
					return err
				}
				w.seg.replaces, w.seg.sourceGen = names, sourceGen
			}
			r := rowOf(ev)
			if job := w.seg.add(&r); job != nil {
				w.seg.compress(job)
			}
			st.Events++
			if len(w.seg.hash) >= s.opts.SegmentEvents {
				return finish()
			}
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}
	if w.seg != nil {
		if err := finish(); err != nil {
			return fail(err)
		}
	}
	for _, sg := range made {
		o, err := openSegment(sg.path, sg.meta)
		if err != nil {
			return fail(err)
		}
		opened = append(opened, o)
	}
	// The new generation: the new segments at the place of the first small one.
	gone := map[*segment]bool{}
	for _, sg := range small {
		gone[sg] = true
	}
	next := s.man.clone()
	next.Generation = gen
	next.Segments = nil
	var keepSegs []*segment
	placed := false
	for i, sg := range segs {
		if !gone[sg] {
			keepSegs = append(keepSegs, sg)
			next.Segments = append(next.Segments, s.man.Segments[i])
			continue
		}
		if !placed {
			keepSegs = append(keepSegs, opened...)
			for _, m := range made {
				next.Segments = append(next.Segments, m.meta)
			}
			placed = true
		}
	}
	next.NextSeq = w.nextSeq
	if err := s.publish(next); err != nil {
		var pe *publishedError
		if !errors.As(err, &pe) {
			return fail(err)
		}
		w.err = err // published but perhaps not durable: stop writing
	}
	s.mu.Lock()
	s.man, s.segs = next, keepSegs
	s.retired = append(s.retired, small...)
	s.mu.Unlock()
	w.replaced(small, opened)
	if w.err != nil {
		return st, w.err
	}
	if err := s.fault("published"); err != nil {
		s.opts.Logger.Debug("after publishing", "err", err)
	}
	s.removeUnreferenced(next)
	st.Written = len(made)
	s.opts.Logger.Debug("store compacted", "generation", gen, "merged", st.Merged, "written", st.Written, "events", st.Events)
	return st, nil
}
