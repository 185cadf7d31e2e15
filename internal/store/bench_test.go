package store

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/source"
)

// benchDays × 150k a day ≈ 1M simulated events (plus human and attack activity);
// TRAILHOUND_BENCH_PER_DAY overrides the rate.
const benchDays = 7

func benchCorpus(b *testing.B) string {
	perDay := 150_000
	if v, err := strconv.Atoi(os.Getenv("TRAILHOUND_BENCH_PER_DAY")); err == nil && v > 0 {
		perDay = v
	}
	return simulated(b, benchDays, perDay)
}

// decodeOnly reads every event of dir as AddPaths does, without storing: the decode cost
// hunt pays anyway, to subtract from BenchmarkIngest.
func decodeOnly(ctx context.Context, dir string) (int, error) {
	var mu sync.Mutex
	total := 0
	err := source.Each(ctx, []string{dir}, source.Options{}, 0, nil, func(ctx context.Context, inputs <-chan source.Input) error {
		d := decode.New(decode.Options{})
		n := 0
		for in := range inputs {
			rc, err := in.Open(context.Background())
			if err != nil {
				return err
			}
			_, err = d.Decode(ctx, in.Name, rc, decode.HandlerFuncs{EventFunc: func(*event.Event) error { n++; return nil }})
			rc.Close()
			if err != nil {
				return err
			}
		}
		mu.Lock()
		total += n
		mu.Unlock()
		return nil
	})
	return total, err
}

// BenchmarkDecodeOnly is the baseline: decoding the corpus without storing it.
func BenchmarkDecodeOnly(b *testing.B) {
	dir := benchCorpus(b)
	ctx := context.Background()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		var err error
		if n, err = decodeOnly(ctx, dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngest decodes the corpus and stores it in a new store (AddPaths: decode, dedup,
// index, compress, commit). The store's own cost is this minus BenchmarkDecodeOnly.
func BenchmarkIngest(b *testing.B) {
	for _, bs := range []int{64 << 10, 128 << 10, 256 << 10} {
		b.Run("block="+strconv.Itoa(bs>>10)+"KiB", func(b *testing.B) {
			dir := benchCorpus(b)
			ctx := context.Background()
			var st Stats
			var added int
			for b.Loop() {
				db := b.TempDir()
				s, err := Open(db, Options{BlockSize: bs})
				if err != nil {
					b.Fatal(err)
				}
				w, err := s.Writer()
				if err != nil {
					b.Fatal(err)
				}
				is, err := w.AddPaths(ctx, []string{dir}, IngestOptions{})
				if err != nil {
					b.Fatal(err)
				}
				added += is.Added
				st = s.Stats()
				s.Close()
			}
			b.ReportMetric(float64(added)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(st.BytesPerEvent, "disk-B/event")
			b.ReportMetric(float64(st.RawBytes)/float64(st.Events), "json-B/event")
			b.ReportMetric(float64(st.Events), "events")
		})
	}
}

// benchStore builds (once per corpus) a store of the corpus and returns it opened read-only;
// TRAILHOUND_BENCH_STORE names an existing store to use instead (e.g. one that
// `trailhound hunt --db` filled with 10M simulated events).
func benchStore(b *testing.B) *Store {
	db := os.Getenv("TRAILHOUND_BENCH_STORE")
	if db == "" {
		db = benchCorpus(b) + ".store"
	}
	if _, err := os.Stat(filepath.Join(db, manifestName)); err != nil {
		dir := benchCorpus(b)
		os.RemoveAll(db)
		s, err := Open(db, Options{})
		if err != nil {
			b.Fatal(err)
		}
		w, err := s.Writer()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.AddPaths(context.Background(), []string{dir}, IngestOptions{}); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	s, err := Open(db, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkLookupIdentity fetches every event of one identity: the index records (Scan) and
// the raw events too (Events), for a rare identity (the attacker's), a median one and the
// busiest one.
func BenchmarkLookupIdentity(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	counts := map[string]int{}
	if err := s.Scan(ctx, Filter{}, func(r Record) error { counts[r.Actor]++; return nil }); err != nil {
		b.Fatal(err)
	}
	type ac struct {
		actor string
		n     int
	}
	var all []ac
	for a, n := range counts {
		if a != "" {
			all = append(all, ac{a, n})
		}
	}
	slices.SortFunc(all, func(x, y ac) int { return cmp.Or(cmp.Compare(x.n, y.n), cmp.Compare(x.actor, y.actor)) })
	picks := map[string]ac{"median": all[len(all)/2], "busiest": all[len(all)-1]}
	for _, a := range all {
		if _, ok := picks["attacker"]; !ok && filepath.Base(a.actor) != "" && a.n < 200 && containsAny(a.actor, "aws_dev", "aws-cli") {
			picks["attacker"] = a
		}
	}
	b.Logf("%d events, %d segments, %d actors", s.Stats().Events, s.Stats().Segments, len(all))
	for _, name := range []string{"attacker", "median", "busiest"} {
		p, ok := picks[name]
		if !ok {
			continue
		}
		f := Filter{Actors: []string{p.actor}}
		b.Run(name+"/index", func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = 0
				if err := s.Scan(ctx, f, func(Record) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "events")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/lookup")
		})
		b.Run(name+"/raw", func(b *testing.B) {
			n, bytes := 0, 0
			for b.Loop() {
				n = 0
				bytes = 0
				if err := s.Events(ctx, f, func(_ Record, e *event.Event) error { n++; bytes += len(e.Raw); return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(bytes)) // MB/s of the matching events' JSON
			b.ReportMetric(float64(n), "events")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/lookup")
		})
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
	}
	return false
}

// BenchmarkAdd measures Add alone on events already decoded (what hunt --db adds to a hunt):
// dedup, index extraction, block compression, and the final commit.
func BenchmarkAdd(b *testing.B) {
	dir := simulated(b, 2, 20000)
	raws, _ := decodeAll(b, dir)
	evs := make([]*event.Event, 0, len(raws))
	for _, r := range raws {
		evs = append(evs, parseEvent(b, r))
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		w, _ := s.Writer()
		for _, e := range evs {
			if _, err := w.Add(e); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(len(evs)*b.N)/b.Elapsed().Seconds(), "events/s")
}
