package correlate

import (
	"bytes"
	"cmp"
	"fmt"
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
