package sigma

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var correlationTypes = []CorrelationType{
	EventCount, ValueCount, Temporal, TemporalOrdered, ValueSum, ValueAvg, ValuePercentile, NewValue, BaselineCount,
}

// needsCondition reports whether type t requires a condition.
func (t CorrelationType) needsCondition() bool {
	switch t {
	case EventCount, ValueCount, ValueSum, ValueAvg, ValuePercentile, BaselineCount:
		return true
	}
	return false
}

// needsConditionField reports whether t's condition must name a field.
func (t CorrelationType) needsConditionField() bool {
	switch t {
	case ValueCount, ValueSum, ValueAvg, ValuePercentile:
		return true
	}
	return false
}

var comparisonOps = []string{"gt", "gte", "lt", "lte", "eq", "neq"}

// correlation parses a correlation rule document; nil when it has errors.
func (p *parser) correlation(ents []mapEntry, docPos Pos, doc int) *Correlation {
	before := len(p.errs)
	c := &Correlation{File: p.file.Name, Doc: doc, Pos: docPos}
	var section mapEntry
	generateSeen := false
	for _, e := range ents {
		switch e.key {
		case "correlation":
			section = e
		case "logsource":
			c.LogSource = p.logSource(e)
		case "generate":
			c.Generate = p.boolean(e)
			generateSeen = true
		default:
			p.meta(&c.Meta, e)
		}
	}
	p.checkMeta(&c.Meta, docPos, ents)
	if section.vNode.Kind != yaml.MappingNode {
		p.errorf(pos(section.vNode), "correlation must be a map (type, rules, group-by, timespan, condition), found %s", kindName(section.vNode))
		p.reject(&c.Meta)
		return nil
	}
	var typeEntry, condEntry *mapEntry
	have := map[string]bool{}
	for _, e := range p.entries(section.vNode, "correlation") {
		have[e.key] = true
		switch e.key {
		case "type":
			typeEntry = &e
			c.Type = CorrelationType(p.str(e))
		case "rules":
			c.Rules = p.ruleRefs(e)
		case "group-by":
			c.GroupBy = p.strList(e)
		case "timespan":
			c.Timespan = p.duration(e)
		case "condition":
			condEntry = &e
		case "aliases":
			c.Aliases = p.aliases(e)
		case "generate":
			if generateSeen {
				p.errorf(pos(e.kNode), "generate is given twice, at top level and in correlation")
			}
			c.Generate = p.boolean(e)
		case "field":
			c.Field = p.strList(e)
		case "learning":
			c.Learning = p.duration(e)
		case "forget":
			c.Forget = p.duration(e)
		case "factor":
			c.Factor = p.factor(e)
		case "learn-first":
			c.LearnFirst = p.boolean(e)
		default:
			p.errorf(pos(e.kNode), "unknown key %q in correlation", e.key)
		}
	}
	at := pos(section.kNode)
	switch {
	case typeEntry == nil:
		p.errorf(at, "correlation has no type")
	case !containsType(c.Type):
		names := make([]string, len(correlationTypes))
		for i, t := range correlationTypes {
			names[i] = string(t)
		}
		p.errorf(pos(typeEntry.vNode), "unknown correlation type %q: use one of %s", c.Type, strings.Join(names, ", "))
	}
	if len(c.Rules) == 0 && !have["rules"] {
		p.errorf(at, "correlation has no rules")
	}
	if condEntry != nil {
		c.Condition = p.correlationCondition(*condEntry, c.Type)
	}
	if typeEntry != nil && containsType(c.Type) {
		p.checkCorrelationType(c, at, have)
	}
	p.checkAliases(c)
	if len(p.errs) > before {
		p.reject(&c.Meta)
		return nil
	}
	return c
}

func containsType(t CorrelationType) bool {
	for _, x := range correlationTypes {
		if x == t {
			return true
		}
	}
	return false
}

