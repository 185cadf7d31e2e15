package serve

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/internal/sink"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/internal/sqsfake"
	"github.com/trailhound/trailhound/rules"
)

// env is an in-process S3 (gofakes3) and SQS (sqsfake), reached through the real SDK.
type env struct {
	s3    *s3.Client
	sqs   *sqs.Client
	fake  *sqsfake.Server
	queue string
	// fail, when set, answers S3 requests instead of the server (status, code).
	fail func(r *http.Request) (int, string)
}

func retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxBackoff = 20 * time.Millisecond
		o.RateLimiter = ratelimit.None
	})
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{}
	h := gofakes3.New(s3mem.New()).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := e.fail; f != nil {
			if status, code := f(r); status != 0 {
				w.WriteHeader(status)
				io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+code+`</Code><Message>injected</Message></Error>`)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	e.s3 = s3.New(s3.Options{BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", UsePathStyle: true, Credentials: creds, Retryer: retryer()})
	if _, err := e.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("trail")}); err != nil {
		t.Fatal(err)
	}
	e.fake = sqsfake.New()
	t.Cleanup(e.fake.Close)
	e.queue = e.fake.CreateQueue("objects", 30*time.Second)
	e.sqs = sqs.New(sqs.Options{BaseEndpoint: aws.String(e.fake.URL), Region: "us-east-1", Credentials: creds, Retryer: retryer()})
	return e
}

// put writes an object, and announces it on the queue when notify.
func (e *env) put(t testing.TB, key string, body []byte, notify bool) {
	t.Helper()
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	if notify {
		rec := map[string]any{"eventName": "ObjectCreated:Put", "eventTime": time.Now().UTC().Format(time.RFC3339Nano),
			"s3": map[string]any{"bucket": map[string]any{"name": "trail"}, "object": map[string]any{"key": key, "size": len(body)}}}
		b, _ := json.Marshal(map[string]any{"Records": []any{rec}})
		e.fake.Send("objects", string(b))
	}
}

func builtin(t testing.TB) *ruleset.Set {
	t.Helper()
	set, err := ruleset.Load(context.Background(), ruleset.Options{Builtin: rules.FS})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// trailFiles simulates a trail and returns its folder and its log files (relative,
// slash-separated) in delivery order, ending with a file of one event three hours after the
// rest, which moves event time past every group window so that signals close.
func trailFiles(t testing.TB, seed uint64, days, perDay int) (string, []string) {
	dir, files, _ := trailTruth(t, seed, days, perDay)
	return dir, files
}

// trailTruth is trailFiles with the simulation's ground truth.
func trailTruth(t testing.TB, seed uint64, days, perDay int) (string, []string, *simulate.GroundTruth) {
	t.Helper()
	dir := t.TempDir()
	gt, err := simulate.Generate(context.Background(), simulate.Options{Seed: seed, Days: days, EventsPerDay: perDay}, simulate.NewDirSink(dir))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	stamp := func(p string) string {
		if parts := strings.Split(p[strings.LastIndex(p, "/")+1:], "_"); len(parts) > 3 {
			return parts[3]
		}
		return ""
	}
	slices.SortStableFunc(files, func(a, b string) int { return strings.Compare(stamp(a)+a, stamp(b)+b) })
	end := gt.End.Add(3 * time.Hour).UTC()
	acct := gt.Accounts[0].ID
	key := fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%s_closer.json.gz", acct, end.Format("2006/01/02"), acct, end.Format("20060102T1504Z"))
	ev := fmt.Sprintf(`{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"%s","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"us-east-1","sourceIPAddress":"ec2.amazonaws.com","userAgent":"ec2.amazonaws.com","eventID":"closer-1","eventType":"AwsApiCall","recipientAccountId":"%s"}]}`,
		end.Add(-time.Minute).Format(time.RFC3339), acct)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(ev))
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, key)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, key), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, append(files, key), gt
}

// sinkRevisions reads a JSONL sink file (a line being written is left out).
func sinkRevisions(t testing.TB, path string) []signal.Signal {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	var out []signal.Signal
	for _, l := range lines[:len(lines)-1] {
		var s signal.Signal
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("sink line %q: %v", l, err)
		}
		out = append(out, s)
	}
	return out
}

func contentOf(s signal.Signal) signal.Signal {
	s.Status, s.Revision, s.DroppedEventIDs = "", 0, 0
	return s
}

// checkRevisions checks the lifecycle of the revisions a sink got and returns the signals
// closed, not superseded, by id (signal.ClosedSignals).
func checkRevisions(t testing.TB, revs []signal.Signal) map[string]signal.Signal {
	t.Helper()
	closed, err := signal.ClosedSignals(revs)
	if err != nil {
		t.Fatal(err)
	}
	return closed
}

// run starts a service and returns a function that stops it and returns Run's error.
func run(t testing.TB, cfg Config, opts Options) (*Service, func() error) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	svc, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	return svc, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Fatal("the service did not stop within a minute")
			return nil
		}
	}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeEqualsHunt: a simulated trail written into the bucket file by file, in delivery
