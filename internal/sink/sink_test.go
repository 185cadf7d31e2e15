package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/ocsf/ocsfschema"
	"github.com/trailhound/trailhound/internal/shareddata"
	"github.com/trailhound/trailhound/internal/signal"
)

// revisions returns n revisions of k signals, interleaved, each signal's in order.
func revisions(n, k int) []signal.Signal {
	var out []signal.Signal
	revs := make([]int, k)
	levels := []signal.Level{signal.LevelLow, signal.LevelMedium, signal.LevelHigh, signal.LevelCritical}
	for i := range n {
		j := i % k
		revs[j]++
		st := signal.StatusUpdated
		if revs[j] == 1 {
			st = signal.StatusOpen
		}
		out = append(out, signal.Signal{ID: fmt.Sprintf("sig%017d", j), RuleID: "r", Title: "t", Level: levels[j%len(levels)],
			FirstSeen: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), LastSeen: time.Date(2026, 11, 20, 9, j, 0, 0, time.UTC),
			EventCount: revs[j], Status: st, Revision: revs[j], Summary: "s"})
	}
	return out
}

type key struct {
	id  string
	rev int
}

// flakySink fails at random, sometimes after delivering part of a batch (a webhook that
// took three posts and then timed out), and records everything delivered.
type flakySink struct {
	mu   sync.Mutex
	r    *rand.Rand
	p    float64
	got  []signal.Signal
	fail atomic.Bool
}

func (f *flakySink) Deliver(ctx context.Context, revs []signal.Signal) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail.Load() {
		return 0, errors.New("down")
	}
	for i, r := range revs {
		if f.r.Float64() < f.p {
			// Sometimes the receiver got it but the acknowledgement was lost.
			if f.r.IntN(2) == 0 {
				f.got = append(f.got, r)
			}
			return i, errors.New("flaky")
		}
		f.got = append(f.got, r)
	}
	return len(revs), nil
}

// TestOutboxDeliversEverythingInOrder: whatever the failure rate and batch size, every
// revision at or above the minimum level is delivered, each signal's revisions in order,
// and a revision delivered twice is a repeat of the same (id, revision) right where it was.
func TestOutboxDeliversEverythingInOrder(t *testing.T) {
	for _, p := range []float64{0, 0.1, 0.5, 0.9} {
		for _, batch := range []int{1, 7, 100} {
			for _, minLevel := range []signal.Level{signal.LevelInformational, signal.LevelHigh} {
				t.Run(fmt.Sprintf("p=%v/batch=%d/min=%s", p, batch, minLevel), func(t *testing.T) {
					fs := &flakySink{r: rand.New(rand.NewPCG(uint64(batch), uint64(p*10))), p: p}
					o := NewOutbox("flaky", fs, minLevel, OutboxOptions{MaxBatch: batch, MinBackoff: time.Microsecond, MaxBackoff: time.Millisecond})
					all := revisions(300, 13)
					var want []key
					for i := 0; i < len(all); i += 50 {
						chunk := all[i:min(i+50, len(all))]
						o.Add(chunk)
						for _, r := range chunk {
							if r.Level >= minLevel {
								want = append(want, key{r.ID, r.Revision})
							}
						}
						for o.Depth() > 0 {
							o.DeliverOnce(context.Background())
						}
					}
					last := map[string]int{}
					var deduped []key
					seen := map[key]bool{}
					for _, r := range fs.got {
						k := key{r.ID, r.Revision}
						if r.Revision < last[r.ID] {
							t.Fatalf("signal %s: revision %d after %d", r.ID, r.Revision, last[r.ID])
						}
						last[r.ID] = r.Revision
						if !seen[k] {
							seen[k] = true
							deduped = append(deduped, k)
						}
					}
					if diff := cmp.Diff(want, deduped, cmp.AllowUnexported(key{})); diff != "" {
						t.Fatalf("delivered (deduplicated) differs from added (-want +got):\n%s", diff)
					}
					if o.Acked() != uint64(len(want)) {
						t.Errorf("Acked = %d, want %d", o.Acked(), len(want))
					}
				})
			}
		}
	}
}

