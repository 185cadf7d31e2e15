package correlate

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Type is the type of a correlation.
type Type string

// The correlation types. NewValue and BaselineCount are trailhound extensions to Sigma.
const (
	EventCount      Type = "event_count"
	ValueCount      Type = "value_count"
	Temporal        Type = "temporal"
	TemporalOrdered Type = "temporal_ordered"
	NewValue        Type = "new_value"
	// BaselineCount is a trailhound extension: an event or value count per window compared
	// with what the group itself did in earlier periods (doc.go).
	BaselineCount Type = "baseline_count"
)

// Op is a comparison operator of a condition.
type Op string

// The comparison operators of Sigma correlation conditions.
const (
	GT  Op = "gt"
	GTE Op = "gte"
	LT  Op = "lt"
	LTE Op = "lte"
	EQ  Op = "eq"
	NEQ Op = "neq"
)

// Comparison is one comparison of a condition, such as {GTE, 10}.
type Comparison struct {
	Op    Op
	Value float64
}

// Condition holds when all of its comparisons hold (a range is two comparisons).
type Condition []Comparison

// Holds reports whether n satisfies every comparison of c.
func (c Condition) Holds(n int) bool {
	x := float64(n)
	for _, cmp := range c {
		var ok bool
		switch cmp.Op {
		case GT:
			ok = x > cmp.Value
		case GTE:
			ok = x >= cmp.Value
		case LT:
			ok = x < cmp.Value
		case LTE:
			ok = x <= cmp.Value
		case EQ:
			ok = x == cmp.Value
		case NEQ:
			ok = x != cmp.Value
		}
		if !ok {
			return false
		}
	}
	return true
}

// Defaults of Config and Correlation.
const (
	DefaultLateness        = 15 * time.Minute
	DefaultKeepAlive       = time.Hour // for new_value, which has no timespan
	DefaultMaxDuration     = 24 * time.Hour
	DefaultMaxEventIDs     = 100
	DefaultMaxHeaders      = 10
	DefaultMaxGroups       = 1 << 20
	DefaultMaxHitsPerGroup = 10_000
	DefaultMaxValues       = 10_000
	// BaselineCount defaults: the multiple of the group's baseline a window must pass, the
	// period whose peaks are remembered, and how long a period's peak is remembered.
	DefaultFactor = 3.0
	DefaultPeriod = 24 * time.Hour
	// DefaultBaselinePeriods is Forget, in periods, when it is zero: 30 days by default.
	DefaultBaselinePeriods = 30
	// MaxBaselinePeriods bounds the peaks a BaselineCount group remembers (Forget/Period).
	MaxBaselinePeriods = 400
)