// checkCorrelationType checks the keys each type requires or forbids.
func (p *parser) checkCorrelationType(c *Correlation, at Pos, have map[string]bool) {
	t := c.Type
	if t != NewValue {
		if !have["group-by"] {
			p.errorf(at, "%s correlation has no group-by", t)
		}
		if !have["timespan"] {
			p.errorf(at, "%s correlation has no timespan", t)
		}
		if have["field"] {
			p.errorf(at, "field is only used by new_value correlations (value_count and baseline_count take their field in condition)")
		}
		if t != BaselineCount {
			for _, k := range []string{"learning", "forget"} {
				if have[k] {
					p.errorf(at, "%s is only used by new_value and baseline_count correlations", k)
				}
			}
		}
	}
	if t != NewValue && have["learn-first"] {
		p.errorf(at, "learn-first is only used by new_value correlations")
	}
	if t != BaselineCount && c.Factor != nil {
		p.errorf(c.Factor.Pos, "factor is only used by baseline_count correlations")
	}
	switch {
	case t == NewValue:
		if len(c.Field) == 0 {
			p.errorf(at, "new_value correlation has no field")
		}
		if c.Condition != nil {
			p.errorf(c.Condition.Pos, "new_value correlations take no condition")
		}
	case t.needsCondition() && c.Condition == nil:
		p.errorf(at, "%s correlation has no condition", t)
	}
	if c.Condition == nil {
		return
	}
	if t.needsConditionField() && len(c.Condition.Field) == 0 {
		p.errorf(c.Condition.Pos, "%s condition has no field (the field whose values are aggregated)", t)
	}
	if !t.needsConditionField() && t != BaselineCount && len(c.Condition.Field) > 0 {
		p.errorf(c.Condition.Pos, "%s condition takes no field (only value_count, value_sum, value_avg, value_percentile and baseline_count do)", t)
	}
	if t == BaselineCount {
		floor := false
		for _, cmp := range c.Condition.Comparisons {
			floor = floor || (cmp.Op == "gte" && cmp.Value >= 1) || (cmp.Op == "gt" && cmp.Value >= 0)
		}
		if !floor {
			p.errorf(c.Condition.Pos, "baseline_count condition needs a floor (gte 1 or more, or gt): without one a group with no history fires at its first event")
		}
	}
	if t == EventCount || t == ValueCount || t == Temporal || t == TemporalOrdered || t == BaselineCount {
		for _, cmp := range c.Condition.Comparisons {
			if cmp.Value != math.Trunc(cmp.Value) {
				p.errorf(cmp.Pos, "%s: %s compares a count and needs a whole number, found %s", cmp.Op, t, cmp.Raw)
			}
		}
	}
}

func (p *parser) checkAliases(c *Correlation) {
	refs := map[string]bool{}
	for _, r := range c.Rules {
		refs[r.Ref] = true
	}
	groups := map[string]bool{}
	for _, g := range c.GroupBy {
		groups[g] = true
	}
	for _, a := range c.Aliases {
		for rule := range a.Fields {
			if !refs[rule] {
				p.errorf(a.Pos, "alias %q maps rule %q, which is not in the correlation's rules", a.Name, rule)
			}
		}
		if !groups[a.Name] {
			p.warnf(a.Pos, "alias %q is not used in group-by", a.Name)
		}
	}
}

func (p *parser) boolean(e mapEntry) bool {
	var b bool
	if e.vNode.Kind != yaml.ScalarNode || e.vNode.Tag != "!!bool" || e.vNode.Decode(&b) != nil {
		p.errorf(pos(e.vNode), "%s must be true or false, found %s", e.key, kindName(e.vNode))
	}
	return b
}

func (p *parser) ruleRefs(e mapEntry) []*RuleRef {
	v := e.vNode
	var items []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		if !isNull(v) {
			items = []*yaml.Node{v}
		}
	case yaml.SequenceNode:
		items = v.Content
	default:
		p.errorf(pos(v), "rules must be a list of rule ids or names, found %s", kindName(v))
		return nil
	}
	if len(items) == 0 {
		p.errorf(pos(v), "rules is empty: list the ids or names of the correlated rules")
		return nil
	}
	var out []*RuleRef
	seen := map[string]bool{}
	for _, it := range items {
		if it = p.deref(it); it == nil {
			return out
		}
		if it.Kind != yaml.ScalarNode || isNull(it) || it.Value == "" {
			p.errorf(pos(it), "items of rules must be rule ids or names, found %s", kindName(it))
			continue
		}
		if seen[it.Value] {
			p.errorf(pos(it), "rule %q is listed twice", it.Value)
			continue
		}
		seen[it.Value] = true
		out = append(out, &RuleRef{Ref: it.Value, Pos: pos(it)})
	}
	return out
}

