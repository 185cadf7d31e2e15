package hunt

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fastjson"
	"golang.org/x/sync/errgroup"

	"github.com/trailhound/trailhound/internal/correlate"
	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
)

// Virtual fields the grouping of single-event signals uses; they are read from the event's
// header, not from its JSON.
const (
	fieldAccount = "@account"
	fieldActor   = "@actor"
)

// groupPrefix names the correlation that groups one detection rule's signals.
const groupPrefix = "signal:"

// match is one event matched by one detection rule, kept until the stateful stage.
type match struct {
	rule *detect.Rule
	// hdr is shared by all the matches of one event.
	hdr    *event.Header
	fields map[string]string // values of the fields correlations group or count by
}

// stateful turns matches into signals: repeated matches of a rule by one actor in one
// account within the group window become one signal, correlation rules are evaluated in
// event time, and the state can be carried from one run to the next.
//
// The work is split over a fixed number of independent engines (shards): the Sigma
// correlations, whose rules may depend on each other, share shard 0; the grouping of each
// detection rule goes to the shard its id hashes to. Shards run in parallel over the same
// time-ordered matches, and the assignment depends on rule ids only, so a state file
// written by one run fits the next.
type stateful struct {
	cfg    Config
	shards []*correlate.Engine // nil entries hold nothing
	// revs, per shard, is the latest revision of each signal still open (emitted open or
	// updated), when every revision is emitted (Config.Emit, or a live hunt); nil otherwise.
	revs    []map[string]int
	info    map[string]signal.RuleInfo
	helpers map[string]bool
	fields  map[string][]string // detection rule id -> fields to capture
}

// numShards is fixed (not the number of CPUs) so that state files stay compatible.
const numShards = 4

func shardOf(ruleID string) int {
	h := fnv.New32a()
	h.Write([]byte(ruleID))
	return 1 + int(h.Sum32()%(numShards-1))
}

