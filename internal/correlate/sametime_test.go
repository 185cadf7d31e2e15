package correlate

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/goldenfile"
)

// collisionConfigs are the configurations the same-time tests run: every type, chaining and
// the grouping hunt sets up for detection rules, once with caps small enough for bursts to
// hit them (dropped hits and values, evicted groups) and once with the default caps on
// groups, hits and values.
func collisionConfigs() map[string]Config {
	corrs := []Correlation{
		{ID: "count", Type: EventCount, Rules: []string{"A", "B"}, GroupBy: []string{"user"}, Timespan: 10 * m, Condition: gte(4)},
		{ID: "range", Type: EventCount, Rules: []string{"A"}, Timespan: 5 * m, Condition: Condition{{GTE, 3}, {LT, 9}}},
		{ID: "values", Type: ValueCount, Rules: []string{"B", "C"}, GroupBy: []string{"user"}, ValueFields: []string{"ip"},
			Timespan: 10 * m, Condition: gte(3)},
		{ID: "temporal", Type: Temporal, Rules: []string{"A", "B", "C"}, GroupBy: []string{"user"}, Timespan: 5 * m},
		{ID: "ordered", Type: TemporalOrdered, Rules: []string{"C", "A", "B"}, GroupBy: []string{"user"}, Timespan: 10 * m},
		manyFailed, bruteForce,
		{ID: "new", Type: NewValue, Rules: []string{"C", "ok"}, GroupBy: []string{"user"}, ValueFields: []string{"ip"},
			Learning: 5 * m, Forget: 20 * m},
		{ID: "chain-count", Type: EventCount, Rules: []string{"new", "brute", "temporal"}, Timespan: time.Hour, Condition: gte(2)},
		{ID: "signal:A", Type: EventCount, Rules: []string{"A"}, GroupBy: []string{"user"}, Timespan: time.Second,
			Condition: gte(1), KeepAlive: 2 * m, MaxDuration: 20 * m},
	}
	return map[string]Config{
		"small caps":   {Correlations: corrs, MaxGroups: 2, MaxHitsPerGroup: 25, MaxValuesPerGroup: 3, MaxEventIDs: 7, MaxHeaders: 3},
		"default caps": {Correlations: corrs, MaxEventIDs: 12, MaxHeaders: 4},
	}
}

// collisionStream returns hits with heavy same-time collisions: most events fall on a few
// burst seconds, an event often matches several rules (its hits share id and time), and
// some events are delivered again, some many times. The hits are in event-time order, and
// within a time in generation order (not by event id); one burst is a storm of a hundred
// copies of one actor's event. With displace, each hit arrives up to
// 40 minutes after its time: far behind the default lateness, so many are late.
func collisionStream(r *rand.Rand, n int, displaced bool) []in {
	rules := []string{"A", "B", "C", "fail", "ok"}
	users := []string{"alice", "bob", ""}
	var bursts []time.Duration
	for range 5 {
		bursts = append(bursts, time.Duration(r.IntN(90*60))*time.Second)
	}
	var out []in
	for i := 0; len(out) < n; i++ {
		at := bursts[r.IntN(len(bursts))]
		if r.IntN(5) == 0 {
			at = time.Duration(r.IntN(90*60)) * time.Second
		}
		id := fmt.Sprintf("%x", r.IntN(1<<16))
		kv := []string{}
		if u := users[r.IntN(len(users))]; u != "" {
			kv = append(kv, "user="+u)
		}
		if ip := r.IntN(5); ip < 4 {
			kv = append(kv, fmt.Sprintf("ip=10.0.0.%d", ip))
		}
		var event []in
		for _, k := range r.Perm(len(rules))[:1+r.IntN(3)] {
			event = append(event, h(rules[k], at, id, kv...))
		}
		copies := 1
		switch r.IntN(10) {
		case 0:
			copies = 2
		case 1:
			copies = 2 + r.IntN(20)
		}
		for range copies {
			out = append(out, event...)
		}
	}
	// A storm: one actor's event copied a hundred times with new ids in one second, some
	// copies delivered twice, in no id order.
	at := bursts[0]
	for range 60 + r.IntN(60) {
		id := fmt.Sprintf("s%x", r.IntN(1<<16))
		x := h("A", at, id, "user=alice", "ip=10.0.0.1")
		out = append(out, x)
		if r.IntN(3) == 0 {
			out = append(out, h("B", at, id, "user=alice", "ip=10.0.0.1"))
		}
		if r.IntN(5) == 0 {
			out = append(out, x)
		}
	}
	slices.SortStableFunc(out, func(a, b in) int { return cmp.Compare(a.at, b.at) })
	if displaced {
		out = displace(r, out, 40*m)
	}
	return out
}

// describe renders alerts and counters in full, one line each, for a golden file.
func describe(alerts []Alert, s Stats) string {
	var b strings.Builder
	for _, a := range alerts {
		hdrs := make([]string, len(a.Headers))
		for i, h := range a.Headers {
			hdrs[i] = h.EventID
		}
		fmt.Fprintf(&b, "%s hdrs=%s\n", summary(a), strings.Join(hdrs, ","))
	}
	fmt.Fprintf(&b, "late=%d duplicates=%d evicted=%d dropped-hits=%d dropped-values=%d\n",
		s.Late, s.Duplicates, s.EvictedGroups, s.DroppedHits, s.DroppedValues)
	return b.String()
}

