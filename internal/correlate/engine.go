package correlate

import (
	"cmp"
	"container/heap"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/event"
)

// Hit is one event matched by a base rule.
type Hit struct {
	// Rule is the id of the rule that matched.
	Rule string
	// Time is the event time (eventTime); windows are measured in it, never in arrival time.
	Time time.Time
	// EventID identifies the event; hits with the same rule and EventID are one hit.
	EventID string
	// Header, when not nil, is carried into Alert.Headers. The engine keeps the pointer (the
	// hits of one event can share it): it must not change afterwards.
	Header *event.Header
}

// FieldFunc returns the value of a field of the hit's event, by its Sigma field name
// ("userIdentity.arn"), or "" when the field is absent. A field with several values (an
// array) is the caller's choice: its first value, or the values joined. The returned string
// must not alias the event's reused buffer. Observe calls it only during the call.
type FieldFunc func(field string) string

// Alert is one output of a correlation: the firings of one correlation in one group, grouped
// while each comes within KeepAlive of the previous one and within MaxDuration of the first
// event.
type Alert struct {
	CorrelationID string
	Type          Type
	// Group holds the values of the correlation's GroupBy fields, in order ("" for absent).
	Group []string
	// First and Last are the event times of the earliest and the latest hit of the evidence.
	First, Last time.Time
	// Firings is the number of times the condition was met.
	Firings int
	// Count is the number of events in the evidence (each once, however many firing windows
	// it was in and however many referenced rules it matched).
	Count int
	// EventIDs are the ids of the evidence in the order it was added (event time order for
	// hits that were not late), at most Config.MaxEventIDs; Dropped counts the others.
	EventIDs []string
	Dropped  int
	// Headers are those of the first Config.MaxHeaders hits of the evidence: the pointers the
	// hits carried (or restored copies), shared, never to be changed.
	Headers []*event.Header
	// Values are the value tuples (in ValueFields order): for ValueCount and BaselineCount
	// the distinct values of the evidence, for NewValue the new values; at most
	// Config.MaxEventIDs.
	Values [][]string
	// Baseline and Peak (BaselineCount): the group's baseline when the alert opened (the
	// highest measure of its windows in a remembered earlier period; 0 when it had none) and
	// the highest measure of the alert's firing windows.
	Baseline, Peak int
	// Superseded is set on a provisional alert (Config.Early) that closes because the alert
	// its hits went to, evaluated in event-time order, started at another event: a hit
	// earlier than its first arrived after it opened. SupersededBy is the EventID of that
	// alert's first event ("" when no alert holds its first hit).
	Superseded   bool
	SupersededBy string
}

// Stats describes the state held by an Engine.
type Stats struct {
	// Groups, Values and Hits are held in correlation state; Buffered hits wait for the
	// watermark; OpenAlerts are being grouped.
	Groups, Values, Hits, Buffered, OpenAlerts int
	// Counters since the engine started (kept across Snapshot and Restore).
	Late, Duplicates, Invalid, EvictedGroups, DroppedHits, DroppedValues int64
	// Bytes estimates the memory held by the state.
	Bytes int64
	// Watermark is the event time before which hits are late (zero before the first hit).
	Watermark time.Time
}

// Add adds the counts of o to s (the state of several engines, such as a hunt's shards);
// the watermark is the latest of the two.
func (s *Stats) Add(o Stats) {
	s.Groups += o.Groups
	s.Values += o.Values
	s.Hits += o.Hits
	s.Buffered += o.Buffered
	s.OpenAlerts += o.OpenAlerts
	s.Late += o.Late
	s.Duplicates += o.Duplicates
	s.Invalid += o.Invalid
	s.EvictedGroups += o.EvictedGroups
	s.DroppedHits += o.DroppedHits
	s.DroppedValues += o.DroppedValues
	s.Bytes += o.Bytes
	if o.Watermark.After(s.Watermark) {
		s.Watermark = o.Watermark
	}
}

type counters struct {
	Late, Duplicates, Invalid, EvictedGroups, DroppedHits, DroppedValues int64
}

// Engine evaluates correlations over hits. It is not safe for concurrent use.
type Engine struct {
	orig  Config // as given to New, for Restore
	cfg   Config // with defaults
	corrs []*corr
	byID  map[string]*corr
	refs  map[string][]ref // referenced rule id -> correlations that list it

	buf       pendingQueue
	started   bool  // a hit was observed: maxSeen and watermark are valid
	maxSeen   int64 // latest event time observed
	watermark int64
	arrivals  uint64 // arrival counter for the buffer's tie-break
	alerts    alertHeap
	out       []Alert
	n         counters
	// needStart: some correlation has no learning start yet; the next hit processed sets it.
	needStart bool
	// changed are the open alerts that opened or gained evidence since Changed was last
	// called (Config.TrackChanges).
	changed []*openAlert
	// windowProvs counts the provisional window alerts not yet resolved.
	windowProvs int
	// fresh are the hits buffered since Changed was last called (Config.Early): those
	// still buffered then open early; those evaluated meanwhile need not.
	fresh []*pending
}