// Correlation is one correlation rule, already resolved from its Sigma form: rule references
// are ids, aliases are keyed by rule id, durations are parsed.
type Correlation struct {
	// ID identifies the correlation; other correlations may list it in Rules (chaining).
	ID   string
	Type Type
	// Rules are the ids of the referenced base rules or correlations, in order (the order
	// matters for TemporalOrdered). A rule may be listed once.
	Rules []string
	// GroupBy are the names of the fields (or aliases) whose values form the group.
	GroupBy []string
	// Aliases maps an alias used in GroupBy to the field it stands for, per referenced rule
	// id: Aliases["ip"]["rule-a"] = "sourceIPAddress". A name without an alias for a rule is
	// looked up as a field of that rule's events.
	Aliases map[string]map[string]string
	// Timespan is the window of the window types; unused by NewValue.
	Timespan time.Duration
	// Condition is required for EventCount, ValueCount and BaselineCount (for which it is the
	// floor and needs a gt or gte). For Temporal and TemporalOrdered it defaults to "all
	// referenced rules" (gte len(Rules)). NewValue has none.
	Condition Condition
	// ValueFields are the fields whose tuple of values is counted (ValueCount, and
	// BaselineCount when set: distinct values instead of events) or remembered (NewValue).
	ValueFields []string
	// Learning (NewValue, BaselineCount) is the period, in event time from the start the
	// engine is given (Engine.Begin: the first event of the data) or else the first hit it
	// processes, during which values or peaks are learned without firing.
	Learning time.Duration
	// Forget (NewValue) is how long a value may go unseen before it is new again; zero means
	// never. For BaselineCount it is how long the peak of a period is remembered; zero means
	// DefaultBaselinePeriods periods.
	Forget time.Duration
	// LearnFirst (NewValue): a group's first value is learned, not new; only later new
	// values fire. For a group that is one session (an instance's credentials), the first
	// value is the session's own (the instance's network).
	LearnFirst bool `json:",omitempty"`
	// Factor (BaselineCount) is the multiple of the group's baseline that a window's measure
	// must exceed; zero means DefaultFactor.
	Factor float64 `json:",omitempty"`
	// Period (BaselineCount) is the length of the periods whose peaks form the baseline, in
	// event time from the Unix epoch (UTC days by default); zero means DefaultPeriod.
	Period time.Duration `json:",omitempty"`
	// KeepAlive: a firing within KeepAlive of the previous firing of the same correlation in
	// the same group updates the same Alert. Zero means Timespan, or DefaultKeepAlive when
	// there is no timespan.
	KeepAlive time.Duration
	// MaxDuration bounds an Alert: a firing more than MaxDuration after the alert's first
	// event starts a new one. Zero means DefaultMaxDuration.
	MaxDuration time.Duration
	// Generate is carried for the caller (whether the referenced rules emit signals of their
	// own); the engine does not use it.
	Generate bool
}

// Config configures an Engine. The zero value of each field means its default.
type Config struct {
	Correlations []Correlation
	// Lateness is how far behind the latest event time seen a hit may arrive and still be
	// evaluated in event-time order. Zero means DefaultLateness; a negative value means none.
	Lateness time.Duration
	// MaxEventIDs caps Alert.EventIDs and Alert.Values.
	MaxEventIDs int
	// MaxHeaders caps Alert.Headers.
	MaxHeaders int
	// MaxGroups caps the groups held per correlation; the least recently used is evicted.
	MaxGroups int
	// MaxHitsPerGroup caps the hits held in one group's window; the oldest is dropped.
	MaxHitsPerGroup int
	// MaxValuesPerGroup caps the distinct values held per group (ValueCount window values,
	// NewValue learned values).
	MaxValuesPerGroup int
	// Late, when not nil, is called with every hit that arrives behind the watermark.
	Late func(Hit)
	// TrackChanges makes the engine remember the open alerts that opened or gained evidence,
	// for Engine.Changed (a live service emits alerts as they open and grow, not only when
	// they close).
	TrackChanges bool
	// Early makes the correlations whose every hit fires (a single-rule event_count with
	// gte 1: a rule's grouping) open an alert as soon as a hit arrives, before the
	// watermark evaluates it: a provisional alert, returned by Changed, that the evaluation
	// in event-time order later continues or closes as Superseded (see early.go). The
	// alerts evaluated in order are the same with or without it. It needs TrackChanges:
	// the hits still waiting at each Changed call are the ones opened early (hits observed
	// since the last call are not, after a Restore).
	Early bool
}

// ConfigError is one problem of a Config.
type ConfigError struct {
	// Correlation is the id of the correlation at fault ("" for the engine's own settings).
	Correlation string
	Msg         string
}

// Error returns the problem, prefixed with the correlation's id.
func (e *ConfigError) Error() string {
	if e.Correlation == "" {
		return "correlate config: " + e.Msg
	}
	return fmt.Sprintf("correlation %q: %s", e.Correlation, e.Msg)
}

