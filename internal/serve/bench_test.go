package serve

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/internal/sink"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/internal/store"
)

// emissions records when each signal revision reached a webhook sink.
type emissions struct {
	mu   sync.Mutex
	at   map[string]time.Time // event id -> first emission of a revision holding it
	revs int
}

func (e *emissions) server(b testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		var s signal.Signal
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		e.mu.Lock()
		e.revs++
		for _, id := range s.EventIDs {
			if _, ok := e.at[id]; !ok {
				e.at[id] = now
			}
		}
		e.mu.Unlock()
	}))
	b.Cleanup(srv.Close)
	return srv
}

// fileOfEvent maps every event id of the trail's files to the file holding it.
func fileOfEvent(b testing.TB, dir string, files []string) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		var doc struct{ Records []struct{ EventID string } }
		json.Unmarshal(body, &doc)
		for _, r := range doc.Records {
			if _, ok := out[r.EventID]; !ok {
				out[r.EventID] = f
			}
		}
	}
	return out
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// BenchmarkTimeToDetect replays a simulated week with both seed attacks into S3 (gofakes3),
// one delivery file every 5 ms in delivery order, while a service runs with lateness 0, and
// measures for every attack step the ground truth lists, from the moment the object holding
// the step's event became readable to the first emission, at a webhook sink, of a signal
// revision holding that event. Steps no signal lists (the rules do not match them, or the
// signal's event-id cap is reached) are counted apart. Modes: notifications (SQS), listing
// (every 5 s), and the EventBridge events queue (each attack event sent as it happens; the
// time counts from its sending).
func BenchmarkTimeToDetect(b *testing.B) {
	set := builtin(b)
	dir, files, gt := trailTruth(b, 1, 7, 2000)
	where := fileOfEvent(b, dir, files)
	var steps []simulate.Step
	for _, at := range gt.Attacks {
		steps = append(steps, at.Steps...)
	}
	for _, mode := range []string{"notifications", "listing-5s", "events-queue"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				e := newEnv(b)
				em := &emissions{at: map[string]time.Time{}}
				hook := em.server(b)
				zero := Duration(0)
				cfg := Config{DB: filepath.Join(b.TempDir(), "db"), Lateness: &zero, Batch: BatchConfig{MaxWait: Duration(50 * time.Millisecond)},
					Sinks: []sink.Config{{Type: "webhook", URL: hook.URL}}}
				events := ""
				switch mode {
				case "notifications":
					cfg.Notifications.SQS = []QueueConfig{{URL: e.queue}}
				case "listing-5s":
					cfg.Trails = []TrailConfig{{URL: "s3://trail/AWSLogs/", Poll: Duration(5 * time.Second)}}
				case "events-queue":
					events = e.fake.CreateQueue("events", time.Minute)
					cfg.Events = []QueueConfig{{URL: events}}
				}
				svc, stop := run(b, cfg, Options{Rules: set, S3: e.s3, SQS: e.sqs})
				readable := map[string]time.Time{}
				if mode == "events-queue" {
					// The attack events alone, each sent as it would arrive, 5 ms apart.
					bodies := attackEnvelopes(b, dir, files, steps)
					for _, st := range steps {
						body, ok := bodies[st.EventID]
						if !ok {
							continue
						}
						e.fake.Send("events", body)
						readable[st.EventID] = time.Now()
						time.Sleep(5 * time.Millisecond)
					}
				} else {
					for _, f := range files {
						raw, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
						e.put(b, f, raw, mode == "notifications")
						readable[f] = time.Now()
						time.Sleep(5 * time.Millisecond)
					}
				}
				// Until nothing more is read for two polls and the sinks have everything.
				quiet, last := time.Now(), svc.m.eventsReadValue()
				for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
					if n := svc.m.eventsReadValue(); n != last || svc.pending() > 0 {
						quiet, last = time.Now(), n
					}
					if time.Since(quiet) > 11*time.Second {
						break
					}
				}
				if err := stop(); err != nil {
					b.Fatal(err)
				}
				var ttd []time.Duration
				perStep := map[string][]time.Duration{}
				undetected := 0
				em.mu.Lock()
				for _, st := range steps {
					key := where[st.EventID]
					if mode == "events-queue" {
						key = st.EventID
					}
					from, ok := readable[key]
					to, seen := em.at[st.EventID]
					if !ok || !seen {
						undetected++
						continue
					}
					d := max(0, to.Sub(from))
					ttd = append(ttd, d)
					perStep[st.Step] = append(perStep[st.Step], d)
				}
				em.mu.Unlock()
				b.ReportMetric(quantile(ttd, 0.5).Seconds(), "p50-s")
				b.ReportMetric(quantile(ttd, 0.99).Seconds(), "p99-s")
				b.ReportMetric(quantile(ttd, 1).Seconds(), "max-s")
				b.ReportMetric(float64(len(ttd)), "steps-timed")
				b.ReportMetric(float64(undetected), "steps-unlisted")
				names := make([]string, 0, len(perStep))
				for n := range perStep {
					names = append(names, n)
				}
				sort.Strings(names)
				var sb strings.Builder
				for _, n := range names {
					fmt.Fprintf(&sb, "\n  %-40s n=%-4d p50=%.3fs max=%.3fs", n, len(perStep[n]), quantile(perStep[n], 0.5).Seconds(), quantile(perStep[n], 1).Seconds())
				}
				b.Logf("%s: per step:%s", mode, sb.String())
			}
		})
	}
}

