package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// A live trail announces each object it delivers. ParseNotification reads the message
// bodies the announcements arrive in:
//
//   - an S3 event notification ({"Records":[{"eventName":"ObjectCreated:Put","s3":{...}}]}),
//     as S3 sends it to an SQS queue, an SNS topic or a webhook; object keys in it are URL
//     encoded (a space is "+");
//   - the same wrapped by SNS ({"Type":"Notification","Message":"<the notification as a
//     string>"}), as an SQS queue subscribed to a topic receives it without raw delivery;
//   - an EventBridge "Object Created" event ({"detail-type":"Object Created","source":
//     "aws.s3","detail":{"bucket":{"name":...},"object":{"key":...}}}), keys not encoded;
//   - the S3 event records as S3-compatible servers publish them to NATS: VersityGW
//     publishes a bare JSON array of records, MinIO the Records object.
//
// Test events (s3:TestEvent), removals and other event types name no object to read: they
// give no reference and no error. A body that is none of these is an error.

// ObjectRef is an object a notification says was created.
type ObjectRef struct {
	Bucket, Key string
	// Size, ETag and Sequencer are as the notification gives them (zero when absent).
	Size      int64
	ETag      string
	Sequencer string
	// Time is when the object was created, by the notification (zero when absent).
	Time time.Time
}

// URL returns s3://bucket/key.
func (r ObjectRef) URL() string { return S3Scheme + r.Bucket + "/" + r.Key }

// ErrNotNotification is the error of a message body that is not a notification.
var ErrNotNotification = errors.New("not an S3 event notification")

// s3Record is one record of an S3 event notification.
type s3Record struct {
	EventName string `json:"eventName"`
	EventTime string `json:"eventTime"`
	S3        struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string  `json:"key"`
			Size      int64   `json:"size"`
			ETag      *string `json:"eTag"`
			Sequencer string  `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

// envelope holds the keys that tell the shapes apart.
type envelope struct {
	Records    *[]s3Record     `json:"Records"`
	Type       string          `json:"Type"`
	Message    *string         `json:"Message"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Time       string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`
	Event      string          `json:"Event"` // s3:TestEvent
}

type bridgeDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"etag"`
		Sequencer string `json:"sequencer"`
	} `json:"object"`
}

// ParseNotification returns the objects a notification message body says were created,
// in the order it lists them.
func ParseNotification(body []byte) ([]ObjectRef, error) {
	return parseNotification(body, 0)
}

func parseNotification(body []byte, depth int) ([]ObjectRef, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		// VersityGW: a bare array of records.
		var recs []s3Record
		if err := json.Unmarshal(body, &recs); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotNotification, err)
		}
		return recordRefs(recs, url.PathUnescape)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotNotification, err)
	}
	switch {
	case env.Records != nil:
		return recordRefs(*env.Records, url.QueryUnescape)
	case env.Type == "Notification" && env.Message != nil:
		if depth > 0 {
			return nil, fmt.Errorf("%w: SNS message inside an SNS message", ErrNotNotification)
		}
		return parseNotification([]byte(*env.Message), depth+1)
	case env.DetailType != "" && env.Source == "aws.s3":
		if env.DetailType != "Object Created" {
			return nil, nil
		}
		var d bridgeDetail
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			return nil, fmt.Errorf("%w: EventBridge detail: %v", ErrNotNotification, err)
		}
		if d.Bucket.Name == "" || d.Object.Key == "" {
			return nil, fmt.Errorf("%w: EventBridge Object Created event without bucket or key", ErrNotNotification)
		}
		ref := ObjectRef{Bucket: d.Bucket.Name, Key: d.Object.Key, Size: d.Object.Size, ETag: unquote(d.Object.ETag), Sequencer: d.Object.Sequencer}
		ref.Time, _ = time.Parse(time.RFC3339Nano, env.Time)
		return []ObjectRef{ref}, nil
	case strings.HasSuffix(env.Event, "TestEvent"):
		return nil, nil
	case env.Type == "SubscriptionConfirmation" || env.Type == "UnsubscribeConfirmation":
		return nil, nil
	}
	return nil, ErrNotNotification
}

func recordRefs(recs []s3Record, unescape func(string) (string, error)) ([]ObjectRef, error) {
	var out []ObjectRef
	for i, r := range recs {
		name := strings.TrimPrefix(r.EventName, "s3:")
		if !strings.HasPrefix(name, "ObjectCreated:") {
			continue
		}
		key, err := unescape(r.S3.Object.Key)
		if err != nil {
			key = r.S3.Object.Key
		}
		if r.S3.Bucket.Name == "" || key == "" {
			return nil, fmt.Errorf("%w: record %d names no bucket or key", ErrNotNotification, i)
		}
		ref := ObjectRef{Bucket: r.S3.Bucket.Name, Key: key, Size: r.S3.Object.Size, Sequencer: r.S3.Object.Sequencer}
		if r.S3.Object.ETag != nil {
			ref.ETag = unquote(*r.S3.Object.ETag)
		}
		ref.Time, _ = time.Parse(time.RFC3339Nano, r.EventTime)
		out = append(out, ref)
	}
	return out, nil
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// UnwrapSNS returns the message an SNS notification body carries, or body itself when it is
// not one: a queue subscribed to a topic without raw message delivery receives every
// message wrapped.
func UnwrapSNS(body []byte) []byte {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' || !bytes.Contains(b, []byte(`"Notification"`)) {
		return body
	}
	var env struct {
		Type    string  `json:"Type"`
		Message *string `json:"Message"`
	}
	if json.Unmarshal(b, &env) != nil || env.Type != "Notification" || env.Message == nil {
		return body
	}
	return []byte(*env.Message)
}