// withDefaults returns a copy of c with defaults applied and every problem found, sorted.
// Correlations are returned in topological order: a correlation comes after every
// correlation it references.
func (c Config) withDefaults() (Config, error) {
	var errs []*ConfigError
	bad := func(id, format string, args ...any) {
		errs = append(errs, &ConfigError{Correlation: id, Msg: fmt.Sprintf(format, args...)})
	}
	d := c
	switch {
	case d.Lateness == 0:
		d.Lateness = DefaultLateness
	case d.Lateness < 0:
		d.Lateness = 0
	}
	d.MaxEventIDs = orDefault(d.MaxEventIDs, DefaultMaxEventIDs, "MaxEventIDs", bad)
	d.MaxHeaders = orDefault(d.MaxHeaders, DefaultMaxHeaders, "MaxHeaders", bad)
	d.MaxGroups = orDefault(d.MaxGroups, DefaultMaxGroups, "MaxGroups", bad)
	d.MaxHitsPerGroup = orDefault(d.MaxHitsPerGroup, DefaultMaxHitsPerGroup, "MaxHitsPerGroup", bad)
	d.MaxValuesPerGroup = orDefault(d.MaxValuesPerGroup, DefaultMaxValues, "MaxValuesPerGroup", bad)

	d.Correlations = make([]Correlation, len(c.Correlations))
	ids := make(map[string]int, len(c.Correlations))
	for i, k := range c.Correlations {
		k.Rules = slices.Clone(k.Rules)
		k.GroupBy = slices.Clone(k.GroupBy)
		k.ValueFields = slices.Clone(k.ValueFields)
		k.Condition = slices.Clone(k.Condition)
		id := k.ID
		if id == "" {
			bad("", "correlation %d has no id", i+1)
		} else if _, dup := ids[id]; dup {
			bad(id, "duplicate id")
		} else {
			ids[id] = i
		}
		window := true
		switch k.Type {
		case EventCount, ValueCount, Temporal, TemporalOrdered, BaselineCount:
		case NewValue:
			window = false
		default:
			bad(id, "unknown type %q", k.Type)
		}
		if len(k.Rules) == 0 {
			bad(id, "no rules")
		}
		seen := map[string]bool{}
		for _, r := range k.Rules {
			if r == "" {
				bad(id, "empty rule id")
			} else if seen[r] {
				bad(id, "rule %q listed twice", r)
			}
			seen[r] = true
		}
		if (k.Type == Temporal || k.Type == TemporalOrdered) && len(k.Rules) < 2 {
			bad(id, "%s needs at least two rules", k.Type)
		}
		if window && k.Timespan <= 0 {
			bad(id, "%s needs a positive timespan", k.Type)
		}
		if !window && k.Timespan < 0 {
			bad(id, "negative timespan")
		}
		for _, cm := range k.Condition {
			switch cm.Op {
			case GT, GTE, LT, LTE, EQ, NEQ:
			default:
				bad(id, "unknown condition operator %q", cm.Op)
			}
		}
		switch k.Type {
		case EventCount, ValueCount:
			if len(k.Condition) == 0 {
				bad(id, "%s needs a condition", k.Type)
			}
		case BaselineCount:
			if !hasFloor(k.Condition) {
				bad(id, "baseline_count needs a condition with a floor (gt or gte, at least 1)")
			}
		case Temporal, TemporalOrdered:
			if len(k.Condition) == 0 {
				k.Condition = Condition{{GTE, float64(len(k.Rules))}}
			}
		case NewValue:
			if len(k.Condition) != 0 {
				bad(id, "new_value takes no condition")
			}
		}
		needValues := k.Type == ValueCount || k.Type == NewValue
		if needValues && len(k.ValueFields) == 0 {
			bad(id, "%s needs a field", k.Type)
		}
		if !needValues && k.Type != BaselineCount && len(k.ValueFields) != 0 {
			bad(id, "%s takes no field", k.Type)
		}
		if k.Type != NewValue && k.Type != BaselineCount && (k.Learning != 0 || k.Forget != 0) {
			bad(id, "learning and forget are for new_value and baseline_count only")
		}
		if k.Type != NewValue && k.LearnFirst {
			bad(id, "learn-first is for new_value only")
		}
		if k.Type != BaselineCount && (k.Factor != 0 || k.Period != 0) {
			bad(id, "factor and period are for baseline_count only")
		}
		if k.Learning < 0 || k.Forget < 0 || k.KeepAlive < 0 || k.MaxDuration < 0 || k.Period < 0 {
			bad(id, "negative duration")
		}
		if k.Type == BaselineCount {
			if k.Factor == 0 {
				k.Factor = DefaultFactor
			}
			if k.Period == 0 {
				k.Period = DefaultPeriod
			}
			if k.Forget == 0 {
				k.Forget = DefaultBaselinePeriods * k.Period
			}
			switch {
			case k.Factor < 1 || k.Factor > 1e6:
				bad(id, "factor %g is not between 1 and 1000000", k.Factor)
			case k.Forget < k.Period:
				bad(id, "forget (%v) is shorter than the period (%v)", k.Forget, k.Period)
			case k.Forget/k.Period > MaxBaselinePeriods:
				bad(id, "forget (%v) spans more than %d periods of %v", k.Forget, MaxBaselinePeriods, k.Period)
			case k.Timespan > k.Period:
				bad(id, "timespan (%v) is longer than the period (%v)", k.Timespan, k.Period)
			}
		}
		if k.KeepAlive == 0 {
			k.KeepAlive = k.Timespan
			if k.KeepAlive == 0 {
				k.KeepAlive = DefaultKeepAlive
			}
		}
		if k.MaxDuration == 0 {
			k.MaxDuration = DefaultMaxDuration
		}
		d.Correlations[i] = k
	}
	order, cycle := topoSort(d.Correlations, ids)
	if cycle != "" {
		bad(cycle, "correlations reference each other in a cycle")
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b *ConfigError) int {
			return cmp.Or(cmp.Compare(a.Correlation, b.Correlation), cmp.Compare(a.Msg, b.Msg))
		})
		all := make([]error, len(errs))
		for i, e := range errs {
			all[i] = e
		}
		return Config{}, errors.Join(all...)
	}
	sorted := make([]Correlation, len(order))
	for i, j := range order {
		sorted[i] = d.Correlations[j]
	}
	d.Correlations = sorted
	return d, nil
}

