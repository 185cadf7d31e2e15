package correlate

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"
)

// Provisional alerts (Config.Early).
//
// A hit waits in the buffer until the watermark passes it, so that hits are evaluated in
// event-time order whatever their arrival order; with the default lateness that is 15
// minutes of event time. For a correlation whose every hit fires (a rule's grouping:
// event_count, gte 1) the wait decides only which alert a hit joins, never whether there
// is one. Such a correlation opens a provisional alert for a hit that arrived and still
// waits when Changed is next called (a live service's batch: hits evaluated within the
// batch need nothing early, which keeps the cost off a backlog), when the hit cannot join
// the alert its group has open (one it can join lists it at once, as pending evidence).
// The provisional alert's first hit (its origin) is the earliest hit it knows, so its
// identity is the one the alert evaluated in order will have unless a still earlier hit of
// the group arrives later (within the lateness). Later hits of the group within KeepAlive
// of it are added to it, so that its hits are chained by gaps of at most KeepAlive and,
// evaluated in order, all go to one alert; a hit out of the reach of a group's provisional
// alerts opens another.
//
// When the watermark evaluates the origin, the provisional alert is resolved: if the
// group's alert starts at the origin, it is the same alert (the same first event, so the
// same signal id) and continues from there; otherwise the provisional alert is returned as
// closed, Superseded, naming the first event of the alert that holds its hits. The alerts
// evaluated in order are exactly those of an engine without Early.

// everyHitFires reports whether every hit of c fires it: a single-rule event_count whose
// condition holds at 1 and has no upper bound a later hit could exceed.
func everyHitFires(c Correlation) bool {
	if c.Type != EventCount || len(c.Rules) != 1 || len(c.Condition) == 0 {
		return false
	}
	for _, cm := range c.Condition {
		if !((cm.Op == GTE && cm.Value <= 1) || (cm.Op == GT && cm.Value < 1)) {
			return false
		}
	}
	return true
}

// speculate opens or extends the provisional alerts of a buffered hit, or lists it as
// pending evidence of the open alert it will join.
func (e *Engine) speculate(p *pending) {
	for _, k := range p.keys {
		c := k.c
		if !c.early {
			continue
		}
		if g := c.groups[k.group]; g != nil && g.alert != nil {
			if a := g.alert; p.t-a.last <= int64(c.KeepAlive) && p.t-a.first <= int64(c.MaxDuration) {
				// It joins the open alert (nothing the watermark evaluates before it can close
				// that alert: hits in between only extend it); listed at once, evidence once
				// evaluated.
				a.addPending(hit{t: p.t, id: p.id, hdr: p.hdr, rule: int32(k.idx)})
				if e.cfg.TrackChanges && !a.changed {
					a.changed = true
					e.changed = append(e.changed, a)
				}
				continue
			}
		}
		var pa *openAlert
		for _, x := range c.prov[k.group] {
			if p.t <= x.last+int64(c.KeepAlive) && p.t >= x.first-int64(c.KeepAlive) &&
				max(p.t, x.last)-min(p.t, x.first) <= int64(c.MaxDuration) {
				pa = x
				break
			}
		}
		if pa == nil {
			pa = &openAlert{c: c, g: &group{key: k.group}, first: p.t, last: p.t, idx: -1, curSorted: true,
				prov: true, origin: p.id, originT: p.t}
			c.prov[k.group] = append(c.prov[k.group], pa)
		}
		h := hit{t: p.t, id: p.id, hdr: p.hdr, rule: int32(k.idx)}
		pa.add(&h, c, e.cfg)
		pa.addPending(h)
		pa.firings++
		pa.last = max(pa.last, p.t)
		if e.cfg.TrackChanges && !pa.changed {
			pa.changed = true
			e.changed = append(e.changed, pa)
		}
	}
}

