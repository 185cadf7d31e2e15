package detect

import (
	"path/filepath"
	"testing"
)

// BenchmarkMatch evaluates the grycap background events (real benign CloudTrail) against
// the built-in rules and against every public rule. One op is one event.
func BenchmarkMatch(b *testing.B) {
	events := loadSharedEvents(b, "grycap")
	shared := sharedDir(b, "rules")
	for _, bc := range []struct {
		name string
		dirs []string
	}{
		{"builtin", []string{filepath.Join(moduleRoot(b), "rules")}},
		{"public", []string{filepath.Join(shared, "sigmahq-cloudtrail"), filepath.Join(shared, "suzaku-cloudtrail")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := loadRules(b, bc.dirs...)
			m := e.NewMatcher()
			hits := 0
			fn := func(*Rule) { hits++ }
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				m.Match(events[i%len(events)].ev, fn)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(len(e.Rules())), "rules")
		})
	}
}

// BenchmarkMatchRuleScan evaluates every public rule on every event without the index, to
// show what the index saves and that evaluation itself does not allocate.
func BenchmarkMatchRuleScan(b *testing.B) {
	events := loadSharedEvents(b, "grycap")
	shared := sharedDir(b, "rules")
	e := loadRules(b, filepath.Join(shared, "sigmahq-cloudtrail"), filepath.Join(shared, "suzaku-cloudtrail"))
	m := e.NewMatcher()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev := events[i%len(events)].ev
		for _, r := range e.Rules() {
			m.MatchRule(r, ev)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
