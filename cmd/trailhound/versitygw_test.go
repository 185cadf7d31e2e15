package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/trailhound/trailhound/internal/store"
)

// versityGW finds the VersityGW binary: on PATH, or where .ci/run installs it
// (${XDG_CACHE_HOME:-$HOME/.cache}/trailhound/bin). Without it the test is skipped, and
// fails in CI, where .ci/run must have installed it.
func versityGW(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "trailhound", "bin", "versitygw")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	msg := "versitygw not found on PATH or in " + filepath.Dir(p) + " (.ci/run installs it: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serveAddr is the address a serve process reports serving on, in its JSON logs.
func serveAddr(t *testing.T, p *serveProc) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(p.stderr.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "serving" {
				if a, ok := rec["listen"].(string); ok {
					return a
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve never said where it serves:\n%s", tail(p.stderr.String(), 2000))
	return ""
}

// metric reads the sum of a metric's samples whose labels contain labels, from /metrics.
func metric(t *testing.T, addr, name, labels string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sum := 0.0
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], labels) {
			v, _ := strconv.ParseFloat(m[2], 64)
			sum += v
		}
	}
	return sum
}

// TestServeVersityGW is the integration test with real servers: VersityGW (an S3-compatible
// gateway checking SigV4) over a folder, publishing S3 events to a NATS server; serve lists
// the bucket once at start and then learns of every object from NATS alone, while the
// simulated trail is written into the bucket file by file in delivery order. The file sink
// ends with the signals of hunt --db over the same files, and the store with its events.
func TestServeVersityGW(t *testing.T) {
	gw := versityGW(t)
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS not ready")
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "trail"), 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	var gwLog bytes.Buffer
	vgw := exec.Command(gw, "--access", "trailhoundtest", "--secret", "trailhoundsecret", "--port", fmt.Sprintf("127.0.0.1:%d", port),
		"--event-nats-url", ns.ClientURL(), "--event-nats-topic", "s3.events", "posix", root)
	vgw.Stdout, vgw.Stderr = &gwLog, &gwLog
	if err := vgw.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { vgw.Process.Kill(); vgw.Wait() }()
	client := s3.New(s3.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("trailhoundtest", "trailhoundsecret", "")})
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("trail")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("VersityGW not answering: %v\n%s", err, gwLog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	lt := newLiveTrail(t, 7, 2, 800)
	lt.s3 = client
	want, wantStore := lt.huntDB(t)
	// A 5 GiB object in the trail's folder (sparse: no disk used), there before serve
	// lists the bucket: counted and logged as too large (the limit is 1 GiB), never read.
	huge := strings.TrimSuffix(lt.files[0], ".json.gz") + "_huge.json.gz"
	hugePath := filepath.Join(root, "trail", filepath.FromSlash(huge))
	os.MkdirAll(filepath.Dir(hugePath), 0o755)
	hf, err := os.Create(hugePath)
	if err == nil {
		err = hf.Truncate(5 << 30)
		hf.Close()
	}
	if err == nil {
		// Older than the listing's cut of the last second.
		err = os.Chtimes(hugePath, time.Now().Add(-time.Minute), time.Now().Add(-time.Minute))
	}
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "AWS_ENDPOINT_URL_S3="+endpoint, "AWS_ACCESS_KEY_ID=trailhoundtest", "AWS_SECRET_ACCESS_KEY=trailhoundsecret",
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"))
	dir := t.TempDir()
	db, sink := filepath.Join(dir, "db"), filepath.Join(dir, "signals.jsonl")
	cfg := filepath.Join(dir, "serve.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`db: %s
listen: 127.0.0.1:0
trails:
  - {url: s3://trail/AWSLogs/, poll: 1h}
notifications:
  nats:
    - {url: %s, subject: s3.events}
batch: {max_objects: 200, max_wait: 100ms}
lateness: %s
quiet_advance: 0s
sinks:
  - {type: jsonl, path: %s}
  - {type: ocsf, path: %s, min_level: high}
`, db, ns.ClientURL(), trailLateness, sink, filepath.Join(dir, "findings.jsonl"))), 0o644)
	p := startServe(t, env, "--config", cfg)
	addr := serveAddr(t, p)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	lt.deliver(t, 0, len(lt.files))
	waitClosed(t, p, db, wantStore.Events, sink, want, 3*time.Minute)
	took := time.Since(start)
	if n := metric(t, addr, "trailhound_objects_failed_total", `reason="too_large"`); n != 1 {
		t.Errorf("%v objects counted too large, want the 5 GiB one", n)
	}
	if !strings.Contains(p.stderr.String(), "_huge.json.gz") {
		t.Error("the 5 GiB object's key is not in the log")
	}
	if n := metric(t, addr, "trailhound_notifications_total", `result="objects"`); n < float64(len(lt.files)) {
		t.Errorf("%v notifications with objects, want one per file (%d): the objects came from elsewhere", n, len(lt.files))
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, tail(p.stderr.String(), 2000))
	}
	sinkEqualsHunt(t, sink, want)
	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := st.Stats().Events; got != wantStore.Events {
		t.Errorf("serve stored %d events, hunt --db %d", got, wantStore.Events)
	}
	t.Logf("%d files through VersityGW and NATS in %s; %d signals", len(lt.files), took.Round(time.Millisecond), len(want))
}
