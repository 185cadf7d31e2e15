package detect

import (
	"strings"

	"github.com/trailhound/trailhound/internal/match"
	"github.com/trailhound/trailhound/internal/sigma"
)

// compiler turns one rule's syntax tree into a node tree, collecting every error.
type compiler struct {
	rule     *sigma.Rule
	opts     Options
	searches map[string]node
	fields   map[string]bool
	errs     sigma.ErrorList
	warns    sigma.ErrorList // cost.go
}

func (c *compiler) compileRule() node {
	for _, s := range c.rule.Detection.Searches {
		c.searches[s.Name] = c.compileSearch(s)
	}
	var terms []node
	for _, cond := range c.rule.Detection.Conditions {
		terms = append(terms, c.compileExpr(cond.Expr, cond.Pos))
	}
	return orOf(terms)
}

func (c *compiler) compileExpr(x sigma.Expr, p sigma.Pos) node {
	switch x := x.(type) {
	case *sigma.Ident:
		if n, ok := c.searches[x.Name]; ok {
			return n
		}
		c.errs = append(c.errs, errorf(c.rule, p, "condition refers to unknown search %q", x.Name))
		return constNode(false)
	case *sigma.NotExpr:
		return notNode{c.compileExpr(x.X, p)}
	case *sigma.AndExpr:
		terms := make([]node, len(x.Terms))
		for i, t := range x.Terms {
			terms[i] = c.compileExpr(t, p)
		}
		return andOf(terms)
	case *sigma.OrExpr:
		terms := make([]node, len(x.Terms))
		for i, t := range x.Terms {
			terms[i] = c.compileExpr(t, p)
		}
		return orOf(terms)
	case *sigma.OfExpr:
		terms := make([]node, 0, len(x.Names))
		for _, n := range x.Names {
			terms = append(terms, c.compileExpr(&sigma.Ident{Name: n}, p))
		}
		if len(terms) == 0 {
			// "1 of x*" over nothing is false; "all of" over nothing is vacuously true,
			// which no rule author means: treat both as false.
			return constNode(false)
		}
		if x.All {
			return andOf(terms)
		}
		return orOf(terms)
	}
	c.errs = append(c.errs, errorf(c.rule, p, "unsupported condition element %T", x))
	return constNode(false)
}

func (c *compiler) compileSearch(s *sigma.Search) node {
	terms := make([]node, 0, len(s.Selections))
	for _, sel := range s.Selections {
		fields := make([]node, 0, len(sel.Matchers))
		for _, m := range sel.Matchers {
			fields = append(fields, c.compileMatcher(m))
		}
		if len(fields) == 0 {
			// An empty map matches every event (Sigma's degenerate selection).
			terms = append(terms, constNode(true))
			continue
		}
		terms = append(terms, andOf(fields))
	}
	return orOf(terms)
}

func andOf(terms []node) node {
	if len(terms) == 1 {
		return terms[0]
	}
	return andNode(terms)
}

func orOf(terms []node) node {
	if len(terms) == 1 {
		return terms[0]
	}
	return orNode(terms)
}

// compileMatcher compiles one "field|modifiers: values" entry.
func (c *compiler) compileMatcher(m *sigma.Matcher) node {
	var path []string
	if m.Field != "" {
		path = strings.Split(m.Field, ".")
		c.fields[m.Field] = true
	}
	if m.Has(sigma.ModExists) {
		want := len(m.Values) > 0 && m.Values[0].Bool
		return existsNode{path: path, want: want}
	}
	// A lone null value is its own kind of test.
	if len(m.Values) == 1 && m.Values[0].Kind == sigma.KindNull {
		return nullNode{path: path}
	}
	vals := make([]valueMatcher, 0, len(m.Values))
	for _, v := range m.Values {
		vals = append(vals, c.compileValue(m, v)...)
	}
	if m.Field == "" {
		vals = c.mergeAny(m, vals)
		c.checkCost(m, vals)
		return &keywordNode{vals: vals, all: m.MatchAll()}
	}
	vals = c.mergeAny(m, c.mergeSet(m, vals))
	c.checkCost(m, vals)
	var n node = &fieldNode{path: path, vals: vals, all: m.MatchAll()}
	if m.Has(sigma.ModNeq) {
		n = notNode{n}
	}
	return n
}