// order, while the service runs — found by listing, or announced on SQS — gives in the file
// sink the signals hunt --db gives over the same files; every revision is in order.
func TestServeEqualsHunt(t *testing.T) {
	set := builtin(t)
	dir, files := trailFiles(t, 5, 3, 1500)
	// A lateness that covers the simulator's delivery delays (up to 25 minutes): the service
	// then evaluates in hunt's order however its polls split the trail. Event time does not
	// advance with the clock (quiet_advance 0): the comparison must not depend on how long
	// the machine takes between two objects.
	const lateness = 30 * time.Minute
	late, quiet := Duration(lateness), Duration(0)
	want, err := hunt.Run(context.Background(), hunt.Config{KeepState: true, Lateness: lateness}, set, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Signals) < 10 {
		t.Fatalf("hunt found %d signals: the trail does not test much", len(want.Signals))
	}
	for _, mode := range []string{"listing", "sqs", "backlog"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			out := filepath.Join(t.TempDir(), "signals.jsonl")
			cfg := Config{DB: filepath.Join(t.TempDir(), "db"), Listen: "127.0.0.1:0", Batch: BatchConfig{MaxWait: Duration(20 * time.Millisecond)},
				Sinks: []sink.Config{{Type: "jsonl", Path: out}}, Lateness: &late, QuietAdvance: &quiet}
			put := func() {
				for _, f := range files {
					b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
					if err != nil {
						t.Fatal(err)
					}
					e.put(t, f, b, mode == "sqs")
				}
			}
			switch mode {
			case "listing":
				cfg.Trails = []TrailConfig{{URL: "s3://trail/AWSLogs/", Poll: Duration(50 * time.Millisecond)}}
			case "sqs":
				cfg.Notifications.SQS = []QueueConfig{{URL: e.queue}}
			case "backlog":
				// Everything is in the bucket before the service starts, which lists it once,
				// in steps of 7 objects a folder, and never again.
				put()
				time.Sleep(1100 * time.Millisecond)
				cfg.Trails = []TrailConfig{{URL: "s3://trail/AWSLogs/", Poll: Duration(-1)}}
				cfg.Batch.ListMax = 7
				// Batches of 10 that grow while objects keep coming (TestGather tests the
				// bounds).
				cfg.Batch.MaxObjects, cfg.Batch.BacklogObjects = 10, 1000
			}
			svc, stop := run(t, cfg, Options{Rules: set, S3: e.s3, SQS: e.sqs})
			if mode != "backlog" {
				put()
			}
			waitFor(t, 2*time.Minute, "every signal closed in the sink", func() bool {
				closed := checkRevisions(t, sinkRevisions(t, out))
				for _, w := range want.Signals {
					if _, ok := closed[w.ID]; !ok {
						return false
					}
				}
				return true
			})
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			revs := sinkRevisions(t, out)
			closed := checkRevisions(t, revs)
			last, _ := signal.CheckRevisions(revs)
			if err := signal.CheckSuperseded(last); err != nil {
				t.Error(err)
			}
			if len(closed) != len(want.Signals) {
				t.Errorf("%d signals closed in the sink, hunt --db closed %d", len(closed), len(want.Signals))
			}
			for _, w := range want.Signals {
				if diff := cmp.Diff(contentOf(w), contentOf(closed[w.ID])); diff != "" {
					t.Errorf("signal %s (%s) differs (-hunt +serve):\n%s", w.ID, w.Title, diff)
				}
			}
			if mode == "backlog" {
				if n := testutil.ToFloat64(svc.m.batches); n > float64(len(files))/20 {
					t.Errorf("%v batches for a backlog of %d objects in batches of 10 that grow: they did not grow", n, len(files))
				}
			}
			if mode == "sqs" {
				if all, _ := e.fake.Depth("objects"); all != 0 {
					t.Errorf("%d notifications left in the queue after every object was committed", all)
				}
			}
		})
	}
}

// newTestLogger logs text to w.
func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(&lockedWriter{w: w}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestGather: a batch takes what arrives within MaxWait up to MaxObjects; past that, what
// keeps coming without a pause, up to BacklogObjects and BacklogBytes.
func TestGather(t *testing.T) {
	obj := func(size int64) item { return item{obj: &source.S3Object{Size: size}} }
	for _, tc := range []struct {
		name    string
		waiting int // items in the channel, 10 bytes each
		cfg     BatchConfig
		want    int
	}{
		{"a few: all of them", 7, BatchConfig{MaxObjects: 500, MaxWait: Duration(20 * time.Millisecond), BacklogObjects: 5000, BacklogBytes: 1 << 20}, 8},
		{"max objects, no backlog growth allowed", 100, BatchConfig{MaxObjects: 5, MaxWait: Duration(time.Second), BacklogObjects: 5, BacklogBytes: 1 << 20}, 5},
		{"a backlog: up to backlog objects", 100, BatchConfig{MaxObjects: 5, MaxWait: Duration(time.Second), BacklogObjects: 50, BacklogBytes: 1 << 20}, 50},
		{"a backlog: up to backlog bytes", 100, BatchConfig{MaxObjects: 5, MaxWait: Duration(time.Second), BacklogObjects: 50, BacklogBytes: 200}, 20},
		{"a backlog that pauses: what came", 12, BatchConfig{MaxObjects: 5, MaxWait: Duration(time.Second), BacklogObjects: 50, BacklogBytes: 1 << 20}, 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := make(chan item, tc.waiting)
			for range tc.waiting {
				work <- obj(10)
			}
			got := gather([]item{obj(10)}, work, nil, tc.cfg)
			if len(got) != tc.want {
				t.Errorf("batch of %d, want %d", len(got), tc.want)
			}
		})
	}
}