type ref struct {
	c   *corr
	idx int // index of the rule in c.Rules
}

type corr struct {
	Correlation
	fp       string
	groups   map[string]*group
	lru      group // sentinel: lru.next is the most recently used
	startSet bool
	start    int64 // learning start (NewValue)
	// early: the correlation opens provisional alerts as hits arrive (Config.Early, and
	// every hit fires); prov holds them by group key until their first hit is evaluated.
	early bool
	prov  map[string][]*openAlert
	// windows: the correlation opens provisional alerts of its windows (Config.Early, see
	// early_window.go); sbuf holds its buffered hits by group, dirty the groups that
	// received some since the last check.
	windows    bool
	sbuf       map[string]*buffered
	dirty      map[string]bool
	fields     [][]string // per rule index: GroupBy names resolved through Aliases
	values     [][]string // per rule index: ValueFields resolved through Aliases
	downstream []ref
}

// group is the state of one correlation for one group-by tuple.
type group struct {
	key   string
	hits  []hit            // window types: sorted by time
	vals  map[string]int32 // ValueCount: hits per value in hits
	seen  *valueSet        // NewValue: value -> latest event time seen
	ruleN []int32          // Temporal*: hits per rule in hits
	ruleT [][]int64        // TemporalOrdered: per rule, the times of its hits in hits (window.go)
	peaks []peak           // BaselineCount: peak measure per period, sorted (baseline.go)
	dups  map[dupKey]int32 // hits by (time, id[, rule]) once a same-time run is long (window.go)
	fresh int              // hits whose gen is not gen: not in the current alert
	last  int64            // latest hit time
	alert *openAlert
	gen   uint32 // generation of the current alert
	// lastFirst is the first event of the alert of the group's latest firing (Config.Early:
	// the successor of a provisional alert when the group's alert has closed since).
	lastFirst string
	prev      *group
	next      *group
}

type hit struct {
	t    int64
	id   string
	val  string // encoded value tuple (ValueCount, NewValue)
	hdr  *event.Header
	rule int32
	gen  uint32 // alert generation this hit was added to
}

// New returns an engine for the correlations of cfg, or every problem of cfg, sorted.
func New(cfg Config) (*Engine, error) {
	d, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("configuring correlations: %w", err)
	}
	e := &Engine{orig: cfg, cfg: d, byID: map[string]*corr{}, refs: map[string][]ref{}, needStart: true}
	for _, k := range d.Correlations {
		c := &corr{Correlation: k, fp: fingerprint(k), groups: map[string]*group{}}
		if d.Early && everyHitFires(k) {
			c.early, c.prov = true, map[string][]*openAlert{}
		}
		if d.Early && d.TrackChanges && spec(k) {
			c.windows, c.prov, c.sbuf, c.dirty = true, map[string][]*openAlert{}, map[string]*buffered{}, map[string]bool{}
		}
		c.lru.next, c.lru.prev = &c.lru, &c.lru
		for _, r := range k.Rules {
			c.fields = append(c.fields, resolve(k.GroupBy, k.Aliases, r))
			c.values = append(c.values, resolve(k.ValueFields, k.Aliases, r))
		}
		e.corrs = append(e.corrs, c)
		e.byID[k.ID] = c
	}
	for _, c := range e.corrs {
		for i, r := range c.Rules {
			if up, ok := e.byID[r]; ok {
				up.downstream = append(up.downstream, ref{c, i})
			} else {
				e.refs[r] = append(e.refs[r], ref{c, i})
			}
		}
	}
	return e, nil
}

func resolve(names []string, aliases map[string]map[string]string, rule string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if f, ok := aliases[n][rule]; ok {
			out[i] = f
		}
	}
	return out
}

// Correlations returns the correlations with defaults applied, each after those it
// references.
func (e *Engine) Correlations() []Correlation {
	out := make([]Correlation, len(e.corrs))
	for i, c := range e.corrs {
		out[i] = c.Correlation
	}
	return out
}

// Wants reports whether a correlation references the rule, i.e. whether Observe needs its
// hits (Observe still uses any hit's time to move the watermark).
func (e *Engine) Wants(rule string) bool { return len(e.refs[rule]) > 0 }

// pending is a buffered hit, with the keys of every correlation that references its rule.
type pending struct {
	t       int64
	id      string
	rule    string
	arrival uint64
	hdr     *event.Header
	keys    []pkey
	done    bool // evaluated (Config.Early: no longer to open early)
}

type pkey struct {
	c     *corr
	idx   int
	group string
	val   string
}

