package source

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseNotification(t *testing.T) {
	put := ObjectRef{Bucket: "my-trail", Key: "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/111122223333_CloudTrail_us-east-1_20240310T0005Z_Ab Cd=.json.gz",
		Size: 1024, ETag: "d41d8cd98f00b204e9800998ecf8427e", Sequencer: "0055AED6DCD90281E5", Time: time.Date(2024, 3, 10, 0, 5, 12, 345e6, time.UTC)}
	tests := []struct {
		file string
		want []ObjectRef
	}{
		{"s3-sqs.json", []ObjectRef{put}},
		{"sns-wrapped.json", []ObjectRef{put}},
		{"s3-test-event.json", nil},
		{"eventbridge-object-created.json", []ObjectRef{{Bucket: "my-trail",
			Key:  "AWSLogs/o-abcdef1234/444455556666/CloudTrail/eu-west-1/2024/03/10/444455556666_CloudTrail_eu-west-1_20240310T0005Z_x y.json.gz",
			Size: 2048, ETag: "b1946ac92492d2347c6235b4d2611184", Sequencer: "00617F08299329D189", Time: time.Date(2024, 3, 10, 0, 5, 12, 0, time.UTC)}}},
		{"eventbridge-object-deleted.json", nil},
		{"versitygw-nats.json", []ObjectRef{{Bucket: "trail", Key: "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/111122223333_CloudTrail_us-east-1_20240310T0005Z_a.json.gz",
			Size: 77, ETag: "5d41402abc4b2a76b9719d911017c592", Sequencer: "17BAD5E1C3F0A4B2", Time: time.Date(2024, 3, 10, 0, 5, 12, 0, time.UTC)}}},
		{"versitygw-test-event.json", nil},
	}
	for _, tt := range tests {
		body, err := os.ReadFile(filepath.Join("testdata", "notifications", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseNotification(body)
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
	for _, bad := range []string{``, `not json`, `{}`, `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"k"}}}]}`,
		`{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"}}}`, `[1,2]`,
		`{"Type":"Notification","Message":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"}`} {
		if refs, err := ParseNotification([]byte(bad)); !errors.Is(err, ErrNotNotification) {
			t.Errorf("ParseNotification(%q) = %v, %v; want ErrNotNotification", bad, refs, err)
		}
	}
}

func TestUnwrapSNS(t *testing.T) {
	inner := `{"detail-type":"AWS API Call via CloudTrail","detail":{"eventID":"x"}}`
	wrapped, _ := json.Marshal(map[string]string{"Type": "Notification", "Message": inner})
	if got := string(UnwrapSNS(wrapped)); got != inner {
		t.Errorf("UnwrapSNS(wrapped) = %s", got)
	}
	for _, s := range []string{inner, `{"Type":"Notification"}`, `[]`, ``} {
		if got := string(UnwrapSNS([]byte(s))); got != s {
			t.Errorf("UnwrapSNS(%q) = %q, want it unchanged", s, got)
		}
	}
}

// FuzzParseNotification: any body gives references naming a bucket and a key, or an error
// that is ErrNotNotification; never a panic. A reference rebuilt into each notification
// shape parses back to itself.
func FuzzParseNotification(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "notifications", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		refs, err := ParseNotification(body)
		if err != nil {
			if !errors.Is(err, ErrNotNotification) {
				t.Fatalf("error %v is not ErrNotNotification", err)
			}
			return
		}
		for _, r := range refs {
			if r.Bucket == "" || r.Key == "" {
				t.Fatalf("reference without bucket or key: %+v", r)
			}
			r.Time = time.Time{}
			rec := map[string]any{"eventName": "ObjectCreated:Put", "s3": map[string]any{
				"bucket": map[string]any{"name": r.Bucket},
				"object": map[string]any{"key": url.QueryEscape(r.Key), "size": r.Size, "eTag": r.ETag, "sequencer": r.Sequencer}}}
			records, _ := json.Marshal(map[string]any{"Records": []any{rec}})
			bridge, _ := json.Marshal(map[string]any{"detail-type": "Object Created", "source": "aws.s3", "detail": map[string]any{
				"bucket": map[string]any{"name": r.Bucket}, "object": map[string]any{"key": r.Key, "size": r.Size, "etag": r.ETag, "sequencer": r.Sequencer}}})
			sns, _ := json.Marshal(map[string]any{"Type": "Notification", "Message": string(records)})
			for _, b := range [][]byte{records, bridge, sns} {
				back, err := ParseNotification(b)
				if err != nil || len(back) != 1 || back[0] != r {
					t.Fatalf("%+v rebuilt as %s parses to %+v, %v", r, b, back, err)
				}
			}
		}
	})
}

// FuzzUnwrapSNS: the result is the body itself or the Message of an SNS notification in it.
func FuzzUnwrapSNS(f *testing.F) {
	f.Add([]byte(`{"Type":"Notification","Message":"{\"detail\":{}}"}`))
	f.Add([]byte(`{"detail-type":"AWS API Call via CloudTrail"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got := UnwrapSNS(body)
		if string(got) == string(body) {
			return
		}
		var env struct {
			Type    string
			Message *string
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Type != "Notification" || env.Message == nil || *env.Message != string(got) {
			t.Fatalf("UnwrapSNS(%q) = %q, not the body nor its Message", body, got)
		}
	})
}
