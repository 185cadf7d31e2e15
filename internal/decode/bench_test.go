package decode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/trailhound/trailhound/internal/event"
)

const benchEvents = 20000

// benchCorpus returns benchEvents events: the first ones of the folder named by
// TRAILHOUND_BENCH_CORPUS when it is set (a `trailhound bench corpus`, so that these
// benchmarks measure the events `bench/run.sh` measures); otherwise the grycap CloudTrail
// events replicated when the shared data is present, synthetic ~1.5 KB events without it.
func benchCorpus(b *testing.B) [][]byte {
	b.Helper()
	var evs [][]byte
	read := func(dir string) {
		d := New(Options{})
		h := HandlerFuncs{EventFunc: func(e *event.Event) error {
			if len(evs) < benchEvents {
				evs = append(evs, bytes.Clone(e.Raw))
			}
			return nil
		}}
		for _, path := range dataFilesB(b, dir) {
			if len(evs) == benchEvents {
				return
			}
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			_, err = d.Decode(context.Background(), path, f, h)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	if dir := os.Getenv("TRAILHOUND_BENCH_CORPUS"); dir != "" {
		read(dir)
		if len(evs) == 0 {
			b.Fatalf("TRAILHOUND_BENCH_CORPUS=%s: no events", dir)
		}
	} else if data, ok := sharedDataDir(); ok {
		read(filepath.Join(data, "grycap-cloudtrail-tracker"))
	}
	if len(evs) == 0 {
		for i := range 100 {
			evs = append(evs, []byte(fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%016d","arn":"arn:aws:iam::111122223333:user/user%d","accountId":"111122223333","accessKeyId":"AKIA%016d","userName":"user%d","sessionContext":{"attributes":{"creationDate":"2024-01-01T00:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2024-01-01T00:%02d:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.%d","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64 prompt/off command/ec2.describe-instances","requestParameters":{"instancesSet":{},"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"},{"value":"stopped"}]}}]}},"responseElements":null,"requestID":"%08d-0000-4000-8000-000000000000","eventID":"%08d-1111-4000-8000-000000000000","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"ec2.us-east-1.amazonaws.com"},"note":"%s"}`,
				i, i, i, i, i%60, i%250, i, i, strings.Repeat("x", 300))))
		}
	}
	out := make([][]byte, benchEvents)
	for i := range out {
		out[i] = evs[i%len(evs)]
	}
	return out
}

func dataFilesB(b *testing.B, dir string) []string {
	return dataFiles(b, dir)
}

// countHandler counts events without allocating.
type countHandler struct{ events, rejected int }

func (c *countHandler) Event(*event.Event) error { c.events++; return nil }
func (c *countHandler) Reject(Rejection)         { c.rejected++ }

func benchDecode(b *testing.B, in []byte, want int) {
	d := New(Options{})
	h := &countHandler{}
	ctx := context.Background()
	r := bytes.NewReader(in)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r.Reset(in)
		h.events = 0
		if _, err := d.Decode(ctx, "bench", r, h); err != nil {
			b.Fatal(err)
		}
		if h.events != want {
			b.Fatalf("events = %d, want %d", h.events, want)
		}
	}
	b.ReportMetric(float64(want)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func recordsDoc(evs [][]byte) []byte {
	return join(s(`{"Records":[`), bytes.Join(evs, s(",")), s("]}"))
}

func BenchmarkDecodeRecordsGzip(b *testing.B) {
	evs := benchCorpus(b)
	benchDecode(b, gz(b, recordsDoc(evs)), len(evs))
}

func BenchmarkDecodeRecordsPlain(b *testing.B) {
	evs := benchCorpus(b)
	benchDecode(b, recordsDoc(evs), len(evs))
}

func BenchmarkDecodeJSONLines(b *testing.B) {
	evs := benchCorpus(b)
	benchDecode(b, join(bytes.Join(evs, s("\n")), s("\n")), len(evs))
}

// BenchmarkGunzip is the floor: decompression alone, through the same gzip reader reused
// with Reset, of the same data as BenchmarkDecodeRecordsGzip.
func BenchmarkGunzip(b *testing.B) {
	evs := benchCorpus(b)
	in := gz(b, recordsDoc(evs))
	r := bytes.NewReader(in)
	zr := new(kgzip.Reader)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r.Reset(in)
		if err := zr.Reset(r); err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSplitRecords measures the byte scanner alone: records found, none parsed.
func BenchmarkSplitRecords(b *testing.B) {
	evs := benchCorpus(b)
	in := recordsDoc(evs)
	d := New(Options{})
	r := bytes.NewReader(in)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r.Reset(in)
		d.w.reset(r, initialWindow, 2*d.max+2*minRead)
		n := 0
		c, _ := d.skipWS(false)
		if c != '{' {
			b.Fatal("no object")
		}
		d.w.pos += len(`{"Records":[`)
		for {
			c, ok := d.skipWS(false)
			if !ok || c == ']' {
				break
			}
			if c == ',' {
				d.w.pos++
				continue
			}
			d.w.start = d.w.pos
			if !d.scanValue() {
				b.Fatal("scan failed")
			}
			n++
		}
		if n != len(evs) {
			b.Fatalf("split %d records, want %d", n, len(evs))
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
