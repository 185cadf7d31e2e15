package correlate

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestChanged: with TrackChanges, an alert is reported when it opens and each time it gains
// evidence, never after it closed, and a reported snapshot does not change afterwards.
func TestChanged(t *testing.T) {
	cfg := Config{TrackChanges: true, Lateness: -1, Correlations: []Correlation{{
		ID: "c", Type: EventCount, Rules: []string{"r"}, GroupBy: []string{"user"}, Timespan: time.Minute,
		Condition: Condition{{Op: GTE, Value: 2}}, KeepAlive: 10 * time.Minute,
	}}}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	obs := func(x in) []Alert { return e.Observe(x.hit(), x.fieldFunc()) }
	obs(h("r", 0, "e1", "user=a"))
	obs(h("r", time.Second, "e2", "user=a"))
	e.Advance(t0.Add(2 * time.Second))
	ch := e.Changed()
	if len(ch) != 1 || !slices.Equal(ch[0].EventIDs, []string{"e1", "e2"}) {
		t.Fatalf("after the opening firing: %v", ch)
	}
	opened := ch[0]
	if got := e.Changed(); len(got) != 0 {
		t.Fatalf("nothing changed, Changed = %v", got)
	}
	obs(h("r", 2*time.Second, "e3", "user=a"))
	e.Advance(t0.Add(3 * time.Second))
	ch = e.Changed()
	if len(ch) != 1 || !slices.Equal(ch[0].EventIDs, []string{"e1", "e2", "e3"}) || ch[0].Firings != 2 {
		t.Fatalf("after an update: %v", ch)
	}
	if !slices.Equal(opened.EventIDs, []string{"e1", "e2"}) {
		t.Errorf("the opening snapshot changed: %v", opened.EventIDs)
	}
	// Past the keep-alive the alert closes: it comes out of Advance, not Changed.
	obs(h("r", 3*time.Second, "e4", "user=a"))
	closed := e.Advance(t0.Add(time.Hour))
	if len(closed) != 1 || len(e.Changed()) != 0 {
		t.Fatalf("closed %v, then Changed %v", closed, e.Changed())
	}
	// Without TrackChanges nothing is kept.
	plain, _ := New(Config{Correlations: cfg.Correlations})
	plain.Observe(h("r", 0, "e1", "user=a").hit(), h("r", 0, "e1", "user=a").fieldFunc())
	plain.Observe(h("r", time.Second, "e2", "user=a").hit(), h("r", 0, "e2", "user=a").fieldFunc())
	plain.Flush()
	if plain.Changed() != nil {
		t.Error("Changed without TrackChanges")
	}
}

// TestChangedFirstEventStable: over random streams, out of order within the lateness and
// beyond it, every (correlation, group, first event id) a snapshot reported is that of an
// alert that closes later: a live service keys a signal's id on it, so an id emitted open
// always closes under the same id.
func TestChangedFirstEventStable(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 50 {
		cfg := Config{TrackChanges: true, Lateness: time.Duration(r.IntN(3)) * time.Minute, Correlations: []Correlation{
			{ID: "count", Type: EventCount, Rules: []string{"r"}, GroupBy: []string{"user"}, Timespan: 5 * time.Minute, Condition: Condition{{Op: GTE, Value: 2}}},
			{ID: "group", Type: EventCount, Rules: []string{"r"}, GroupBy: []string{"user"}, Timespan: time.Second, Condition: Condition{{Op: GTE, Value: 1}}, KeepAlive: 20 * time.Minute},
		}}
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		first := map[string]string{} // correlation/group/first id -> seen open
		var closed []Alert
		key := func(a Alert) string { return a.CorrelationID + "/" + a.Group[0] + "/" + a.EventIDs[0] }
		at := time.Duration(0)
		for i := range 300 {
			at += time.Duration(r.IntN(120)) * time.Second
			jitter := time.Duration(r.IntN(300)) * time.Second
			x := h("r", at-jitter, "e"+string(rune('a'+i%26))+string(rune('0'+i/26%10))+string(rune('0'+i/260)), "user="+string(rune('a'+r.IntN(3))))
			closed = append(closed, e.Observe(x.hit(), x.fieldFunc())...)
			if r.IntN(5) == 0 {
				for _, a := range e.Changed() {
					first[key(a)] = "seen"
				}
			}
		}
		for _, a := range e.Changed() {
			first[key(a)] = "seen"
		}
		closed = append(closed, e.Flush()...)
		closedKeys := map[string]bool{}
		for _, a := range closed {
			closedKeys[key(a)] = true
		}
		for k := range first {
			if !closedKeys[k] {
				t.Fatalf("round %d: alert %s was reported open, and no alert closed with that first event", round, k)
			}
		}
		if len(first) == 0 {
			t.Fatalf("round %d: no alert reported open", round)
		}
	}
}
