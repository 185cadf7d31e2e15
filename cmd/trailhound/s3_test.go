package main

import (
	"bytes"
	"context"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// s3Bucket starts an in-process S3 server holding the files under root (keys relative to
// root) in bucket, and returns the environment that points the binary at it.
func s3Bucket(t *testing.T, bucket, root string) []string {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	c := s3.New(s3.Options{BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(filepath.ToSlash(rel)), Body: bytes.NewReader(b)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	return append(os.Environ(), "NO_COLOR=1", "HOME="+home, "AWS_ENDPOINT_URL_S3="+srv.URL,
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"))
}

func runCLIEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	return runCmd(t, cmd)
}

// TestHuntS3 reads a simulated trail from S3: the signals equal those of the same files on
// disk, with and without filters; the filters prune the listing the same way on both; hunt
// --db over the bucket reads each object once; investigate reads s3:// too.
func TestHuntS3(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "5", "--days", "2", "--events-per-day", "400", "--no-digests"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	env := s3Bucket(t, "trail", dir)
	logs := filepath.Join(dir, "AWSLogs")
	all := -1
	for _, filter := range [][]string{nil, {"--since", "2026-11-17"}, {"--region", "us-east-1,eu-west-1", "--until", "2026-11-17T06:00:00Z"}} {
		local := runCLI(t, nil, append([]string{"hunt", "-f", "jsonl", logs}, filter...)...)
		remote := runCLIEnv(t, env, append([]string{"hunt", "-f", "jsonl", "s3://trail/AWSLogs/"}, filter...)...)
		if local.code != 0 && !strings.Contains(local.stderr, "no CloudTrail") {
			t.Fatalf("hunt %v: exit %d: %s", filter, local.code, local.stderr)
		}
		if remote.code != local.code {
			t.Fatalf("hunt s3 %v: exit %d, local exit %d: %s", filter, remote.code, local.code, remote.stderr)
		}
		if diff := cmp.Diff(local.stdout, remote.stdout); diff != "" {
			t.Errorf("hunt %v: S3 and local signals differ (-local +s3):\n%s", filter, diff)
		}
		n := strings.Count(remote.stdout, "\n")
		if all < 0 {
			all = n
		} else if n == 0 || n >= all {
			t.Errorf("hunt s3 %v: %d signals, the whole trail %d: the filter should keep some and not all", filter, n, all)
		}
		if len(filter) > 0 && !strings.Contains(remote.stderr, "outside the filter") {
			t.Errorf("hunt s3 %v: the summary does not count what the filter left out:\n%s", filter, remote.stderr)
		}
	}
	db := filepath.Join(t.TempDir(), "db")
	first := runCLIEnv(t, env, "hunt", "--db", db, "-f", "jsonl", "s3://trail/AWSLogs/")
	second := runCLIEnv(t, env, "hunt", "--db", db, "-f", "jsonl", "s3://trail/AWSLogs/")
	if first.code != 0 || second.code != 0 {
		t.Fatalf("hunt --db s3: exit %d, %d: %s%s", first.code, second.code, first.stderr, second.stderr)
	}
	if !strings.Contains(second.stderr, "files: 0 read") || !strings.Contains(second.stderr, "unchanged since an earlier run stored them") {
		t.Errorf("second hunt --db over the bucket read objects again:\n%s", second.stderr)
	}
	sigs := signalLines(t, first.stdout)
	if len(sigs) == 0 {
		t.Fatal("no signals from the simulated attacks")
	}
	inv := runCLIEnv(t, env, "investigate", "s3://trail/AWSLogs/", "--signal", sigs[0].ID, "-f", "json")
	if inv.code != 0 {
		t.Errorf("investigate s3: exit %d: %s", inv.code, inv.stderr)
	}
	missing := runCLIEnv(t, env, "hunt", "s3://no-such-bucket/AWSLogs/")
	if missing.code != 1 || !strings.Contains(missing.stderr, "s3://no-such-bucket/AWSLogs/") {
		t.Errorf("hunt of a missing bucket: exit %d: %s", missing.code, missing.stderr)
	}
}
