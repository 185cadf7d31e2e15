package correlate

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// grouping is a rule's grouping as hunt sets it up: every hit fires, KeepAlive groups.
func grouping(id, rule string) Correlation {
	return Correlation{ID: id, Type: EventCount, Rules: []string{rule}, GroupBy: []string{"user"},
		Timespan: time.Second, Condition: gte(1), KeepAlive: 20 * m}
}

func TestEveryHitFires(t *testing.T) {
	for _, tc := range []struct {
		c    Correlation
		want bool
	}{
		{grouping("g", "A"), true},
		{Correlation{Type: EventCount, Rules: []string{"A"}, Condition: Condition{{GT, 0}}}, true},
		{Correlation{Type: EventCount, Rules: []string{"A"}, Condition: gte(2)}, false},
		{Correlation{Type: EventCount, Rules: []string{"A"}, Condition: Condition{{GTE, 1}, {LT, 5}}}, false},
		{Correlation{Type: EventCount, Rules: []string{"A", "B"}, Condition: gte(1)}, false},
		{Correlation{Type: ValueCount, Rules: []string{"A"}, Condition: gte(1)}, false},
		{Correlation{Type: NewValue, Rules: []string{"A"}}, false},
	} {
		if got := everyHitFires(tc.c); got != tc.want {
			t.Errorf("everyHitFires(%s %v %v) = %v, want %v", tc.c.Type, tc.c.Rules, tc.c.Condition, got, tc.want)
		}
	}
}

// TestEarlyExamples: a provisional alert opens on arrival and either continues as the alert
// evaluated in order (same first event) or closes superseded by it.
func TestEarlyExamples(t *testing.T) {
	cfg := Config{TrackChanges: true, Early: true, Lateness: 15 * m, Correlations: []Correlation{
		grouping("g", "A"),
		{ID: "count", Type: EventCount, Rules: []string{"A"}, GroupBy: []string{"user"}, Timespan: 5 * m, Condition: gte(2)},
	}}
	type step struct {
		x       in
		changed []string // summaries of Changed after the hit
		closed  []string // summaries of the alerts Observe returned
	}
	for _, tc := range []struct {
		name  string
		steps []step
		flush []string
	}{
		{
			name: "in order: the provisional alert continues",
			steps: []step{
				{x: h("A", 0, "e1", "user=a"), changed: []string{`g ["a"] 0s..0s n=1 f=1 ids=e1`}},
				// The correlation "count" (gte 2) is certain to fire too: it opens early as well.
				{x: h("A", time.Minute, "e2", "user=a"), changed: []string{`count ["a"] 0s..1m0s n=2 f=1 ids=e1,e2`, `g ["a"] 0s..1m0s n=2 f=2 ids=e1,e2`}},
				// The watermark passes both: the alert evaluated in order opens with e1 first
				// (the correlation "count" fires too, after the watermark only).
				{x: h("A", 20*m, "e3", "user=b"), changed: []string{
					`count ["a"] 0s..1m0s n=2 f=1 ids=e1,e2`, `g ["a"] 0s..1m0s n=2 f=2 ids=e1,e2`, `g ["b"] 20m0s..20m0s n=1 f=1 ids=e3`}},
			},
			flush: []string{`count ["a"] 0s..1m0s n=2 f=1 ids=e1,e2`, `g ["a"] 0s..1m0s n=2 f=2 ids=e1,e2`, `g ["b"] 20m0s..20m0s n=1 f=1 ids=e3`},
		},
		{
			name: "an earlier hit arrives later: superseded",
			steps: []step{
				{x: h("A", 5*m, "e2", "user=a"), changed: []string{`g ["a"] 5m0s..5m0s n=1 f=1 ids=e2`}},
				{x: h("A", time.Minute, "e1", "user=a"), changed: []string{`count ["a"] 1m0s..5m0s n=2 f=1 ids=e1,e2`, `g ["a"] 1m0s..5m0s n=2 f=2 ids=e2,e1`}},
				{x: h("A", 30*m, "e3", "user=b"),
					changed: []string{`g ["a"] 1m0s..5m0s n=2 f=2 ids=e1,e2`, `g ["b"] 30m0s..30m0s n=1 f=1 ids=e3`},
					closed:  []string{`count ["a"] 1m0s..5m0s n=2 f=1 ids=e1,e2`, `g ["a"] 1m0s..5m0s n=2 f=2 ids=e2,e1 superseded by e1`}},
			},
			flush: []string{`g ["a"] 1m0s..5m0s n=2 f=2 ids=e1,e2`, `g ["b"] 30m0s..30m0s n=1 f=1 ids=e3`},
		},
		{
			name: "a hit that joins the open alert opens nothing and is listed at once",
			steps: []step{
				{x: h("A", 0, "e1", "user=a"), changed: []string{`g ["a"] 0s..0s n=1 f=1 ids=e1`}},
				{x: h("A", 16*m, "e2", "user=b"), changed: []string{`g ["a"] 0s..0s n=1 f=1 ids=e1`, `g ["b"] 16m0s..16m0s n=1 f=1 ids=e2`}},
				{x: h("A", 17*m, "e3", "user=a"), changed: []string{`g ["a"] 0s..17m0s n=2 f=2 ids=e1,e3`}},
				{x: h("A", 40*m, "e4", "user=c"), changed: []string{`g ["a"] 0s..17m0s n=2 f=2 ids=e1,e3`, `g ["b"] 16m0s..16m0s n=1 f=1 ids=e2`, `g ["c"] 40m0s..40m0s n=1 f=1 ids=e4`}},
			},
			flush: []string{`g ["a"] 0s..17m0s n=2 f=2 ids=e1,e3`, `g ["b"] 16m0s..16m0s n=1 f=1 ids=e2`, `g ["c"] 40m0s..40m0s n=1 f=1 ids=e4`},
		},
		{
			name: "a hit past the keep-alive of the open alert opens a provisional one",
			steps: []step{
				{x: h("A", 0, "e1", "user=a"), changed: []string{`g ["a"] 0s..0s n=1 f=1 ids=e1`}},
				{x: h("A", 16*m, "e2", "user=b"), changed: []string{`g ["a"] 0s..0s n=1 f=1 ids=e1`, `g ["b"] 16m0s..16m0s n=1 f=1 ids=e2`}},
				{x: h("A", 25*m, "e3", "user=a"), changed: []string{`g ["a"] 25m0s..25m0s n=1 f=1 ids=e3`}},
			},
			flush: []string{`g ["a"] 0s..0s n=1 f=1 ids=e1`, `g ["b"] 16m0s..16m0s n=1 f=1 ids=e2`, `g ["a"] 25m0s..25m0s n=1 f=1 ids=e3`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var all []Alert
			for i, s := range tc.steps {
				closed := e.Observe(s.x.hit(), s.x.fieldFunc())
				all = append(all, closed...)
				if diff := gocmp.Diff(s.closed, earlySummaries(closed)); diff != "" {
					t.Errorf("step %d (%s): closed (-want +got):\n%s", i, s.x.id, diff)
				}
				if diff := gocmp.Diff(s.changed, earlySummaries(e.Changed())); diff != "" {
					t.Errorf("step %d (%s): changed (-want +got):\n%s", i, s.x.id, diff)
				}
			}
			flushed := e.Flush()
			if diff := gocmp.Diff(tc.flush, earlySummaries(flushed)); diff != "" {
				t.Errorf("flush (-want +got):\n%s", diff)
			}
		})
	}
}

