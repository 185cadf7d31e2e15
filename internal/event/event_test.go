package event

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

func TestActor(t *testing.T) {
	for _, tc := range []struct {
		name, identity, want string
	}{
		{"IAM user", `{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dana","principalId":"AIDA"}`, "arn:aws:iam::111122223333:user/dana"},
		{"root", `{"type":"Root","arn":"arn:aws:iam::111122223333:root"}`, "arn:aws:iam::111122223333:root"},
		{"assumed role with issuer (path kept)", `{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ci/run-1","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/build/ci"}}}`, "arn:aws:iam::111122223333:role/build/ci#run-1"},
		{"assumed role, old record without issuer", `{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ci/run-1"}`, "arn:aws:iam::111122223333:role/ci#run-1"},
		{"assumed role in another partition", `{"type":"AssumedRole","arn":"arn:aws-cn:sts::111122223333:assumed-role/r/s"}`, "arn:aws-cn:iam::111122223333:role/r#s"},
		{"assumed role without session", `{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r"}`, "arn:aws:iam::1:role/r"},
		{"AWS service", `{"type":"AWSService","invokedBy":"ecs.amazonaws.com"}`, "ecs.amazonaws.com"},
		{"federated user", `{"type":"FederatedUser","arn":"arn:aws:sts::1:federated-user/bob"}`, "arn:aws:sts::1:federated-user/bob"},
		{"principal only", `{"type":"SAMLUser","principalId":"SAML:alice"}`, "SAMLUser:SAML:alice"},
		{"invokedBy only", `{"invokedBy":"s3.amazonaws.com"}`, "s3.amazonaws.com"},
		{"empty", `{}`, ""},
	} {
		v := fastjson.MustParse(`{"userIdentity":` + tc.identity + `}`)
		if got := Actor(v); got != tc.want {
			t.Errorf("%s: Actor = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := Actor(fastjson.MustParse(`{"userIdentity":"x"}`)); got != "" {
		t.Errorf("non-object identity: %q", got)
	}
}

func TestLookupCrossesArrays(t *testing.T) {
	raw := `{"requestParameters":{"containerDefinitions":[{"image":"a"},{"image":"b"},{"name":"x"}],
		"ipPermissions":{"items":[{"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"},{"cidrIp":"0.0.0.0/0"}]}}]},
		"tags":["t1","t2"],"nested":[[{"k":"deep"}]]}}`
	ev := &Event{Value: fastjson.MustParse(raw)}
	collect := func(path ...string) []string {
		var out []string
		ev.Lookup(path, func(v *fastjson.Value) bool {
			out = append(out, string(v.GetStringBytes()))
			return true
		})
		return out
	}
	for _, tc := range []struct {
		path []string
		want []string
	}{
		{[]string{"requestParameters", "containerDefinitions", "image"}, []string{"a", "b"}},
		{[]string{"requestParameters", "ipPermissions", "items", "ipRanges", "items", "cidrIp"}, []string{"10.0.0.0/8", "0.0.0.0/0"}},
		{[]string{"requestParameters", "tags"}, []string{"t1", "t2"}},
		{[]string{"requestParameters", "nested", "k"}, []string{"deep"}},
		{[]string{"requestParameters", "absent"}, nil},
		{[]string{"requestParameters", "tags", "x"}, nil},
	} {
		got := collect(tc.path...)
		if len(got) != len(tc.want) {
			t.Errorf("%v: got %v, want %v", tc.path, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%v: got %v, want %v", tc.path, got, tc.want)
			}
		}
	}
	// Stopping early.
	n := 0
	ev.Lookup([]string{"requestParameters", "containerDefinitions", "image"}, func(*fastjson.Value) bool { n++; return false })
	if n != 1 {
		t.Errorf("Lookup went on after fn returned false: %d calls", n)
	}
	if !ev.Exists([]string{"requestParameters", "containerDefinitions", "name"}) || ev.Exists([]string{"nope"}) {
		t.Error("Exists wrong")
	}
}

func TestLookupEnrichment(t *testing.T) {
	ev := &Event{Value: fastjson.MustParse(`{"trailhound":{"src_asn":1}}`), Enrichment: fastjson.MustParse(`{"src_asn":7713}`)}
	var got int
	ev.Lookup([]string{EnrichmentKey, "src_asn"}, func(v *fastjson.Value) bool { got = v.GetInt(); return true })
	if got != 7713 {
		t.Errorf("enrichment lookup = %d, want 7713 (from Enrichment, never from the record)", got)
	}
	ev.Enrichment = nil
	if ev.Exists([]string{EnrichmentKey, "src_asn"}) {
		t.Error("a record's own trailhound key must not pass for enrichment")
	}
}

func TestHeader(t *testing.T) {
	ev := &Event{Value: fastjson.MustParse(`{"eventID":"e","eventTime":"2026-11-20T09:12:44.5+01:00","eventSource":"iam.amazonaws.com","eventName":"CreateUser",
		"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli","errorCode":"AccessDenied",
		"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/d","accessKeyId":"AKIA1","accountId":"1"}}`), Pos: Position{File: "f", Record: 2}}
	h := ev.Header()
	want := time.Date(2026, 11, 20, 8, 12, 44, 5e8, time.UTC)
	if !h.EventTime.Equal(want) || h.EventTime.Location() != time.UTC {
		t.Errorf("EventTime = %v, want %v in UTC", h.EventTime, want)
	}
	if h.AccountID != "1" || h.Actor != "arn:aws:iam::1:user/d" || h.AccessKeyID != "AKIA1" || h.ErrorCode != "AccessDenied" || h.Pos.Record != 2 {
		t.Errorf("Header = %+v", h)
	}
}
