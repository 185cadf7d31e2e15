package serve

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/sink"
	"github.com/trailhound/trailhound/internal/store"
)

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// login is a console login without MFA by one user (a built-in rule's match).
func login(id string, at time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/dana","accountId":"111122223333","userName":"dana"},"eventTime":"%s","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/","MobileVersion":"No","MFAUsed":"No"},"eventID":"%s","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`,
		at.UTC().Format(time.RFC3339), id)
}

func key(name string, at time.Time) string {
	return fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/%s/111122223333_CloudTrail_us-east-1_%s_%s.json.gz", at.Format("2006/01/02"), at.Format("20060102T1504Z"), name)
}

// storedEvents opens the store read-only and counts its events.
func storedEvents(t testing.TB, db string) int {
	t.Helper()
	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return int(st.Stats().Events)
}

// TestServeBadInputOverTheWire: an object that is not gzip, one that is not JSON, one too
// large, a notification for a key that does not exist, a folder denied to the service and
// throttling (503 SlowDown) on reads: each is counted and logged with its key, retried or
// dropped as it deserves, and the service goes on reading the good objects.
func TestServeBadInputOverTheWire(t *testing.T) {
	set := builtin(t)
	e := newEnv(t)
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var slow atomic.Int64
	e.fail = func(r *http.Request) (int, string) {
		switch {
		case r.Method == http.MethodGet && (strings.Contains(r.URL.RawQuery, "prefix=AWSLogs%2F999999999999%2F") || strings.Contains(r.URL.Path, "/AWSLogs/999999999999/")):
			return http.StatusForbidden, "AccessDenied"
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "_slow.json.gz") && slow.Add(1) <= 6:
			return http.StatusServiceUnavailable, "SlowDown"
		}
		return 0, ""
	}
	var logs bytes.Buffer
	cfg := Config{DB: filepath.Join(t.TempDir(), "db"), MaxObjectBytes: 4096, Batch: BatchConfig{MaxWait: Duration(20 * time.Millisecond)},
		Trails:        []TrailConfig{{URL: "s3://trail/AWSLogs/", Poll: Duration(50 * time.Millisecond)}},
		Notifications: NotificationsConfig{SQS: []QueueConfig{{URL: e.queue}}},
		Sinks:         []sink.Config{{Type: "jsonl", Path: filepath.Join(t.TempDir(), "s.jsonl")}}}
	svc, stop := run(t, cfg, Options{Rules: set, S3: e.s3, SQS: e.sqs, Logger: newTestLogger(&logs)})
	e.put(t, key("good", at), gz(t, `{"Records":[`+login("g-1", at)+`]}`), false)
	e.put(t, key("notgzip", at), []byte("\x00\x01 this is not gzip"), false)
	e.put(t, key("notjson", at), gz(t, "hello, I am not JSON"), false)
	e.put(t, key("huge", at), bytes.Repeat([]byte("x"), 5000), false)
	e.put(t, key("slow", at), gz(t, `{"Records":[`+login("s-1", at.Add(time.Minute))+`]}`), false)
	e.put(t, strings.Replace(key("denied", at), "111122223333", "999999999999", -1), gz(t, `{"Records":[]}`), false)
	e.fake.Send("objects", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},"object":{"key":"AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/gone.json.gz","size":10}}}]}`)
	e.fake.Send("objects", `this is not a notification`)
	m := svc.m
	waitFor(t, time.Minute, "every bad input accounted for", func() bool {
		return testutil.ToFloat64(m.objectsFailed.WithLabelValues("too_large")) == 1 &&
			testutil.ToFloat64(m.objectsFailed.WithLabelValues("missing")) == 1 &&
			testutil.ToFloat64(m.objectsFailed.WithLabelValues("throttled")) >= 1 &&
			testutil.ToFloat64(m.eventsRejected) >= 2 &&
			testutil.ToFloat64(m.notifications.WithLabelValues(e.queue, "invalid")) == 1 &&
			testutil.ToFloat64(m.listErrors.WithLabelValues("s3://trail/AWSLogs/")) >= 1 &&
			storedEvents(t, cfg.DB) == 2 // good, and slow after its retry
	})
	// Still serving: a later object is read.
	e.put(t, key("later", at.Add(time.Hour)), gz(t, `{"Records":[`+login("l-1", at.Add(time.Hour))+`]}`), false)
	waitFor(t, time.Minute, "a later object read", func() bool { return storedEvents(t, cfg.DB) == 3 })
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/readyz = %d %s while serving", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`trailhound_objects_failed_total{reason="too_large"} 1`, "trailhound_events_read_total", "trailhound_commit_duration_seconds_bucket", "trailhound_sink_outbox_depth"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := storedEvents(t, cfg.DB); n != 3 {
		t.Errorf("store holds %d events, want 3 (good, slow, later)", n)
	}
	for _, want := range []string{"_notgzip.json.gz", "_notjson.json.gz", "_huge.json.gz", "gone.json.gz", "AccessDenied", "SlowDown"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the logs do not name %q", want)
		}
	}
	if all, _ := e.fake.Depth("objects"); all != 0 {
		t.Errorf("%d messages left in the queue", all)
	}
}

