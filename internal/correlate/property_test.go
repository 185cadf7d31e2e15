package correlate

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// propertyConfig has every correlation type, chaining, a range and small caps, so that the
// properties cover eviction and caps too.
func propertyConfig(lateness time.Duration) Config {
	return Config{
		Lateness:          lateness,
		MaxGroups:         4,
		MaxHitsPerGroup:   12,
		MaxValuesPerGroup: 5,
		MaxEventIDs:       6,
		MaxHeaders:        2,
		Correlations: []Correlation{
			{ID: "count", Type: EventCount, Rules: []string{"A"}, GroupBy: []string{"user"}, Timespan: 10 * m, Condition: gte(3)},
			{ID: "range", Type: EventCount, Rules: []string{"A", "B"}, Timespan: 5 * m, Condition: Condition{{GTE, 3}, {LT, 6}}},
			{ID: "values", Type: ValueCount, Rules: []string{"B"}, GroupBy: []string{"user"}, ValueFields: []string{"ip"},
				Timespan: 30 * m, Condition: gte(3)},
			{ID: "temporal", Type: Temporal, Rules: []string{"A", "B", "C"}, GroupBy: []string{"user"}, Timespan: 5 * m},
			manyFailed, bruteForce,
			{ID: "new", Type: NewValue, Rules: []string{"C", "ok"}, GroupBy: []string{"user"}, ValueFields: []string{"ip"},
				Learning: 6 * time.Hour, Forget: 12 * time.Hour},
			{ID: "chain-count", Type: EventCount, Rules: []string{"new", "brute"}, Timespan: time.Hour, Condition: gte(2)},
			{ID: "baseline", Type: BaselineCount, Rules: []string{"A", "B"}, GroupBy: []string{"user"}, Timespan: 10 * m,
				Condition: gte(3), Factor: 1, Period: time.Hour, Forget: 2 * time.Hour, Learning: time.Hour},
			{ID: "baseline-values", Type: BaselineCount, Rules: []string{"B", "C"}, GroupBy: []string{"user"}, ValueFields: []string{"ip"},
				Timespan: 30 * m, Condition: gte(3), Factor: 1, Period: 2 * time.Hour, Forget: 4 * time.Hour},
		},
	}
}

// randomStream returns n hits over span, at 30 s resolution (many equal times), with about
// 5% duplicate deliveries, sorted by time.
func randomStream(r *rand.Rand, n int, span time.Duration) []in {
	rules := []string{"A", "B", "C", "fail", "fail", "ok"}
	users := []string{"alice", "bob", "carol", "dave", "erin", ""}
	var out []in
	for i := range n {
		if i > 0 && r.IntN(20) == 0 {
			out = append(out, out[r.IntN(len(out))])
			continue
		}
		at := time.Duration(r.Int64N(int64(span/(30*time.Second)))) * 30 * time.Second
		kv := []string{}
		if u := users[r.IntN(len(users))]; u != "" {
			kv = append(kv, "user="+u)
		}
		if ip := r.IntN(8); ip < 7 {
			kv = append(kv, fmt.Sprintf("ip=10.0.0.%d", ip))
		}
		out = append(out, h(rules[r.IntN(len(rules))], at, fmt.Sprintf("ev-%05d", i), kv...))
	}
	slices.SortStableFunc(out, func(a, b in) int { return cmp.Compare(a.at, b.at) })
	return out
}

func sortAlerts(as []Alert) []Alert {
	as = slices.Clone(as)
	slices.SortStableFunc(as, func(a, b Alert) int {
		return cmp.Or(compareAlerts(a, b), cmp.Compare(summary(a), summary(b)))
	})
	return as
}

// checkCoverage fails when a stream is too poor for a property to mean anything.
func checkCoverage(t *testing.T, alerts []Alert) {
	t.Helper()
	fired := map[string]int{}
	for _, a := range alerts {
		fired[a.CorrelationID]++
	}
	for _, c := range propertyConfig(0).Correlations {
		if fired[c.ID] == 0 {
			t.Errorf("correlation %q never fired in the stream: the property is not exercised (fired: %v)", c.ID, fired)
		}
	}
}

