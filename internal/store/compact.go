package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
	if err := w.commitLocked(); err != nil {
		return CompactStats{}, err
	}
	s := w.s
	segs := s.snapshot()
	var small []*segment
	for _, sg := range segs {
		if s.smallSegment(sg.meta) {
			small = append(small, sg)
		}
	}
	if len(small) < CompactMin {
		return CompactStats{}, nil
	}
	st := CompactStats{Merged: len(small)}
	var metas []segmentMeta
	fail := func(err error) (CompactStats, error) {
		if w.seg != nil {
			w.seg.wait()
			w.seg.discard()
			w.seg = nil
		}
		for _, m := range metas {
			os.Remove(filepath.Join(s.dir, m.Name))
		}
		return CompactStats{}, fmt.Errorf("compacting store %s: %w", s.dir, err)
	}
	finish := func() error {
		sg := w.seg
		w.seg = nil
		meta, err := sg.finish()
		if err != nil {
			sg.discard()
			return err
		}
		metas = append(metas, meta)
		return nil
	}
	for _, sg := range small {
		err := s.segmentEvents(ctx, sg, func(ev *event.Event) error {
			if w.seg == nil {
				if err := w.startSegment(); err != nil {
					return err
				}
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
	written, err := s.replaceSegments(small, metas)
	if err != nil {
		return fail(err)
	}
	w.replaced(small, written)
	st.Written = len(metas)
	s.opts.Logger.Debug("store compacted", "merged", st.Merged, "written", st.Written, "events", st.Events)
	return st, nil
}

// replaceSegments lists the new segments in place of old (at the first old one's place)
// in one manifest write, then removes the old files, and returns the new segments. The old
// segments stay open until Close.
func (s *Store) replaceSegments(old []*segment, metas []segmentMeta) ([]*segment, error) {
	opened := make([]*segment, 0, len(metas))
	for _, m := range metas {
		sg, err := openSegment(filepath.Join(s.dir, m.Name), m)
		if err != nil {
			for _, o := range opened {
				o.close()
			}
			return nil, err
		}
		opened = append(opened, sg)
	}
	gone := map[*segment]bool{}
	for _, sg := range old {
		gone[sg] = true
	}
	s.mu.Lock()
	man := s.man
	man.Segments = nil
	var segs []*segment
	placed := false
	for i, sg := range s.segs {
		if !gone[sg] {
			segs = append(segs, sg)
			man.Segments = append(man.Segments, s.man.Segments[i])
			continue
		}
		if !placed {
			segs = append(segs, opened...)
			man.Segments = append(man.Segments, metas...)
			placed = true
		}
	}
	if err := s.writeManifest(man); err != nil {
		s.mu.Unlock()
		for _, o := range opened {
			o.close()
		}
		return nil, err
	}
	s.man, s.segs = man, segs
	s.retired = append(s.retired, old...)
	s.mu.Unlock()
	for _, sg := range old {
		if err := os.Remove(filepath.Join(s.dir, sg.name)); err != nil {
			// An unlisted file is an orphan: the next writer removes it.
			s.opts.Logger.Debug("removing compacted segment", "file", sg.name, "err", err)
		}
	}
	return opened, nil
}
