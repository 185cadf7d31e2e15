package detect

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkRuleCost measures what one rule costs per event on the grycap background events
// (real benign CloudTrail), for the shapes rules lint reports as slow (cost.go) beside
// cheap ones. One op is one event; rules without an eventName the index can use meet every
// event. The numbers behind the thresholds of cost.go are these.
func BenchmarkRuleCost(b *testing.B) {
	events := loadSharedEvents(b, "grycap")
	globs := func(n int) string {
		var s strings.Builder
		for i := range n {
			fmt.Fprintf(&s, "\n    - 'zq%d*x%d'", i, i) // a star inside: matched one value at a time
		}
		return s.String()
	}
	alternation := func(n int) string {
		alts := make([]string, n)
		for i := range alts {
			alts[i] = fmt.Sprintf("%c%dzq", 'a'+i%26, i) // no common prefix for the engine to search
		}
		return "'(" + strings.Join(alts, "|") + ")'"
	}
	cases := []struct{ name, det string }{
		{"indexed/equals", "sel:\n  eventName: CreateUser\ncondition: sel"},
		{"every-event/userAgent-contains", "sel:\n  userAgent|contains: zqzq\ncondition: sel"},
		{"every-event/requestParameters-contains", "sel:\n  requestParameters|contains: zqzq\ncondition: sel"},
		{"every-event/responseElements-contains", "sel:\n  responseElements|contains: zqzq\ncondition: sel"},
		{"every-event/keyword", "keywords:\n  - zqzq\ncondition: keywords"},
		{"every-event/globs-10", "sel:\n  userAgent:" + globs(10) + "\ncondition: sel"},
		{"every-event/globs-100", "sel:\n  userAgent:" + globs(100) + "\ncondition: sel"},
		{"every-event/globs-1000", "sel:\n  userAgent:" + globs(1000) + "\ncondition: sel"},
		{"every-event/contains-1000-automaton", "sel:\n  userAgent|contains:" + strings.ReplaceAll(globs(1000), "*", "") + "\ncondition: sel"},
		{"every-event/re-no-literal", "sel:\n  userAgent|re: '[0-9]{12}'\ncondition: sel"},
		{"every-event/re-anchored", "sel:\n  userAgent|re: '^aws-cli/[0-9]+'\ncondition: sel"},
		{"every-event/re-alternation-16", "sel:\n  userAgent|re: " + alternation(16) + "\ncondition: sel"},
		{"every-event/re-alternation-100", "sel:\n  userAgent|re: " + alternation(100) + "\ncondition: sel"},
		{"every-event/re-nested", "sel:\n  userAgent|re: '(\\w+\\s?)*zq'\ncondition: sel"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e, err := compileDetection(b, c.det, Options{})
			if err != nil {
				b.Fatal(err)
			}
			m := e.NewMatcher()
			hits := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				m.Match(events[i%len(events)].ev, func(*Rule) { hits++ })
			}
		})
	}
}