// Observe takes one hit. fields gives the values of the event's fields (nil: all absent).
// It returns the alerts closed meanwhile, sorted (see Flush).
//
// A hit with a zero Time is counted as invalid and ignored.
func (e *Engine) Observe(h Hit, fields FieldFunc) []Alert {
	if h.Time.IsZero() {
		e.n.Invalid++
		return nil
	}
	t := h.Time.UnixNano()
	if refs := e.refs[h.Rule]; len(refs) > 0 {
		p := &pending{t: t, id: h.EventID, rule: h.Rule, arrival: e.arrivals}
		e.arrivals++
		p.hdr = h.Header
		for _, r := range refs {
			k := pkey{c: r.c, idx: r.idx, group: encodeFields(r.c.fields[r.idx], fields)}
			if len(r.c.ValueFields) > 0 {
				k.val = encodeFields(r.c.values[r.idx], fields)
				if isEmptyTuple(k.val) {
					continue // no value: nothing to count or remember
				}
			}
			p.keys = append(p.keys, k)
		}
		if len(p.keys) > 0 {
			if e.started && t < e.watermark {
				e.n.Late++
				if e.cfg.Late != nil {
					e.cfg.Late(h)
				}
				e.processPending(p, true)
			} else {
				e.buf.push(p)
				if e.cfg.Early && e.cfg.TrackChanges {
					e.fresh = append(e.fresh, p)
				}
			}
		}
	}
	e.observeTime(t)
	return e.drain()
}

// Advance tells the engine that event time has reached t, as a hit at t would (for example
// from the clock of a live source that has been quiet), and returns the alerts closed.
func (e *Engine) Advance(t time.Time) []Alert {
	if !t.IsZero() {
		e.observeTime(t.UnixNano())
	}
	return e.drain()
}

// Flush evaluates every buffered hit and closes every open alert, at the end of a batch. It
// returns the alerts closed, sorted by first event time, correlation id and group. After
// Flush the watermark is past every hit seen: later hits at or before that time are late.
func (e *Engine) Flush() []Alert {
	if e.started {
		e.advance(e.maxSeen + 1)
	}
	for _, c := range e.corrs {
		// Every buffered hit was evaluated above, so no provisional alert is left unless
		// its first hit went missing (a restored snapshot without it): close it as it is.
		for _, key := range slices.Sorted(maps.Keys(c.prov)) {
			for _, pa := range slices.Clone(c.prov[key]) {
				e.resolve(c, key, pa)
			}
		}
	}
	for e.alerts.Len() > 0 {
		e.closeAlert(e.alerts.s[0])
	}
	return e.drain()
}

func (e *Engine) observeTime(t int64) {
	if !e.started || t > e.maxSeen {
		e.maxSeen = t
	}
	wm := e.maxSeen - int64(e.cfg.Lateness)
	if !e.started {
		e.started = true
		e.watermark = wm
	}
	e.advance(wm)
}

// advance moves the watermark to wm and evaluates the buffered hits before it in event-time
// order.
func (e *Engine) advance(wm int64) {
	prev := e.watermark
	if wm > e.watermark {
		e.watermark = wm
	}
	for e.buf.len() > 0 && e.buf.peek().t < e.watermark {
		p := e.buf.pop()
		p.done = true
		e.closeAlerts(p.t)
		e.processPending(p, false)
	}
	e.closeAlerts(e.watermark)
	if e.windowProvs > 0 {
		e.settleWindows()
	}
	// Dropping idle groups only frees memory (a group whose hits are all outside its window
	// behaves as an absent one), so it runs when the watermark crosses a minute boundary
	// rather than on every hit: with hundreds of correlations a scan per hit would dominate.
	// The boundary depends on the watermark alone, so split runs expire exactly as one run.
	if e.watermark/expireEvery != prev/expireEvery {
		for _, c := range e.corrs {
			e.expire(c, e.watermark)
		}
	}
	if e.watermark/trimEvery != prev/trimEvery {
		for _, c := range e.corrs {
			if c.Type == BaselineCount {
				e.trimIdle(c, e.watermark)
			}
		}
	}
}

// trimEvery is the event-time granularity at which idle baseline_count groups, which are
// kept for their peaks long after their window has passed, let go of their window's hits.
const trimEvery = int64(time.Hour)

// trimIdle drops the hits older than now − timespan of the least recently used groups, up to
// the first group with a hit since then: no hit at or after now can count them.
func (e *Engine) trimIdle(c *corr, now int64) {
	cut := now - int64(c.Timespan)
	for g := c.lru.prev; g != &c.lru && g.last < cut; g = g.prev {
		if len(g.hits) > 0 {
			g.removeFront(c, searchTime(g.hits, cut))
		}
	}
}

// Begin starts the learning period of every correlation that has not started one at t: the
// event time of the first event of the data, whether or not any rule matches it, so that
// "learn on 7 days of data" does not depend on which rules are loaded. A caller that does
// not call it gets the time of the first hit processed. Correlations whose learning started
// earlier (a restored snapshot) keep their start.
func (e *Engine) Begin(t time.Time) {
	if e.needStart && !t.IsZero() {
		e.begin(t.UnixNano())
	}
}

func (e *Engine) begin(t int64) {
	for _, c := range e.corrs {
		if !c.startSet {
			c.startSet, c.start = true, t
		}
	}
	e.needStart = false
}

// LearningStatus is where a correlation with a learning period stands.
type LearningStatus struct {
	// ID is the correlation's id.
	ID string
	// Until is when its learning ends (zero: not started, no hit or Begin yet).
	Until time.Time
}

