package correlate

import "slices"

// Provisional alerts (Config.Early).
//
// A hit waits in the buffer until the watermark passes it, so that hits are evaluated in
// event-time order whatever their arrival order; with the default lateness that is 15
// minutes of event time. For a correlation whose every hit fires (a rule's grouping:
// event_count, gte 1) the wait decides only which alert a hit joins, never whether there
// is one. Such a correlation opens a provisional alert for a hit as it arrives, when the
// hit cannot join the alert its group has open: the provisional alert's first hit (its
// origin) is the earliest hit it knows, so its identity is the one the alert evaluated in
// order will have unless a still earlier hit of the group arrives later (within the
// lateness). Later arrivals of the group within KeepAlive of it are added to it, so that its
// hits are chained by gaps of at most KeepAlive and evaluated in order all go to one alert;
// a hit out of the reach of a group's provisional alerts opens another.
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

// speculate opens or extends the provisional alerts of a hit that was just buffered.
func (e *Engine) speculate(p *pending) {
	for _, k := range p.keys {
		c := k.c
		if !c.early {
			continue
		}
		if g := c.groups[k.group]; g != nil && g.alert != nil {
			if a := g.alert; p.t-a.last <= int64(c.KeepAlive) && p.t-a.first <= int64(c.MaxDuration) {
				continue // it joins the open alert: nothing opens
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
		pa.firings++
		pa.last = max(pa.last, p.t)
		if e.cfg.TrackChanges && !pa.changed {
			pa.changed = true
			e.changed = append(e.changed, pa)
		}
	}
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
	if l := slices.DeleteFunc(c.prov[key], func(x *openAlert) bool { return x == pa }); len(l) > 0 {
		c.prov[key] = l
	} else {
		delete(c.prov, key)
	}
	var a *openAlert
	if g := c.groups[key]; g != nil {
		a = g.alert
	}
	if a != nil && len(a.ids) > 0 && a.ids[0] == pa.origin && a.first == pa.originT {
		return
	}
	out := pa.snapshot()
	out.Superseded = true
	if a != nil && len(a.ids) > 0 {
		out.SupersededBy = a.ids[0]
	}
	e.out = append(e.out, out)
}
