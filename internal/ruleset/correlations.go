package ruleset

import (
	"fmt"

	"github.com/trailhound/trailhound/internal/correlate"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/trailhound/trailhound/internal/signal"
)

// Correlations are the correlation rules of a set, ready for the correlate engine.
type Correlations struct {
	// Rules are the resolved correlations, in the rule set's order.
	Rules []correlate.Correlation
	// Info is the signal metadata of each correlation, by id.
	Info map[string]signal.RuleInfo
	// Helpers are detection rules that only feed correlations: they are defined in the same
	// file as a correlation that references them with generate: false, so they emit no
	// signals of their own (Sigma's generate semantics). A rule from another file keeps its
	// signals: it is a rule in its own right that a correlation happens to reuse.
	Helpers map[string]bool
}

// correlations converts the Sigma correlation rules of rs. A correlation whose referenced
// rules are not loaded (another log source, a compile error) is reported as skipped.
func correlations(rs *sigma.RuleSet, compiled map[string]bool) (Correlations, []Skipped, sigma.ErrorList) {
	r := resolver{
		out:      Correlations{Info: map[string]signal.RuleInfo{}, Helpers: map[string]bool{}},
		compiled: compiled,
		state:    map[*sigma.Correlation]bool{},
	}
	for _, c := range rs.Correlations {
		r.resolve(c)
	}
	return r.out, r.skipped, r.errs
}

// resolver converts correlations depth first, so a chained correlation comes after the
// ones it references (the parser has rejected cycles).
type resolver struct {
	out      Correlations
	compiled map[string]bool
	state    map[*sigma.Correlation]bool // done -> loaded
	skipped  []Skipped
	errs     sigma.ErrorList
}

func (r *resolver) resolve(c *sigma.Correlation) bool {
	if ok, done := r.state[c]; done {
		return ok
	}
	r.state[c] = false
	for _, ref := range c.Rules {
		ok := false
		switch {
		case ref.Rule != nil:
			ok = r.compiled[ref.Rule.Ref()]
		case ref.Correlation != nil:
			ok = r.resolve(ref.Correlation)
		}
		if !ok {
			r.skipped = append(r.skipped, Skipped{File: c.File, Title: c.Title,
				Reason: fmt.Sprintf("references %q, which is not loaded for CloudTrail", ref.Ref)})
			return false
		}
	}
	cc, err := convert(c)
	if err != nil {
		r.errs = append(r.errs, &sigma.Error{File: c.File, Line: c.Pos.Line, Col: c.Pos.Col, Msg: err.Error()})
		return false
	}
	r.out.Rules = append(r.out.Rules, cc)
	lvl, err := signal.ParseLevel(c.Level)
	if err != nil {
		lvl = signal.LevelMedium
	}
	r.out.Info[cc.ID] = signal.RuleInfo{ID: cc.ID, Title: c.Title, Level: lvl, Tags: c.Tags}
	if !c.Generate {
		for _, ref := range c.Rules {
			if ref.Rule != nil && ref.Rule.File == c.File {
				r.out.Helpers[ref.Rule.Ref()] = true
			}
		}
	}
	r.state[c] = true
	return true
}

func refID(ref *sigma.RuleRef) string {
	switch {
	case ref.Rule != nil:
		return ref.Rule.Ref()
	case ref.Correlation != nil:
		return ref.Correlation.Ref()
	}
	return ref.Ref
}

// convert turns one Sigma correlation into the engine's form.
func convert(c *sigma.Correlation) (correlate.Correlation, error) {
	cc := correlate.Correlation{
		ID:       c.Ref(),
		GroupBy:  c.GroupBy,
		Timespan: c.Timespan.D,
		Learning: c.Learning.D,
		Forget:   c.Forget.D,
		Generate: c.Generate,
	}
	switch c.Type {
	case sigma.EventCount:
		cc.Type = correlate.EventCount
	case sigma.ValueCount:
		cc.Type = correlate.ValueCount
	case sigma.Temporal:
		cc.Type = correlate.Temporal
	case sigma.TemporalOrdered:
		cc.Type = correlate.TemporalOrdered
	case sigma.NewValue:
		cc.Type = correlate.NewValue
		cc.ValueFields = c.Field
	default:
		return cc, fmt.Errorf("correlation type %s is not supported by trailhound's engine", c.Type)
	}
	// The written reference (an id, a name or a title) -> the id hits carry.
	byWritten := map[string]string{}
	for _, ref := range c.Rules {
		id := refID(ref)
		cc.Rules = append(cc.Rules, id)
		byWritten[ref.Ref] = id
	}
	if c.Condition != nil {
		for _, cmp := range c.Condition.Comparisons {
			cc.Condition = append(cc.Condition, correlate.Comparison{Op: correlate.Op(cmp.Op), Value: cmp.Value})
		}
		if cc.Type == correlate.ValueCount {
			cc.ValueFields = c.Condition.Field
		}
	}
	if len(c.Aliases) > 0 {
		cc.Aliases = map[string]map[string]string{}
		for _, a := range c.Aliases {
			m := map[string]string{}
			for written, field := range a.Fields {
				id, ok := byWritten[written]
				if !ok {
					id = written
				}
				m[id] = field
			}
			cc.Aliases[a.Name] = m
		}
	}
	return cc, nil
}
