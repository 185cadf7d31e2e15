package correlate

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// baselineCorr counts a user's hits of rule A in 10 minutes against the user's peaks of the
// previous three hours (periods of an hour), after an hour of learning.
var baselineCorr = Correlation{ID: "b", Type: BaselineCount, Rules: []string{"A"}, GroupBy: []string{"user"},
	Timespan: 10 * m, Condition: gte(5), Factor: 2, Period: time.Hour, Forget: 3 * time.Hour, Learning: time.Hour}

// burst returns n hits of rule A by user, one a second from at, ids prefix-0, prefix-1, ...
// with the extra fields kv; with values, each hit has its own ip.
func burst(user string, at time.Duration, n int, prefix string, values bool) []in {
	var out []in
	for i := range n {
		kv := []string{"user=" + user}
		if values {
			kv = append(kv, fmt.Sprintf("ip=10.0.0.%d", i))
		} else {
			kv = append(kv, "ip=10.0.0.1")
		}
		out = append(out, h("A", at+time.Duration(i)*time.Second, fmt.Sprintf("%s-%d", prefix, i), kv...))
	}
	return out
}

func concat(parts ...[]in) []in {
	var out []in
	for _, p := range parts {
		out = append(out, p...)
	}
	slices.SortStableFunc(out, func(a, b in) int { return int(a.at - b.at) })
	return out
}

func ids(prefix string, n int) string {
	var s []string
	for i := range n {
		s = append(s, fmt.Sprintf("%s-%d", prefix, i))
	}
	return fmt.Sprint(s)
}