// TestShuffleProperty: for a batch, the alerts do not depend on the arrival order, as long as
// no hit is late — both for any order with a lateness covering the batch, and for the
// default lateness with hits displaced by less than it.
func TestShuffleProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	stream := randomStream(r, 3000, 12*time.Hour)
	tests := []struct {
		name     string
		lateness time.Duration
		shuffle  func([]in) []in
	}{
		{"any order, lateness covers the batch", 13 * time.Hour, func(s []in) []in {
			s = slices.Clone(s)
			r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
			return s
		}},
		{"displaced within the default lateness", 0, func(s []in) []in { return displace(r, s, DefaultLateness) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, e := run(t, propertyConfig(tt.lateness), stream)
			want = sortAlerts(want)
			checkCoverage(t, want)
			if s := e.Stats(); s.EvictedGroups == 0 || s.Duplicates == 0 || s.DroppedHits == 0 {
				t.Errorf("stream does not exercise caps and duplicates: %+v", s)
			}
			for i := range 25 {
				got, e := run(t, propertyConfig(tt.lateness), tt.shuffle(stream))
				if late := e.Stats().Late; late != 0 {
					t.Fatalf("shuffle %d: %d late hits; the test must not make any", i, late)
				}
				if diff := gocmp.Diff(want, sortAlerts(got)); diff != "" {
					t.Fatalf("shuffle %d: alerts differ from in-order run (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// displace reorders a stream so that each hit arrives up to less than d after its time.
func displace(r *rand.Rand, s []in, d time.Duration) []in {
	type keyed struct {
		key time.Duration
		x   in
	}
	ks := make([]keyed, len(s))
	for i, x := range s {
		ks[i] = keyed{x.at + time.Duration(r.Int64N(int64(d))), x}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	out := make([]in, len(s))
	for i, k := range ks {
		out[i] = k.x
	}
	return out
}

// TestSnapshotSplitProperty: running two days in one go gives the same alerts as running up
// to a point, snapshotting, restoring into a new engine and running the rest.
func TestSnapshotSplitProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	stream := displace(r, randomStream(r, 4000, 48*time.Hour), DefaultLateness)
	cfg := propertyConfig(0)
	want, _ := run(t, cfg, stream)
	want = sortAlerts(want)
	checkCoverage(t, want)

	splits := []int{len(stream) / 2, 1, len(stream) - 1}
	for range 4 {
		splits = append(splits, r.IntN(len(stream)))
	}
	for i, split := range splits {
		viaFile := i%2 == 1
		t.Run(fmt.Sprintf("split at %d, file %v", split, viaFile), func(t *testing.T) {
			first, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got []Alert
			for _, x := range stream[:split] {
				got = append(got, first.Observe(x.hit(), x.fieldFunc())...)
			}
			second, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if viaFile {
				path := filepath.Join(t.TempDir(), "state.json")
				if err := first.SaveFile(path); err != nil {
					t.Fatal(err)
				}
				if err := second.LoadFile(path); err != nil {
					t.Fatal(err)
				}
			} else {
				var buf bytes.Buffer
				if err := first.Snapshot(&buf); err != nil {
					t.Fatal(err)
				}
				if err := second.Restore(&buf); err != nil {
					t.Fatal(err)
				}
			}
			before, after := first.Stats(), second.Stats()
			before.Bytes, after.Bytes = 0, 0 // slice capacities differ
			if diff := gocmp.Diff(before, after); diff != "" {
				t.Errorf("Stats after restore (-before +after):\n%s", diff)
			}
			for _, x := range stream[split:] {
				got = append(got, second.Observe(x.hit(), x.fieldFunc())...)
			}
			got = append(got, second.Flush()...)
			if diff := gocmp.Diff(want, sortAlerts(got)); diff != "" {
				t.Errorf("alerts differ from the run in one go (-want +got):\n%s", diff)
			}
		})
	}
}
