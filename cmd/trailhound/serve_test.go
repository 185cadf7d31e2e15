package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/internal/store"
)

// liveTrail is a simulated trail in a local folder and an in-process S3 bucket to deliver it
// into, with the environment that points the binary at the bucket.
type liveTrail struct {
	dir   string
	files []string // log files, relative to dir, in delivery order; the last closes every window
	s3    *s3.Client
	env   []string
}

func newLiveTrail(t *testing.T, seed, days, perDay int) *liveTrail {
	t.Helper()
	lt := &liveTrail{dir: t.TempDir()}
	if r := runCLI(t, nil, "simulate", "--out", lt.dir, "--seed", fmt.Sprint(seed), "--days", fmt.Sprint(days), "--events-per-day", fmt.Sprint(perDay), "--no-digests"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	var last time.Time
	acct := ""
	filepath.WalkDir(lt.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") {
			rel, _ := filepath.Rel(lt.dir, p)
			lt.files = append(lt.files, filepath.ToSlash(rel))
			parts := strings.Split(filepath.Base(p), "_")
			if ts, err := time.Parse("20060102T1504Z", parts[3]); err == nil && ts.After(last) {
				last, acct = ts, parts[0]
			}
		}
		return nil
	})
	stamp := func(p string) string { return strings.Split(p[strings.LastIndex(p, "/")+1:], "_")[3] }
	slices.SortStableFunc(lt.files, func(a, b string) int { return strings.Compare(stamp(a)+a, stamp(b)+b) })
	// One more file, three hours later: event time passes every group window.
	end := last.Add(3 * time.Hour)
	key := fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%s_closer.json.gz", acct, end.Format("2006/01/02"), acct, end.Format("20060102T1504Z"))
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	fmt.Fprintf(zw, `{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"%s","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"us-east-1","sourceIPAddress":"ec2.amazonaws.com","userAgent":"ec2.amazonaws.com","eventID":"closer-1","eventType":"AwsApiCall","recipientAccountId":"%s"}]}`,
		end.Add(-time.Minute).Format(time.RFC3339), acct)
	zw.Close()
	os.MkdirAll(filepath.Dir(filepath.Join(lt.dir, key)), 0o755)
	if err := os.WriteFile(filepath.Join(lt.dir, key), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	lt.files = append(lt.files, key)

	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	lt.s3 = s3.New(s3.Options{BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	if _, err := lt.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("trail")}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	lt.env = append(os.Environ(), "NO_COLOR=1", "HOME="+home, "AWS_ENDPOINT_URL_S3="+srv.URL,
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"))
	return lt
}

// deliver puts files[from:to] into the bucket.
func (lt *liveTrail) deliver(t *testing.T, from, to int) {
	t.Helper()
	for _, f := range lt.files[from:to] {
		b, err := os.ReadFile(filepath.Join(lt.dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lt.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String(f), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

// trailLateness covers the simulator's delivery delays (up to 25 minutes, a few percent of
// events): with it, events that serve reads one batch at a time are evaluated in the order
// hunt --db evaluates them, however the polls split the trail. With the default 15 minutes
// the comparison would depend on how many objects each poll happens to see. For the same
// reason the configurations leave event time to the events (quiet_advance: 0s).
const trailLateness = "30m"

// huntDB is what hunt --db --flush=false prints (the signals that closed) and stores over
// the trail's files.
func (lt *liveTrail) huntDB(t *testing.T) ([]signal.Signal, store.Stats) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "db")
	r := runCLI(t, nil, "hunt", "--db", db, "--flush=false", "--lateness", trailLateness, "-q", "-f", "jsonl", filepath.Join(lt.dir, "AWSLogs"))
	if r.code != 0 {
		t.Fatalf("hunt --db: exit %d: %s", r.code, r.stderr)
	}
	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return signalLines(t, r.stdout), st.Stats()
}

// missing reports the objects of the bucket the store's ledger does not hold.
func (lt *liveTrail) missing(t *testing.T, db string) {
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := st.Writer()
	if err != nil {
		t.Fatal(err)
	}
	err = source.ListS3(context.Background(), lt.s3, source.S3URL{Bucket: "trail", Prefix: "AWSLogs/"}, source.Filter{}, func(o source.S3Object) error {
		if ok, _ := w.FileStored(o.URL(), store.StampOf(o.Info())); !ok {
			t.Logf("not in the ledger: %s", o.Key)
		}
		return nil
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
}

// serveProc is a running trailhound serve.
type serveProc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

func startServe(t *testing.T, env []string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{cmd: exec.Command(binary, append([]string{"serve"}, args...)...), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd.Env = env
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

// stop sends SIGTERM and returns the exit code.
func (p *serveProc) stop(t *testing.T) int {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatalf("serve did not stop within a minute after SIGTERM:\n%s", p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// readSink reads the revisions of a JSONL sink file (a line being written is left out).
func readSink(t *testing.T, path string) []signal.Signal {
	t.Helper()
	b, _ := os.ReadFile(path)
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

// closedSignals checks a sink's revisions and returns the signals closed, not superseded,
// by id (signal.ClosedSignals).
func closedSignals(t *testing.T, revs []signal.Signal) map[string]signal.Signal {
	t.Helper()
	closed, err := signal.ClosedSignals(revs)
	if err != nil {
		t.Fatal(err)
	}
	return closed
}

func sameContent(a, b signal.Signal) string {
	a.Status, a.Revision, b.Status, b.Revision = "", 0, "", 0
	return cmp.Diff(a, b)
}

// waitClosed waits until the store holds events events and the sink every wanted signal
// closed.
func waitClosed(t *testing.T, p *serveProc, db string, events int, sink string, want []signal.Signal, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if st, err := store.Open(db, store.Options{ReadOnly: true}); err == nil {
			n := st.Stats().Events
			st.Close()
			if n < events {
				if time.Now().After(deadline) {
					t.Fatalf("the store holds %d events of %d after %s:\n%s", n, events, d, tail(p.stderr.String(), 3000))
				}
				time.Sleep(50 * time.Millisecond)
				continue
			}
		}
		closed := closedSignals(t, readSink(t, sink))
		missing := 0
		for _, w := range want {
			if _, ok := closed[w.ID]; !ok {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		select {
		case err := <-p.done:
			t.Fatalf("serve exited (%v) with %d signals not closed:\n%s", err, missing, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d signals not closed in the sink after %s:\n%s", missing, len(want), d, tail(p.stderr.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sinkEqualsHunt checks that the signals closed in the sink file are those hunt --db
// closed (want), with the same content.
func sinkEqualsHunt(t *testing.T, sink string, want []signal.Signal) {
	t.Helper()
	revs := readSink(t, sink)
	closed := closedSignals(t, revs)
	last, _ := signal.CheckRevisions(revs)
	if err := signal.CheckSuperseded(last); err != nil {
		t.Error(err)
	}
	for _, w := range want {
		if diff := sameContent(w, closed[w.ID]); diff != "" {
			t.Errorf("signal %s (%s) differs (-hunt +serve):\n%s", w.ID, w.Title, diff)
		}
	}
	if len(closed) != len(want) {
		t.Errorf("%d signals closed in the sink, hunt --db closed %d", len(closed), len(want))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// writeConfig writes a YAML config for the trail.
func writeConfig(t *testing.T, db, sink string, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`db: %s
listen: 127.0.0.1:0
log: {format: json, level: info}
trails:
  - url: s3://trail/AWSLogs/
    poll: 100ms
batch: {max_objects: 25, max_wait: 50ms, backlog_objects: 25}
lateness: %s
quiet_advance: 0s
sinks:
  - {type: jsonl, path: %s}
%s`, db, trailLateness, sink, extra)
	p := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeCLI runs the real binary over a trail delivered while it runs: the file sink
// ends with the signals hunt --db prints over the same files, the store holds the same
// events, /metrics, /healthz and /readyz answer, and SIGTERM stops it with exit 0 after
// its last commit. A config mistake fails at start with every problem named.
func TestServeCLI(t *testing.T) {
	lt := newLiveTrail(t, 5, 2, 800)
	want, wantStore := lt.huntDB(t)
	dir := t.TempDir()
	db, sink := filepath.Join(dir, "db"), filepath.Join(dir, "signals.jsonl")
	p := startServe(t, lt.env, "--config", writeConfig(t, db, sink, ""), "--listen", "127.0.0.1:0", "--log-format", "json")
	half := len(lt.files) / 2
	lt.deliver(t, 0, half)
	lt.deliver(t, half, len(lt.files))
	waitClosed(t, p, db, wantStore.Events, sink, want, 2*time.Minute)
	addr := ""
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "serving" {
			addr, _ = rec["listen"].(string)
		}
	}
	if addr == "" {
		t.Fatalf("no JSON log line gives the address served:\n%s", tail(p.stderr.String(), 2000))
	}
	// The web investigator (/ and /api/) is served on the same listener, over the store
	// being written.
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "trailhound_batches_total",
		"/": "<html", "/api/signals": `"total":`} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d %.300s", path, resp.StatusCode, b)
		}
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exit %d after SIGTERM, want 0:\n%s", code, tail(p.stderr.String(), 2000))
	}
	sinkEqualsHunt(t, sink, want)
	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Stats().Events; got != wantStore.Events {
		t.Errorf("serve stored %d events, hunt --db %d", got, wantStore.Events)
	}
	st.Close()

	// Off loopback the investigator needs a token, which a service must be given.
	open := startServe(t, lt.env, "--config", writeConfig(t, filepath.Join(dir, "db3"), filepath.Join(dir, "s3.jsonl"), ""), "--listen", "0.0.0.0:0")
	<-open.done
	if code := open.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(open.stderr.String(), "ui.token") {
		t.Errorf("serve off loopback without a token: exit %d: %s", code, open.stderr)
	}
	bad := startServe(t, lt.env, "--db", filepath.Join(dir, "db2"), "--sink", "smtp:x", "--trail", "not-a-url")
	<-bad.done
	if code := bad.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(bad.stderr.String(), "--sink") {
		t.Errorf("a bad --sink: exit %d: %s", code, bad.stderr)
	}
	bad = startServe(t, lt.env, "--db", filepath.Join(dir, "db2"), "--trail", "not-a-url", "--log-level", "loud")
	<-bad.done
	if code := bad.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(bad.stderr.String(), "not-a-url") || !strings.Contains(bad.stderr.String(), "loud") {
		t.Errorf("a bad config: exit %d, want every problem named: %s", code, bad.stderr)
	}
}

// TestServeCrash kills serve with SIGKILL at 10 moments of a run — inside a batch, around
// its commit (the store's own fault points), after its acknowledgements — and restarts it
// each time: no event is missing or stored twice, every signal hunt --db closes is closed
// in the sink with the same content, and a revision delivered more than once is a repeat of
// the same (id, revision).
func TestServeCrash(t *testing.T) {
	lt := newLiveTrail(t, 9, 2, 600)
	want, wantStore := lt.huntDB(t)
	dir := t.TempDir()
	db, sink := filepath.Join(dir, "db"), filepath.Join(dir, "signals.jsonl")
	cfg := writeConfig(t, db, sink, "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(b, []byte("max_objects: 200"), []byte("max_objects: 40"), 1), 0o644)
	points := []string{"serve:read", "serve:evaluated", "serve:commit", "serve:committed", "serve:acked",
		"sync:segment", "renamed:signals", "sync:blob", "sync:manifest", "published"}
	r := rand.New(rand.NewPCG(16, 9))
	step := len(lt.files) / len(points)
	killed := 0
	for i, point := range points {
		lt.deliver(t, i*step, (i+1)*step)
		spec := fmt.Sprintf("%s#%d", point, 1+r.IntN(2))
		p := startServe(t, append(slices.Clone(lt.env), crashEnv+"="+spec), "--config", cfg)
		select {
		case <-p.done:
			if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("crash at %s: serve ended without being killed (%v):\n%s", spec, p.cmd.ProcessState, tail(p.stderr.String(), 2000))
			}
			killed++
		case <-time.After(15 * time.Second):
			// The point was not reached this often: stop it cleanly instead.
			if code := p.stop(t); code != 0 {
				t.Fatalf("serve exit %d", code)
			}
		}
	}
	if killed < 8 {
		t.Fatalf("only %d of %d runs were killed: the crash points are not reached", killed, len(points))
	}
	lt.deliver(t, len(points)*step, len(lt.files))
	p := startServe(t, lt.env, "--config", cfg)
	waitClosed(t, p, db, wantStore.Events, sink, want, 2*time.Minute)
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	sinkEqualsHunt(t, sink, want)
	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Stats().Events; got != wantStore.Events {
		t.Errorf("after %d kills the store holds %d events, hunt --db %d", killed, got, wantStore.Events)
		st.Close()
		lt.missing(t, db)
	}
	st.Close()
	if rep, err := store.Check(context.Background(), db); err != nil || !rep.OK() {
		t.Errorf("db check after the kills: %+v, %v", rep, err)
	}
}
