package simulate

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// discard is a Sink that only counts bytes.
type discard struct{ files, bytes int }

func (d *discard) WriteFile(_ string, data []byte) error {
	d.files++
	d.bytes += len(data)
	return nil
}

// BenchmarkGenerate measures generation on one goroutine, compression included, writing to
// memory: events/s and allocated bytes per event.
func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"day-200k", Options{Days: 1, Accounts: 2, EventsPerDay: 200_000, NoAttacks: true}},
		{"week-default", Options{}},
		{"day-200k-gzip6", Options{Days: 1, EventsPerDay: 200_000, NoAttacks: true, GzipLevel: 6}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var events int
			var elapsed time.Duration
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				start := time.Now()
				gt, err := Generate(context.Background(), bc.opts, &discard{})
				if err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				events += gt.Stats.Events
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(events), "allocB/event")
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}