// evaluated drops the hit (t, id), just evaluated, from the hits the group's open alert
// lists ahead of the watermark.
func (e *Engine) evaluated(c *corr, key string, t int64, id string) {
	g := c.groups[key]
	if g == nil || g.alert == nil || len(g.alert.pend) == 0 {
		return
	}
	if h, ok := g.alert.pend[id]; ok && h.t == t {
		delete(g.alert.pend, id)
	}
}

func (a *openAlert) addPending(h hit) {
	if a.pend == nil {
		a.pend = map[string]hit{}
	}
	a.pend[h.id] = h
}

// pending returns pend sorted by event time and id.
func (a *openAlert) pending() []hit {
	out := slices.Collect(maps.Values(a.pend))
	slices.SortFunc(out, func(x, y hit) int { return cmp.Or(cmp.Compare(x.t, y.t), strings.Compare(x.id, y.id)) })
	return out
}

// withPending is the Alert of a with the hits it lists ahead of the watermark (pend) added
// as evidence: what it will hold once they are evaluated, as far as they are known.
func (a *openAlert) withPending(cfg Config) Alert {
	out := a.snapshot()
	if a.prov || len(a.pend) == 0 {
		return out // a provisional alert holds its pending hits as evidence already
	}
	ids, hdrs := slices.Clone(out.EventIDs), slices.Clone(out.Headers)
	held := make(map[string]bool, len(ids))
	for _, id := range ids {
		held[id] = true
	}
	for _, h := range a.pending() {
		if held[h.id] {
			continue // already evidence (a repeat of an event)
		}
		out.Count++
		out.Firings++
		if len(ids) < cfg.MaxEventIDs {
			ids = append(ids, h.id)
		} else {
			out.Dropped++
		}
		if len(hdrs) < cfg.MaxHeaders && h.hdr != nil {
			hdrs = append(hdrs, h.hdr)
		}
		if t := time.Unix(0, h.t).UTC(); t.After(out.Last) {
			out.Last = t
		}
	}
	out.EventIDs, out.Headers = ids, hdrs
	return out
}

// resolveOrigin resolves the provisional alert of c's group key whose origin is the hit
// (t, id) just evaluated, if there is one.
func (e *Engine) resolveOrigin(c *corr, key string, t int64, id string) {
	for _, pa := range c.prov[key] {
		if pa.origin == id && pa.originT == t {
			e.resolve(c, key, pa)
			return
		}
	}
}

// resolve settles the provisional alert pa of c's group key once its origin was
// evaluated: it is dropped when the group's alert starts at its origin (that alert carries
// its identity on), and closed as superseded otherwise.
func (e *Engine) resolve(c *corr, key string, pa *openAlert) {
	pa.resolved = true
	if c.windows {
		e.windowProvs-- // Flush resolves them too
	}
	if l := slices.DeleteFunc(c.prov[key], func(x *openAlert) bool { return x == pa }); len(l) > 0 {
		c.prov[key] = l
	} else {
		delete(c.prov, key)
	}
	var a *openAlert
	lastFirst := ""
	if g := c.groups[key]; g != nil {
		a, lastFirst = g.alert, g.lastFirst
	}
	// Its hits after the origin are not evaluated yet; chained to the origin by gaps of at
	// most KeepAlive, they will join the group's alert: it lists them from now on.
	if a != nil {
		for _, h := range pa.pend {
			if h.t > pa.originT || (h.t == pa.originT && h.id > pa.origin) {
				a.addPending(h)
			}
		}
		if e.cfg.TrackChanges && !a.changed {
			a.changed = true
			e.changed = append(e.changed, a)
		}
	}
	if a != nil && len(a.ids) > 0 && a.ids[0] == pa.origin && a.first == pa.originT {
		return
	}
	out := pa.snapshot()
	out.Superseded = true
	if a != nil && len(a.ids) > 0 {
		out.SupersededBy = a.ids[0]
	} else {
		out.SupersededBy = lastFirst // the alert it went to has closed since
	}
	e.out = append(e.out, out)
}
