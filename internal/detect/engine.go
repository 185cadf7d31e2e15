package detect

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/valyala/fastjson"
)

// Options configure compilation. The zero value is ready to use.
type Options struct {
	// Placeholders are the lists behind %name% placeholders of the expand modifier,
	// keyed by name without percent signs.
	Placeholders map[string][]string

	// perValue turns off the automaton for long value lists (mergeAny), for the tests that
	// compare it with matching each value on its own.
	perValue bool
}

// Rule is one compiled detection rule.
type Rule struct {
	// Sigma is the rule's syntax tree.
	Sigma *sigma.Rule
	// Info is the metadata signals carry.
	Info signal.RuleInfo
	// Index is the rule's position in Engine.Rules.
	Index int

	root node
}

// Engine is a compiled, immutable set of detection rules, safe for concurrent use.
type Engine struct {
	rules  []*Rule
	index  map[string][]int32 // folded eventName -> candidate rules, sorted, including always
	always []int32            // rules that any event may match
	fields map[string]bool
	warns  sigma.ErrorList
}

// Compile compiles the given rules. Rules whose logsource is not AWS CloudTrail are the
// caller's to filter out; Compile compiles whatever it is given. All errors are returned
// together as a sigma.ErrorList, sorted; the engine then holds the rules that compiled.
func Compile(rules []*sigma.Rule, opts Options) (*Engine, error) {
	e := &Engine{index: map[string][]int32{}, fields: map[string]bool{}}
	var errs sigma.ErrorList
	names := map[string][]int32{}
	for _, sr := range rules {
		c := compiler{rule: sr, opts: opts, searches: map[string]node{}, fields: e.fields}
		root := c.compileRule()
		if len(c.errs) > 0 {
			errs = append(errs, c.errs...)
			continue
		}
		req := requiredNames(sr)
		if req == nil {
			c.checkEveryEvent()
		}
		e.warns = append(e.warns, c.warns...)
		lvl, err := signal.ParseLevel(sr.Level)
		if err != nil {
			lvl = signal.LevelInformational
		}
		r := &Rule{
			Sigma: sr,
			Info:  signal.RuleInfo{ID: sr.Ref(), Title: sr.Title, Level: lvl, Tags: sr.Tags},
			Index: len(e.rules),
			root:  root,
		}
		e.rules = append(e.rules, r)
		if req == nil {
			e.always = append(e.always, int32(r.Index))
			continue
		}
		for n := range req {
			names[n] = append(names[n], int32(r.Index))
		}
	}
	for n, idx := range names {
		merged := append(append([]int32(nil), idx...), e.always...)
		sort.Slice(merged, func(i, j int) bool { return merged[i] < merged[j] })
		e.index[n] = dedup(merged)
	}
	errs.Sort()
	e.warns.Sort()
	return e, errs.Err()
}

// Warnings returns what makes compiled rules slow to match, with positions, sorted: long
// value lists matched one value at a time, costly regular expressions, substring searches
// of whole objects or keywords in rules that meet every event (cost.go).
func (e *Engine) Warnings() sigma.ErrorList { return e.warns }

