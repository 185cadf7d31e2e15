package correlate

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/event"
)

// benchHit returns a hit with a realistic header: an event id like CloudTrail's and the
// strings an adapter copies out of the event.
func benchHit(rule string, at time.Time, i int) Hit {
	id := fmt.Sprintf("%08x-1b2c-4d5e-8f90-%012x", i, i)
	return Hit{Rule: rule, Time: at, EventID: id, Header: &event.Header{
		EventID: id, EventTime: at, EventSource: "iam.amazonaws.com", EventName: "CreateUser",
		AccountID: "111122223333", Region: "us-east-1", SourceIP: "140.213.52.17",
		UserAgent: "aws-cli/2.15.0", AccessKeyID: "AKIAIOSFODNN7EXAMPLE",
	}}
}

// BenchmarkObserve measures one Observe per op, hits in event-time order (10 ms apart) over
// 1000 groups, with the default lateness buffering about 90k hits.
func BenchmarkObserve(b *testing.B) {
	configs := map[string][]Correlation{
		"event_count": {{ID: "c", Type: EventCount, Rules: []string{"A"}, GroupBy: []string{"user"},
			Timespan: 10 * m, Condition: gte(10)}},
		"all_types": propertyConfig(0).Correlations,
	}
	for name, corrs := range configs {
		b.Run(name, func(b *testing.B) {
			e, err := New(Config{Correlations: corrs})
			if err != nil {
				b.Fatal(err)
			}
			users := make([]string, 1000)
			for i := range users {
				users[i] = fmt.Sprintf("arn:aws:iam::111122223333:user/u%04d", i)
			}
			rules := []string{"A", "B", "C", "fail", "ok"}
			var user, ip string
			fields := func(name string) string {
				switch name {
				case "user":
					return user
				case "ip":
					return ip
				}
				return ""
			}
			hits := make([]Hit, 4096)
			for i := range hits {
				hits[i] = benchHit(rules[i%len(rules)], t0, i)
			}
			b.ReportAllocs()
			alerts := 0
			b.ResetTimer()
			for i := range b.N {
				h := hits[i%len(hits)]
				h.Time = t0.Add(time.Duration(i) * 10 * time.Millisecond)
				user = users[(i*7)%len(users)]
				ip = users[i%13]
				alerts += len(e.Observe(h, fields))
			}
			alerts += len(e.Flush())
			b.ReportMetric(float64(alerts), "alerts")
		})
	}
}

// BenchmarkMemoryPerGroup opens a million groups (one hit each, or one learned value for
// new_value) and reports the heap they hold per group.
func BenchmarkMemoryPerGroup(b *testing.B) {
	const groups = 1_000_000
	configs := map[string]Correlation{
		"event_count": {ID: "c", Type: EventCount, Rules: []string{"A"}, GroupBy: []string{"user"},
			Timespan: 24 * time.Hour, Condition: gte(50)},
		"new_value": {ID: "n", Type: NewValue, Rules: []string{"A"}, GroupBy: []string{"user"},
			ValueFields: []string{"ip"}, Learning: 48 * time.Hour},
	}
	for name, c := range configs {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				before := heapInUse()
				e, err := New(Config{Correlations: []Correlation{c}, MaxGroups: 2 * groups})
				if err != nil {
					b.Fatal(err)
				}
				var user string
				fields := func(name string) string {
					if name == "user" {
						return user
					}
					return "140.213.52.17"
				}
				last := t0
				for i := range groups {
					user = fmt.Sprintf("arn:aws:iam::111122223333:user/u%07d", i)
					last = t0.Add(time.Duration(i) * 3 * time.Millisecond)
					e.Observe(benchHit("A", last, i), fields)
				}
				e.Advance(last.Add(DefaultLateness + time.Second)) // nothing left buffered
				s := e.Stats()
				if s.Groups != groups || s.Buffered != 0 {
					b.Fatalf("Stats = %+v, want %d groups, none buffered", s, groups)
				}
				after := heapInUse()
				b.ReportMetric(float64(after-before)/groups, "B/group")
				b.ReportMetric(float64(s.Bytes)/groups, "estimated-B/group")
				runtime.KeepAlive(e)
			}
		})
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// sameTimeConfigs are the correlations a burst of same-time hits meets: the grouping of a
// detection rule's signals as hunt configures it (a window of one second firing on every hit,
// grouped by KeepAlive), and one correlation of each type with the default caps.
func sameTimeConfigs() map[string][]Correlation {
	return map[string][]Correlation{
		"grouping": {{ID: "signal:A", Type: EventCount, Rules: []string{"A"}, GroupBy: []string{"user"},
			Timespan: time.Second, Condition: gte(1), KeepAlive: time.Hour}},
		"all_types": {
			{ID: "count", Type: EventCount, Rules: []string{"A", "B"}, GroupBy: []string{"user"}, Timespan: 10 * m, Condition: gte(10)},
			{ID: "values", Type: ValueCount, Rules: []string{"A"}, GroupBy: []string{"user"}, ValueFields: []string{"ip"},
				Timespan: 10 * m, Condition: gte(3)},
			{ID: "temporal", Type: Temporal, Rules: []string{"A", "B"}, GroupBy: []string{"user"}, Timespan: 10 * m},
			{ID: "ordered", Type: TemporalOrdered, Rules: []string{"A", "B"}, GroupBy: []string{"user"}, Timespan: 10 * m},
			{ID: "new", Type: NewValue, Rules: []string{"A"}, GroupBy: []string{"user"}, ValueFields: []string{"ip"}},
		},
	}
}

