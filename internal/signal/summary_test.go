package signal

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/event"
)

func TestSummary(t *testing.T) {
	failed := header("f1", 0)
	failed.ErrorCode = "AccessDenied"
	role := header("r1", 0)
	role.Actor = "arn:aws:iam::111122223333:role/Admin#alice@example.com"
	cross := header("x1", 0)
	cross.Actor = "arn:aws:iam::444455556666:role/Deployer#ci"
	bare := event.Header{EventID: "b1", EventName: "GetCallerIdentity"}
	service := header("s1", 0)
	service.Actor, service.SourceIP, service.UserAgent = "ecs.amazonaws.com", "ecs.amazonaws.com", ""
	longUA := header("u1", 0)
	longUA.UserAgent = strings.Repeat("x", 100)

	many := func(n int, mutate func(i int, h *event.Header)) []event.Header {
		var hs []event.Header
		for i := range n {
			h := header(fmt.Sprintf("m%d", i), i*30)
			mutate(i, &h)
			hs = append(hs, h)
		}
		return hs
	}
	tests := []struct {
		name  string
		limit int
		hs    []event.Header
		want  string
	}{
		{"single", 0, []event.Header{header("a", 0)},
			`user/alice called iam:AttachUserPolicy in account 111122223333 (us-east-1) from 203.0.113.7 using "aws-cli/2.15.0".`},
		{"failed", 0, []event.Header{failed},
			`user/alice failed to call iam:AttachUserPolicy (AccessDenied) in account 111122223333 (us-east-1) from 203.0.113.7 using "aws-cli/2.15.0".`},
		{"assumed role", 0, []event.Header{role},
			`role/Admin#alice@example.com called iam:AttachUserPolicy in account 111122223333 (us-east-1) from 203.0.113.7 using "aws-cli/2.15.0".`},
		{"cross-account actor keeps its ARN", 0, []event.Header{cross},
			`role/Deployer#ci (account 444455556666) called iam:AttachUserPolicy in account 111122223333 (us-east-1) from 203.0.113.7 using "aws-cli/2.15.0".`},
		{"empty fields", 0, []event.Header{bare}, `An unknown principal called GetCallerIdentity.`},
		{"no events", 0, nil, `No events.`},
		{"service", 0, []event.Header{service},
			`ecs.amazonaws.com called iam:AttachUserPolicy in account 111122223333 (us-east-1) from ecs.amazonaws.com.`},
		{"long user agent", 0, []event.Header{longUA},
			`user/alice called iam:AttachUserPolicy in account 111122223333 (us-east-1) from 203.0.113.7 using "` + strings.Repeat("x", 79) + `…".`},
		{"several APIs, regions, IPs, principals, agents", 0, many(9, func(i int, h *event.Header) {
			h.EventName = []string{"CreateUser", "CreateAccessKey", "AttachUserPolicy", "PutUserPolicy", "ListUsers"}[i%5]
			h.Region = []string{"us-east-1", "eu-west-1", "us-west-2", "ap-south-1"}[i%4]
			h.SourceIP = fmt.Sprintf("198.51.100.%d", i%3)
			h.UserAgent = fmt.Sprint("agent", i%2)
			if i%3 == 0 {
				h.ErrorCode = []string{"AccessDenied", "NoSuchEntity"}[i%2]
			}
			if i == 8 {
				h.Actor = "arn:aws:iam::111122223333:user/bob"
			}
		}), `user/alice and other principals made 9 calls (3 failed with AccessDenied or NoSuchEntity) to ` +
			`iam:AttachUserPolicy (2), iam:CreateAccessKey (2), iam:CreateUser (2) and 2 other APIs in account ` +
			`111122223333 (ap-south-1, eu-west-1, us-east-1 and 1 more) from 198.51.100.0 and 2 other source IPs ` +
			`between 2024-03-05T14:00:00Z and 2024-03-05T18:00:00Z (4h).`},
		{"all failed, capped IPs", 2, many(4, func(i int, h *event.Header) {
			h.ErrorCode = "AccessDenied"
			h.SourceIP = fmt.Sprintf("198.51.100.%d", i)
		}), `user/alice made 4 calls (all failed with AccessDenied) to iam:AttachUserPolicy in account ` +
			`111122223333 (us-east-1) from 198.51.100.0 and at least 2 other source IPs between ` +
			`2024-03-05T14:00:00Z and 2024-03-05T15:30:00Z (1h30m) using "aws-cli/2.15.0".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := accumulate(testRule, tt.limit, tt.hs).Summary; got != tt.want {
				t.Errorf("summary\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{400 * time.Millisecond, "0s"},
		{12 * time.Second, "12s"},
		{4*time.Minute + 12*time.Second, "4m12s"},
		{56 * time.Minute, "56m"},
		{2*time.Hour + 5*time.Minute + 7*time.Second, "2h5m"},
		{3*24*time.Hour + 4*time.Hour + 59*time.Minute, "3d4h"},
		{3*24*time.Hour + 59*time.Minute, "3d"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestShortActor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"arn:aws:iam::111122223333:user/alice", "user/alice"},
		{"arn:aws:iam::111122223333:user/dept/eng/alice", "user/alice"},
		{"arn:aws:iam::111122223333:role/Admin#session", "role/Admin#session"},
		{"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123#alice@example.com", "role/AWSReservedSSO_Admin_0123#alice@example.com"},
		{"arn:aws:iam::111122223333:role/Admin", "role/Admin"},
		{"arn:aws:sts::111122223333:assumed-role/Admin/sess", "role/Admin#sess"},
		{"arn:aws:sts::111122223333:federated-user/bob", "federated-user/bob"},
		{"arn:aws-us-gov:iam::111122223333:root", "root"},
		{"arn:aws:iam::111122223333:", "arn:aws:iam::111122223333:"},
		{"arn:broken", "arn:broken"},
		{"ecs.amazonaws.com", "ecs.amazonaws.com"},
		{"IAMUser:AIDAEXAMPLE", "IAMUser:AIDAEXAMPLE"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := shortActor(tt.in); got != tt.want {
			t.Errorf("shortActor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
