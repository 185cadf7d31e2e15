package hunt

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fastjson"

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
	rule   *detect.Rule
	hdr    event.Header
	fields map[string]string // values of the fields correlations group or count by
}

// stateful turns matches into signals: repeated matches of a rule by one actor in one
// account within the group window become one signal, correlation rules are evaluated in
// event time, and the state can be carried from one run to the next.
type stateful struct {
	cfg     Config
	eng     *correlate.Engine // nil when nothing is stateful
	info    map[string]signal.RuleInfo
	helpers map[string]bool
	fields  map[string][]string // detection rule id -> fields to capture
	direct  []signal.Signal     // signals that bypass the engine
}

func newStateful(cfg Config, set *ruleset.Set) (*stateful, error) {
	s := &stateful{cfg: cfg, info: map[string]signal.RuleInfo{}, helpers: set.Correlations.Helpers, fields: map[string][]string{}}
	corrs := slices.Clone(set.Correlations.Rules)
	for id, info := range set.Correlations.Info {
		s.info[id] = info
	}
	if cfg.GroupWindow > 0 {
		for _, r := range set.Engine.Rules() {
			if s.helpers[r.Info.ID] {
				continue
			}
			id := groupPrefix + r.Info.ID
			corrs = append(corrs, correlate.Correlation{
				ID: id, Type: correlate.EventCount, Rules: []string{r.Info.ID},
				GroupBy:   []string{fieldAccount, fieldActor},
				Timespan:  cfg.GroupWindow,
				Condition: correlate.Condition{{Op: correlate.GTE, Value: 1}},
				KeepAlive: cfg.GroupWindow, MaxDuration: cfg.MaxSignalDuration,
			})
			s.info[id] = r.Info
		}
	}
	if len(corrs) == 0 {
		return s, nil
	}
	eng, err := correlate.New(correlate.Config{
		Correlations: corrs,
		Lateness:     cfg.Lateness,
		MaxEventIDs:  cfg.MaxEventIDs,
		MaxHeaders:   cfg.MaxEventIDs,
	})
	if err != nil {
		return nil, fmt.Errorf("setting up correlations: %w", err)
	}
	s.eng = eng
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
	if cfg.StateFile != "" {
		if err := eng.LoadFile(cfg.StateFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("loading state %s: %w", cfg.StateFile, err)
		}
	}
	return s, nil
}

// capture copies, while the event is alive, what the stateful stage needs of it.
func (s *stateful) capture(r *detect.Rule, ev *event.Event, in *interner) match {
	m := match{rule: r, hdr: in.header(ev)}
	if m.hdr.EventID == "" {
		m.hdr.EventID = fmt.Sprintf("%s#%d", m.hdr.Pos.File, m.hdr.Pos.Record)
	}
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

// run evaluates the matches in event-time order (so the result does not depend on the
// order files were read in) and returns the signals, plus the engine's stats.
func (s *stateful) run(matches []match) ([]signal.Signal, error) {
	slices.SortFunc(matches, func(a, b match) int {
		return cmp.Or(a.hdr.EventTime.Compare(b.hdr.EventTime), cmp.Compare(a.hdr.EventID, b.hdr.EventID), cmp.Compare(a.rule.Index, b.rule.Index))
	})
	var sigs []signal.Signal
	var alerts []correlate.Alert
	for _, m := range matches {
		id := m.rule.Info.ID
		if s.eng == nil || m.hdr.EventTime.IsZero() || (!s.eng.Wants(id)) {
			// No window can hold an event without a time: it is its own signal.
			if !s.helpers[id] {
				sigs = append(sigs, signal.FromEvent(m.rule.Info, m.hdr))
			}
			continue
		}
		h := correlate.Hit{Rule: id, Time: m.hdr.EventTime, EventID: m.hdr.EventID, Header: m.hdr}
		alerts = append(alerts, s.eng.Observe(h, m.fieldFunc())...)
	}
	if s.eng != nil {
		if s.cfg.StateFile == "" || s.cfg.Flush {
			alerts = append(alerts, s.eng.Flush()...)
		}
		if s.cfg.StateFile != "" {
			if err := s.eng.SaveFile(s.cfg.StateFile); err != nil {
				return nil, fmt.Errorf("saving state: %w", err)
			}
		}
	}
	for _, a := range alerts {
		sigs = append(sigs, s.toSignal(a))
	}
	return sigs, nil
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

// stats reports the engine's state for the summary.
func (s *stateful) stats() correlate.Stats {
	if s.eng == nil {
		return correlate.Stats{}
	}
	return s.eng.Stats()
}
