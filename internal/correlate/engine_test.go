package correlate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const m = time.Minute

func eventCount(cond Condition, span time.Duration) Correlation {
	return Correlation{ID: "c", Type: EventCount, Rules: []string{"A"}, GroupBy: []string{"user"}, Timespan: span, Condition: cond}
}

func gte(n float64) Condition { return Condition{{GTE, n}} }

var (
	valueCount = Correlation{ID: "v", Type: ValueCount, Rules: []string{"A"}, GroupBy: []string{"user"},
		ValueFields: []string{"ip"}, Timespan: 10 * m, Condition: gte(3)}
	temporal = Correlation{ID: "t", Type: Temporal, Rules: []string{"A", "B", "C"}, GroupBy: []string{"user"},
		Timespan: 5 * m}
	ordered = Correlation{ID: "o", Type: TemporalOrdered, Rules: []string{"A", "B"}, GroupBy: []string{"user"},
		Timespan: 10 * m}
	newValue = Correlation{ID: "n", Type: NewValue, Rules: []string{"A"}, GroupBy: []string{"user"},
		ValueFields: []string{"ip"}, Learning: time.Hour, Forget: 24 * time.Hour}
	manyFailed = Correlation{ID: "many", Type: EventCount, Rules: []string{"fail"}, GroupBy: []string{"user"},
		Timespan: 10 * m, Condition: gte(3)}
	bruteForce = Correlation{ID: "brute", Type: TemporalOrdered, Rules: []string{"many", "ok"}, GroupBy: []string{"user"},
		Timespan: 10 * m}
)

// counts are the counters of Stats a case checks (all of them, zero when not given).
type counts struct{ Late, Duplicates, Evicted, DroppedHits, DroppedValues int64 }

