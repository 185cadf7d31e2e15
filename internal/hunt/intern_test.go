package hunt

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/event"
)

func TestInternedHeaderEqualsHeader(t *testing.T) {
	for _, raw := range []string{
		`{"eventID":"a","eventTime":"2026-11-20T09:12:44Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli","errorCode":"AccessDenied","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dana","accessKeyId":"AKIAX","accountId":"111122223333"}}`,
		`{"eventID":"b","eventTime":"2026-11-20T09:12:44.123+01:00","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ci/run-1","accountId":"111122223333","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/build/ci"}}}}`,
		`{"eventID":"c","eventTime":"2026-13-20T09:12:44Z","userIdentity":{"type":"AWSService","invokedBy":"ecs.amazonaws.com"}}`,
		`{"eventID":"d"}`,
		// Repeated keys: the first counts, as for a lookup; values of other types read as absent.
		`{"eventID":"e1","eventID":"e2","eventName":7,"eventName":"Second","awsRegion":null,"eventTime":"2026-11-20T09:12:44Z","eventTime":"2027-01-01T00:00:00Z",` +
			`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/first","accountId":"1"},"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::2:user/second"}}`,
		`{"eventID":"f","userIdentity":"not an object","recipientAccountId":""}`,
		`{"eventID":"g","recipientAccountId":"","userIdentity":{"accountId":"444455556666","accessKeyId":"ASIAX"}}`,
	} {
		v := fastjson.MustParse(raw)
		ev := &event.Event{Raw: []byte(raw), Value: v, Pos: event.Position{File: "f", Record: 3}}
		var in interner
		got := in.header(ev)
		again := in.header(ev)
		want := ev.Header()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: (-Header +interned):\n%s", raw, diff)
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("%s: second call differs:\n%s", raw, diff)
		}
	}
}

func TestParseTimeFastPath(t *testing.T) {
	for _, s := range []string{"2026-11-20T09:12:44Z", "2024-02-29T23:59:59Z", "2026-11-20T09:12:44.5Z", "bad", "", "2026-11-20T25:12:44Z"} {
		want, _ := event.ParseTime([]byte(s))
		if got := parseTime([]byte(s)); !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, want %v", s, got, want)
		}
	}
	_ = time.UTC
}