func earlySummaries(as []Alert) []string {
	var out []string
	for _, a := range as {
		s := summary(a)
		if a.Superseded {
			s += " superseded by " + a.SupersededBy
		}
		out = append(out, s)
	}
	return out
}

// TestEarlyProperty runs random streams, out of order within the lateness, through an
// engine with Early (snapshotted and restored at random points) and one without:
//   - the alerts evaluated in order are the same;
//   - a provisional alert is either continued by the alert that starts at its first event or
//     closed superseded by the alert that holds that event, and no alert ever starts at the
//     first event of a superseded one (a signal id closed as superseded is never reused);
//   - every hit that arrives ahead of the watermark is listed at once: right after the
//     Observe that brought it, an alert reported by Changed lists it, and that alert is the
//     one that will hold it, or a provisional alert superseded by that one.
func TestEarlyProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	const lateness = 15 * m
	corrs := []Correlation{grouping("gA", "A"), grouping("gB", "B"),
		{ID: "count", Type: EventCount, Rules: []string{"A", "B"}, GroupBy: []string{"user"}, Timespan: 5 * m, Condition: gte(3)}}
	base := Config{TrackChanges: true, Lateness: lateness, MaxEventIDs: 10000, MaxHeaders: 3, Correlations: corrs}
	early := base
	early.Early = true
	identity := func(a Alert) string { return a.CorrelationID + "/" + fmt.Sprint(a.Group) + "/" + a.EventIDs[0] }
	superseded := 0
	for round := range 40 {
		// Hits spread over hours, each delayed by up to the lateness: the arrival order.
		type arrival struct {
			x  in
			at time.Duration
		}
		var stream []arrival
		n := 50 + r.IntN(300)
		span := time.Duration(1+r.IntN(6)) * time.Hour
		for i := range n {
			// 30 s resolution: hits of one time, whose order is decided by their ids.
			at := time.Duration(r.Int64N(int64(span/(30*time.Second)))) * 30 * time.Second
			rule := []string{"A", "B"}[r.IntN(2)]
			x := h(rule, at, fmt.Sprintf("ev-%04d", i), "user="+[]string{"a", "b", "c"}[r.IntN(3)])
			stream = append(stream, arrival{x, at + time.Duration(r.Int64N(int64(lateness)))})
		}
		slices.SortStableFunc(stream, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })

		plain, _ := New(base)
		e, _ := New(early)
		var want, got []Alert
		listedBy := map[string]map[string]bool{} // corr/event id -> identities of reported alerts listing it
		type pendingCheck struct{ id, group, corr string }
		var checks []struct {
			hit   pendingCheck
			known map[string]bool
		}
		for _, s := range stream {
			want = append(want, plain.Observe(s.x.hit(), s.x.fieldFunc())...)
			plain.Changed()
			late := e.Stats().Watermark.After(t0.Add(s.x.at))
			got = append(got, e.Observe(s.x.hit(), s.x.fieldFunc())...)
			for _, a := range e.Changed() {
				for _, id := range a.EventIDs {
					k := a.CorrelationID + "/" + id
					if listedBy[k] == nil {
						listedBy[k] = map[string]bool{}
					}
					listedBy[k][identity(a)] = true
				}
			}
			if !late {
				for _, c := range []string{"gA", "gB"} {
					if c[1:] == s.x.rule {
						checks = append(checks, struct {
							hit   pendingCheck
							known map[string]bool
						}{pendingCheck{s.x.id, s.x.fields["user"], c}, cloneSet(listedBy[c+"/"+s.x.id])})
					}
				}
			}
			if r.IntN(25) == 0 {
				var b bytes.Buffer
				if err := e.Snapshot(&b); err != nil {
					t.Fatal(err)
				}
				e2, _ := New(early)
				if err := e2.Restore(&b); err != nil {
					t.Fatal(err)
				}
				e = e2
			}
		}
		want = append(want, plain.Flush()...)
		got = append(got, e.Flush()...)

		var inOrder, sup []Alert
		for _, a := range got {
			if a.Superseded {
				sup = append(sup, a)
			} else {
				inOrder = append(inOrder, a)
			}
		}
		if diff := gocmp.Diff(summaries(sortAlerts(want)), summaries(sortAlerts(inOrder))); diff != "" {
			t.Fatalf("round %d: the alerts evaluated in order differ with Early (-without +with):\n%s", round, diff)
		}
		holder := map[string]string{} // corr/event id -> identity of the alert holding it
		starts := map[string]bool{}
		for _, a := range inOrder {
			starts[identity(a)] = true
			for _, id := range a.EventIDs {
				holder[a.CorrelationID+"/"+id] = identity(a)
			}
		}
		successor := map[string]string{} // superseded identity -> identity of the alert after it
		for _, a := range sup {
			superseded++
			if starts[identity(a)] {
				t.Fatalf("round %d: superseded alert %s has the identity of an alert evaluated in order", round, identity(a))
			}
			by := a.CorrelationID + "/" + fmt.Sprint(a.Group) + "/" + a.SupersededBy
			if !starts[by] || holder[a.CorrelationID+"/"+a.EventIDs[0]] != by {
				t.Fatalf("round %d: %s superseded by %q, which is not the alert holding its first event (%s)",
					round, identity(a), a.SupersededBy, holder[a.CorrelationID+"/"+a.EventIDs[0]])
			}
			successor[identity(a)] = by
		}
		for _, c := range checks {
			final := holder[c.hit.corr+"/"+c.hit.id]
			ok := c.known[final]
			for k := range c.known {
				ok = ok || successor[k] == final
			}
			if !ok {
				t.Fatalf("round %d: hit %s of %s arrived ahead of the watermark, but no alert listing it then (%v) leads to %s, the alert holding it",
					round, c.hit.id, c.hit.corr, c.known, final)
			}
		}
	}
	if superseded == 0 {
		t.Fatal("no provisional alert was superseded: the streams do not exercise the property")
	}
	t.Logf("%d provisional alerts superseded", superseded)
}