func TestEngine(t *testing.T) {
	const u = "user=alice"
	tests := []struct {
		name   string
		cfg    Config
		stream []in
		want   []string
		counts counts
	}{
		{
			name:   "event_count: hits exactly timespan apart are in one window",
			cfg:    Config{Correlations: []Correlation{eventCount(gte(3), 10*m)}},
			stream: []in{h("A", 0, "e1", u), h("A", 5*m, "e2", u), h("A", 10*m, "e3", u)},
			want:   []string{`c ["alice"] 0s..10m0s n=3 f=1 ids=e1,e2,e3`},
		},
		{
			name:   "event_count: just over timespan",
			cfg:    Config{Correlations: []Correlation{eventCount(gte(3), 10*m)}},
			stream: []in{h("A", 0, "e1", u), h("A", 5*m, "e2", u), h("A", 10*m+1, "e3", u)},
		},
		{
			name:   "event_count: equal timestamps, ordered by event id",
			cfg:    Config{Correlations: []Correlation{eventCount(gte(3), 10*m)}},
			stream: []in{h("A", m, "e3", u), h("A", m, "e1", u), h("A", m, "e2", u)},
			want:   []string{`c ["alice"] 1m0s..1m0s n=3 f=1 ids=e1,e2,e3`},
		},
		{
			name:   "event_count: out of order within lateness",
			cfg:    Config{Correlations: []Correlation{eventCount(gte(3), 10*m)}},
			stream: []in{h("A", 10*m, "e3", u), h("A", 0, "e1", u), h("A", 5*m, "e2", u)},
			want:   []string{`c ["alice"] 0s..10m0s n=3 f=1 ids=e1,e2,e3`},
		},
		{
			name:   "event_count: duplicates count once",
			cfg:    Config{Correlations: []Correlation{eventCount(gte(3), 10*m)}},
			stream: []in{h("A", 0, "e1", u), h("A", 0, "e1", u), h("A", m, "e2", u), h("A", m, "e2", u)},
			counts: counts{Duplicates: 2},
		},
		{
			name: "event_count: an event matched by two referenced rules counts once",
			cfg: Config{Correlations: []Correlation{{ID: "c", Type: EventCount, Rules: []string{"A", "B"},
				GroupBy: []string{"user"}, Timespan: 10 * m, Condition: gte(2)}}},
			stream: []in{h("A", 0, "e1", u), h("B", 0, "e1", u), h("B", m, "e2", u)},
			want:   []string{`c ["alice"] 0s..1m0s n=2 f=1 ids=e1,e2`},
			counts: counts{Duplicates: 1},
		},
		{
			name:   "event_count: absent group-by field is the empty value",
			cfg:    Config{Correlations: []Correlation{eventCount(gte(2), 10*m)}},
			stream: []in{h("A", 0, "e1"), h("A", m, "e2", u), h("A", 2*m, "e3")},
			want:   []string{`c [""] 0s..2m0s n=2 f=1 ids=e1,e3`},
		},
		{
			name: "event_count: range gte 2 and lt 4",
			cfg:  Config{Correlations: []Correlation{eventCount(Condition{{GTE, 2}, {LT, 4}}, 10*m)}},
			stream: []in{h("A", 0, "e1", u), h("A", m, "e2", u), h("A", 2*m, "e3", u),
				h("A", 3*m, "e4", u), h("A", 4*m, "e5", u)},
			want: []string{`c ["alice"] 0s..2m0s n=3 f=2 ids=e1,e2,e3`},
		},
		{
			name: "event_count: keep-alive groups firings, a pause starts a new alert",
			cfg:  Config{Correlations: []Correlation{eventCount(gte(2), 10*m)}},
			stream: []in{h("A", 0, "e1", u), h("A", m, "e2", u), h("A", 5*m, "e3", u),
				h("A", 30*m, "e4", u), h("A", 31*m, "e5", u)},
			want: []string{
				`c ["alice"] 0s..5m0s n=3 f=2 ids=e1,e2,e3`,
				`c ["alice"] 30m0s..31m0s n=2 f=1 ids=e4,e5`,
			},
		},
		{
			name: "event_count: max duration starts a new alert",
			cfg: Config{Correlations: []Correlation{func() Correlation {
				c := eventCount(gte(2), 10*m)
				c.MaxDuration = 15 * m
				return c
			}()}},
			stream: []in{h("A", 0, "e0", u), h("A", 5*m, "e1", u), h("A", 10*m, "e2", u), h("A", 15*m, "e3", u),
				h("A", 20*m, "e4", u), h("A", 25*m, "e5", u), h("A", 30*m, "e6", u)},
			want: []string{
				`c ["alice"] 0s..15m0s n=4 f=3 ids=e0,e1,e2,e3`,
				`c ["alice"] 10m0s..25m0s n=4 f=2 ids=e2,e3,e4,e5`,
				`c ["alice"] 20m0s..30m0s n=3 f=1 ids=e4,e5,e6`,
			},
		},
		{
			name:   "event_count: event id cap",
			cfg:    Config{Correlations: []Correlation{eventCount(gte(4), 10*m)}, MaxEventIDs: 2},
			stream: []in{h("A", 0, "e1", u), h("A", m, "e2", u), h("A", 2*m, "e3", u), h("A", 3*m, "e4", u)},
			want:   []string{`c ["alice"] 0s..3m0s n=4 f=1 ids=e1,e2 dropped=2`},
		},
		{
			name:   "event_count: hits-per-group cap",
			cfg:    Config{Correlations: []Correlation{eventCount(gte(3), 10*m)}, MaxHitsPerGroup: 2},
			stream: []in{h("A", 0, "e1", u), h("A", m, "e2", u), h("A", 2*m, "e3", u)},
			counts: counts{DroppedHits: 1},
		},
		{
			name: "event_count: late hit beyond lateness is counted and still evaluated",
			cfg:  Config{Correlations: []Correlation{eventCount(gte(2), 10*m)}, Lateness: m},
			// e2 at 20m moves the watermark to 19m: e3 at 9m is late, and fires with e1, still
			// held (watermark - timespan = 9m).
			stream: []in{h("A", 10*m, "e1", u), h("A", 20*m, "e2", "user=bob"), h("A", 9*m, "e3", u)},
			want:   []string{`c ["alice"] 9m0s..10m0s n=2 f=1 ids=e3,e1`},
			counts: counts{Late: 1},
		},
		{
			name: "event_count: late hit whose window state is evicted is counted, does not fire",
			cfg:  Config{Correlations: []Correlation{eventCount(gte(2), 5*m)}, Lateness: m},
			// watermark - timespan = 14m: e1 at 10m is gone when e3 arrives.
			stream: []in{h("A", 10*m, "e1", u), h("A", 20*m, "e2", "user=bob"), h("A", 9*m, "e3", u)},
			counts: counts{Late: 1},
		},
		{
			name:   "event_count: late duplicate is counted late and once",
			cfg:    Config{Correlations: []Correlation{eventCount(gte(2), 10*m)}, Lateness: m},
			stream: []in{h("A", 10*m, "e1", u), h("A", 20*m, "e2", "user=bob"), h("A", 10*m, "e1", u)},
			counts: counts{Late: 1, Duplicates: 1},
		},
		{
			name: "groups: least recently used evicted beyond MaxGroups, its alert closed",
			cfg:  Config{Correlations: []Correlation{eventCount(gte(2), 10*m)}, MaxGroups: 2},
			stream: []in{h("A", 0, "e1", u), h("A", m, "e2", u), h("A", 2*m, "e3", "user=bob"),
				h("A", 3*m, "e4", "user=carol"), h("A", 4*m, "e5", "user=bob")},
			want:   []string{`c ["alice"] 0s..1m0s n=2 f=1 ids=e1,e2`, `c ["bob"] 2m0s..4m0s n=2 f=1 ids=e3,e5`},
			counts: counts{Evicted: 1},
		},
		{
			name: "groups: an evicted group starts again empty",
			cfg:  Config{Correlations: []Correlation{eventCount(gte(2), 10*m)}, MaxGroups: 2},
			stream: []in{h("A", 0, "e1", u), h("A", m, "e2", "user=bob"), h("A", 2*m, "e3", "user=carol"),
				h("A", 3*m, "e4", u)},
			counts: counts{Evicted: 2},
		},
		{
			name: "value_count: distinct values, absent value ignored",
			cfg:  Config{Correlations: []Correlation{valueCount}},
			stream: []in{h("A", 0, "e1", u, "ip=1"), h("A", m, "e2", u, "ip=1"), h("A", 2*m, "e3", u, "ip=2"),
				h("A", 3*m, "e4", u), h("A", 4*m, "e5", u, "ip=3")},
			want: []string{`v ["alice"] 0s..4m0s n=4 f=1 ids=e1,e2,e3,e5 vals=[["1"] ["2"] ["3"]]`},
		},
		{
			name:   "value_count: value just over timespan",
			cfg:    Config{Correlations: []Correlation{valueCount}},
			stream: []in{h("A", 0, "e1", u, "ip=1"), h("A", 5*m, "e2", u, "ip=2"), h("A", 10*m+1, "e3", u, "ip=3")},
		},
		{
			name: "value_count: distinct-value cap",
			cfg:  Config{Correlations: []Correlation{valueCount}, MaxValuesPerGroup: 2},
			stream: []in{h("A", 0, "e1", u, "ip=1"), h("A", m, "e2", u, "ip=2"), h("A", 2*m, "e3", u, "ip=3"),
				h("A", 3*m, "e4", u, "ip=4")},
			counts: counts{DroppedValues: 2},
		},
		{
			name:   "temporal: any order within timespan",
			cfg:    Config{Correlations: []Correlation{temporal}},
			stream: []in{h("C", 0, "e1", u), h("A", m, "e2", u), h("B", 2*m, "e3", u)},
			want:   []string{`t ["alice"] 0s..2m0s n=3 f=1 ids=e1,e2,e3`},
		},
		{
			name:   "temporal: exactly at timespan",
			cfg:    Config{Correlations: []Correlation{temporal}},
			stream: []in{h("A", 0, "e1", u), h("B", 2*m, "e2", u), h("C", 5*m, "e3", u)},
			want:   []string{`t ["alice"] 0s..5m0s n=3 f=1 ids=e1,e2,e3`},
		},
		{
			name:   "temporal: just over timespan",
			cfg:    Config{Correlations: []Correlation{temporal}},
			stream: []in{h("A", 0, "e1", u), h("B", 2*m, "e2", u), h("C", 5*m+1, "e3", u)},
		},
		{
			name:   "temporal: a rule missing",
			cfg:    Config{Correlations: []Correlation{temporal}},
			stream: []in{h("A", 0, "e1", u), h("B", m, "e2", u), h("B", 2*m, "e3", u)},
		},
		{
			name:   "temporal: different groups",
			cfg:    Config{Correlations: []Correlation{temporal}},
			stream: []in{h("A", 0, "e1", u), h("B", m, "e2", "user=bob"), h("C", 2*m, "e3", u)},
		},
		{
			name:   "temporal: one event matching two rules is listed once",
			cfg:    Config{Correlations: []Correlation{temporal}},
			stream: []in{h("A", 0, "e1", u), h("B", 0, "e1", u), h("C", m, "e2", u)},
			want:   []string{`t ["alice"] 0s..1m0s n=2 f=1 ids=e1,e2`},
		},
		{
			name:   "temporal: condition gte 2 of 3",
			cfg:    Config{Correlations: []Correlation{func() Correlation { c := temporal; c.Condition = gte(2); return c }()}},
			stream: []in{h("A", 0, "e1", u), h("C", m, "e2", u)},
			want:   []string{`t ["alice"] 0s..1m0s n=2 f=1 ids=e1,e2`},
		},
		{
			name:   "temporal_ordered: in order",
			cfg:    Config{Correlations: []Correlation{ordered}},
			stream: []in{h("A", 0, "e1", u), h("B", m, "e2", u)},
			want:   []string{`o ["alice"] 0s..1m0s n=2 f=1 ids=e1,e2`},
		},
		{
			name:   "temporal_ordered: wrong order does not fire",
			cfg:    Config{Correlations: []Correlation{ordered}},
			stream: []in{h("B", 0, "e1", u), h("A", m, "e2", u)},
		},
		{
			name:   "temporal_ordered: equal times count as in order",
			cfg:    Config{Correlations: []Correlation{ordered}},
			stream: []in{h("A", 0, "z", u), h("B", 0, "a", u)},
			want:   []string{`o ["alice"] 0s..0s n=2 f=1 ids=a,z`},
		},
		{
			name:   "temporal_ordered: a later second step fires",
			cfg:    Config{Correlations: []Correlation{ordered}},
			stream: []in{h("B", 0, "e1", u), h("A", m, "e2", u), h("B", 2*m, "e3", u)},
			want:   []string{`o ["alice"] 0s..2m0s n=3 f=1 ids=e1,e2,e3`},
		},
		{
			name:   "temporal_ordered: just over timespan",
			cfg:    Config{Correlations: []Correlation{ordered}},
			stream: []in{h("A", 0, "e1", u), h("B", 10*m+1, "e2", u)},
		},
		{
			name: "new_value: learning, per group, learning boundary inclusive",
			cfg:  Config{Correlations: []Correlation{newValue}},
			stream: []in{
				h("A", 0, "e1", u, "ip=ip1"), h("A", 30*m, "e2", u, "ip=ip3"), // learned
				h("A", 60*m, "e7", u, "ip=ip9"), // first instant after learning
				h("A", 90*m, "e4", u, "ip=ip2"),
				h("A", 2*time.Hour, "e3", u, "ip=ip1"),
				h("A", 3*time.Hour, "e5", u, "ip=ip3"),
				h("A", 4*time.Hour, "e6", "user=bob", "ip=ip1"), // new for bob
				h("A", 4*time.Hour, "e8", "user=bob"),           // no value
			},
			want: []string{
				`n ["alice"] 1h0m0s..1h30m0s n=2 f=2 ids=e7,e4 vals=[["ip9"] ["ip2"]]`,
				`n ["bob"] 4h0m0s..4h0m0s n=1 f=1 ids=e6 vals=[["ip1"]]`,
			},
		},
		{
			name: "new_value: a value unseen for longer than forget is new again",
			cfg: Config{Correlations: []Correlation{func() Correlation {
				c := newValue
				c.Learning = 0
				return c
			}()}},
			stream: []in{h("A", 0, "e1", u, "ip=ip1"), h("A", 24*time.Hour, "e2", u, "ip=ip1"),
				h("A", 48*time.Hour+1, "e3", u, "ip=ip1")},
			want: []string{
				`n ["alice"] 0s..0s n=1 f=1 ids=e1 vals=[["ip1"]]`,
				`n ["alice"] 48h0m0.000000001s..48h0m0.000000001s n=1 f=1 ids=e3 vals=[["ip1"]]`,
			},
		},
		{
			name: "new_value: value cap forgets the least recently seen",
			cfg: Config{Correlations: []Correlation{func() Correlation {
				c := newValue
				c.Learning = 0
				return c
			}()}, MaxValuesPerGroup: 2},
			stream: []in{h("A", 0, "e1", u, "ip=1"), h("A", m, "e2", u, "ip=2"), h("A", 2*m, "e3", u, "ip=3"),
				h("A", 3*m, "e4", u, "ip=2"), h("A", 4*m, "e5", u, "ip=1")},
			want:   []string{`n ["alice"] 0s..4m0s n=4 f=4 ids=e1,e2,e3,e5 vals=[["1"] ["2"] ["3"]]`},
			counts: counts{DroppedValues: 2},
		},
		{
			name: "chaining: many failures followed by a success",
			cfg:  Config{Correlations: []Correlation{bruteForce, manyFailed}},
			stream: []in{h("fail", 0, "f1", u), h("fail", m, "f2", u), h("fail", 2*m, "f3", u),
				h("ok", 3*m, "s1", u), h("ok", 4*m, "s2", "user=bob")},
			want: []string{
				`many ["alice"] 0s..2m0s n=3 f=1 ids=f1,f2,f3`,
				`brute ["alice"] 2m0s..3m0s n=2 f=1 ids=f3,s1`,
			},
		},
		{
			name: "chaining: success before the failures does not fire",
			cfg:  Config{Correlations: []Correlation{bruteForce, manyFailed}},
			stream: []in{h("ok", 0, "s1", u), h("fail", m, "f1", u), h("fail", 2*m, "f2", u),
				h("fail", 3*m, "f3", u)},
			want: []string{`many ["alice"] 1m0s..3m0s n=3 f=1 ids=f1,f2,f3`},
		},
		{
			name: "chaining: aliases map fields per rule",
			cfg: Config{Correlations: []Correlation{manyFailed, {ID: "x", Type: Temporal, Rules: []string{"many", "create"},
				GroupBy: []string{"who"}, Aliases: map[string]map[string]string{"who": {"many": "user", "create": "target"}},
				Timespan: 10 * m}}},
			stream: []in{h("fail", 0, "f1", u), h("fail", m, "f2", u), h("fail", 2*m, "f3", u),
				h("create", 3*m, "c1", "user=root", "target=alice")},
			want: []string{
				`many ["alice"] 0s..2m0s n=3 f=1 ids=f1,f2,f3`,
				`x ["alice"] 2m0s..3m0s n=2 f=1 ids=f3,c1`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var late []string
			tt.cfg.Late = func(h Hit) { late = append(late, h.EventID) }
			got, e := run(t, tt.cfg, tt.stream)
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, summaries(got)); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
			s := e.Stats()
			gotCounts := counts{s.Late, s.Duplicates, s.EvictedGroups, s.DroppedHits, s.DroppedValues}
			if diff := cmp.Diff(tt.counts, gotCounts); diff != "" {
				t.Errorf("counters (-want +got):\n%s", diff)
			}
			if int64(len(late)) != s.Late {
				t.Errorf("Late callback got %d hits %v, Stats.Late = %d", len(late), late, s.Late)
			}
			if s.Buffered != 0 || s.OpenAlerts != 0 {
				t.Errorf("after Flush: %d buffered, %d open alerts, want none", s.Buffered, s.OpenAlerts)
			}
		})
	}
}