// Learning returns the correlations with a learning period (new_value, baseline_count), in
// configuration order.
func (e *Engine) Learning() []LearningStatus {
	var out []LearningStatus
	for _, c := range e.corrs {
		if c.Learning <= 0 {
			continue
		}
		st := LearningStatus{ID: c.ID}
		if c.startSet {
			st.Until = time.Unix(0, c.start+int64(c.Learning)).UTC()
		}
		out = append(out, st)
	}
	return out
}

// expireEvery is the event-time granularity of idle-group expiry.
const expireEvery = int64(time.Minute)

func (e *Engine) processPending(p *pending, late bool) {
	if e.needStart {
		e.begin(p.t)
	}
	for _, k := range p.keys {
		e.process(k.c, k.group, hit{t: p.t, id: p.id, val: k.val, hdr: p.hdr, rule: int32(k.idx)}, late)
		if k.c.early && !late {
			e.evaluated(k.c, k.group, p.t, p.id)
			e.resolveOrigin(k.c, k.group, p.t, p.id)
		}
		if k.c.windows && !late {
			e.windowHitEvaluated(k.c, k.group, p.id, int32(k.idx))
		}
	}
}

// process evaluates one hit of one correlation. late hits are evaluated against the state
// held, which may have lost older hits.
func (e *Engine) process(c *corr, key string, h hit, late bool) {
	g := c.groups[key]
	if g == nil {
		g = e.newGroup(c, key, h.t)
	}
	c.touch(g)
	prev := g.last
	if h.t > g.last {
		g.last = h.t
	}
	if c.Type == NewValue {
		e.processNewValue(c, g, h, prev, late)
		return
	}
	e.processWindow(c, g, h, late)
}

func (e *Engine) newGroup(c *corr, key string, now int64) *group {
	if len(c.groups) >= e.cfg.MaxGroups {
		e.expire(c, now)
	}
	for len(c.groups) >= e.cfg.MaxGroups {
		e.n.EvictedGroups++
		e.dropGroup(c, c.lru.prev)
	}
	g := &group{key: key}
	switch c.Type {
	case ValueCount:
		g.vals = map[string]int32{}
	case BaselineCount:
		if len(c.ValueFields) > 0 {
			g.vals = map[string]int32{}
		}
	case Temporal:
		g.ruleN = make([]int32, len(c.Rules))
	case TemporalOrdered:
		g.ruleN = make([]int32, len(c.Rules))
		g.ruleT = make([][]int64, len(c.Rules))
	case NewValue:
		g.seen = &valueSet{}
	}
	c.groups[key] = g
	g.prev, g.next = &c.lru, c.lru.next
	g.prev.next, g.next.prev = g, g
	return g
}

func (c *corr) touch(g *group) {
	if c.lru.next == g {
		return
	}
	g.prev.next, g.next.prev = g.next, g.prev
	g.prev, g.next = &c.lru, c.lru.next
	g.prev.next, g.next.prev = g, g
}

func (e *Engine) dropGroup(c *corr, g *group) {
	if g.alert != nil {
		e.closeAlert(g.alert)
	}
	g.prev.next, g.next.prev = g.next, g.prev
	g.prev, g.next = nil, nil
	delete(c.groups, g.key)
}

// expire drops, from the least recently used end, the groups whose state can no longer
// affect a hit at or after now.
func (e *Engine) expire(c *corr, now int64) {
	for g := c.lru.prev; g != &c.lru; g = c.lru.prev {
		if g.alert != nil {
			return
		}
		switch c.Type {
		case NewValue:
			if c.Forget == 0 || g.last >= now-int64(c.Forget) {
				return
			}
		case BaselineCount:
			// The peak of the period of the group's last hit counts for Forget after that
			// period ends, which is up to Forget + Period after the hit.
			if g.last >= now-int64(c.Forget+c.Period) {
				return
			}
		default:
			if g.last >= now-int64(c.Timespan) {
				return
			}
		}
		e.dropGroup(c, g)
	}
}

// processNewValue evaluates a hit of a new_value correlation; prev is the group's last hit
// time before it.
func (e *Engine) processNewValue(c *corr, g *group, h hit, prev int64, late bool) {
	last, known := g.seen.get(h.val)
	isNew := !known || (c.Forget > 0 && h.t-last > int64(c.Forget))
	// With LearnFirst the group's own first value is learned: the first of a new group, or of
	// one whose every value is forgotten (idle for longer than Forget). The second case
	// does not depend on whether expiry has dropped the idle group yet, which depends on
	// when the watermark crossed a minute boundary, not on the group's hits.
	if c.LearnFirst && (g.seen.len() == 0 || (c.Forget > 0 && h.t-prev > int64(c.Forget))) {
		isNew = false
	}
	if !known && g.seen.len() >= e.cfg.MaxValuesPerGroup {
		g.seen.removeOldest()
		e.n.DroppedValues++
	}
	if !known || h.t > last {
		g.seen.set(h.val, h.t)
	}
	if isNew && h.t >= c.start+int64(c.Learning) {
		w := []hit{h}
		e.fire(c, g, w, 0, late, -1, measured{})
	}
}