// TestSameTimeGolden pins the alerts of collision-heavy streams, in order and with late hits,
// to what the engine produced before same-time hits were made cheap (the golden file was
// written by that engine): every alert, its event ids, headers, values and counts, and every
// counter. A run through a snapshot and restore halfway must give the same.
func TestSameTimeGolden(t *testing.T) {
	var out bytes.Buffer
	names := []string{"default caps", "small caps"}
	for _, name := range names {
		cfg := collisionConfigs()[name]
		for seed := range uint64(3) {
			for _, late := range []bool{false, true} {
				r := rand.New(rand.NewPCG(seed, 77))
				stream := collisionStream(r, 400, late)
				alerts, e := run(t, cfg, stream)
				got := describe(alerts, e.Stats())
				fmt.Fprintf(&out, "== %s, seed %d, late %v\n%s", name, seed, late, got)
				// Through a snapshot and restore halfway, the same.
				alerts, e = runSplit(t, cfg, stream, len(stream)/2)
				if split := describe(alerts, e.Stats()); split != got {
					t.Errorf("%s, seed %d, late %v: split run differs from the run in one go:\n%s\nwant:\n%s", name, seed, late, split, got)
				}
			}
		}
	}
	goldenfile.Check(t, filepath.Join("testdata", "sametime.golden"), out.Bytes())
}

// runSplit observes stream[:split], snapshots, restores into a new engine, observes the rest
// and flushes.
func runSplit(t testing.TB, cfg Config, stream []in, split int) ([]Alert, *Engine) {
	t.Helper()
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []Alert
	for _, x := range stream[:split] {
		got = append(got, first.Observe(x.hit(), x.fieldFunc())...)
	}
	var buf bytes.Buffer
	if err := first.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	second, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	for _, x := range stream[split:] {
		got = append(got, second.Observe(x.hit(), x.fieldFunc())...)
	}
	return append(got, second.Flush()...), second
}

// checkGroups fails unless what each group keeps beside its hits (window.go) says what a
// count over the hits says: fresh, the duplicate index, the per-rule times, the running
// counts — and the hits are in time order.
func checkGroups(t *testing.T, e *Engine) {
	t.Helper()
	for _, c := range e.corrs {
		for _, g := range c.groups {
			fresh := 0
			vals := map[string]int32{}
			ruleN := make([]int32, len(c.Rules))
			ruleT := make([][]int64, len(c.Rules))
			dups := map[dupKey]int32{}
			for i := range g.hits {
				h := &g.hits[i]
				if i > 0 && h.t < g.hits[i-1].t {
					t.Fatalf("%s %q: hits out of time order at %d", c.ID, g.key, i)
				}
				if h.gen != g.gen {
					fresh++
				}
				vals[h.val]++
				ruleN[h.rule]++
				ruleT[h.rule] = append(ruleT[h.rule], h.t)
				if h.id != "" {
					dups[c.dupKey(h)]++
				}
			}
			if g.fresh != fresh {
				t.Fatalf("%s %q: fresh = %d, %d hits are not in the current alert", c.ID, g.key, g.fresh, fresh)
			}
			if g.vals != nil && !maps.Equal(g.vals, vals) {
				t.Fatalf("%s %q: vals = %v, hits say %v", c.ID, g.key, g.vals, vals)
			}
			if g.ruleN != nil && !slices.Equal(g.ruleN, ruleN) {
				t.Fatalf("%s %q: ruleN = %v, hits say %v", c.ID, g.key, g.ruleN, ruleN)
			}
			if g.ruleT != nil && !slices.EqualFunc(g.ruleT, ruleT, slices.Equal) {
				t.Fatalf("%s %q: ruleT = %v, hits say %v", c.ID, g.key, g.ruleT, ruleT)
			}
			if g.dups != nil && !maps.Equal(g.dups, dups) {
				t.Fatalf("%s %q: duplicate index has %d keys, hits say %d", c.ID, g.key, len(g.dups), len(dups))
			}
			if g.ruleT != nil {
				if got, want := orderedTimes(g.ruleT), orderedPrefix(g.hits, len(c.Rules)); got != want {
					t.Fatalf("%s %q: ordered prefix from times = %d, scan of the hits = %d", c.ID, g.key, got, want)
				}
			}
		}
	}
}

// TestWindowBookkeeping checks the groups after every hit of collision-heavy streams, late
// hits, caps and snapshots included.
func TestWindowBookkeeping(t *testing.T) {
	for name, cfg := range collisionConfigs() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			for range 6 {
				stream := collisionStream(r, 500, r.IntN(2) == 0)
				e, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				for i, x := range stream {
					e.Observe(x.hit(), x.fieldFunc())
					checkGroups(t, e)
					if i == len(stream)/2 {
						var buf bytes.Buffer
						if err := e.Snapshot(&buf); err != nil {
							t.Fatal(err)
						}
						if e, err = New(cfg); err != nil {
							t.Fatal(err)
						}
						if err := e.Restore(&buf); err != nil {
							t.Fatal(err)
						}
						checkGroups(t, e)
					}
				}
				e.Flush()
				checkGroups(t, e)
			}
		})
	}
}