// TestOutboxEncodeRestore: what waits survives a restart through the store blob.
func TestOutboxEncodeRestore(t *testing.T) {
	fs := &flakySink{r: rand.New(rand.NewPCG(1, 1))}
	fs.fail.Store(true)
	o := NewOutbox("x", fs, signal.LevelInformational, OutboxOptions{})
	revs := revisions(20, 3)
	o.Add(revs)
	if _, err := o.DeliverOnce(context.Background()); err == nil {
		t.Fatal("a failing sink acknowledged")
	}
	blob := o.Encode()
	o2 := NewOutbox("x", fs, signal.LevelInformational, OutboxOptions{})
	if err := o2.Restore(blob); err != nil {
		t.Fatal(err)
	}
	fs.fail.Store(false)
	for o2.Depth() > 0 {
		if _, err := o2.DeliverOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(fs.got) != len(revs) {
		t.Fatalf("delivered %d after the restore, want %d", len(fs.got), len(revs))
	}
	for i := range revs {
		if fs.got[i].ID != revs[i].ID || fs.got[i].Revision != revs[i].Revision || fs.got[i].Status != revs[i].Status {
			t.Errorf("revision %d: got %s/%d/%s, want %s/%d/%s", i, fs.got[i].ID, fs.got[i].Revision, fs.got[i].Status, revs[i].ID, revs[i].Revision, revs[i].Status)
		}
	}
	if err := o2.Restore([]byte("{broken\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("Restore of a broken blob: %v", err)
	}
}

// TestWebhookRefusesThenAccepts: a webhook answering 503 for a while, then 200, gets every
// revision through Run's retries, in order per signal; each request is signed and carries
// the configured headers.
func TestWebhookRefusesThenAccepts(t *testing.T) {
	secret := []byte("s3cret")
	var mu sync.Mutex
	var got []signal.Signal
	var refused atomic.Int64
	refuseUntil := time.Now().Add(300 * time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if time.Now().Before(refuseUntil) {
			refused.Add(1)
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "headers", http.StatusBadRequest)
			return
		}
		if want := Sign(secret, r.Header.Get(TimestampHeader), body); r.Header.Get(SignatureHeader) != want {
			http.Error(w, "signature", http.StatusUnauthorized)
			return
		}
		var s signal.Signal
		if err := json.Unmarshal(body, &s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
	}))
	defer srv.Close()
	wh, err := New(Config{Type: "webhook", URL: srv.URL, SecretEnv: "HOOK_SECRET", Headers: map[string]string{"Authorization": "Bearer tok"}},
		Options{Getenv: func(k string) string { return map[string]string{"HOOK_SECRET": string(secret)}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	o := NewOutbox("hook", wh, signal.LevelInformational, OutboxOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	revs := revisions(40, 4)
	o.Add(revs[:20])
	time.Sleep(50 * time.Millisecond)
	o.Add(revs[20:])
	deadline := time.Now().Add(10 * time.Second)
	for o.Depth() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if refused.Load() == 0 {
		t.Fatal("the webhook never refused: the test does not test retries")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(revs) {
		t.Fatalf("delivered %d of %d", len(got), len(revs))
	}
	for i := range revs {
		if got[i].ID != revs[i].ID || got[i].Revision != revs[i].Revision {
			t.Fatalf("delivery %d: %s/%d, want %s/%d", i, got[i].ID, got[i].Revision, revs[i].ID, revs[i].Revision)
		}
	}
	// A bad signature would be told apart.
	if Sign(secret, "1", []byte("a")) == Sign([]byte("other"), "1", []byte("a")) || Sign(secret, "1", []byte("a")) == Sign(secret, "2", []byte("a")) {
		t.Error("the signature does not depend on the secret and the timestamp")
	}
}

func TestSlackMessage(t *testing.T) {
	s := revisions(1, 1)[0]
	s.Level, s.Title, s.Actor, s.AccountID, s.Regions = signal.LevelCritical, "Crypto <!channel> *mining*", "arn:aws:iam::111122223333:user/aws_dev1", "111122223333", []string{"us-east-1", "eu-west-1"}
	s.Summary = "made 25 calls & <http://evil|click>"
	body, err := SlackMessage(s, "https://trailhound.example/signals/{id}")
	if err != nil {
		t.Fatal(err)
	}
	var msg slackMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	all := msg.Text
	for _, b := range msg.Blocks {
		if b.Text != nil {
			all += "\n" + b.Text.Text
		}
		for _, f := range b.Fields {
			all += "\n" + f.Text
		}
	}
	for _, want := range []string{"CRITICAL", "open", "aws_dev1", "111122223333", "us-east-1, eu-west-1", "<https://trailhound.example/signals/" + s.ID + "|Signal " + s.ID + ">", "&lt;!channel&gt;", "&lt;http://evil|click&gt;"} {
		if !strings.Contains(all, want) {
			t.Errorf("message lacks %q:\n%s", want, all)
		}
	}
	for _, bad := range []string{"<!channel>", "<http://evil|click>"} {
		if strings.Contains(strings.Join(blockTexts(msg), "\n")+msg.Text, bad) {
			t.Errorf("attacker text %q reached the message unescaped", bad)
		}
	}
	// Posting: a 404 is a failure the outbox retries, a 200 an acknowledgement.
	var status atomic.Int64
	status.Store(404)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(status.Load())) }))
	defer srv.Close()
	sl := NewSlack(srv.URL+"/services/T/B/secret", "", nil)
	_, err = sl.Deliver(context.Background(), []signal.Signal{s})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Deliver to a 404: %v (want an error without the webhook URL)", err)
	}
	status.Store(200)
	if _, err := sl.Deliver(context.Background(), []signal.Signal{s}); err != nil {
		t.Error(err)
	}
}