var durationRe = regexp.MustCompile(`^(\d+)([smhdw])$`)

var durationUnits = map[string]time.Duration{
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

// ParseDuration parses a Sigma correlation duration: a whole number and a
// lower-case unit s, m, h, d or w (30s, 5m, 1h, 1d).
func ParseDuration(s string) (time.Duration, error) {
	m := durationRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid duration %q: write a whole number and a unit s, m, h, d or w, such as 5m", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	unit := durationUnits[m[2]]
	if err != nil || n > int64(math.MaxInt64/unit) {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	if n == 0 {
		return 0, fmt.Errorf("duration %q must be longer than zero", s)
	}
	return time.Duration(n) * unit, nil
}

func (p *parser) duration(e mapEntry) Duration {
	d := Duration{Pos: pos(e.vNode)}
	if e.vNode.Kind != yaml.ScalarNode || isNull(e.vNode) {
		p.errorf(pos(e.vNode), "%s must be a duration such as 5m, found %s", e.key, kindName(e.vNode))
		return d
	}
	d.Raw = e.vNode.Value
	v, err := ParseDuration(d.Raw)
	if err != nil {
		p.errorf(pos(e.vNode), "%s: %v", e.key, err)
	}
	d.D = v
	return d
}

func (p *parser) factor(e mapEntry) *Factor {
	f := &Factor{Pos: pos(e.vNode), Raw: e.vNode.Value}
	v := e.vNode
	if v.Kind != yaml.ScalarNode || valueKind(v) != KindNumber {
		p.errorf(pos(v), "factor needs a number such as 3, found %s", kindName(v))
		return f
	}
	n, err := strconv.ParseFloat(v.Value, 64)
	if err != nil || n < 1 || n > 1e6 {
		p.errorf(pos(v), "factor must be a number between 1 and 1000000, found %s", v.Value)
		return f
	}
	f.Value = n
	return f
}

func (p *parser) correlationCondition(e mapEntry, t CorrelationType) *CorrelationCondition {
	cc := &CorrelationCondition{Pos: pos(e.kNode)}
	if e.vNode.Kind != yaml.MappingNode {
		p.errorf(pos(e.vNode), "correlation condition must be a map such as {gte: 10}, found %s", kindName(e.vNode))
		return cc
	}
	for _, f := range p.entries(e.vNode, "the correlation condition") {
		switch {
		case f.key == "field":
			cc.Field = p.strList(f)
		case inList(f.key, comparisonOps):
			v := f.vNode
			if v.Kind != yaml.ScalarNode || valueKind(v) != KindNumber {
				p.errorf(pos(v), "%s needs a number, found %s", f.key, kindName(v))
				continue
			}
			n, err := strconv.ParseFloat(v.Value, 64)
			if err != nil {
				if err := v.Decode(&n); err != nil {
					p.errorf(pos(v), "%s: invalid number %q", f.key, v.Value)
					continue
				}
			}
			cc.Comparisons = append(cc.Comparisons, Comparison{Op: f.key, Value: n, Raw: v.Value, Pos: pos(f.kNode)})
		default:
			p.errorf(pos(f.kNode), "unknown key %q in correlation condition: use gt, gte, lt, lte, eq, neq (and field)", f.key)
		}
	}
	if len(cc.Comparisons) == 0 {
		p.errorf(cc.Pos, "correlation condition has no comparison (gt, gte, lt, lte, eq or neq)")
	}
	return cc
}

func (p *parser) aliases(e mapEntry) []Alias {
	if e.vNode.Kind != yaml.MappingNode {
		p.errorf(pos(e.vNode), "aliases must be a map of alias name to {rule: field}, found %s", kindName(e.vNode))
		return nil
	}
	var out []Alias
	for _, a := range p.entries(e.vNode, "aliases") {
		al := Alias{Name: a.key, Pos: pos(a.kNode), Fields: map[string]string{}}
		if a.vNode.Kind != yaml.MappingNode {
			p.errorf(pos(a.vNode), "alias %q must map rule names to field names, found %s", a.key, kindName(a.vNode))
			continue
		}
		for _, f := range p.entries(a.vNode, fmt.Sprintf("alias %q", a.key)) {
			al.Fields[f.key] = p.str(f)
		}
		out = append(out, al)
	}
	return out
}