// mergeSet replaces many plain equality matchers with one set lookup.
func (c *compiler) mergeSet(m *sigma.Matcher, vals []valueMatcher) []valueMatcher {
	if m.MatchAll() || len(vals) < 4 {
		return vals
	}
	var lits []string
	for _, v := range vals {
		s, ok := v.(stringValue)
		if !ok || s.s.Op() != match.Equals {
			return vals
		}
		lit, ok := literal(s.s.Pattern())
		if !ok {
			return vals
		}
		lits = append(lits, match.Escape(lit))
	}
	set, err := match.NewSet(match.Options{Cased: m.Has(sigma.ModCased)}, lits...)
	if err != nil {
		return vals
	}
	return []valueMatcher{setValue{set}}
}

// anyMin is the number of string values of one matcher from which those that an automaton
// can serve are matched together (match.Any) instead of one by one. Below it asking each
// value is as fast: BenchmarkAnyContains in internal/match, bench/PERFORMANCE.md.
const anyMin = 16

// mergeAny replaces the string values that match.Any serves (values whose only wildcards
// are stars at their ends) with one automaton, when there are anyMin of them or more and any
// one value may match (not |all, where each value must be found on its own).
func (c *compiler) mergeAny(m *sigma.Matcher, vals []valueMatcher) []valueMatcher {
	if m.MatchAll() || c.opts.perValue {
		return vals
	}
	var strs []*match.String
	var other []valueMatcher
	for _, v := range vals {
		if s, ok := v.(stringValue); ok {
			strs = append(strs, s.s)
		} else {
			other = append(other, v)
		}
	}
	if len(strs) < anyMin {
		return vals
	}
	a, rest := match.NewAny(strs)
	if a == nil || a.Len() < anyMin {
		return vals
	}
	out := []valueMatcher{bytesValue{a}}
	for _, s := range rest {
		out = append(out, stringValue{s})
	}
	return append(out, other...)
}

func literal(pattern string) (string, bool) { return match.Literal(pattern) }

// compileValue compiles one rule value under the matcher's modifiers; transformations may
// turn one value into several alternatives.
func (c *compiler) compileValue(m *sigma.Matcher, v *sigma.Value) []valueMatcher {
	fail := func(format string, args ...any) []valueMatcher {
		c.errs = append(c.errs, errorf(c.rule, v.Pos, format, args...))
		return nil
	}
	switch {
	case m.Has(sigma.ModFieldRef):
		op := stringOp(m)
		c.fields[v.Raw] = true
		return []valueMatcher{fieldRefValue{path: strings.Split(v.Raw, "."), op: op, cased: m.Has(sigma.ModCased)}}
	case m.Has(sigma.ModCIDR):
		list := []string{v.Raw}
		if m.Has(sigma.ModExpand) {
			var err error
			if list, err = c.expand(v); err != nil {
				return fail("%v", err)
			}
		}
		cidr, err := match.CompileCIDR(list...)
		if err != nil {
			return fail("invalid cidr value: %v", err)
		}
		return []valueMatcher{bytesValue{cidr}}
	case m.Has(sigma.ModRe):
		var flags match.RegexFlags
		if m.Has(sigma.ModReI) {
			flags |= match.RegexI
		}
		if m.Has(sigma.ModReM) {
			flags |= match.RegexM
		}
		if m.Has(sigma.ModReS) {
			flags |= match.RegexS
		}
		re, err := match.CompileRegex(v.Raw, flags)
		if err != nil {
			return fail("invalid regular expression: %v", err)
		}
		c.checkRegex(m, v, re)
		return []valueMatcher{bytesValue{re}}
	}
	if tm := timeModifier(m); tm != "" {
		op := numOp(m)
		n, err := match.CompileNumeric(op, numberText(v))
		if err != nil {
			return fail("invalid number for |%s: %v", tm, err)
		}
		return []valueMatcher{timeValue{part: tm, num: n}}
	}
	if op, ok := compareOp(m); ok {
		n, err := match.CompileNumeric(op, numberText(v))
		if err != nil {
			return fail("invalid number: %v", err)
		}
		return []valueMatcher{numberValue{n}}
	}
	switch v.Kind {
	case sigma.KindNull:
		return []valueMatcher{nullValue{}}
	case sigma.KindBool:
		return []valueMatcher{boolValue(v.Bool)}
	case sigma.KindNumber:
		if len(m.Modifiers) == 0 || (len(m.Modifiers) == 1 && (m.Has(sigma.ModAll) || m.Has(sigma.ModNeq))) {
			n, err := match.CompileNumeric(match.NumEq, numberText(v))
			if err == nil {
				return []valueMatcher{numberValue{n}}
			}
		}
	}
	patterns := []string{v.Raw}
	if m.Has(sigma.ModExpand) {
		var err error
		patterns, err = c.expand(v)
		if err != nil {
			return fail("%v", err)
		}
	}
	patterns, err := transform(m, patterns)
	if err != nil {
		return fail("%v", err)
	}
	op := stringOp(m)
	if m.Has(sigma.ModBase64Offset) {
		op = match.Contains
	}
	opts := match.Options{Cased: m.Has(sigma.ModCased)}
	out := make([]valueMatcher, 0, len(patterns))
	for _, p := range patterns {
		s, err := match.CompileString(op, p, opts)
		if err != nil {
			return fail("invalid value: %v", err)
		}
		out = append(out, stringValue{s})
	}
	return out
}