func cloneSet(s map[string]bool) map[string]bool {
	out := make(map[string]bool, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

// BenchmarkEarly: a rule's grouping over one actor's burst (one second) and spread (one hit
// a second), with and without Early, Changed called every 1,000 hits as a live service's
// batches do: opening early must not make a hit cost more than a constant.
func BenchmarkEarly(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, layout := range []string{"burst", "spread"} {
			for _, early := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/n=%d/early=%v", layout, n, early), func(b *testing.B) {
					hits := make([]Hit, n)
					for i := range hits {
						at := t0
						if layout == "spread" {
							at = t0.Add(time.Duration(i) * time.Second)
						}
						hits[i] = benchHit("A", at, i)
					}
					fields := func(string) string { return "arn:aws:iam::111122223333:user/alice" }
					corr := grouping("g", "A")
					corr.KeepAlive = time.Hour
					// Two window correlations: one that fires (opened early once) and one far
					// from its condition (never checked past its bound).
					fires := Correlation{ID: "fires", Type: ValueCount, Rules: []string{"A"}, GroupBy: []string{"user"}, ValueFields: []string{"user"},
						Timespan: 10 * m, Condition: gte(1)}
					never := Correlation{ID: "never", Type: EventCount, Rules: []string{"A"}, GroupBy: []string{"user"}, Timespan: 10 * m, Condition: gte(1e7)}
					b.ResetTimer()
					for range b.N {
						e, err := New(Config{Correlations: []Correlation{corr, fires, never}, TrackChanges: true, Early: early, Lateness: 15 * m})
						if err != nil {
							b.Fatal(err)
						}
						for i, h := range hits {
							e.Observe(h, fields)
							if i%1000 == 999 {
								e.Changed()
							}
						}
						e.Flush()
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
				})
			}
		}
	}
}
