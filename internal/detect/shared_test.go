package detect

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/ioc"
	"github.com/trailhound/trailhound/internal/shareddata"
	"github.com/trailhound/trailhound/internal/sigma"
)

func moduleRoot(tb testing.TB) string { return shareddata.ModuleRoot(tb) }

// sharedDir returns ../shared/sub or skips the test.
func sharedDir(tb testing.TB, sub string) string { return shareddata.Dir(tb, sub) }

// sharedEvent is one event of the shared data sets, parsed with its own parser.
type sharedEvent struct {
	label string // dataset file and record
	ev    *event.Event
}

// loadSharedEvents reads the events of one data set: "grycap", "stratus" or "panther".
func loadSharedEvents(tb testing.TB, set string) []sharedEvent {
	tb.Helper()
	dirs := map[string]string{"grycap": "grycap-cloudtrail-tracker", "stratus": "stratus-red-team-detonation-logs",
		"panther": "panther-analysis-rule-tests"}
	dir, ok := dirs[set]
	if !ok {
		tb.Fatalf("unknown data set %q", set)
	}
	var out []sharedEvent
	for _, e := range shareddata.CloudTrail(tb, dir) {
		out = append(out, sharedEvent{label: e.Key, ev: &event.Event{Raw: e.Raw, Value: e.Value}})
	}
	return out
}

// loadRules loads and compiles the CloudTrail detection rules under the given directories.
func loadRules(tb testing.TB, dirs ...string) *Engine {
	tb.Helper()
	rs, err := sigma.LoadPaths(context.Background(), dirs...)
	if err != nil {
		tb.Fatalf("loading rules from %s: %v", strings.Join(dirs, ", "), err)
	}
	var rules []*sigma.Rule
	for _, r := range rs.Rules {
		if r.IsCloudTrail() {
			rules = append(rules, r)
		}
	}
	// The built-in rules reach the built-in IOC lists through |expand.
	lists, err := ioc.Load(true)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := Compile(rules, Options{Placeholders: lists.Placeholders()})
	var list sigma.ErrorList
	if err != nil && !errors.As(err, &list) {
		tb.Fatalf("compiling rules: %v", err)
	}
	if err != nil {
		tb.Fatalf("compiling rules: %d errors:\n%v", len(list), err)
	}
	return e
}

// matchedIDs lists the indexes of the rules matching ev, in rule order, with and without
// the eventName index.
func matchedIDs(m *Matcher, ev *event.Event) (indexed, scanned []int) {
	m.Match(ev, func(r *Rule) { indexed = append(indexed, r.Index) })
	for _, r := range m.e.Rules() {
		if m.MatchRule(r, ev) {
			scanned = append(scanned, r.Index)
		}
	}
	sort.Ints(scanned)
	return indexed, scanned
}