// transform applies the encoding modifiers in the order the rule wrote them.
func transform(m *sigma.Matcher, patterns []string) ([]string, error) {
	for _, mod := range m.Modifiers {
		var next []string
		for _, p := range patterns {
			switch mod {
			case sigma.ModWindash:
				vs, err := match.Windash(p)
				if err != nil {
					return nil, err
				}
				next = append(next, vs...)
			case sigma.ModUTF16LE, sigma.ModWide:
				next = append(next, match.UTF16LE(p))
			case sigma.ModUTF16BE:
				next = append(next, match.UTF16BE(p))
			case sigma.ModUTF16:
				next = append(next, match.UTF16(p))
			case sigma.ModBase64:
				s, err := match.Base64(p)
				if err != nil {
					return nil, err
				}
				next = append(next, s)
			case sigma.ModBase64Offset:
				vs, err := match.Base64Offset(p)
				if err != nil {
					return nil, err
				}
				next = append(next, vs...)
			default:
				next = append(next, p)
			}
		}
		patterns = next
	}
	return patterns, nil
}

// expand substitutes every %name% placeholder with each value of its list.
func (c *compiler) expand(v *sigma.Value) ([]string, error) {
	out := []string{v.Raw}
	for _, name := range v.Placeholders {
		list, ok := c.opts.Placeholders[name]
		if !ok {
			return nil, &placeholderError{name}
		}
		var next []string
		for _, s := range out {
			for _, val := range list {
				next = append(next, strings.Replace(s, "%"+name+"%", val, 1))
			}
		}
		out = next
	}
	return out, nil
}

type placeholderError struct{ name string }

func (e *placeholderError) Error() string {
	return "placeholder %" + e.name + "% has no list (give it with an IOC file)"
}

// stringOp is the string comparison of a matcher: its contains, startswith or endswith
// modifier, else equality for a field and substring search for a keyword.
func stringOp(m *sigma.Matcher) match.Op {
	switch {
	case m.Has(sigma.ModContains):
		return match.Contains
	case m.Has(sigma.ModStartsWith):
		return match.StartsWith
	case m.Has(sigma.ModEndsWith):
		return match.EndsWith
	case m.Field == "":
		return match.Contains
	}
	return match.Equals
}

func compareOp(m *sigma.Matcher) (match.NumOp, bool) {
	switch {
	case m.Has(sigma.ModGT):
		return match.NumGt, true
	case m.Has(sigma.ModGTE):
		return match.NumGte, true
	case m.Has(sigma.ModLT):
		return match.NumLt, true
	case m.Has(sigma.ModLTE):
		return match.NumLte, true
	}
	return match.NumEq, false
}

func numOp(m *sigma.Matcher) match.NumOp {
	op, _ := compareOp(m)
	return op
}

func timeModifier(m *sigma.Matcher) sigma.Modifier {
	for _, mod := range m.Modifiers {
		switch mod {
		case sigma.ModMinute, sigma.ModHour, sigma.ModDay, sigma.ModWeek, sigma.ModMonth, sigma.ModYear:
			return mod
		}
	}
	return ""
}

// numberText is the decimal text of a numeric rule value: the literal as written when it is
// a plain decimal integer (exact beyond 2^53), else the shortest decimal of its value (YAML
// allows 0x17, 0o17, 1e3 and .5, which the numeric matcher does not read).
func numberText(v *sigma.Value) string {
	if v.Kind != sigma.KindNumber {
		return v.Raw
	}
	if isDecimalInt(v.Raw) {
		return v.Raw
	}
	return formatFloat(v.Number)
}

// isDecimalInt reports whether s is an optionally signed decimal integer without leading
// zeros.
func isDecimalInt(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
