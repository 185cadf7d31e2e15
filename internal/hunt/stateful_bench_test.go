package hunt

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
)

// BenchmarkStatefulSameTime runs the stateful stage (merge of the matches, the correlation
// shards, signals) with the built-in rules over n copies of one CreateUser event — all in
// one second with distinct eventIDs (a burst), all with one eventID (one event delivered n
// times), or one second apart — and reports ns and allocations per event. A burst must cost
// about what the spread costs (bench/PERFORMANCE.md).
func BenchmarkStatefulSameTime(b *testing.B) {
	set := builtin(b)
	const js = `{"eventVersion":"1.09","eventID":"x","eventTime":"2026-11-20T10:00:00Z","eventSource":"iam.amazonaws.com",` +
		`"eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9","userAgent":"aws-cli/2.15.0",` +
		`"recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice",` +
		`"accountId":"111122223333","accessKeyId":"AKIAEXAMPLEAAAA","userName":"alice"},"requestParameters":{"userName":"aws_dev1234"}}`
	var p fastjson.Parser
	v, err := p.Parse(js)
	if err != nil {
		b.Fatal(err)
	}
	ev := &event.Event{Raw: []byte(js), Value: v}
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	layouts := []struct {
		name   string
		at     func(i int) time.Time
		sameID bool
	}{
		{"burst", func(int) time.Time { return t0 }, false},
		{"burst-same-id", func(int) time.Time { return t0 }, true},
		{"spread", func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }, false},
	}
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		for _, l := range layouts {
			b.Run(fmt.Sprintf("%s/n=%d", l.name, n), func(b *testing.B) {
				st, err := newStateful(Config{}.withDefaults(), set, false)
				if err != nil {
					b.Fatal(err)
				}
				in := &interner{}
				var proto []match
				set.Engine.NewMatcher().Match(ev, func(r *detect.Rule) { proto = append(proto, st.capture(r, ev, nil, in)) })
				if len(proto) == 0 {
					b.Fatal("no built-in rule matches the event")
				}
				matches := make([]match, 0, n*len(proto))
				for i := range n {
					h := eventHeader(ev, in)
					h.EventTime = l.at(i)
					if !l.sameID {
						h.EventID = fmt.Sprintf("%08x-1b2c-4d5e-8f90-%012x", i, i)
					}
					for _, m := range proto {
						m.hdr = h
						matches = append(matches, m)
					}
				}
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				b.ResetTimer()
				signals := 0
				for range b.N {
					st, err := newStateful(Config{}.withDefaults(), set, false)
					if err != nil {
						b.Fatal(err)
					}
					sigs, _, err := st.run(context.Background(), []run{{mem: append([]match(nil), matches...)}}, set.Engine.Rules())
					if err != nil {
						b.Fatal(err)
					}
					signals += len(sigs)
				}
				b.StopTimer()
				runtime.ReadMemStats(&ms1)
				events := float64(b.N) * float64(n)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
				b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/events, "allocs/event")
				b.ReportMetric(float64(signals)/float64(b.N), "signals")
				b.ReportMetric(float64(len(proto)), "rules-matched")
			})
		}
	}
}