func dedup(s []int32) []int32 {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Rules returns the compiled rules in the order given to Compile (less those that failed).
func (e *Engine) Rules() []*Rule { return e.rules }

// Fields returns the dotted field names the rules read, sorted.
func (e *Engine) Fields() []string {
	out := make([]string, 0, len(e.fields))
	for f := range e.fields {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// IndexStats reports how many rules are indexed by eventName and how many every event must
// meet.
func (e *Engine) IndexStats() (indexed, always int) {
	return len(e.rules) - len(e.always), len(e.always)
}

// Matcher evaluates an Engine's rules on events. It holds scratch space and is not safe for
// concurrent use: take one per goroutine.
type Matcher struct {
	e       *Engine
	name    []byte
	scratch []byte // text of a JSON number (Matcher.text)
	ref     []byte // the field's own text while fieldref reads the other field
}

// NewMatcher returns a Matcher for e.
func (e *Engine) NewMatcher() *Matcher {
	return &Matcher{e: e, name: make([]byte, 0, 64), scratch: make([]byte, 0, 64), ref: make([]byte, 0, 64)}
}

// Match calls fn for every rule that matches ev, in rule order.
func (m *Matcher) Match(ev *event.Event, fn func(*Rule)) {
	v := ev.Value.Get("eventName")
	switch {
	case v == nil:
		m.run(m.e.always, ev, fn)
	case v.Type() == fastjson.TypeString:
		name, _ := v.StringBytes()
		if !isASCIIBytes(name) {
			// Unicode case folding can map non-ASCII text onto an ASCII rule value (the
			// Kelvin sign K folds to k): the ASCII-folded index cannot answer.
			m.runAll(ev, fn)
			return
		}
		m.name = appendLower(m.name[:0], name)
		if idx, ok := m.e.index[string(m.name)]; ok {
			m.run(idx, ev, fn)
			return
		}
		m.run(m.e.always, ev, fn)
	default:
		// An eventName that is an array (or a number) can still match a rule value.
		m.runAll(ev, fn)
	}
}

func (m *Matcher) run(cands []int32, ev *event.Event, fn func(*Rule)) {
	for _, i := range cands {
		if r := m.e.rules[i]; r.root.eval(m, ev) {
			fn(r)
		}
	}
}

func (m *Matcher) runAll(ev *event.Event, fn func(*Rule)) {
	for _, r := range m.e.rules {
		if r.root.eval(m, ev) {
			fn(r)
		}
	}
}

func isASCIIBytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// MatchRule reports whether one rule matches ev, without the index (for tests and tools).
func (m *Matcher) MatchRule(r *Rule, ev *event.Event) bool { return r.root.eval(m, ev) }

func appendLower(dst, s []byte) []byte {
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// requiredNames returns the folded eventName values one of which any event matching r must
// carry, or nil when the rule does not constrain eventName to a literal set.
func requiredNames(r *sigma.Rule) map[string]bool {
	searchSets := map[string]map[string]bool{}
	for _, s := range r.Detection.Searches {
		searchSets[s.Name] = searchNames(s)
	}
	var out map[string]bool
	for _, c := range r.Detection.Conditions {
		set := exprNames(c.Expr, searchSets)
		if set == nil {
			return nil
		}
		out = union(out, set)
	}
	return out
}

func searchNames(s *sigma.Search) map[string]bool {
	if len(s.Selections) == 0 {
		return nil
	}
	var out map[string]bool
	for _, sel := range s.Selections {
		set := selectionNames(sel)
		if set == nil {
			return nil
		}
		out = union(out, set)
	}
	return out
}

func selectionNames(sel *sigma.Selection) map[string]bool {
	for _, m := range sel.Matchers {
		if m.Field != "eventName" || m.MatchAll() {
			continue
		}
		plain := true
		for _, mod := range m.Modifiers {
			if mod != sigma.ModCased {
				plain = false
			}
		}
		if !plain {
			continue
		}
		set := map[string]bool{}
		for _, v := range m.Values {
			if v.Kind != sigma.KindString {
				set = nil
				break
			}
			lit, ok := literal(v.Raw)
			if !ok || !isASCII(lit) {
				set = nil
				break
			}
			set[strings.ToLower(lit)] = true
		}
		if set != nil {
			return set
		}
	}
	return nil
}

func exprNames(x sigma.Expr, searches map[string]map[string]bool) map[string]bool {
	switch x := x.(type) {
	case *sigma.Ident:
		return searches[x.Name]
	case *sigma.AndExpr:
		return smallest(x.Terms, searches)
	case *sigma.OrExpr:
		var out map[string]bool
		for _, t := range x.Terms {
			s := exprNames(t, searches)
			if s == nil {
				return nil
			}
			out = union(out, s)
		}
		return out
	case *sigma.OfExpr:
		if len(x.Names) == 0 {
			return nil
		}
		terms := make([]sigma.Expr, len(x.Names))
		for i, n := range x.Names {
			terms[i] = &sigma.Ident{Name: n}
		}
		if x.All {
			return smallest(terms, searches)
		}
		return exprNames(&sigma.OrExpr{Terms: terms}, searches)
	}
	return nil
}

func smallest(terms []sigma.Expr, searches map[string]map[string]bool) map[string]bool {
	var best map[string]bool
	for _, t := range terms {
		if s := exprNames(t, searches); s != nil && (best == nil || len(s) < len(best)) {
			best = s
		}
	}
	return best
}

func union(a, b map[string]bool) map[string]bool {
	if a == nil {
		a = map[string]bool{}
	}
	for k := range b {
		a[k] = true
	}
	return a
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func errorf(r *sigma.Rule, p sigma.Pos, format string, args ...any) *sigma.Error {
	return &sigma.Error{File: r.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
}
