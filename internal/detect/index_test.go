package detect

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/valyala/fastjson"
)

func TestIndexStats(t *testing.T) {
	for _, tc := range []struct {
		name    string
		det     string
		indexed bool
	}{
		{"one name", "sel:\n  eventName: DeleteTrail\ncondition: sel", true},
		{"list of names", "sel:\n  eventName: [DeleteTrail, StopLogging]\ncondition: sel", true},
		{"escaped star is literal", "sel:\n  eventName: 'Delete\\*'\ncondition: sel", true},
		{"cased", "sel:\n  eventName|cased: DeleteTrail\ncondition: sel", true},
		{"and with filter", "sel:\n  eventName: A\nfilter:\n  errorCode: x\ncondition: sel and not filter", true},
		{"all of", "sel1:\n  eventName: A\nsel2:\n  eventSource: b\ncondition: all of sel*", true},
		{"1 of, all indexed", "sel1:\n  eventName: A\nsel2:\n  eventName: B\ncondition: 1 of sel*", true},
		{"condition list, all indexed", "sel1:\n  eventName: A\nsel2:\n  eventName: B\ncondition:\n  - sel1\n  - sel2", true},
		{"wildcard", "sel:\n  eventName: Delete*\ncondition: sel", false},
		{"wildcard in list", "sel:\n  eventName: [DeleteTrail, Stop*]\ncondition: sel", false},
		{"under not", "sel:\n  eventName: A\ncondition: not sel", false},
		{"or, one branch without name", "sel:\n  eventName: A\nother:\n  eventSource: b\ncondition: sel or other", false},
		{"1 of, one without name", "sel1:\n  eventName: A\nsel2:\n  eventSource: b\ncondition: 1 of sel*", false},
		{"list of maps, one without name", "sel:\n  - eventName: A\n  - eventSource: b\ncondition: sel", false},
		{"condition list, one without name", "sel1:\n  eventName: A\nsel2:\n  eventSource: B\ncondition:\n  - sel1\n  - sel2", false},
		{"neq", "sel:\n  eventName|neq: A\ncondition: sel", false},
		{"contains", "sel:\n  eventName|contains: A\ncondition: sel", false},
		{"all", "sel:\n  eventName|all: [A, B]\ncondition: sel", false},
		{"number", "sel:\n  eventName: 5\ncondition: sel", false},
		{"non-ASCII", "sel:\n  eventName: Ärger\ncondition: sel", false},
		{"keywords", "kw:\n  - DeleteTrail\ncondition: kw", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := compileDetection(t, tc.det, Options{})
			if err != nil {
				t.Fatalf("compiling: %v", err)
			}
			indexed, always := e.IndexStats()
			if got := indexed == 1 && always == 0; got != tc.indexed {
				t.Errorf("IndexStats() = %d indexed, %d always; want indexed %v", indexed, always, tc.indexed)
			}
		})
	}
}

// TestIndexNeverDropsUnusualNames checks event names that the ASCII-folded index cannot
// answer by itself.
func TestIndexNeverDropsUnusualNames(t *testing.T) {
	runMatchCases(t, []matchCase{
		// U+212A KELVIN SIGN folds to k under Unicode simple folding.
		{"kelvin sign", "sel:\n  eventName: KillSession\ncondition: sel", `{"eventName":"\u212Aillsession"}`, true},
		{"name as array", "sel:\n  eventName: DeleteTrail\ncondition: sel", `{"eventName":["x","DeleteTrail"]}`, true},
		{"name as number", "sel:\n  eventName: [A, B, C, D, '5']\ncondition: sel", `{"eventName":5}`, true},
		{"upper case", "sel:\n  eventName: deletetrail\ncondition: sel", `{"eventName":"DELETETRAIL"}`, true},
		{"unindexed name", "sel:\n  eventName: A\nother:\n  eventSource: b\ncondition: sel or other", `{"eventName":"Z","eventSource":"B"}`, true},
		{"absent name, not", "sel:\n  eventName: A\ncondition: not sel", `{}`, true},
	})
}

// TestIndexAgreesWithScan is a property test: over every rule we have and every shared
// event (and variants of it with the name changed), Match through the index finds exactly
// the rules MatchRule finds one by one.
func TestIndexAgreesWithScan(t *testing.T) {
	shared := sharedDir(t, "rules")
	e := loadRules(t, filepath.Join(moduleRoot(t), "rules"),
		filepath.Join(shared, "sigmahq-cloudtrail"), filepath.Join(shared, "suzaku-cloudtrail"))
	if indexed, always := e.IndexStats(); indexed == 0 {
		t.Fatalf("IndexStats() = %d indexed, %d always: the index is not exercised", indexed, always)
	}
	m := e.NewMatcher()
	var events []sharedEvent
	for _, set := range []string{"stratus", "panther", "grycap"} {
		events = append(events, loadSharedEvents(t, set)...)
	}
	pairs, matches := 0, 0
	for _, se := range events {
		for _, ev := range nameVariants(t, se.ev) {
			indexed, scanned := matchedIDs(m, ev)
			pairs += len(e.Rules())
			matches += len(scanned)
			if diff := cmp.Diff(scanned, indexed); diff != "" {
				t.Errorf("%s (eventName %s): Match differs from MatchRule (-scan +index):\n%s", se.label, ev.Value.Get("eventName"), diff)
			}
		}
	}
	t.Logf("%d rules × %d events (with variants): %d rule/event pairs, %d matches", len(e.Rules()), len(events), pairs, matches)
	if matches == 0 {
		t.Error("no rule matched any event: the comparison proves nothing")
	}
}

// nameVariants returns ev and copies with its eventName upper-cased, replaced by an array,
// and removed.
func nameVariants(t *testing.T, ev *event.Event) []*event.Event {
	t.Helper()
	out := []*event.Event{ev}
	name := ev.Str("eventName")
	if name == nil {
		return out
	}
	for _, f := range []func(o *fastjson.Object, a *fastjson.Arena){
		func(o *fastjson.Object, a *fastjson.Arena) {
			o.Set("eventName", a.NewString(strings.ToUpper(string(name))))
		},
		func(o *fastjson.Object, a *fastjson.Arena) {
			arr := a.NewArray()
			arr.SetArrayItem(0, a.NewString(string(name)))
			o.Set("eventName", arr)
		},
		func(o *fastjson.Object, a *fastjson.Arena) { o.Del("eventName") },
	} {
		var p fastjson.Parser
		v, err := p.ParseBytes(ev.Raw)
		if err != nil {
			t.Fatalf("re-parsing event: %v", err)
		}
		var a fastjson.Arena
		o, _ := v.Object()
		f(o, &a)
		raw := v.MarshalTo(nil)
		var p2 fastjson.Parser
		v2, err := p2.ParseBytes(raw)
		if err != nil {
			t.Fatalf("re-parsing variant: %v", err)
		}
		out = append(out, &event.Event{Raw: raw, Value: v2})
	}
	return out
}
