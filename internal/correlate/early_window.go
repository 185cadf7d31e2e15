package correlate

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Provisional alerts of window correlations (Config.Early).
//
// A correlation whose measure can only grow with more hits — event_count, value_count,
// temporal and baseline_count, with lower bounds only — is certain to fire once its group
// holds, within one timespan, hits that meet the condition: evaluated in order, the window
// ending at the last of them holds them all (and perhaps more). So when the hits a group
// holds plus those still waiting for the watermark already meet the condition in some
// window, the alert of that firing opens provisionally, before the watermark evaluates
// them. baseline_count compares with the peaks of earlier periods, which are final once the
// watermark is in the window's period; before that nothing is opened early.
//
// The check runs once per Changed call (a live service's batch), for the groups that
// received hits since, and stops at the first window that holds. A group with an open alert
// that the firing could extend, or with a provisional alert already, is not checked. The
// provisional alert lists the window's hits; its origin, the first of them, is the first
// event the alert evaluated in order is expected to have. It is resolved
// when the group's alert opens (continued when that alert starts at the origin, superseded
// otherwise) when its origin joins an alert, evaluated in order; when the watermark passes
// the window and the origin joined none (dropped by a cap), it is superseded by the
// group's latest alert.

// spec reports whether c opens provisional alerts of its windows.
func spec(c Correlation) bool {
	switch c.Type {
	case EventCount, ValueCount, Temporal, BaselineCount:
		return !everyHitFires(c) && lowerBoundsOnly(c.Condition) && len(c.Condition) > 0
	}
	return false
}

// bufferWindowHit records a hit of a window correlation buffered ahead of the watermark.
func (e *Engine) bufferWindowHit(c *corr, key string, h hit) {
	b := c.sbuf[key]
	if b == nil {
		b = &buffered{hits: map[pendKey]hit{}}
		c.sbuf[key] = b
	}
	b.hits[pendKey{h.id, h.rule}] = h
	b.latest = max(b.latest, h.t)
	c.dirty[key] = true
}

// buffered are a group's hits waiting for the watermark, and the latest time among those
// buffered since the group had none.
type buffered struct {
	hits   map[pendKey]hit
	latest int64
}

// pendKey identifies a buffered hit of a group: its event and the rule it matched.
type pendKey struct {
	id   string
	rule int32
}

// windowHitEvaluated forgets a buffered hit of a window correlation once it is evaluated.
func (e *Engine) windowHitEvaluated(c *corr, key string, id string, rule int32) {
	if b := c.sbuf[key]; b != nil {
		delete(b.hits, pendKey{id, rule})
		if len(b.hits) == 0 {
			delete(c.sbuf, key)
		}
	}
}

// speculateWindows opens the provisional alerts of the window correlations' groups that
// received hits since the last call.
func (e *Engine) speculateWindows() {
	for _, c := range e.corrs {
		if len(c.dirty) == 0 {
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(c.dirty)) {
			e.speculateGroup(c, key)
		}
		clear(c.dirty)
	}
}

func (e *Engine) speculateGroup(c *corr, key string) {
	b := c.sbuf[key]
	if b == nil || len(c.prov[key]) > 0 {
		return
	}
	buf := b.hits
	g := c.groups[key]
	// Every hit held and buffered bounds any window's measure: when even that cannot fire,
	// nothing is sorted or scanned (a busy group far under its condition, or its baseline).
	bound := len(buf)
	if g != nil {
		bound += len(g.hits)
	}
	if !e.certain(c, g, bound, b.latest) {
		return
	}
	pending := slices.Collect(maps.Values(buf))
	slices.SortFunc(pending, compareHits)
	span := int64(c.Timespan)
	if g != nil && g.alert != nil && pending[0].t-g.alert.last <= int64(c.KeepAlive) {
		return // a firing may extend the open alert: it is listed when evaluated
	}
	// The hits held that a window ending at a pending hit can reach, then the pending ones.
	var all []hit
	if g != nil {
		all = append(all, g.hits[searchTime(g.hits, pending[0].t-span):]...)
	}
	all = append(all, pending...)
	slices.SortStableFunc(all, compareHits)
	isPending := func(h hit) bool { _, ok := buf[pendKey{h.id, h.rule}]; return ok }
	var st windowState
	st.init(c)
	lo := 0
	for j := 0; j < len(all); j++ {
		st.add(all[j])
		for all[lo].t < all[j].t-span {
			st.remove(all[lo])
			lo++
		}
		// A window ends at the last hit of its time, and only windows ending at a pending
		// hit are new: those ending at held hits were evaluated.
		if (j+1 < len(all) && all[j+1].t == all[j].t) || !isPending(all[j]) {
			continue
		}
		if !e.certain(c, g, st.n(), all[j].t) {
			continue
		}
		e.openWindow(c, key, all[lo:j+1], all[j].t)
		return
	}
}