func (e *Engine) processWindow(c *corr, g *group, h hit, late bool) {
	span := int64(c.Timespan)
	if !late {
		n := 0
		for n < len(g.hits) && g.hits[n].t < h.t-span {
			n++
		}
		g.removeFront(c, n)
	}
	pos := len(g.hits)
	if late || (pos > 0 && g.hits[pos-1].t > h.t) {
		pos = searchTime(g.hits, h.t+1)
	}
	if g.isDuplicate(c, pos, &h) {
		e.n.Duplicates++
		return
	}
	if g.vals != nil {
		if _, ok := g.vals[h.val]; !ok && len(g.vals) >= e.cfg.MaxValuesPerGroup {
			e.n.DroppedValues++
			return
		}
	}
	h.gen = 0
	g.insert(c, pos, h)
	if over := len(g.hits) - e.cfg.MaxHitsPerGroup; over > 0 {
		e.n.DroppedHits += int64(over)
		g.removeFront(c, over)
		pos -= over
		if pos < 0 {
			return // the hit itself was the oldest
		}
	}
	if !late {
		j := len(g.hits) - 1
		if m, ok := e.holds(c, g, e.measureFull(c, g), g.hits[j].t); ok {
			e.fire(c, g, g.hits, j, false, -1, m)
		}
		return
	}
	// A late hit changes the windows ending at it and at every later hit within timespan.
	for j := pos; j < len(g.hits) && g.hits[j].t <= h.t+span; j++ {
		lo := searchTime(g.hits[:j+1], g.hits[j].t-span)
		w := g.hits[lo : j+1]
		n := 0
		if lo == 0 && j == len(g.hits)-1 {
			n = e.measureFull(c, g) // the whole window held: the running counts say it
		} else {
			n = measure(c, w)
		}
		if m, ok := e.holds(c, g, n, g.hits[j].t); ok {
			e.fire(c, g, w, len(w)-1, true, pos-lo, m)
		}
	}
}

// measureFull measures the whole window held by a group, using its running counts.
func (e *Engine) measureFull(c *corr, g *group) int {
	switch c.Type {
	case EventCount:
		return len(g.hits)
	case ValueCount:
		return len(g.vals)
	case BaselineCount:
		if g.vals != nil {
			return len(g.vals)
		}
		return len(g.hits)
	case Temporal:
		n := 0
		for _, k := range g.ruleN {
			if k > 0 {
				n++
			}
		}
		return n
	}
	// TemporalOrdered: the ordered prefix cannot be longer than the leading rules present.
	possible := 0
	for possible < len(g.ruleN) && g.ruleN[possible] > 0 {
		possible++
	}
	if lowerBoundsOnly(c.Condition) && !c.Condition.Holds(possible) {
		return possible
	}
	return orderedTimes(g.ruleT)
}

func lowerBoundsOnly(cond Condition) bool {
	for _, cm := range cond {
		if cm.Op != GT && cm.Op != GTE {
			return false
		}
	}
	return true
}

// measure measures one window: the number the condition is compared with.
func measure(c *corr, w []hit) int {
	switch c.Type {
	case EventCount:
		return len(w)
	case BaselineCount:
		if len(c.ValueFields) == 0 {
			return len(w)
		}
		fallthrough
	case ValueCount:
		distinct := make(map[string]struct{}, len(w))
		for _, h := range w {
			distinct[h.val] = struct{}{}
		}
		return len(distinct)
	case Temporal:
		seen := make([]bool, len(c.Rules))
		n := 0
		for _, h := range w {
			if !seen[h.rule] {
				seen[h.rule] = true
				n++
			}
		}
		return n
	}
	return orderedPrefix(w, len(c.Rules))
}

// orderedPrefix returns the length of the longest prefix of the rules (0, 1, ...) whose hits
// appear in w in order; hits at the same time are in order whichever way they are stored.
func orderedPrefix(w []hit, rules int) int {
	from := 0
	for k := range rules {
		i := from
		for i < len(w) && int(w[i].rule) != k {
			i++
		}
		if i == len(w) {
			return k
		}
		from = i
		for from > 0 && w[from-1].t == w[i].t {
			from--
		}
	}
	return rules
}

