package correlate

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/event"
)

// model is a reference for the engine on streams where no hit is late and no cap is reached:
// doc.go's semantics written as directly as possible, with no index, no running count and
// no buffer (every window is recomputed from all the hits a group accepted). It is slow —
// quadratic — and only for tests.
type model struct {
	cfg     Config // with defaults
	corrs   []Correlation
	byID    map[string]int
	started bool
	start   int64 // learning start: the time of the first hit processed
	groups  []map[string]*modelGroup
	out     []Alert
	dups    int64
}

type modelGroup struct {
	key      []string
	hits     []*modelHit // accepted, in processing order
	seen     map[string]int64
	measures []modelMeasured // baseline_count: every window measured, in processing order
	alert    *modelAlert
}

// modelMeasured is one window a baseline_count group measured: its period and measure.
type modelMeasured struct {
	period int64
	n      int
}

type modelHit struct {
	t    int64
	id   string
	rule int
	val  []string
	hdr  *event.Header
}

type modelAlert struct {
	a     Alert
	first int64
	last  int64
	in    map[*modelHit]bool
	ids   map[string]bool // "time/id" of the events counted
	vals  []string
}

func newModel(t *testing.T, cfg Config) *model {
	e, err := New(cfg) // only for the defaults and the topological order
	if err != nil {
		t.Fatal(err)
	}
	md := &model{cfg: e.cfg, corrs: e.Correlations(), byID: map[string]int{}}
	for i, c := range md.corrs {
		md.byID[c.ID] = i
		md.groups = append(md.groups, map[string]*modelGroup{})
	}
	return md
}

// field resolves a GroupBy or ValueFields name through the correlation's aliases.
func field(c Correlation, name, rule string) string {
	if f, ok := c.Aliases[name][rule]; ok {
		return f
	}
	return name
}

func allEmpty(vs []string) bool {
	for _, v := range vs {
		if v != "" {
			return false
		}
	}
	return true
}

// run processes the stream in the engine's order — event time, event id, rule, arrival —
// and closes every alert at the end.
func (md *model) run(stream []in) []Alert {
	type arrival struct {
		x in
		n int
	}
	sorted := make([]arrival, len(stream))
	for i, x := range stream {
		sorted[i] = arrival{x, i}
	}
	slices.SortStableFunc(sorted, func(a, b arrival) int {
		return cmp.Or(cmp.Compare(a.x.at, b.x.at), strings.Compare(a.x.id, b.x.id), strings.Compare(a.x.rule, b.x.rule))
	})
	for _, s := range sorted {
		x := s.x
		hit := x.hit()
		for ci, c := range md.corrs {
			idx := slices.Index(c.Rules, x.rule)
			if idx < 0 {
				continue
			}
			md.observe(ci, idx, hit.Time.UnixNano(), hit.EventID, hit.Header, func(name string) string {
				return x.fields[field(c, name, x.rule)]
			})
		}
	}
	for ci := range md.corrs {
		for _, g := range md.groups[ci] {
			if g.alert != nil {
				md.close(g)
			}
		}
	}
	return md.out
}

// observe is one hit of correlation ci's rule idx, whose event's fields get returns.
func (md *model) observe(ci, idx int, t int64, id string, hdr *event.Header, get func(string) string) {
	c := md.corrs[ci]
	key := make([]string, len(c.GroupBy))
	for i, n := range c.GroupBy {
		key[i] = get(n)
	}
	var val []string
	if len(c.ValueFields) > 0 {
		for _, n := range c.ValueFields {
			val = append(val, get(n))
		}
		if allEmpty(val) {
			return
		}
	}
	if !md.started {
		md.started, md.start = true, t
	}
	k := strings.Join(key, "\x00")
	g := md.groups[ci][k]
	if g == nil {
		g = &modelGroup{key: key, seen: map[string]int64{}}
		md.groups[ci][k] = g
	}
	h := &modelHit{t: t, id: id, rule: idx, val: val, hdr: hdr}
	if c.Type == NewValue {
		v := strings.Join(val, "\x00")
		last, known := g.seen[v]
		// learn-first: the group's first value, or the first after every value was forgotten.
		newest := int64(math.MinInt64)
		for _, at := range g.seen {
			newest = max(newest, at)
		}
		first := c.LearnFirst && (len(g.seen) == 0 || (c.Forget > 0 && t-newest > int64(c.Forget)))
		if !known || t > last {
			g.seen[v] = t
		}
		if !first && (!known || (c.Forget > 0 && t-last > int64(c.Forget))) && t >= md.start+int64(c.Learning) {
			md.fire(ci, g, []*modelHit{h})
		}
		return
	}
	perRule := c.Type == Temporal || c.Type == TemporalOrdered
	for _, o := range g.hits {
		if id != "" && o.t == t && o.id == id && (!perRule || o.rule == idx) {
			md.dups++
			return
		}
	}
	g.hits = append(g.hits, h)
	var w []*modelHit
	for _, o := range g.hits {
		if o.t >= t-int64(c.Timespan) {
			w = append(w, o)
		}
	}
	n := modelMeasure(c, w)
	if c.Type == BaselineCount {
		// The baseline is the highest measure of a window in one of the Forget/Period periods
		// before this one; every window is remembered.
		p := t / int64(c.Period)
		if t < 0 && t%int64(c.Period) != 0 {
			p--
		}
		base := 0
		for _, x := range g.measures {
			if x.period < p && x.period >= p-int64(c.Forget/c.Period) {
				base = max(base, x.n)
			}
		}
		g.measures = append(g.measures, modelMeasured{p, n})
		if t >= md.start+int64(c.Learning) && c.Condition.Holds(n) && float64(n) > c.Factor*float64(base) {
			md.fire(ci, g, w)
			g.alert.a.Peak = max(g.alert.a.Peak, n)
			if g.alert.a.Firings == 1 {
				g.alert.a.Baseline = base
			}
		}
		return
	}
	if c.Condition.Holds(n) {
		md.fire(ci, g, w)
	}
}