// attackEnvelopes returns the EventBridge envelope of each attack event, by event id.
func attackEnvelopes(b testing.TB, dir string, files []string, steps []simulate.Step) map[string]string {
	want := map[string]bool{}
	for _, s := range steps {
		want[s.EventID] = true
	}
	out := map[string]string{}
	for _, f := range files {
		raw, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		var doc struct{ Records []json.RawMessage }
		json.Unmarshal(body, &doc)
		for _, r := range doc.Records {
			var h struct{ EventID, EventSource, AwsRegion, RecipientAccountId, EventTime string }
			json.Unmarshal(r, &h)
			if want[h.EventID] {
				out[h.EventID] = fmt.Sprintf(`{"version":"0","id":"%s","detail-type":"AWS API Call via CloudTrail","source":"aws.%s","account":"%s","time":"%s","region":"%s","detail":%s}`,
					h.EventID, strings.Split(h.EventSource, ".")[0], h.RecipientAccountId, h.EventTime, h.AwsRegion, r)
			}
		}
	}
	return out
}

// BenchmarkBacklog measures a service reading a backlog already in the bucket (listing
// only, as on a first start), against hunt --db over the same objects (s3://) and over the
// same files on disk, on the same cores: events per second each, from start to the commit
// of the last event. The bucket is gofakes3 in this process; bench/serve.sh measures the
// same with VersityGW in a process of its own, and the peak memory of each command.
func BenchmarkBacklog(b *testing.B) {
	set := builtin(b)
	days, perDay := 7, 40000
	if v := os.Getenv("TRAILHOUND_BENCH_DAYS"); v != "" {
		fmt.Sscan(v, &days)
	}
	dir, files := trailFiles(b, 3, days, perDay)
	e := newEnv(b)
	for _, f := range files {
		raw, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		e.put(b, f, raw, false)
	}
	time.Sleep(1100 * time.Millisecond) // past the listing's one-second cut
	total := 0
	b.Run("hunt-db-local", func(b *testing.B) {
		for range b.N {
			n, el := huntDB(b, set, []string{filepath.Join(dir, "AWSLogs")}, source.Options{})
			total = n
			b.ReportMetric(float64(n)/el.Seconds(), "events/s")
		}
	})
	b.Run("hunt-db-s3", func(b *testing.B) {
		for range b.N {
			n, el := huntDB(b, set, []string{"s3://trail/AWSLogs/"}, source.Options{S3: e.s3})
			b.ReportMetric(float64(n)/el.Seconds(), "events/s")
		}
	})
	b.Run("serve", func(b *testing.B) {
		for range b.N {
			db := filepath.Join(b.TempDir(), "db")
			cfg := Config{DB: db, Trails: []TrailConfig{{URL: "s3://trail/AWSLogs/", Poll: Duration(time.Hour)}},
				Sinks: []sink.Config{{Type: "jsonl", Path: filepath.Join(b.TempDir(), "s.jsonl")}}}
			start := time.Now()
			svc, stop := run(b, cfg, Options{Rules: set, S3: e.s3})
			for {
				if int(svc.live.Stats().Read) >= total {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			// The batch holding the last events is committed when Read counts them plus
			// its commit; stopping waits for that commit.
			if err := stop(); err != nil {
				b.Fatal(err)
			}
			el := time.Since(start)
			b.ReportMetric(float64(total)/el.Seconds(), "events/s")
			b.ReportMetric(float64(testutilBatches(svc)), "generations")
			var m dto.Metric
			svc.m.commitSeconds.Write(&m)
			if h := m.GetHistogram(); h.GetSampleCount() > 0 {
				b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount())*1000, "ms/commit")
			}

		}
	})
}

func testutilBatches(s *Service) int {
	st, err := store.Open(s.cfg.DB, store.Options{ReadOnly: true})
	if err != nil {
		return 0
	}
	defer st.Close()
	return int(st.Generation())
}

// huntDB runs hunt --db over paths into a fresh store, as the CLI does (state kept, one
// commit), and returns the events read and the time taken.
func huntDB(b testing.TB, set *ruleset.Set, paths []string, src source.Options) (int, time.Duration) {
	start := time.Now()
	st, err := store.Open(filepath.Join(b.TempDir(), "db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w, err := st.Writer()
	if err != nil {
		b.Fatal(err)
	}
	res, err := hunt.Run(context.Background(), hunt.Config{Source: src, OnEvent: w.Add, KeepState: true, Files: ledger{w}}, set, paths)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.CommitBatch(store.Batch{Signals: res.Signals, Blobs: map[string][]byte{store.StateBlob: res.State}}); err != nil {
		b.Fatal(err)
	}
	return res.Stats.Read, time.Since(start)
}