// fire records that the condition held for the window w ending at w[j], and feeds the firing
// to the correlations that reference c. For a window changed by a late hit, lateAt is the
// index of that hit in w (-1 otherwise). m is what the window measured (BaselineCount).
func (e *Engine) fire(c *corr, g *group, w []hit, j int, late bool, lateAt int, m measured) {
	trig := w[j]
	a := g.alert
	if a != nil && !late && (trig.t-a.last > int64(c.KeepAlive) || trig.t-a.first > int64(c.MaxDuration)) {
		e.closeAlert(a)
		a = nil
	}
	if a == nil {
		g.gen++
		g.fresh = len(g.hits)
		a = &openAlert{c: c, g: g, first: trig.t, last: trig.t, gen: g.gen, curSorted: true}
		if c.Type == BaselineCount {
			a.baseline = m.base
		}
		g.alert = a
		heap.Push(&e.alerts, a)
	}
	// In order, the hits not yet in the alert are a suffix of the window (windows only slide
	// forward); a late hit may sit anywhere, but when the group holds no other hit outside the
	// alert (g.fresh), the late hit is the only one to look at.
	start, end := 0, j
	switch {
	case !late:
		start = j + 1
		for start > 0 && w[start-1].gen != a.gen {
			start--
		}
	case lateAt >= 0 && g.fresh == 0:
		start = j + 1
	case lateAt >= 0 && g.fresh == 1 && w[lateAt].gen != a.gen:
		start, end = lateAt, lateAt
	}
	for i := start; i <= end; i++ {
		if w[i].gen != a.gen {
			w[i].gen = a.gen
			if c.Type != NewValue { // a new_value firing's hit is not held
				g.fresh--
			}
			a.add(&w[i], c, e.cfg)
			if c.windows && len(c.prov[g.key]) > 0 {
				e.joinedAlert(c, g, w[i])
			}
		}
	}
	a.firings++
	if c.Type == BaselineCount {
		a.peak = max(a.peak, m.n)
	}
	if len(a.ids) > 0 {
		g.lastFirst = a.ids[0]
	}

	if trig.t > a.last {
		a.last = trig.t
	}
	heap.Fix(&e.alerts, a.idx)
	if e.cfg.TrackChanges && !a.changed {
		a.changed = true
		e.changed = append(e.changed, a)
	}

	if len(c.downstream) == 0 {
		return
	}
	group := decodeFields(g.key)
	var values []string
	if trig.val != "" {
		values = decodeFields(trig.val)
	}
	up := func(name string) string {
		if i := slices.Index(c.GroupBy, name); i >= 0 {
			return group[i]
		}
		if i := slices.Index(c.ValueFields, name); i >= 0 && i < len(values) {
			return values[i]
		}
		return ""
	}
	for _, d := range c.downstream {
		h := hit{t: trig.t, id: trig.id, hdr: trig.hdr, rule: int32(d.idx)}
		if len(d.c.ValueFields) > 0 {
			h.val = encodeFields(d.c.values[d.idx], up)
			if isEmptyTuple(h.val) {
				continue
			}
		}
		e.process(d.c, encodeFields(d.c.fields[d.idx], up), h, late)
	}
}

// openAlert is an Alert being grouped.
type openAlert struct {
	c           *corr
	g           *group
	first, last int64
	firings     int
	count       int
	dropped     int
	ids         []string
	// hdrs point at the hits' headers, which the events' other hits share.
	hdrs []*event.Header
	vals []string // encoded tuples
	gen  uint32
	idx  int // in the alert heap
	// baseline and peak (BaselineCount): see Alert.
	baseline, peak int
	// curT and curIDs are the time and ids of the latest hits added, to add an event matched
	// by several referenced rules once (its hits have the same time). Hits added in order come
	// in event id order, so curIDs is sorted (curSorted) and searched by bisection; once late
	// hits have unsorted it and it is long, curSet indexes it.
	curT      int64
	curIDs    []string
	curSorted bool
	curSet    map[string]struct{}
	// changed: the alert is in Engine.changed.
	changed bool
	// prov: a provisional alert (Config.Early), opened when origin, its first hit (at
	// originT), arrived; its g is a detached group holding only the key. resolved: its
	// origin was evaluated, it is no longer reported.
	prov     bool
	resolved bool
	origin   string
	originT  int64
	// trigger (a provisional window alert): the time of the window's last hit; the
	// watermark past it settles the alert.
	trigger int64
	// pend (Config.Early): of a real alert, the hits that arrived ahead of the watermark and
	// will join it when it evaluates them (Changed lists them already; closing does not:
	// they are evidence once evaluated); of a provisional alert, all its hits. By event id.
	pend map[string]hit
}

// curScan is the length of an unsorted curIDs up to which it is scanned rather than indexed.
const curScan = 16

func (a *openAlert) add(h *hit, c *corr, cfg Config) {
	if h.id != "" {
		if len(a.curIDs) > 0 && h.t == a.curT {
			if a.hasCur(h.id) {
				return
			}
		} else {
			a.resetCur(h.t)
		}
		a.addCur(h.id)
	}
	a.count++
	if h.t < a.first {
		a.first = h.t
	}
	if len(a.ids) < cfg.MaxEventIDs {
		a.ids = append(a.ids, h.id)
	} else {
		a.dropped++
	}
	if len(a.hdrs) < cfg.MaxHeaders && h.hdr != nil {
		a.hdrs = append(a.hdrs, h.hdr)
	}
	if h.val != "" && len(a.vals) < cfg.MaxEventIDs && !slices.Contains(a.vals, h.val) {
		a.vals = append(a.vals, h.val)
	}
}

