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
	revs []emitted
}

type emitted struct {
	at time.Time
	s  signal.Signal
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
		e.revs = append(e.revs, emitted{now, s})
		e.mu.Unlock()
	}))
	b.Cleanup(srv.Close)
	return srv
}

// detections returns, for every event id the final signals list, when it was first listed
// by a revision (listed) and when the first signal that finally lists it was announced
// (announced): the first emission of that signal, or of an early signal it superseded.
func (e *emissions) detections() (listed, announced map[string]time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	listed, announced = map[string]time.Time{}, map[string]time.Time{}
	first := map[string]time.Time{}
	last := map[string]signal.Signal{}
	for _, r := range e.revs {
		if _, ok := first[r.s.ID]; !ok {
			first[r.s.ID] = r.at
		}
		last[r.s.ID] = r.s
		for _, id := range r.s.EventIDs {
			if _, ok := listed[id]; !ok {
				listed[id] = r.at
			}
		}
	}
	for id, s := range last {
		if by := s.SupersededBy; by != "" {
			if t, ok := first[by]; !ok || first[id].Before(t) {
				first[by] = first[id]
			}
		}
	}
	for id, s := range last {
		if s.SupersededBy != "" {
			continue
		}
		for _, ev := range s.EventIDs {
			if t, ok := announced[ev]; !ok || first[id].Before(t) {
				announced[ev] = first[id]
			}
		}
	}
	return listed, announced
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

// BenchmarkTimeToDetect replays a simulated week with both seed attacks into S3 (gofakes3)
// in delivery order while a service runs with its defaults (lateness 15m, open_early), and
// measures for every attack step of the ground truth the time to detect: from the moment
// the object holding the step's event became readable to the first emission, at a webhook
// sink, of the signal that finally lists the step (or of an early signal that it
// superseded); 0 when that signal was out before. Steps no final signal lists (the rules do
// not match them, or the signal's event-id cap is reached) are counted apart. Modes:
// notifications (SQS), the same with open_early off, listing (every 5 s), and the
// EventBridge events queue (each attack event sent alone; the time counts from its sending).
//
// The replay compresses a week into minutes, so the lateness, which is event time, would
// pass in milliseconds. The notification and events-queue modes therefore put one unit
// (file, event) at a time and wait until the service has committed it and its sink has
// every revision before the next: each emission is then caused by the last unit put, and
// its time on a trail delivering in real time ("rt") is the measured delay plus the
// delivery time between the step's unit and that unit (the time in a file's name; an
// event's own time). The listing mode puts a file every 5 ms and gives the measured delay
// only. "listed" is the first emission of a revision listing the step's own event (a step
// that joins an open signal is listed once the watermark passes it).
func BenchmarkTimeToDetect(b *testing.B) {
	set := builtin(b)
	dir, files, gt := trailTruth(b, 1, 7, 2000)
	where := fileOfEvent(b, dir, files)
	var steps []simulate.Step
	for _, at := range gt.Attacks {
		steps = append(steps, at.Steps...)
	}
	for _, mode := range []string{"notifications", "notifications-open-late", "listing-5s", "events-queue"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				e := newEnv(b)
				em := &emissions{}
				hook := em.server(b)
				cfg := Config{DB: filepath.Join(b.TempDir(), "db"), Batch: BatchConfig{MaxWait: Duration(50 * time.Millisecond)},
					Sinks: []sink.Config{{Type: "webhook", URL: hook.URL}}}
				events := ""
				switch mode {
				case "notifications":
					cfg.Notifications.SQS = []QueueConfig{{URL: e.queue}}
				case "notifications-open-late":
					off := false
					cfg.OpenEarly = &off
					cfg.Notifications.SQS = []QueueConfig{{URL: e.queue}}
				case "listing-5s":
					cfg.Trails = []TrailConfig{{URL: "s3://trail/AWSLogs/", Poll: Duration(5 * time.Second)}}
				case "events-queue":
					events = e.fake.CreateQueue("events", time.Minute)
					cfg.Events = []QueueConfig{{URL: events}}
				}
				svc, stop := run(b, cfg, Options{Rules: set, S3: e.s3, SQS: e.sqs})
				// units are what was put, in order: when (wall) and its delivery time on a
				// live trail.
				type unit struct{ put, delivered time.Time }
				var units []unit
				readable := map[string]unit{}
				if mode == "events-queue" {
					// The attack events alone, each sent as it would arrive, 5 ms apart.
					bodies := attackEnvelopes(b, dir, files, steps)
					for _, st := range steps {
						body, ok := bodies[st.EventID]
						if !ok {
							continue
						}
						e.fake.Send("events", body)
						u := unit{time.Now(), st.EventTime}
						units, readable[st.EventID] = append(units, u), u
						settle(b, e, svc, "events")
					}
				} else {
					for _, f := range files {
						raw, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
						e.put(b, f, raw, mode != "listing-5s")
						u := unit{time.Now(), deliveredAt(f)}
						units, readable[f] = append(units, u), u
						if mode == "listing-5s" {
							time.Sleep(5 * time.Millisecond)
						} else {
							settle(b, e, svc, "objects")
						}
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
				// realTime is the delay of an emission at to for a step in unit from, on a
				// trail that delivers in real time.
				realTime := func(from unit, to time.Time) time.Duration {
					if mode == "listing-5s" {
						return 0 // not measured: see above
					}
					i := sort.Search(len(units), func(i int) bool { return units[i].put.After(to) }) - 1
					if i < 0 {
						return 0
					}
					return max(0, units[i].delivered.Sub(from.delivered)+to.Sub(units[i].put))
				}
				listed, announced := em.detections()
				var ttd, rt, listedRT []time.Duration
				perStep := map[string][]time.Duration{}
				undetected := 0
				for _, st := range steps {
					key := where[st.EventID]
					if mode == "events-queue" {
						key = st.EventID
					}
					from, ok := readable[key]
					to, seen := announced[st.EventID]
					if !ok || !seen {
						undetected++
						continue
					}
					ttd = append(ttd, max(0, to.Sub(from.put)))
					d := realTime(from, to)
					rt = append(rt, d)
					perStep[st.Step] = append(perStep[st.Step], d)
					if l, ok := listed[st.EventID]; ok {
						listedRT = append(listedRT, realTime(from, l))
					}
				}
				for _, m := range []struct {
					name string
					d    []time.Duration
				}{{"", ttd}, {"rt-", rt}, {"listed-rt-", listedRT}} {
					b.ReportMetric(quantile(m.d, 0.5).Seconds(), m.name+"p50-s")
					b.ReportMetric(quantile(m.d, 0.99).Seconds(), m.name+"p99-s")
					b.ReportMetric(quantile(m.d, 1).Seconds(), m.name+"max-s")
				}
				b.ReportMetric(float64(len(ttd)), "steps-timed")
				b.ReportMetric(float64(undetected), "steps-unlisted")
				names := make([]string, 0, len(perStep))
				for n := range perStep {
					names = append(names, n)
				}
				sort.Strings(names)
				var sb strings.Builder
				for _, n := range names {
					fmt.Fprintf(&sb, "\n  %-40s n=%-4d rt p50=%.3fs max=%.3fs", n, len(perStep[n]), quantile(perStep[n], 0.5).Seconds(), quantile(perStep[n], 1).Seconds())
				}
				b.Logf("%s: per step:%s", mode, sb.String())
			}
		})
	}
}

// settle waits until the queue holds no message (each is deleted once its unit is
// committed) and the service's sinks have every revision.
func settle(b *testing.B, e *env, svc *Service, queue string) {
	deadline := time.Now().Add(time.Minute)
	for {
		all, _ := e.fake.Depth(queue)
		if all == 0 && svc.pending() == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("queue %s: %d messages left after a minute", queue, all)
		}
		time.Sleep(time.Millisecond)
	}
}

// deliveredAt is the delivery time in a CloudTrail file's name
// (..._CloudTrail_<region>_<YYYYMMDDTHHMMZ>_...).
func deliveredAt(key string) time.Time {
	parts := strings.Split(key[strings.LastIndex(key, "/")+1:], "_")
	if len(parts) > 3 {
		if t, err := time.Parse("20060102T1504Z", parts[3]); err == nil {
			return t
		}
	}
	return time.Time{}
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
