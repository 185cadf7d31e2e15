package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/match"
	"github.com/trailhound/trailhound/internal/sigma"
)

// Rules that compile but make matching slow are reported as warnings (Engine.Warnings;
// rules lint prints them, a run goes on). What is slow was measured: BenchmarkRuleCost in
// this package, BenchmarkAnyContains in internal/match, bench/PERFORMANCE.md ("Rule cost").
const (
	// valueBudget is the estimated time per value of a field from which a matcher is
	// reported: a hunt with the public rules spends about 12 µs on a whole event (one core),
	// so one matcher at 5 µs per value makes a rule cost a large share of it on every event
	// it meets.
	valueBudget = 5 * time.Microsecond
	// oneValueCost is what a string value matched on its own (not by the automaton of
	// match.Any or the hash set) costs on a value of about 100 bytes: 23 to 52 ns in
	// BenchmarkAnyContains (strings, 100 and 1,000 values); 1,000 values with a star inside
	// took 17 µs per event on the shorter user agents of BenchmarkRuleCost.
	oneValueCost = 35 * time.Nanosecond
	// maxOneByOne is the number of values matched one at a time that fits in valueBudget.
	maxOneByOne = int(valueBudget / oneValueCost)
	// A regular expression that runs costs about this much per instruction of its program
	// on a 100-byte value: at every position when unanchored, once when anchored at the
	// start (RE2 never backtracks exponentially, but its work is the program's size times
	// the value's length). In BenchmarkRuleCost an unanchored alternation of 16 literals
	// (89 instructions) took 5.7 µs per event, of 100 literals 51 µs.
	unanchoredInstCost = 70 * time.Nanosecond
	anchoredInstCost   = 2 * time.Nanosecond
	// minPrefilter is the length of a required literal from which the prefilter is trusted
	// to keep the expression from running on most values.
	minPrefilter = 3
	// manyAlternatives is the number of literal alternatives from which a regular
	// expression is better written as a list of values (one automaton for all of them).
	manyAlternatives = 16
)

// objectFields are the CloudTrail fields that hold objects: a substring search on one reads
// the compact JSON text of the whole object.
var objectFields = []string{"requestParameters", "responseElements", "additionalEventData",
	"serviceEventDetails", "userIdentity", "resources", "tlsDetails"}

// regexCost estimates what one regular expression costs per value of about 100 bytes, and
// whether the prefilter keeps it from running on most values.
func regexCost(sh match.RegexShape) (time.Duration, bool) {
	if len(sh.Literal) >= minPrefilter {
		return 0, true
	}
	per := unanchoredInstCost
	if sh.Anchored {
		per = anchoredInstCost
	}
	return time.Duration(sh.Insts) * per, false
}

func (c *compiler) warnf(p sigma.Pos, format string, args ...any) {
	c.warns = append(c.warns, errorf(c.rule, p, format, args...))
}

// checkRegex reports one regular expression that is slow to match on its own.
func (c *compiler) checkRegex(m *sigma.Matcher, v *sigma.Value, re *match.Regex) {
	sh := re.Shape()
	cost, filtered := regexCost(sh)
	if filtered || cost < valueBudget {
		return
	}
	msg := fmt.Sprintf("regular expression of %s costs about %s per value: %d instructions, %s, and no literal of %d characters or more that every match contains, to skip values without it",
		fieldName(m), fmtCost(cost), sh.Insts, anchoring(sh), minPrefilter)
	if sh.Alternatives >= manyAlternatives {
		msg += fmt.Sprintf("; its %d literal alternatives written as a list of values (|contains, |startswith, |endswith or plain) are matched together by one automaton in under a microsecond", sh.Alternatives)
	}
	c.warnf(v.Pos, "%s", msg)
}

// checkCost reports a matcher whose compiled values together are slow to match: many values
// matched one at a time, or regular expressions that cost much together.
func (c *compiler) checkCost(m *sigma.Matcher, vals []valueMatcher) {
	oneByOne := 0
	var reTotal time.Duration
	reCount := 0
	for _, v := range vals {
		switch v := v.(type) {
		case stringValue:
			oneByOne++
		case bytesValue:
			if re, ok := v.b.(*match.Regex); ok {
				if cost, filtered := regexCost(re.Shape()); !filtered && cost < valueBudget {
					reTotal += cost // the others are reported on their own
					reCount++
				}
			} else if m.MatchAll() {
				oneByOne++
			}
		default:
			if m.MatchAll() {
				oneByOne++
			}
		}
	}
	if oneByOne > maxOneByOne {
		why := "values with '?' or a star inside"
		if m.MatchAll() {
			why = "|all: each value is looked for on its own"
		}
		c.warnf(m.Pos, "%d values of %s are matched one at a time (%s): about %s per value of the field, where %d fit in %s; values whose only wildcards are stars at their ends (|contains, |startswith, |endswith) are matched together by one automaton",
			oneByOne, fieldName(m), why, fmtCost(time.Duration(oneByOne)*oneValueCost), maxOneByOne, fmtCost(valueBudget))
	}
	if reCount > 1 && reTotal >= valueBudget {
		c.warnf(m.Pos, "%d regular expressions of %s, none with a literal to skip values by, cost about %s per value together",
			reCount, fieldName(m), fmtCost(reTotal))
	}
}

func fieldName(m *sigma.Matcher) string {
	if m.Field == "" {
		return "the keywords"
	}
	return m.Field
}

// checkEveryEvent reports, for a rule the eventName index cannot narrow (it meets every
// event), the matchers that search substrings of whole objects or of the whole event.
func (c *compiler) checkEveryEvent() {
	for _, s := range c.rule.Detection.Searches {
		for _, sel := range s.Selections {
			for _, m := range sel.Matchers {
				switch {
				case m.Field == "" && !m.Has(sigma.ModRe):
					c.warnf(m.Pos, "keyword search in every event: the rule names no eventName the index can use, so each event is searched leaf by leaf (0.7 µs per event measured on small events, more on large ones); add an eventName to the condition or search named fields")
				case slices.Contains(objectFields, m.Field) && substring(m):
					c.warnf(m.Pos, "substring search of the whole %s object in every event: the rule names no eventName the index can use, so the object's JSON text is built and searched for each event; add an eventName to the condition or match the fields inside %s", m.Field, m.Field)
				}
			}
		}
	}
}

// substring reports whether a matcher searches inside values: contains, or a string value
// starting and ending with a star.
func substring(m *sigma.Matcher) bool {
	if m.Has(sigma.ModContains) {
		return true
	}
	for _, v := range m.Values {
		if v.Kind == sigma.KindString && len(v.Raw) > 1 && strings.HasPrefix(v.Raw, "*") && strings.HasSuffix(v.Raw, "*") {
			return true
		}
	}
	return false
}

func anchoring(sh match.RegexShape) string {
	if sh.Anchored {
		return "anchored at the start"
	}
	return "tried at every position"
}

// fmtCost shows an estimate with one decimal, in µs or ms.
func fmtCost(d time.Duration) string {
	if d >= time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}