// hasCur reports whether id is in curIDs.
func (a *openAlert) hasCur(id string) bool {
	switch {
	case a.curSet != nil:
		_, ok := a.curSet[id]
		return ok
	case a.curSorted:
		_, ok := slices.BinarySearch(a.curIDs, id)
		return ok
	}
	return slices.Contains(a.curIDs, id)
}

// resetCur starts the ids of a new time.
func (a *openAlert) resetCur(t int64) {
	a.curT, a.curSorted, a.curSet = t, true, nil
	if cap(a.curIDs) > 1024 {
		a.curIDs = nil // a burst is over: do not keep its array
	} else {
		a.curIDs = a.curIDs[:0]
	}
}

// addCur appends id, which is not in curIDs.
func (a *openAlert) addCur(id string) {
	if n := len(a.curIDs); a.curSorted && n > 0 && a.curIDs[n-1] > id {
		a.curSorted = false
	}
	a.curIDs = append(a.curIDs, id)
	switch {
	case a.curSet != nil:
		a.curSet[id] = struct{}{}
	case !a.curSorted && len(a.curIDs) > curScan:
		a.curSet = make(map[string]struct{}, 2*len(a.curIDs))
		for _, x := range a.curIDs {
			a.curSet[x] = struct{}{}
		}
	}
}

func (a *openAlert) deadline() int64 {
	return min(a.last+int64(a.c.KeepAlive), a.first+int64(a.c.MaxDuration))
}

// closeAlerts closes the alerts that no hit at or after now can extend.
func (e *Engine) closeAlerts(now int64) {
	for e.alerts.Len() > 0 && e.alerts.s[0].deadline() < now {
		e.closeAlert(e.alerts.s[0])
	}
}

func (e *Engine) closeAlert(a *openAlert) {
	heap.Remove(&e.alerts, a.idx)
	a.g.alert = nil
	e.out = append(e.out, a.snapshot())
}

// snapshot is the Alert of a, sharing its ids and headers up to their lengths now.
func (a *openAlert) snapshot() Alert {
	out := Alert{
		CorrelationID: a.c.ID,
		Type:          a.c.Type,
		Group:         decodeFields(a.g.key),
		First:         time.Unix(0, a.first).UTC(),
		Last:          time.Unix(0, a.last).UTC(),
		Firings:       a.firings,
		Count:         a.count,
		EventIDs:      a.ids,
		Dropped:       a.dropped,
		Headers:       a.hdrs,
		Baseline:      a.baseline,
		Peak:          a.peak,
	}
	out.EventIDs = out.EventIDs[:len(out.EventIDs):len(out.EventIDs)]
	out.Headers = out.Headers[:len(out.Headers):len(out.Headers)]
	for _, v := range a.vals {
		out.Values = append(out.Values, decodeFields(v))
	}
	return out
}

// Changed returns the alerts still open that opened or gained evidence since the last call
// (with Config.TrackChanges; nil without), sorted as Flush sorts. An alert closed meanwhile
// is not among them: it comes out of Observe, Advance or Flush. The slices of an Alert
// returned share the open alert's arrays up to their lengths: later evidence does not change
// them.
func (e *Engine) Changed() []Alert {
	if e.cfg.Early {
		for _, p := range e.fresh {
			if !p.done {
				e.speculate(p)
				for _, k := range p.keys {
					if k.c.windows {
						e.bufferWindowHit(k.c, k.group, hit{t: p.t, id: p.id, val: k.val, hdr: p.hdr, rule: int32(k.idx)})
					}
				}
			}
		}
		clear(e.fresh)
		e.fresh = e.fresh[:0]
		e.speculateWindows()
	}
	var out []Alert
	for _, a := range e.changed {
		a.changed = false
		if (a.prov && !a.resolved) || (!a.prov && a.idx >= 0 && a.g.alert == a) {
			out = append(out, a.withPending(e.cfg))
		}
	}
	clear(e.changed)
	e.changed = e.changed[:0]
	slices.SortStableFunc(out, compareAlerts)
	return out
}

// headerValues copies headers.
func headerValues(hs []*event.Header) []event.Header {
	if hs == nil {
		return nil
	}
	out := make([]event.Header, len(hs))
	for i, h := range hs {
		out[i] = *h
	}
	return out
}

// headerPointers points at copies of headers.
func headerPointers(hs []event.Header) []*event.Header {
	if hs == nil {
		return nil
	}
	out := make([]*event.Header, len(hs))
	for i := range hs {
		out[i] = &hs[i]
	}
	return out
}

func (e *Engine) drain() []Alert {
	if len(e.out) == 0 {
		return nil
	}
	out := e.out
	e.out = nil
	slices.SortStableFunc(out, compareAlerts)
	return out
}

func compareAlerts(a, b Alert) int {
	return cmp.Or(
		a.First.Compare(b.First),
		strings.Compare(a.CorrelationID, b.CorrelationID),
		slices.Compare(a.Group, b.Group),
		a.Last.Compare(b.Last),
	)
}