// hasFloor reports whether a condition has a lower bound of at least 1 (gte 1 or gt 0 and
// above): without one, a group with no history would fire at its first hit.
func hasFloor(c Condition) bool {
	for _, cm := range c {
		if (cm.Op == GTE && cm.Value >= 1) || (cm.Op == GT && cm.Value >= 0) {
			return true
		}
	}
	return false
}

func orDefault(v, def int, name string, bad func(string, string, ...any)) int {
	if v < 0 {
		bad("", "%s is negative", name)
	}
	if v <= 0 {
		return def
	}
	return v
}

// topoSort orders correlations so that each comes after those it references, keeping the
// configured order otherwise. It returns the id of a correlation on a cycle, if any.
func topoSort(cs []Correlation, ids map[string]int) ([]int, string) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(cs))
	order := make([]int, 0, len(cs))
	cycle := ""
	var visit func(i int)
	visit = func(i int) {
		switch state[i] {
		case done:
			return
		case visiting:
			if cycle == "" {
				cycle = cs[i].ID
			}
			return
		}
		state[i] = visiting
		for _, r := range cs[i].Rules {
			if j, ok := ids[r]; ok {
				visit(j)
			}
		}
		state[i] = done
		order = append(order, i)
	}
	for i := range cs {
		visit(i)
	}
	return order, cycle
}

// fingerprint identifies the semantics of a correlation, so that state restored from a
// snapshot is kept only when the correlation it was built for has not changed. Maps are
// encoded with sorted keys, so equal correlations have equal fingerprints.
func fingerprint(k Correlation) string {
	k.Generate = false
	b, err := json.Marshal(k)
	if err != nil {
		return "" // unreachable: a Correlation holds only strings, numbers and string maps
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