func newStateful(cfg Config, set *ruleset.Set, track bool) (*stateful, error) {
	s := &stateful{cfg: cfg, info: map[string]signal.RuleInfo{}, helpers: set.Correlations.Helpers, fields: map[string][]string{}}
	corrs := make([][]correlate.Correlation, numShards)
	corrs[0] = slices.Clone(set.Correlations.Rules)
	for id, info := range set.Correlations.Info {
		s.info[id] = info
	}
	if cfg.GroupWindow > 0 {
		for _, r := range set.Engine.Rules() {
			if s.helpers[r.Info.ID] {
				continue
			}
			id := groupPrefix + r.Info.ID
			n := shardOf(r.Info.ID)
			corrs[n] = append(corrs[n], correlate.Correlation{
				ID: id, Type: correlate.EventCount, Rules: []string{r.Info.ID},
				GroupBy:   []string{fieldAccount, fieldActor},
				Timespan:  time.Second, // gte 1 fires on every hit: no window to keep; KeepAlive groups
				Condition: correlate.Condition{{Op: correlate.GTE, Value: 1}},
				KeepAlive: cfg.GroupWindow, MaxDuration: cfg.MaxSignalDuration,
			})
			s.info[id] = r.Info
		}
	}
	// A run whose state outlives it keeps hits for the lateness, for the events of a later
	// run that fall before its watermark; a run without one reads its matches in event-time
	// order, so nothing arrives late and nothing needs to wait.
	lateness := cfg.Lateness
	if cfg.StateFile == "" && !cfg.KeepState {
		lateness = -1
	}
	s.shards = make([]*correlate.Engine, numShards)
	for i, cs := range corrs {
		if len(cs) == 0 {
			continue
		}
		eng, err := correlate.New(correlate.Config{
			Correlations: cs,
			Lateness:     lateness,
			MaxEventIDs:  cfg.MaxEventIDs,
			MaxHeaders:   cfg.MaxEventIDs,
			TrackChanges: track,
			Early:        track && cfg.OpenEarly,
		})
		if err != nil {
			return nil, fmt.Errorf("setting up correlations: %w", err)
		}
		s.shards[i] = eng
		for _, c := range eng.Correlations() {
			for _, rule := range c.Rules {
				for _, name := range append(slices.Clone(c.GroupBy), c.ValueFields...) {
					f := name
					if a, ok := c.Aliases[name][rule]; ok {
						f = a
					}
					if !slices.Contains(s.fields[rule], f) {
						s.fields[rule] = append(s.fields[rule], f)
					}
				}
			}
		}
	}
	s.revs = make([]map[string]int, numShards)
	if track {
		for i := range s.revs {
			s.revs[i] = map[string]int{}
		}
	}
	switch {
	case cfg.State != nil:
		if err := decodeState(cfg.State, s.shards, s.revs); err != nil {
			return nil, fmt.Errorf("loading state: %w", err)
		}
	case cfg.StateFile != "":
		if err := loadState(cfg.StateFile, s.shards, s.revs); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// tracking reports whether every revision is emitted.
func (s *stateful) tracking() bool { return s.revs[0] != nil }

// closed appends to out the signal of an alert of shard i that closed: its last revision.
// A provisional alert superseded before any of its revisions went out is not a signal
// anyone saw: nothing is appended.
func (s *stateful) closed(out []signal.Signal, i int, a correlate.Alert) []signal.Signal {
	sig := s.toSignal(a)
	sig.Status, sig.Revision = signal.StatusClosed, 1
	if a.Superseded {
		if !s.tracking() || s.revs[i][sig.ID] == 0 {
			return out
		}
		if a.SupersededBy != "" {
			sig.SupersededBy = signal.LifecycleID(a.CorrelationID, a.Group, a.SupersededBy)
		}
	}
	if s.tracking() {
		sig.Revision = s.revs[i][sig.ID] + 1
		delete(s.revs[i], sig.ID)
	}
	return append(out, sig)
}

// changed returns the revisions of the alerts of shard i that opened or gained evidence
// since the last call (when tracking).
func (s *stateful) changed(i int) []signal.Signal {
	if !s.tracking() || s.shards[i] == nil {
		return nil
	}
	var out []signal.Signal
	for _, a := range s.shards[i].Changed() {
		sig := s.toSignal(a)
		rev := s.revs[i][sig.ID] + 1
		s.revs[i][sig.ID] = rev
		sig.Status, sig.Revision = signal.StatusUpdated, rev
		if rev == 1 {
			sig.Status = signal.StatusOpen
		}
		out = append(out, sig)
	}
	return out
}

// eventHeader is the header every match of ev shares; an event without an eventID gets its
// position instead, so that its matches still tell events apart.
func eventHeader(ev *event.Event, in *interner) *event.Header {
	h := in.header(ev)
	if h.EventID == "" {
		h.EventID = fmt.Sprintf("%s#%d", h.Pos.File, h.Pos.Record)
	}
	return &h
}

// capture copies, while the event is alive, what the stateful stage needs of it; hdr is the
// event's header (eventHeader).
func (s *stateful) capture(r *detect.Rule, ev *event.Event, hdr *event.Header, in *interner) match {
	m := match{rule: r, hdr: hdr}
	for _, f := range s.fields[r.Info.ID] {
		if strings.HasPrefix(f, "@") {
			continue
		}
		if m.fields == nil {
			m.fields = map[string]string{}
		}
		m.fields[f] = fieldText(ev, f, in)
	}
	return m
}

// fieldText is the text of a field: a string's content or a number's JSON text; several
// values (an array) are joined with commas.
func fieldText(ev *event.Event, field string, in *interner) string {
	var parts []string
	ev.Lookup(strings.Split(field, "."), func(v *fastjson.Value) bool {
		switch v.Type() {
		case fastjson.TypeString:
			b, _ := v.StringBytes()
			parts = append(parts, in.get(b))
		case fastjson.TypeNull:
		default:
			in.scratch = v.MarshalTo(in.scratch[:0])
			parts = append(parts, in.get(in.scratch))
		}
		return true
	})
	return strings.Join(parts, ",")
}

// persistent reports whether the state outlives the run (a state file, or kept for the
// store): signals still open then stay open unless Flush.
func (s *stateful) persistent() bool { return s.cfg.StateFile != "" || s.cfg.KeepState }

// run evaluates the matches of the runs in event-time order (so the result does not depend
// on the order files were read in) and returns the signals, and the state after them when
// Config.KeepState. The merged stream is fanned out in batches to the shards, which work in
// parallel.
// evaluate gives the matches of runs, merged in event-time order, to the shards, and
// returns the signals of the alerts that closed (all of them when flush) and, when
// tracking, the revisions of those that opened or grew: after each match when eachMatch,
// else once at the end (a live batch).
func (s *stateful) evaluate(ctx context.Context, runs []run, rules []*detect.Rule, flush, eachMatch bool) ([]signal.Signal, error) {
	const batchSize = 1024
	// wants[rule index] lists the shards whose engines reference the rule: a match goes to
	// those only.
	wants := make([][]int, len(rules))
	for _, r := range rules {
		for i, eng := range s.shards {
			if eng != nil && eng.Wants(r.Info.ID) {
				wants[r.Index] = append(wants[r.Index], i)
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	chans := make([]chan []match, len(s.shards))
	out := make([][]signal.Signal, len(s.shards))
	for i, eng := range s.shards {
		if eng == nil {
			continue
		}
		ch := make(chan []match, 4)
		chans[i] = ch
		g.Go(func() error {
			// Alerts become signals as they close, so that their headers are not kept.
			for b := range ch {
				for j := range b {
					out[i] = s.observe(i, &b[j], out[i])
					if eachMatch {
						// Each match that opens or grows a signal is a revision of it.
						out[i] = append(out[i], s.changed(i)...)
					}
				}
			}
			out[i] = append(out[i], s.changed(i)...)
			if flush {
				for _, a := range eng.Flush() {
					out[i] = s.closed(out[i], i, a)
				}
			}
			return nil
		})
	}
	var sigs []signal.Signal
	batches := make([][]match, len(s.shards))
	send := func(i int) error {
		select {
		case chans[i] <- batches[i]:
		case <-gctx.Done():
			return gctx.Err()
		}
		batches[i] = make([]match, 0, batchSize)
		return nil
	}
	err := merge(runs, rules, s.cfg.SpillDir, func(m *match) error {
		to := wants[m.rule.Index]
		if m.hdr.EventTime.IsZero() || len(to) == 0 {
			// No window can hold an event without a time: it is its own signal.
			if id := m.rule.Info.ID; !s.helpers[id] {
				sigs = append(sigs, single(m))
			}
			return nil
		}
		for _, i := range to {
			batches[i] = append(batches[i], *m)
			if len(batches[i]) == batchSize {
				if err := send(i); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for i := range batches {
		if err == nil && len(batches[i]) > 0 {
			err = send(i)
		}
	}
	for _, ch := range chans {
		if ch != nil {
			close(ch)
		}
	}
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	for _, o := range out {
		sigs = append(sigs, o...)
	}
	return sigs, nil
}

func (s *stateful) run(ctx context.Context, runs []run, rules []*detect.Rule) ([]signal.Signal, []byte, error) {
	sigs, err := s.evaluate(ctx, runs, rules, !s.persistent() || s.cfg.Flush, true)
	if err != nil {
		return nil, nil, err
	}
	var state []byte
	if s.cfg.KeepState {
		if state, err = encodeState(s.shards, s.revs); err != nil {
			return nil, nil, fmt.Errorf("saving state: %w", err)
		}
	}
	if s.cfg.StateFile != "" {
		if err := saveState(s.cfg.StateFile, s.shards, s.revs); err != nil {
			return nil, nil, err
		}
	}
	return sigs, state, nil
}

// observe gives one match to shard i and appends the signals of the alerts that closed.
func (s *stateful) observe(i int, m *match, out []signal.Signal) []signal.Signal {
	h := correlate.Hit{Rule: m.rule.Info.ID, Time: m.hdr.EventTime, EventID: m.hdr.EventID, Header: m.hdr}
	for _, a := range s.shards[i].Observe(h, m.fieldFunc()) {
		out = s.closed(out, i, a)
	}
	return out
}

// single is the signal of a match no window can hold (an event without a time, or a rule
// no correlation references): its own signal, closed at once.
func single(m *match) signal.Signal {
	sig := signal.FromEvent(m.rule.Info, *m.hdr)
	sig.Status, sig.Revision = signal.StatusClosed, 1
	return sig
}

func (m match) fieldFunc() correlate.FieldFunc {
	return func(f string) string {
		switch f {
		case fieldAccount:
			return m.hdr.AccountID
		case fieldActor:
			return m.hdr.Actor
		}
		return m.fields[f]
	}
}

// toSignal builds the signal of an alert.
func (s *stateful) toSignal(a correlate.Alert) signal.Signal {
	info := s.info[a.CorrelationID]
	acc := signal.NewAccumulator(info, s.cfg.MaxEventIDs)
	for _, h := range a.Headers {
		acc.Add(h)
	}
	sig := acc.Signal()
	if len(a.EventIDs) > 0 {
		sig.ID = signal.LifecycleID(a.CorrelationID, a.Group, a.EventIDs[0])
	}
	if a.Count > sig.EventCount {
		sig.DroppedEventIDs += a.Count - sig.EventCount
		sig.EventCount = a.Count
	}
	if !strings.HasPrefix(a.CorrelationID, groupPrefix) {
		sig.Summary = correlationSummary(a) + " " + sig.Summary
	}
	return sig
}

func correlationSummary(a correlate.Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Correlation %s", a.Type)
	if len(a.Group) > 0 && strings.Join(a.Group, "") != "" {
		fmt.Fprintf(&b, " for %s", strings.Join(a.Group, " / "))
	}
	if len(a.Values) > 0 {
		vals := make([]string, 0, len(a.Values))
		for i, v := range a.Values {
			if i == 5 {
				vals = append(vals, fmt.Sprintf("… %d more", len(a.Values)-5))
				break
			}
			vals = append(vals, strings.Join(v, "/"))
		}
		fmt.Fprintf(&b, " (values: %s)", strings.Join(vals, ", "))
	}
	if a.Last.After(a.First) {
		fmt.Fprintf(&b, " over %s", a.Last.Sub(a.First).Round(time.Second))
	}
	b.WriteString(":")
	return b.String()
}

// begin starts the learning periods at t, the first event of the data (correlate's Begin).
func (s *stateful) begin(t time.Time) {
	for _, eng := range s.shards {
		if eng != nil {
			eng.Begin(t)
		}
	}
}

// learning returns the correlations whose learning period has not ended at t (the last
// event of the run), sorted by id.
func (s *stateful) learning(t time.Time) []correlate.LearningStatus {
	var out []correlate.LearningStatus
	for _, eng := range s.shards {
		if eng == nil {
			continue
		}
		for _, l := range eng.Learning() {
			if !t.IsZero() && (l.Until.IsZero() || l.Until.After(t)) {
				out = append(out, l)
			}
		}
	}
	slices.SortFunc(out, func(a, b correlate.LearningStatus) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// stats reports the engines' state for the summary, summed over the shards.
func (s *stateful) stats() correlate.Stats {
	var t correlate.Stats
	for _, eng := range s.shards {
		if eng == nil {
			continue
		}
		t.Add(eng.Stats())
	}
	return t
}