// pendingHeap orders buffered hits by event time, then event id, rule and arrival.
// pendingQueue holds the buffered hits in comparePending order. A batch hunt feeds hits
// already sorted by time, so most arrive after every hit buffered: those go to a FIFO in
// O(1); the others (a live stream's stragglers) go to a heap. The next hit is the smaller of
// the two heads — the same order as one heap, without its per-hit log n string compares.
type pendingQueue struct {
	fifo []*pending // sorted; fifo[head:] are buffered
	head int
	heap pendingHeap
}

func (q *pendingQueue) len() int { return len(q.fifo) - q.head + q.heap.Len() }

func (q *pendingQueue) push(p *pending) {
	if n := len(q.fifo); n == q.head || comparePending(q.fifo[n-1], p) <= 0 {
		if q.head > 0 && q.head == n {
			q.fifo, q.head = q.fifo[:0], 0
		}
		q.fifo = append(q.fifo, p)
		return
	}
	// A caller that sorts the hits of one event by another key than the rule id (hunt: by
	// the rule's position) sends them a few places out of order: insert such a hit into
	// the FIFO's last places rather than into the heap, which would otherwise hold one hit
	// of every event until the watermark passes (a burst: n log n string compares).
	n := len(q.fifo)
	i := n - 1
	for i > q.head && n-i < reorderWindow && comparePending(q.fifo[i-1], p) > 0 {
		i--
	}
	if i > q.head && comparePending(q.fifo[i-1], p) <= 0 {
		q.fifo = slices.Insert(q.fifo, i, p)
		return
	}
	heap.Push(&q.heap, p)
}

// reorderWindow is how far back from its end the FIFO takes a hit that arrives out of order.
const reorderWindow = 8

// fromFIFO says whether the next hit is the FIFO's head.
func (q *pendingQueue) fromFIFO() bool {
	if q.head == len(q.fifo) {
		return false
	}
	return q.heap.Len() == 0 || comparePending(q.fifo[q.head], q.heap.s[0]) < 0
}

func (q *pendingQueue) peek() *pending {
	if q.fromFIFO() {
		return q.fifo[q.head]
	}
	return q.heap.s[0]
}

func (q *pendingQueue) pop() *pending {
	if !q.fromFIFO() {
		return heap.Pop(&q.heap).(*pending)
	}
	p := q.fifo[q.head]
	q.fifo[q.head] = nil
	q.head++
	// Reclaim the consumed front once it is most of the slice.
	if q.head > 1024 && q.head > len(q.fifo)/2 {
		n := copy(q.fifo, q.fifo[q.head:])
		clear(q.fifo[n:])
		q.fifo, q.head = q.fifo[:n], 0
	}
	return p
}

// all returns the buffered hits, in no particular order.
func (q *pendingQueue) all() []*pending {
	return append(append([]*pending(nil), q.fifo[q.head:]...), q.heap.s...)
}

type pendingHeap struct{ s []*pending }

func (h *pendingHeap) Len() int           { return len(h.s) }
func (h *pendingHeap) Less(i, j int) bool { return comparePending(h.s[i], h.s[j]) < 0 }
func (h *pendingHeap) Swap(i, j int)      { h.s[i], h.s[j] = h.s[j], h.s[i] }
func (h *pendingHeap) Push(x any)         { h.s = append(h.s, x.(*pending)) }
func (h *pendingHeap) Pop() any {
	p := h.s[len(h.s)-1]
	h.s[len(h.s)-1] = nil
	h.s = h.s[:len(h.s)-1]
	return p
}

// alertHeap orders open alerts by deadline.
type alertHeap struct{ s []*openAlert }

func (h *alertHeap) Len() int { return len(h.s) }
func (h *alertHeap) Less(i, j int) bool {
	a, b := h.s[i], h.s[j]
	// Strings are compared only on a tie of deadlines (cmp.Or would compare them always).
	if da, db := a.deadline(), b.deadline(); da != db {
		return da < db
	}
	if c := strings.Compare(a.c.ID, b.c.ID); c != 0 {
		return c < 0
	}
	return a.g.key < b.g.key
}
func (h *alertHeap) Swap(i, j int) {
	h.s[i], h.s[j] = h.s[j], h.s[i]
	h.s[i].idx, h.s[j].idx = i, j
}
func (h *alertHeap) Push(x any) {
	a := x.(*openAlert)
	a.idx = len(h.s)
	h.s = append(h.s, a)
}
func (h *alertHeap) Pop() any {
	a := h.s[len(h.s)-1]
	h.s[len(h.s)-1] = nil
	h.s = h.s[:len(h.s)-1]
	a.idx = -1
	return a
}

func comparePending(a, b *pending) int {
	return cmp.Or(cmp.Compare(a.t, b.t), strings.Compare(a.id, b.id),
		strings.Compare(a.rule, b.rule), cmp.Compare(a.arrival, b.arrival))
}

func sortSeen(s []snapSeen) {
	slices.SortFunc(s, func(a, b snapSeen) int { return slices.Compare(a.Value, b.Value) })
}
