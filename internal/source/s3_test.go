package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeS3 is an in-process S3 server (gofakes3) reached through the real SDK client; handler
// wraps its HTTP handler, to count or fail requests.
type fakeS3 struct {
	client *s3.Client
	url    string
	// lists counts ListObjectsV2 requests.
	lists atomic.Int64
	// fail, when set, answers a request instead of the server (status, S3 error code).
	mu   sync.Mutex
	fail func(r *http.Request) (int, string)
}

func newFakeS3(t testing.TB, bucket string) *fakeS3 {
	t.Helper()
	f := &fakeS3{}
	h := gofakes3.New(s3mem.New()).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
			f.lists.Add(1)
		}
		f.mu.Lock()
		fail := f.fail
		f.mu.Unlock()
		if fail != nil {
			if status, code := fail(r); status != 0 {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(status)
				io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+code+`</Code><Message>injected</Message></Error>`)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.client = s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		UsePathStyle: true,
		// Throttling is retried as in production, with short waits.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxBackoff = 20 * time.Millisecond
			o.RateLimiter = ratelimit.None
		}),
	})
	if _, err := f.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeS3) setFail(fn func(r *http.Request) (int, string)) {
	f.mu.Lock()
	f.fail = fn
	f.mu.Unlock()
}

func (f *fakeS3) put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	if _, err := f.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// walkNames lists what Walk hands out for args, by kind.
func walkNames(t *testing.T, args []string, opts Options) (logs, other []string) {
	t.Helper()
	err := Walk(context.Background(), args, opts, func(in Input) error {
		if in.Kind == KindLog && in.Err == nil {
			logs = append(logs, in.Name)
		} else {
			other = append(other, in.Kind.String()+" "+in.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return logs, other
}

func TestParseS3URL(t *testing.T) {
	tests := []struct {
		in      string
		want    S3URL
		wantErr bool
	}{
		{"s3://b", S3URL{Bucket: "b"}, false},
		{"s3://b/", S3URL{Bucket: "b"}, false},
		{"s3://b/AWSLogs/1/", S3URL{Bucket: "b", Prefix: "AWSLogs/1/"}, false},
		{"s3:///x", S3URL{}, true},
		{"/tmp/x", S3URL{}, true},
	}
	for _, tt := range tests {
		got, err := ParseS3URL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseS3URL(%q) = %+v, %v; want %+v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestWalkS3 reads a bucket with both trail layouts, digests and noise: every log object is
// handed out in key order with its size, digests and other names are reported, and an
// object's body reads back.
func TestWalkS3(t *testing.T) {
	f := newFakeS3(t, "trail")
	keys := []string{
		"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/111122223333_CloudTrail_us-east-1_20240310T0005Z_a.json.gz",
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/10/111122223333_CloudTrail-Digest_us-east-1_x_20240310T0105Z.json.gz",
		"AWSLogs/o-abcdef1234/444455556666/CloudTrail/eu-west-1/2024/03/10/444455556666_CloudTrail_eu-west-1_20240310T0005Z_b.json.gz",
		"AWSLogs/README.txt",
		"other/events.jsonl",
	}
	for _, k := range keys {
		f.put(t, "trail", k, []byte(`{"eventName":"`+k+`"}`))
	}
	opts := Options{S3: f.client}
	logs, other := walkNames(t, []string{"s3://trail/"}, opts)
	want := []string{"s3://trail/" + keys[0], "s3://trail/" + keys[2], "s3://trail/" + keys[4]}
	if diff := cmp.Diff(want, logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	wantOther := []string{"digest s3://trail/" + keys[1], "skipped s3://trail/" + keys[3]}
	if diff := cmp.Diff(wantOther, other); diff != "" {
		t.Errorf("other (-want +got):\n%s", diff)
	}
	// Reading an object, its listed size and the ledger's view of it.
	err := Walk(context.Background(), []string{"s3://trail/other/"}, opts, func(in Input) error {
		rc, err := in.Open(context.Background())
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		if string(b) != `{"eventName":"other/events.jsonl"}` || in.Info.Size() != int64(len(b)) || in.Info.ModTime().IsZero() {
			t.Errorf("read %q, info size %d time %v", b, in.Info.Size(), in.Info.ModTime())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files, size, known, err := Size(context.Background(), []string{"s3://trail/other/"}, opts)
	if err != nil || files != 1 || size != int64(len(`{"eventName":"other/events.jsonl"}`)) || !known {
		t.Errorf("Size = %d, %d, %v, %v", files, size, known, err)
	}
}

// TestWalkS3FilterMatchesLocal: over a synthetic trail of both layouts, random filters give
// the same files from the bucket as from the same tree on disk, never leave out a file
// holding a kept event, and prune the listing: a one-day question over days of logs lists
// a handful of folders, not the bucket.
func TestWalkS3FilterMatchesLocal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	files := syntheticTrail(r, 5)
	f := newFakeS3(t, "trail")
	root := t.TempDir()
	for _, file := range files {
		f.put(t, "trail", file.key, []byte("{}"))
		write(t, filepath.Join(root, filepath.FromSlash(file.key)), "{}")
	}
	rel := func(names []string, prefix string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = strings.TrimPrefix(filepath.ToSlash(n), prefix)
		}
		slices.Sort(out)
		return out
	}
	all, _ := walkNames(t, []string{"s3://trail/AWSLogs/"}, Options{S3: f.client})
	if len(all) != len(files) {
		t.Fatalf("unfiltered listing: %d objects, want %d", len(all), len(files))
	}
	base := time.Date(2024, 2, 26, 0, 0, 0, 0, time.UTC)
	for i := range 20 {
		var flt Filter
		if i%4 != 3 {
			flt.Since = base.Add(time.Duration(r.Int64N(int64(6 * 24 * time.Hour))))
			flt.Until = flt.Since.Add(time.Duration(1+r.IntN(48)) * time.Hour)
		}
		if i%2 == 0 {
			flt.Accounts = []string{"444455556666"}
		}
		if i%3 == 0 {
			flt.Regions = []string{"us-east-1"}
		}
		f.lists.Store(0)
		fromS3, _ := walkNames(t, []string{"s3://trail/AWSLogs/"}, Options{S3: f.client, Filter: flt})
		lists := f.lists.Load()
		fromDisk, _ := walkNames(t, []string{filepath.Join(root, "AWSLogs")}, Options{Filter: flt})
		gotS3, gotDisk := rel(fromS3, "s3://trail/"), rel(fromDisk, filepath.ToSlash(root)+"/")
		if diff := cmp.Diff(gotDisk, gotS3); diff != "" {
			t.Fatalf("filter %+v: S3 and disk differ (-disk +s3):\n%s", flt, diff)
		}
		for _, file := range files {
			kept := false
			for _, et := range file.events {
				kept = kept || flt.Event(file.acct, file.region, et)
			}
			if kept && !slices.Contains(gotS3, file.key) {
				t.Fatalf("filter %+v left out %s, which holds a kept event", flt, file.key)
			}
		}
		if !flt.IsZero() && len(gotS3) >= len(files) {
			t.Errorf("filter %+v kept all %d files", flt, len(files))
		}
		// Folders listed: AWSLogs/, its accounts (and the organization), their CloudTrail
		// folders, regions, years, months, and the day folders kept.
		if max := int64(40); lists > max {
			t.Errorf("filter %+v: %d list requests, want at most %d", flt, lists, max)
		}
	}
}

// TestWalkS3Errors: a prefix that cannot be listed is an error naming it before anything is
// read; a folder inside that is denied is reported as an input with its error and the walk
// goes on; S3 throttling (503 SlowDown) is retried by the client.
func TestWalkS3Errors(t *testing.T) {
	f := newFakeS3(t, "trail")
	for _, k := range []string{
		"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/111122223333_CloudTrail_us-east-1_20240310T0005Z_a.json.gz",
		"AWSLogs/444455556666/CloudTrail/us-east-1/2024/03/10/444455556666_CloudTrail_us-east-1_20240310T0005Z_a.json.gz",
	} {
		f.put(t, "trail", k, []byte("{}"))
	}
	opts := Options{S3: f.client, Filter: Filter{Regions: []string{"us-east-1"}}}

	t.Run("missing bucket", func(t *testing.T) {
		err := Walk(context.Background(), []string{"s3://nope/AWSLogs/"}, opts, func(Input) error { t.Fatal("called"); return nil })
		if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "s3://nope/AWSLogs/") {
			t.Fatalf("err = %v, want a not-exist error naming the URL", err)
		}
	})
	t.Run("denied argument", func(t *testing.T) {
		f.setFail(func(r *http.Request) (int, string) { return http.StatusForbidden, "AccessDenied" })
		defer f.setFail(nil)
		err := Walk(context.Background(), []string{"s3://trail/AWSLogs/"}, opts, func(Input) error { t.Fatal("called"); return nil })
		if err == nil || !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("err = %v, want a permission error", err)
		}
	})
	t.Run("denied folder inside", func(t *testing.T) {
		f.setFail(func(r *http.Request) (int, string) {
			if strings.HasPrefix(r.URL.Query().Get("prefix"), "AWSLogs/444455556666/") {
				return http.StatusForbidden, "AccessDenied"
			}
			return 0, ""
		})
		defer f.setFail(nil)
		var logs, errs []string
		err := Walk(context.Background(), []string{"s3://trail/AWSLogs/"}, opts, func(in Input) error {
			if in.Err != nil {
				if !errors.Is(in.Err, fs.ErrPermission) {
					t.Errorf("error %v is not a permission error", in.Err)
				}
				errs = append(errs, in.Name)
			} else {
				logs = append(logs, in.Name)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) != 1 || !strings.Contains(logs[0], "111122223333") || len(errs) != 1 || errs[0] != "s3://trail/AWSLogs/444455556666/" {
			t.Fatalf("logs %v, errors %v", logs, errs)
		}
	})
	t.Run("throttled", func(t *testing.T) {
		var n atomic.Int64
		f.setFail(func(r *http.Request) (int, string) {
			if n.Add(1)%2 == 1 {
				return http.StatusServiceUnavailable, "SlowDown"
			}
			return 0, ""
		})
		defer f.setFail(nil)
		logs, _ := walkNames(t, []string{"s3://trail/AWSLogs/"}, opts)
		if len(logs) != 2 {
			t.Fatalf("logs %v, want both objects despite throttling", logs)
		}
	})
	t.Run("deleted between list and get", func(t *testing.T) {
		var ins []Input
		if err := Walk(context.Background(), []string{"s3://trail/AWSLogs/111122223333/"}, Options{S3: f.client}, func(in Input) error {
			ins = append(ins, in)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		key := strings.TrimPrefix(ins[0].Name, "s3://trail/")
		if _, err := f.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("trail"), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		_, err := ins[0].Open(context.Background())
		if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), ins[0].Name) {
			t.Fatalf("Open = %v, want a not-exist error naming the object", err)
		}
	})
}

// TestNewS3ClientEndpoint: the endpoint variables reach the client, with path-style
// addressing, so an S3-compatible server is reached with no flag but the variable.
func TestNewS3ClientEndpoint(t *testing.T) {
	f := newFakeS3(t, "trail")
	f.put(t, "trail", "AWSLogs/x.json", []byte("{}"))
	t.Setenv("AWS_ENDPOINT_URL_S3", f.url)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := NewS3Client(context.Background(), S3Config{Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	logs, _ := walkNames(t, []string{"s3://trail/AWSLogs/"}, Options{S3: c})
	if len(logs) != 1 {
		t.Fatalf("logs %v", logs)
	}
}