// modelMeasure is what doc.go says each type counts in a window.
func modelMeasure(c Correlation, w []*modelHit) int {
	switch c.Type {
	case EventCount:
		return len(w)
	case BaselineCount:
		if len(c.ValueFields) == 0 {
			return len(w)
		}
		fallthrough
	case ValueCount:
		vals := map[string]bool{}
		for _, h := range w {
			vals[strings.Join(h.val, "\x00")] = true
		}
		return len(vals)
	case Temporal:
		rules := map[int]bool{}
		for _, h := range w {
			rules[h.rule] = true
		}
		return len(rules)
	}
	// TemporalOrdered: the longest k such that some hits of rules 0..k-1 have nondecreasing
	// times; taking for each rule its earliest hit not before the previous one is optimal.
	t := int64(-1 << 63)
	for k := range c.Rules {
		best, found := int64(0), false
		for _, h := range w {
			if h.rule == k && h.t >= t && (!found || h.t < best) {
				best, found = h.t, true
			}
		}
		if !found {
			return k
		}
		t = best
	}
	return len(c.Rules)
}

// fire adds the window's hits not yet in the group's alert (a new alert when the last firing
// or the first event is too far back) and feeds the firing to the correlations that list ci.
func (md *model) fire(ci int, g *modelGroup, w []*modelHit) {
	c := md.corrs[ci]
	trig := w[len(w)-1]
	if a := g.alert; a != nil && (trig.t-a.last > int64(c.KeepAlive) || trig.t-a.first > int64(c.MaxDuration)) {
		md.close(g)
	}
	if g.alert == nil {
		g.alert = &modelAlert{first: trig.t, last: trig.t, in: map[*modelHit]bool{}, ids: map[string]bool{},
			a: Alert{CorrelationID: c.ID, Type: c.Type, Group: g.key}}
	}
	a := g.alert
	for _, h := range w {
		if a.in[h] {
			continue
		}
		a.in[h] = true
		if h.id != "" {
			k := fmt.Sprintf("%d/%s", h.t, h.id)
			if a.ids[k] {
				continue // the same event, matched by another referenced rule
			}
			a.ids[k] = true
		}
		a.a.Count++
		a.first = min(a.first, h.t)
		if len(a.a.EventIDs) < md.cfg.MaxEventIDs {
			a.a.EventIDs = append(a.a.EventIDs, h.id)
		} else {
			a.a.Dropped++
		}
		if len(a.a.Headers) < md.cfg.MaxHeaders && h.hdr != nil {
			a.a.Headers = append(a.a.Headers, h.hdr)
		}
		if v := strings.Join(h.val, "\x00"); h.val != nil && len(a.vals) < md.cfg.MaxEventIDs && !slices.Contains(a.vals, v) {
			a.vals = append(a.vals, v)
			a.a.Values = append(a.a.Values, h.val)
		}
	}
	a.a.Firings++
	a.last = max(a.last, trig.t)
	for di, d := range md.corrs {
		idx := slices.Index(d.Rules, c.ID)
		if idx < 0 {
			continue
		}
		md.observe(di, idx, trig.t, trig.id, trig.hdr, func(name string) string {
			name = field(d, name, c.ID)
			if i := slices.Index(c.GroupBy, name); i >= 0 {
				return g.key[i]
			}
			if i := slices.Index(c.ValueFields, name); i >= 0 && i < len(trig.val) {
				return trig.val[i]
			}
			return ""
		})
	}
}

func (md *model) close(g *modelGroup) {
	a := g.alert
	a.a.First, a.a.Last = time.Unix(0, a.first).UTC(), time.Unix(0, a.last).UTC()
	md.out = append(md.out, a.a)
	g.alert = nil
}

// TestEngineMatchesModel compares the engine with the model on random streams of heavy
// same-time collisions (bursts, storms of copies, events matched by several rules, repeated
// deliveries), every correlation type and chaining, with caps the streams do not reach.
func TestEngineMatchesModel(t *testing.T) {
	cfg := collisionConfigs()["default caps"]
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	fired := map[string]int{}
	for i := range 40 {
		stream := collisionStream(r, 300+r.IntN(300), false)
		got, e := run(t, cfg, stream)
		md := newModel(t, cfg)
		want := md.run(stream)
		s := e.Stats()
		if s.Late != 0 || s.DroppedHits != 0 || s.DroppedValues != 0 || s.EvictedGroups != 0 {
			t.Fatalf("stream %d reached a case the model does not cover: %+v", i, s)
		}
		if diff := gocmp.Diff(describe(sortAlerts(want), Stats{Duplicates: md.dups}), describe(sortAlerts(got), s)); diff != "" {
			t.Fatalf("stream %d (seed %d): engine differs from the model (-model +engine):\n%s", i, seed, diff)
		}
		for _, a := range want {
			fired[a.CorrelationID]++
		}
	}
	for _, c := range cfg.Correlations {
		if fired[c.ID] == 0 {
			t.Errorf("correlation %q never fired: the comparison does not exercise it (fired: %v)", c.ID, fired)
		}
	}
}