// BenchmarkSameTime feeds n hits of one actor per op: all in one second with distinct event
// ids (one event copied, as a burst looks), all in one second with one event id (one event
// delivered n times), or one per second (the same hits spread over time); late-burst is the
// burst arriving an hour behind the latest event time seen, so every hit of it is late. The
// stateful cost must be linear in the hits of a second: ns/event of a burst stays near that
// of the spread.
func BenchmarkSameTime(b *testing.B) {
	layouts := []struct {
		name   string
		at     func(i int) time.Time
		sameID bool
		late   bool
	}{
		{"burst", func(int) time.Time { return t0 }, false, false},
		{"burst-same-id", func(int) time.Time { return t0 }, true, false},
		{"spread", func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }, false, false},
		{"late-burst", func(int) time.Time { return t0 }, false, true},
	}
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		for cname, corrs := range sameTimeConfigs() {
			for _, l := range layouts {
				b.Run(fmt.Sprintf("%s/%s/n=%d", cname, l.name, n), func(b *testing.B) {
					if l.late && cname == "all_types" && n > 10_000 {
						// Late, each firing of count, temporal and ordered opens an alert
						// that closes at once, holding the whole window: n alerts of
						// 10,000 events each (doc.go, Cost).
						b.Skip("output-bound: every late hit opens an alert of MaxHitsPerGroup events")
					}
					hits := make([]Hit, n)
					for i := range hits {
						id := i
						if l.sameID {
							id = 0
						}
						hits[i] = benchHit([]string{"A", "B"}[i%2], l.at(i), id)
					}
					fields := func(name string) string {
						if name == "user" {
							return "arn:aws:iam::111122223333:user/alice"
						}
						return "140.213.52.17"
					}
					var ms0, ms1 runtime.MemStats
					runtime.ReadMemStats(&ms0)
					b.ResetTimer()
					alerts := 0
					for range b.N {
						e, err := New(Config{Correlations: corrs})
						if err != nil {
							b.Fatal(err)
						}
						if l.late {
							e.Observe(benchHit("A", t0.Add(time.Hour), -1), fields)
						}
						for _, h := range hits {
							alerts += len(e.Observe(h, fields))
						}
						alerts += len(e.Flush())
					}
					b.StopTimer()
					runtime.ReadMemStats(&ms1)
					events := float64(b.N) * float64(n)
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
					b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/events, "allocs/event")
					b.ReportMetric(float64(alerts)/float64(b.N), "alerts")
				})
			}
		}
	}
}