// TestBaselineCount pins doc.go's semantics of baseline_count: learning, floor, factor,
// the baseline of earlier periods only, forget, distinct values, and the alert's evidence.
func TestBaselineCount(t *testing.T) {
	h0 := time.Duration(0)
	hr := time.Hour
	tests := []struct {
		name   string
		corr   Correlation
		stream []in
		want   []string // "group first..last count base=B peak=P"
	}{
		{
			name:   "a burst during learning is learned, not signalled",
			corr:   baselineCorr,
			stream: burst("ci", h0+10*m, 40, "l", false),
			want:   nil,
		},
		{
			name: "a group that never did it fires at the floor, with every hit of the burst",
			corr: baselineCorr,
			stream: concat(burst("ci", h0, 3, "x", false), // starts the learning clock
				burst("new", 2*hr, 7, "n", false)),
			want: []string{`["new"] 2h0m0s..2h0m6s n=7 base=0 peak=7`},
		},
		{
			name:   "below the floor nothing fires, even without history",
			corr:   baselineCorr,
			stream: concat(burst("ci", h0, 3, "x", false), burst("new", 2*hr, 4, "n", false)),
			want:   nil,
		},
		{
			name: "the usual volume, and up to factor times it, stays quiet",
			corr: baselineCorr,
			stream: concat(burst("ci", h0, 10, "a", false), burst("ci", hr+5*m, 10, "b", false),
				burst("ci", 2*hr, 20, "c", false)),
			want: nil,
		},
		{
			name: "more than factor times the baseline fires; the baseline is the highest earlier peak",
			corr: baselineCorr,
			stream: concat(burst("ci", h0, 6, "a", false), burst("ci", hr+5*m, 10, "b", false),
				burst("ci", 2*hr, 21, "c", false)),
			want: []string{`["ci"] 2h0m0s..2h0m20s n=21 base=10 peak=21`},
		},
		{
			name: "the same period's own burst does not raise its baseline",
			corr: baselineCorr,
			stream: concat(burst("ci", h0, 5, "a", false), burst("ci", hr+20*m, 11, "b", false),
				burst("ci", hr+40*m, 12, "c", false)),
			want: []string{
				`["ci"] 1h20m0s..1h20m10s n=11 base=5 peak=11`,
				`["ci"] 1h40m0s..1h40m11s n=12 base=5 peak=12`,
			},
		},
		{
			name: "a peak older than forget no longer counts",
			corr: baselineCorr,
			stream: concat(burst("ci", h0, 30, "a", false), burst("ci", 4*hr+10*m, 30, "c", false),
				burst("ci2", h0, 30, "d", false), burst("ci2", 3*hr+10*m, 30, "e", false)),
			want: []string{`["ci"] 4h10m0s..4h10m29s n=30 base=0 peak=30`},
		},
		{
			name: "groups are separate: a volume usual for one is new for another",
			corr: baselineCorr,
			stream: concat(burst("ci", h0, 30, "a", false), burst("ci", 2*hr, 30, "b", false),
				burst("other", 2*hr, 30, "c", false)),
			want: []string{`["other"] 2h0m0s..2h0m29s n=30 base=0 peak=30`},
		},
		{
			name: "with a field, distinct values are counted, not events",
			corr: func() Correlation {
				c := baselineCorr
				c.ValueFields = []string{"ip"}
				return c
			}(),
			stream: concat(burst("ci", h0, 3, "x", false), burst("same", 2*hr, 40, "s", false),
				burst("many", 2*hr, 6, "v", true)),
			want: []string{`["many"] 2h0m0s..2h0m5s n=6 base=0 peak=6`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _ := run(t, Config{Correlations: []Correlation{tt.corr}}, tt.stream)
			var got []string
			for _, a := range alerts {
				got = append(got, fmt.Sprintf("%q %v..%v n=%d base=%d peak=%d", a.Group, a.First.Sub(t0), a.Last.Sub(t0), a.Count, a.Baseline, a.Peak))
				if len(a.EventIDs) != a.Count {
					t.Errorf("alert %v lists %d event ids for %d events", a.Group, len(a.EventIDs), a.Count)
				}
			}
			if diff := gocmp.Diff(tt.want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewValueLearnFirst: with learn-first, a group's first value is its own; a later new
// one fires, and so does the first value again once the group is forgotten and seen anew.
func TestNewValueLearnFirst(t *testing.T) {
	c := Correlation{ID: "n", Type: NewValue, Rules: []string{"A"}, GroupBy: []string{"user"}, ValueFields: []string{"ip"},
		LearnFirst: true, Forget: time.Hour}
	stream := []in{
		h("A", 0, "e1", "user=i-1", "ip=10.0.0.5"),
		h("A", m, "e2", "user=i-1", "ip=10.0.0.5"),
		h("A", 2*m, "e3", "user=i-2", "ip=10.0.0.9"),
		h("A", 3*m, "e4", "user=i-1", "ip=45.155.205.7"),
		h("A", 4*m, "e5", "user=i-1", "ip=45.155.205.7"),
	}
	alerts, _ := run(t, Config{Correlations: []Correlation{c}}, stream)
	if diff := gocmp.Diff([]string{`n ["i-1"] 3m0s..3m0s n=1 f=1 ids=e4 vals=[["45.155.205.7"]]`}, summaries(alerts)); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
	plain := c
	plain.LearnFirst = false
	alerts, _ = run(t, Config{Correlations: []Correlation{plain}}, stream)
	firings := 0
	for _, a := range alerts {
		firings += a.Firings
	}
	if firings != 3 {
		t.Errorf("without learn-first: %d firings, want 3 (every group's first value, and the new one): %v", firings, summaries(alerts))
	}
}

// baselineConfig is the model comparison's: events and distinct values, a chained
// correlation over a baseline's firings, small periods so that a stream spans many.
func baselineConfig() Config {
	ev := Correlation{ID: "events", Type: BaselineCount, Rules: []string{"A", "B"}, GroupBy: []string{"user"},
		Timespan: 5 * m, Condition: gte(4), Factor: 1.5, Period: 30 * m, Forget: 90 * m, Learning: time.Hour}
	vals := Correlation{ID: "values", Type: BaselineCount, Rules: []string{"B"}, GroupBy: []string{"user"},
		ValueFields: []string{"ip"}, Timespan: 10 * m, Condition: Condition{{GT, 2}}, Factor: 1, Period: 20 * m,
		Forget: 20 * m}
	chain := Correlation{ID: "chain", Type: EventCount, Rules: []string{"events", "values"}, Timespan: time.Hour, Condition: gte(3)}
	first := Correlation{ID: "learn-first", Type: NewValue, Rules: []string{"A"}, GroupBy: []string{"user"}, ValueFields: []string{"ip"},
		LearnFirst: true, Forget: 2 * time.Hour}
	return Config{Correlations: []Correlation{ev, vals, chain, first}, MaxEventIDs: 10, MaxHeaders: 3}
}

// baselineStream returns hits over hours: each user has a usual rate per ten minutes and now
// and then a burst several times larger; some events are delivered twice, some match both
// rules.
func baselineStream(r *rand.Rand, hours int) []in {
	users := []string{"alice", "bob", "carol", ""}
	var out []in
	n := 0
	for slot := range hours * 6 {
		for ui, u := range users {
			k := r.IntN(3 + ui)
			if r.IntN(12) == 0 {
				k = 5 + r.IntN(20)
			}
			for range k {
				at := time.Duration(slot)*10*m + time.Duration(r.IntN(600))*time.Second
				kv := []string{fmt.Sprintf("ip=10.0.0.%d", r.IntN(6))}
				if u != "" {
					kv = append(kv, "user="+u)
				}
				id := fmt.Sprintf("e%05d", n)
				n++
				rule := []string{"A", "B"}[r.IntN(2)]
				out = append(out, h(rule, at, id, kv...))
				if r.IntN(10) == 0 {
					out = append(out, h("A", at, id, kv...)) // the event matches both rules
				}
				if r.IntN(30) == 0 {
					out = append(out, h(rule, at, id, kv...)) // delivered twice
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b in) int { return int(a.at - b.at) })
	return out
}

// TestBaselineMatchesModel compares the engine with the reference model (model_test.go) on
// random streams spanning many periods, in order and with hits displaced within the lateness.
func TestBaselineMatchesModel(t *testing.T) {
	seed := rand.Uint64()
	if v := os.Getenv("TRAILHOUND_TEST_SEED"); v != "" {
		// Reproduces a failure: the seed is logged below.
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("TRAILHOUND_TEST_SEED=%q: %v", v, err)
		}
	}
	t.Logf("seed %d (TRAILHOUND_TEST_SEED reruns it)", seed)
	r := rand.New(rand.NewPCG(seed, 9))
	cfg := baselineConfig()
	fired := map[string]int{}
	for i := range 30 {
		stream := baselineStream(r, 4+r.IntN(6))
		md := newModel(t, cfg)
		want := describe(sortAlerts(md.run(stream)), Stats{Duplicates: md.dups})
		for _, a := range md.out {
			fired[a.CorrelationID]++
		}
		for _, order := range []string{"in order", "displaced"} {
			s := stream
			if order == "displaced" {
				s = displace(r, stream, DefaultLateness)
			}
			got, e := run(t, cfg, s)
			st := e.Stats()
			if st.Late != 0 || st.DroppedHits != 0 || st.DroppedValues != 0 || st.EvictedGroups != 0 {
				t.Fatalf("stream %d reached a case the model does not cover: %+v", i, st)
			}
			if diff := gocmp.Diff(want, describe(sortAlerts(got), st)); diff != "" {
				t.Fatalf("stream %d %s (seed %d): engine differs from the model (-model +engine):\n%s", i, order, seed, diff)
			}
		}
	}
	for _, c := range cfg.Correlations {
		if fired[c.ID] == 0 {
			t.Errorf("correlation %q never fired: the comparison does not exercise it (fired: %v)", c.ID, fired)
		}
	}
}

// BenchmarkBaselineMemoryPerGroup holds 100,000 baseline_count groups that each had hits on
// 31 days (30 peaks remembered, the window of the last day let go) and reports the heap they
// hold per group.
func BenchmarkBaselineMemoryPerGroup(b *testing.B) {
	const groups, days = 100_000, 31
	c := Correlation{ID: "b", Type: BaselineCount, Rules: []string{"A"}, GroupBy: []string{"user", "net"},
		ValueFields: []string{"ip"}, Timespan: 10 * m, Condition: gte(50)}
	for range b.N {
		before := heapInUse()
		e, err := New(Config{Correlations: []Correlation{c}, MaxGroups: 2 * groups})
		if err != nil {
			b.Fatal(err)
		}
		var user string
		fields := func(name string) string {
			switch name {
			case "user":
				return user
			case "net":
				return "140.213.52"
			}
			return "140.213.52.17"
		}
		last := t0
		for d := range days {
			for i := range groups {
				user = fmt.Sprintf("arn:aws:iam::111122223333:role/r%07d", i)
				last = t0.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*300*time.Millisecond)
				e.Observe(benchHit("A", last, d*groups+i), fields)
			}
		}
		e.Advance(last.Add(2 * time.Hour)) // nothing buffered, windows let go
		s := e.Stats()
		if s.Groups != groups || s.Buffered != 0 || s.Hits != 0 {
			b.Fatalf("Stats = %+v, want %d groups, no hit held", s, groups)
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/groups, "B/group")
		b.ReportMetric(float64(s.Bytes)/groups, "estimated-B/group")
		runtime.KeepAlive(e)
	}
}
