package hunt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/progress"
)

// BenchmarkRunProgress measures what counting progress costs a run: the same hunt over
// 20 files of 5,000 events each, with and without a progress.Counter.
func BenchmarkRunProgress(b *testing.B) {
	dir := b.TempDir()
	for f := range 20 {
		var sb strings.Builder
		sb.WriteString(`{"Records":[`)
		for i := range 5000 {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(loginEvent(fmt.Sprintf("e-%d-%d", f, i), "Yes"))
		}
		sb.WriteString(`]}`)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.json", f)), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	set := builtin(b)
	for _, withCounter := range []bool{false, true} {
		b.Run(fmt.Sprintf("counter=%v", withCounter), func(b *testing.B) {
			for b.Loop() {
				cfg := Config{Workers: 1}
				if withCounter {
					cfg.Progress = progress.NewCounter("read")
				}
				res, err := Run(context.Background(), cfg, set, []string{dir})
				if err != nil || res.Stats.Evaluated != 100_000 {
					b.Fatalf("%v, %d events", err, res.Stats.Evaluated)
				}
			}
			b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