// TestServeEventsOnBothPaths: the same CloudTrail events arriving from the EventBridge
// queue and in a delivered object are stored and evaluated once.
func TestServeEventsOnBothPaths(t *testing.T) {
	set := builtin(t)
	e := newEnv(t)
	events := e.fake.CreateQueue("events", 30*time.Second)
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "s.jsonl")
	cfg := Config{DB: filepath.Join(t.TempDir(), "db"), Batch: BatchConfig{MaxWait: Duration(20 * time.Millisecond)}, Lateness: new(Duration), QuietAdvance: new(Duration),
		Trails: []TrailConfig{{URL: "s3://trail/AWSLogs/", Poll: Duration(50 * time.Millisecond)}},
		Events: []QueueConfig{{URL: events}},
		Sinks:  []sink.Config{{Type: "jsonl", Path: out}}}
	svc, stop := run(t, cfg, Options{Rules: set, S3: e.s3, SQS: e.sqs})
	var recs []string
	for i := range 3 {
		ev := login(fmt.Sprintf("b-%d", i), at.Add(time.Duration(i)*time.Minute))
		recs = append(recs, ev)
		env := fmt.Sprintf(`{"version":"0","id":"x-%d","detail-type":"AWS API Call via CloudTrail","source":"aws.signin","account":"111122223333","time":"%s","region":"us-east-1","detail":%s}`,
			i, at.Format(time.RFC3339), ev)
		if i == 1 {
			// SNS-wrapped, as a queue subscribed to a topic receives it.
			b, _ := json.Marshal(map[string]string{"Type": "Notification", "Message": env})
			env = string(b)
		}
		e.fake.Send("events", env)
	}
	waitFor(t, time.Minute, "the events from the queue", func() bool { return testutil.ToFloat64(svc.m.eventsRead) >= 3 })
	e.put(t, key("both", at), gz(t, `{"Records":[`+strings.Join(recs, ",")+`]}`), false)
	waitFor(t, time.Minute, "the object", func() bool { return testutil.ToFloat64(svc.m.eventsRead) >= 6 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := storedEvents(t, cfg.DB); n != 3 {
		t.Errorf("store holds %d events, want 3", n)
	}
	last := map[string]signal.Signal{}
	for _, s := range sinkRevisions(t, out) {
		last[s.ID] = s
	}
	for _, s := range last {
		if s.EventCount > 3 {
			t.Errorf("signal %s counts %d events: events evaluated twice", s.Title, s.EventCount)
		}
	}
	if len(last) == 0 {
		t.Error("no signal from three console logins without MFA")
	}
	if all, _ := e.fake.Depth("events"); all != 0 {
		t.Errorf("%d event messages left in the queue", all)
	}
}

// TestServeRestartResumes: a service stopped and started again on the same store reads
// only what is new, stores nothing twice, and goes on with the revisions of open signals.
func TestServeRestartResumes(t *testing.T) {
	set := builtin(t)
	e := newEnv(t)
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "s.jsonl")
	cfg := Config{DB: filepath.Join(t.TempDir(), "db"), Batch: BatchConfig{MaxWait: Duration(20 * time.Millisecond)}, Lateness: new(Duration), QuietAdvance: new(Duration),
		Trails: []TrailConfig{{URL: "s3://trail/AWSLogs/", Poll: Duration(50 * time.Millisecond)}},
		Sinks:  []sink.Config{{Type: "jsonl", Path: out}}}
	for round := range 3 {
		svc, stop := run(t, cfg, Options{Rules: set, S3: e.s3, SQS: e.sqs})
		t0 := at.Add(time.Duration(round) * 10 * time.Minute)
		e.put(t, key(fmt.Sprintf("r%d", round), t0), gz(t, `{"Records":[`+login(fmt.Sprintf("r-%d", round), t0)+`]}`), false)
		waitFor(t, time.Minute, "the round's object", func() bool { return testutil.ToFloat64(svc.m.eventsRead) >= 1 })
		time.Sleep(200 * time.Millisecond) // a few more polls: nothing else to read
		if n := testutil.ToFloat64(svc.m.objectsRead); n != 1 {
			t.Errorf("round %d read %v objects, want only the new one", round, n)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	if n := storedEvents(t, cfg.DB); n != 3 {
		t.Errorf("store holds %d events, want 3", n)
	}
	revs := sinkRevisions(t, out)
	checkRevisions(t, revs)
	ids := map[string]bool{}
	for _, r := range revs {
		ids[r.ID] = true
	}
	if len(ids) != 1 || len(revs) < 3 || revs[len(revs)-1].EventCount != 3 {
		t.Errorf("revisions %d of %d signals, last with %d events; want one signal growing to 3 events across restarts", len(revs), len(ids), revs[len(revs)-1].EventCount)
	}
}

// TestServeWebhookDown: a webhook refusing for a while then accepting gets every revision,
// in order per signal, while the service goes on committing.
func TestServeWebhookDown(t *testing.T) {
	set := builtin(t)
	e := newEnv(t)
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var up atomic.Bool
	var got []signal.Signal
	gotc := make(chan signal.Signal, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		var s signal.Signal
		json.NewDecoder(r.Body).Decode(&s)
		gotc <- s
	}))
	defer hook.Close()
	cfg := Config{DB: filepath.Join(t.TempDir(), "db"), Batch: BatchConfig{MaxWait: Duration(20 * time.Millisecond)}, Lateness: new(Duration), QuietAdvance: new(Duration),
		Trails: []TrailConfig{{URL: "s3://trail/AWSLogs/", Poll: Duration(50 * time.Millisecond)}},
		Sinks:  []sink.Config{{Type: "webhook", URL: hook.URL}, {Type: "jsonl", Path: filepath.Join(t.TempDir(), "s.jsonl")}}}
	svc, stop := run(t, cfg, Options{Rules: set, S3: e.s3, SQS: e.sqs})
	for i := range 4 {
		t0 := at.Add(time.Duration(i) * time.Minute)
		e.put(t, key(fmt.Sprintf("w%d", i), t0), gz(t, `{"Records":[`+login(fmt.Sprintf("w-%d", i), t0)+`]}`), false)
		waitFor(t, time.Minute, "the object", func() bool { return testutil.ToFloat64(svc.m.eventsRead) >= float64(i+1) })
	}
	waitFor(t, time.Minute, "failed deliveries", func() bool { return testutil.ToFloat64(svc.m.sinkFailures.WithLabelValues("webhook")) >= 2 })
	up.Store(true)
	waitFor(t, time.Minute, "the outbox to empty", func() bool {
		for len(gotc) > 0 {
			got = append(got, <-gotc)
		}
		return len(got) > 0 && svc.boxes[0].Depth() == 0
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkRevisions(t, got)
	if last := got[len(got)-1]; last.EventCount != 4 {
		t.Errorf("last revision delivered has %d events, want 4", last.EventCount)
	}
}

// TestServeSlowBatchKeepsMessages: a batch that takes longer than the queue's visibility
// timeout keeps its notifications hidden (extended while held), so no other receive gets
// them again and no object is read twice; each is deleted once committed.
func TestServeSlowBatchKeepsMessages(t *testing.T) {
	set := builtin(t)
	e := newEnv(t)
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var slowed atomic.Bool
	fault := func(point string) {
		if point == "serve:read" && slowed.CompareAndSwap(false, true) {
			time.Sleep(5 * time.Second) // two and a half visibility timeouts
		}
	}
	cfg := Config{DB: filepath.Join(t.TempDir(), "db"), Batch: BatchConfig{MaxWait: Duration(200 * time.Millisecond)},
		Notifications: NotificationsConfig{SQS: []QueueConfig{{URL: e.queue, Visibility: Duration(2 * time.Second)}}},
		Sinks:         []sink.Config{{Type: "jsonl", Path: filepath.Join(t.TempDir(), "s.jsonl")}}}
	svc, stop := run(t, cfg, Options{Rules: set, S3: e.s3, SQS: e.sqs, Fault: fault})
	for i := range 3 {
		t0 := at.Add(time.Duration(i) * time.Minute)
		e.put(t, key(fmt.Sprintf("slow%d", i), t0), gz(t, `{"Records":[`+login(fmt.Sprintf("s-%d", i), t0)+`]}`), true)
	}
	waitFor(t, time.Minute, "every notification deleted", func() bool { all, _ := e.fake.Depth("objects"); return all == 0 })
	time.Sleep(300 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !slowed.Load() {
		t.Fatal("no batch was slowed: the test does not test a slow batch")
	}
	if n := e.fake.Received("objects"); n != 3 {
		t.Errorf("the 3 notifications were received %d times: a slow batch let them be delivered again", n)
	}
	if n := testutil.ToFloat64(svc.m.objectsRead); n != 3 {
		t.Errorf("%v objects read, want 3", n)
	}
	if n := testutil.ToFloat64(svc.m.notifications.WithLabelValues(e.queue, "extended")); n == 0 {
		t.Error("no visibility extension counted")
	}
	if n := storedEvents(t, cfg.DB); n != 3 {
		t.Errorf("store holds %d events, want 3", n)
	}
}