func compareHits(a, b hit) int {
	return cmp.Or(cmp.Compare(a.t, b.t), strings.Compare(a.id, b.id), cmp.Compare(a.rule, b.rule))
}

// certain reports whether a window measuring n that ends at t fires when evaluated in order.
func (e *Engine) certain(c *corr, g *group, n int, t int64) bool {
	if !c.Condition.Holds(n) {
		return false
	}
	if c.Type != BaselineCount {
		return true
	}
	p := c.periodOf(t)
	if !c.startSet || t < c.start+int64(c.Learning) || e.watermark < p*int64(c.Period) {
		return false // learning, or earlier periods may still gain peaks
	}
	base := 0
	if g != nil {
		base = g.baseline(c, p)
	}
	return float64(n) > c.Factor*float64(base)
}

// openWindow opens the provisional alert of the firing window w, which ends at t.
func (e *Engine) openWindow(c *corr, key string, w []hit, t int64) {
	pa := &openAlert{c: c, g: &group{key: key}, idx: -1, curSorted: true, prov: true, trigger: t}
	// The group's open alert, if any, ends before the firing (speculateGroup): the alert
	// that opens takes every hit of the window, as fire does.
	for i := range w {
		h := w[i]
		if pa.origin == "" {
			pa.origin, pa.originT, pa.first, pa.last = h.id, h.t, h.t, h.t
		}
		pa.add(&h, c, e.cfg)
		pa.last = max(pa.last, h.t)
	}
	if pa.origin == "" {
		return
	}
	pa.firings = 1
	c.prov[key] = append(c.prov[key], pa)
	e.windowProvs++
	if e.cfg.TrackChanges {
		pa.changed = true
		e.changed = append(e.changed, pa)
	}
}

// joinedAlert resolves the provisional window alert whose origin is h, which was just
// added to the group's alert: that alert continues it when it starts at h, and supersedes
// it otherwise.
func (e *Engine) joinedAlert(c *corr, g *group, h hit) {
	for _, pa := range c.prov[g.key] {
		if pa.origin == h.id && pa.originT == h.t {
			e.resolve(c, g.key, pa)
			return
		}
	}
}

// settleWindows resolves the provisional window alerts whose window the watermark passed
// without the group's alert opening: the firing extended the alert open then.
func (e *Engine) settleWindows() {
	for _, c := range e.corrs {
		if !c.windows || len(c.prov) == 0 {
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(c.prov)) {
			for _, pa := range slices.Clone(c.prov[key]) {
				if pa.trigger < e.watermark {
					e.resolve(c, key, pa)
				}
			}
		}
	}
}

// windowState measures a sliding window of hits as the correlation's type does.
type windowState struct {
	c     *corr
	ids   map[string]int
	vals  map[string]int
	rules map[int32]int
}

func (s *windowState) init(c *corr) {
	s.c, s.ids, s.vals, s.rules = c, map[string]int{}, map[string]int{}, map[int32]int{}
}

func (s *windowState) add(h hit) {
	s.ids[h.id]++
	s.vals[h.val]++
	s.rules[h.rule]++
}

func (s *windowState) remove(h hit) {
	dec := func(m map[string]int, k string) {
		if m[k]--; m[k] == 0 {
			delete(m, k)
		}
	}
	dec(s.ids, h.id)
	dec(s.vals, h.val)
	if s.rules[h.rule]--; s.rules[h.rule] == 0 {
		delete(s.rules, h.rule)
	}
}

// n is the window's measure: distinct events (event_count, an event matched by two rules
// counting once), distinct values, or distinct rules.
func (s *windowState) n() int {
	switch s.c.Type {
	case ValueCount:
		return len(s.vals)
	case Temporal:
		return len(s.rules)
	case BaselineCount:
		if len(s.c.ValueFields) > 0 {
			return len(s.vals)
		}
	}
	return len(s.ids)
}
