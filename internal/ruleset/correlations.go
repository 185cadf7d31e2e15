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

// correlations converts the Sigma correlation rules of rs. A correlation over rules of
// another log source is reported as skipped; one that cannot run for an error — its own,
// or a referenced rule that did not compile, or a referenced correlation in error — is
// reported as an error, every such error being also returned as invalid (Set.Invalid).
func correlations(rs *sigma.RuleSet, compiled map[string]bool) (Correlations, []Skipped, sigma.ErrorList) {
	r := resolver{
		out:      Correlations{Info: map[string]signal.RuleInfo{}, Helpers: map[string]bool{}},
		compiled: compiled,
		state:    map[*sigma.Correlation]status{},
		pos:      map[string]*sigma.Correlation{},
	}
	for _, c := range rs.Correlations {
		r.resolve(c)
	}
	r.check()
	return r.out, r.skipped, r.errs
}

// status is what became of a correlation.
type status int

const (
	resolving status = iota
	loaded
	skipped // over rules of another log source
	invalid // an error, reported
)

// resolver converts correlations depth first, so a chained correlation comes after the
// ones it references (the parser has rejected cycles).
type resolver struct {
	out      Correlations
	compiled map[string]bool
	state    map[*sigma.Correlation]status
	pos      map[string]*sigma.Correlation // loaded correlations by id, for the engine's checks
	skipped  []Skipped
	errs     sigma.ErrorList
}

func (r *resolver) fail(c *sigma.Correlation, p sigma.Pos, format string, args ...any) status {
	r.errs = append(r.errs, &sigma.Error{File: c.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
	r.state[c] = invalid
	return invalid
}

func (r *resolver) resolve(c *sigma.Correlation) status {
	if st, done := r.state[c]; done {
		return st
	}
	r.state[c] = resolving
	for _, ref := range c.Rules {
		switch {
		case ref.Rule != nil && r.compiled[ref.Rule.Ref()]:
		case ref.Rule != nil && ref.Rule.IsCloudTrail():
			return r.fail(c, ref.Pos, "correlation references %q, which did not compile: the correlation cannot run", ref.Ref)
		case ref.Correlation != nil:
			switch r.resolve(ref.Correlation) {
			case loaded:
				continue
			case invalid:
				return r.fail(c, ref.Pos, "correlation references %q, which cannot run", ref.Ref)
			}
			fallthrough
		default:
			r.skipped = append(r.skipped, Skipped{File: c.File, Title: c.Title,
				Reason: fmt.Sprintf("references %q, which is not loaded for CloudTrail", ref.Ref)})
			r.state[c] = skipped
			return skipped
		}
	}
	cc, err := convert(c)
	if err != nil {
		return r.fail(c, c.Pos, "%v", err)
	}
	r.out.Rules = append(r.out.Rules, cc)
	lvl, err := signal.ParseLevel(c.Level)
	if err != nil {
		lvl = signal.LevelMedium
	}
	r.out.Info[cc.ID] = signal.RuleInfo{ID: cc.ID, Title: c.Title, Level: lvl, Tags: c.Tags}
	r.state[c] = loaded
	r.pos[cc.ID] = c
	return loaded
}

// check runs the engine's own validation of the loaded correlations, so that what a run
// would reject is reported here, with positions.
func (r *resolver) check() {
	_, err := correlate.New(correlate.Config{Correlations: r.out.Rules})
	for _, ce := range configErrors(err) {
		c := r.pos[ce.Correlation]
		if c == nil {
			r.errs = append(r.errs, &sigma.Error{File: "correlations", Msg: ce.Error()})
			continue
		}
		r.fail(c, c.Pos, "%s", ce.Msg)
	}
	// A correlation over one that cannot run cannot run either.
	for changed := true; changed; {
		changed = false
		for _, cc := range r.out.Rules {
			c := r.pos[cc.ID]
			if r.state[c] != loaded {
				continue
			}
			for _, ref := range c.Rules {
				if ref.Correlation != nil && r.state[ref.Correlation] == invalid {
					r.fail(c, ref.Pos, "correlation references %q, which cannot run", ref.Ref)
					changed = true
					break
				}
			}
		}
	}
	// Keep the correlations that can run; their helpers are the rules of their own file
	// they reference, unless they generate (Sigma's generate: false).
	kept := r.out.Rules[:0]
	for _, cc := range r.out.Rules {
		c := r.pos[cc.ID]
		if r.state[c] != loaded {
			delete(r.out.Info, cc.ID)
			continue
		}
		kept = append(kept, cc)
		if !c.Generate {
			for _, ref := range c.Rules {
				if ref.Rule != nil && ref.Rule.File == c.File {
					r.out.Helpers[ref.Rule.Ref()] = true
				}
			}
		}
	}
	r.out.Rules = kept
}

// configErrors returns the *correlate.ConfigError entries of err, however they are wrapped
// and joined.
func configErrors(err error) []*correlate.ConfigError {
	switch e := err.(type) {
	case nil:
		return nil
	case *correlate.ConfigError:
		return []*correlate.ConfigError{e}
	case interface{ Unwrap() []error }:
		var out []*correlate.ConfigError
		for _, x := range e.Unwrap() {
			out = append(out, configErrors(x)...)
		}
		return out
	case interface{ Unwrap() error }:
		return configErrors(e.Unwrap())
	}
	return nil
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
		cc.LearnFirst = c.LearnFirst
	case sigma.BaselineCount:
		cc.Type = correlate.BaselineCount
		if c.Factor != nil {
			cc.Factor = c.Factor.Value
		}
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
		if cc.Type == correlate.ValueCount || cc.Type == correlate.BaselineCount {
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