func blockTexts(m slackMessage) []string {
	var out []string
	for _, b := range m.Blocks {
		if b.Text != nil {
			out = append(out, b.Text.Text)
		}
		for _, f := range b.Fields {
			out = append(out, f.Text)
		}
	}
	return out
}

// TestFileSinksRotateAndValidate: the JSONL and OCSF sinks append synced lines, rotate past
// their size keeping the newest files, and every OCSF line (open, updated and closed
// revisions) is a valid Detection Finding of the schema in ../shared.
func TestFileSinksRotateAndValidate(t *testing.T) {
	dir := t.TempDir()
	revs := revisions(60, 5)
	revs[len(revs)-1].Status = signal.StatusClosed
	jl, err := NewJSONL(filepath.Join(dir, "signals.jsonl"), 4000, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(revs); i += 6 {
		if _, err := jl.Deliver(context.Background(), revs[i:min(i+6, len(revs))]); err != nil {
			t.Fatal(err)
		}
	}
	jl.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "signals.jsonl*"))
	if len(files) != 4 {
		t.Fatalf("files %v, want the current one and 3 rotated", files)
	}
	var lines []string
	for _, name := range []string{".3", ".2", ".1", ""} {
		f, err := os.Open(filepath.Join(dir, "signals.jsonl"+name))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		if fi.Size() > 4000 {
			t.Errorf("%s is %d bytes, over the rotation size", f.Name(), fi.Size())
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
	}
	// The newest lines are all there, in order, ending with the last revision.
	var last signal.Signal
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.ID != revs[len(revs)-1].ID || last.Status != signal.StatusClosed {
		t.Errorf("last line %s (%v)", lines[len(lines)-1], err)
	}

	schema, err := ocsfschema.Load(shareddata.Dir(t, "ocsf-schema"))
	if err != nil {
		t.Fatal(err)
	}
	oc, err := NewOCSF(filepath.Join(dir, "findings.jsonl"), -1, 0, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oc.Deliver(context.Background(), revs); err != nil {
		t.Fatal(err)
	}
	oc.Close()
	f, _ := os.Open(filepath.Join(dir, "findings.jsonl"))
	defer f.Close()
	sc := bufio.NewScanner(f)
	activities := map[float64]int{}
	for sc.Scan() {
		if probs := schema.Validate("detection_finding", sc.Bytes()); len(probs) > 0 {
			t.Fatalf("finding %s: %v", sc.Text(), probs)
		}
		var m map[string]any
		json.Unmarshal(sc.Bytes(), &m)
		activities[m["activity_id"].(float64)]++
	}
	if activities[1] == 0 || activities[2] == 0 || activities[3] != 1 {
		t.Errorf("activities %v, want Create, Update and one Close", activities)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Type: "nope"}, {Type: "webhook", URL: "ftp://x"}, {Type: "jsonl", MinLevel: "severe"}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := New(Config{Type: "webhook", URL: "http://x", SecretEnv: "NOPE"}, Options{Getenv: func(string) string { return "" }}); err == nil {
		t.Error("an empty secret_env accepted")
	}
	if err := (Config{Type: "slack", URL: "https://hooks.slack.com/x", MinLevel: "high"}).Validate(); err != nil {
		t.Error(err)
	}
}
