package correlate

import "time"

// Stats returns the size of the state and the engine's counters. It walks the whole state.
func (e *Engine) Stats() Stats {
	s := Stats{
		Buffered:      e.buf.len(),
		OpenAlerts:    e.alerts.Len(),
		Late:          e.n.Late,
		Duplicates:    e.n.Duplicates,
		Invalid:       e.n.Invalid,
		EvictedGroups: e.n.EvictedGroups,
		DroppedHits:   e.n.DroppedHits,
		DroppedValues: e.n.DroppedValues,
	}
	if e.started {
		s.Watermark = time.Unix(0, e.watermark).UTC()
	}
	// Approximate sizes on a 64-bit platform.
	const (
		mapEntry   = 48  // a map slot with its share of control bytes and load factor
		headerLen  = 256 // an event.Header (its strings are shared with the event's other hits)
		pendingLen = 96
		pkeyLen    = 56
		groupLen   = 128
		hitLen     = 56
		alertLen   = 160
		idLen      = 52 // an event id in an alert
	)
	var b int64
	for _, p := range e.buf.all() {
		b += pendingLen + headerLen + int64(len(p.id)+len(p.rule)) + 8
		for _, k := range p.keys {
			b += pkeyLen + int64(len(k.group)+len(k.val))
		}
	}
	for _, c := range e.corrs {
		s.Groups += len(c.groups)
		for _, g := range c.groups {
			b += groupLen + mapEntry + 2*int64(len(g.key))
			s.Hits += len(g.hits)
			b += int64(cap(g.hits))*hitLen + int64(cap(g.ruleN))*4 + int64(len(g.dups))*(mapEntry+24)
			for _, ts := range g.ruleT {
				b += int64(cap(ts)) * 8
			}
			for _, h := range g.hits {
				b += int64(len(h.id)+len(h.val)) + headerLen
			}
			b += int64(cap(g.peaks)) * 16
			s.Values += len(g.vals)
			for v := range g.vals {
				b += mapEntry + int64(len(v))
			}
			if g.seen != nil {
				s.Values += g.seen.len()
				b += 16 + int64(cap(g.seen.small))*24
				g.seen.each(func(v string, _ int64) {
					b += int64(len(v))
					if g.seen.large != nil {
						b += mapEntry
					}
				})
			}
		}
	}
	for _, a := range e.alerts.s {
		b += alertLen + int64(len(a.hdrs))*headerLen + int64(len(a.ids))*idLen +
			int64(cap(a.curIDs))*16 + int64(len(a.curSet))*mapEntry
	}
	s.Bytes = b
	return s
}
