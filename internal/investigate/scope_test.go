package investigate

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

var (
	attacker = iamUser(acctA, "mailer", "AKIALEAKED0000000001")
	alice    = iamUser(acctA, "alice", "AKIAALICE00000000001") // a benign admin in the same account
)

func TestLineage(t *testing.T) {
	bob := iamUser(acctA, "bob", "AKIABOB0000000000001")
	carol := iamUser(acctA, "carol", "AKIACAROL00000000001")
	dave := iamUser(acctA, "dave", "AKIADAVE000000000001")
	tests := []struct {
		name  string
		evs   []ev
		start Start
		// want are the event ids in scope, in time order.
		want []string
		// keys, when set, are the access-key identities of the scope ("KEY how"), sorted.
		keys []string
	}{
		{
			name: "created user, its key and its console session; benign admin stays out",
			evs: []ev{
				createUser("e1", 0, attacker, "bob"),
				createKey("e2", 1, attacker, "bob", "AKIABOB0000000000001"),
				{id: "e3", at: 2, who: alice, api: "iam:ListUsers"}, // same account, same IP, same minute
				createUser("e3b", 2, alice, "intern"),
				call("e4", 3, bob, "s3:ListBuckets"),
				{id: "e5", at: 60, who: iamUser(acctA, "bob", ""), api: "signin:ConsoleLogin", ip: "203.0.113.9"},
				call("e6", 61, bob.consoleAt(60, "ASIABOBCONSOLE000001"), "ec2:DescribeInstances"),
				call("e7", 62, iamUser(acctA, "intern", "AKIAINTERN0000000001"), "s3:ListBuckets"),
			},
			start: Start{AccessKey: "AKIALEAKED0000000001"},
			want:  []string{"e1", "e2", "e4", "e5", "e6"},
		},
		{
			name: "role chain across accounts; a reused session name stays out",
			evs: []ev{
				assumeRole("e1", 0, attacker, "arn:aws:iam::"+acctA+":role/deploy", "x", "ASIACHAIN00000000001", nil),
				assumeRole("e2", 1, roleSession(acctA, "deploy", "x", "ASIACHAIN00000000001"),
					"arn:aws:iam::"+acctB+":role/admin", "GitHubActions", "ASIACHAIN00000000002", nil),
				call("e3", 2, roleSession(acctB, "admin", "GitHubActions", "ASIACHAIN00000000002"), "ec2:RunInstances"),
				// The CI uses the same role and session name with its own key.
				call("e4", 3, roleSession(acctB, "admin", "GitHubActions", "ASIACI00000000000001"), "ecs:UpdateService"),
				call("e5", 4, roleSession(acctA, "deploy", "other", "ASIAOTHER0000000001"), "s3:ListBuckets"),
			},
			start: Start{ARN: attacker.arn},
			want:  []string{"e1", "e2", "e3"},
		},
		{
			name: "key made for an existing user, then GetSessionToken: the key, not the user",
			evs: []ev{
				createKey("e1", 0, attacker, "carol", "AKIACAROLNEW00000001"),
				{id: "e2", at: 1, who: iamUser(acctA, "carol", "AKIACAROLNEW00000001"), api: "sts:GetSessionToken",
					resp: map[string]any{"credentials": map[string]any{"accessKeyId": "ASIACAROLTOKEN000001"}}},
				call("e3", 2, iamUser(acctA, "carol", "ASIACAROLTOKEN000001"), "iam:ListRoles"),
				call("e4", 3, carol, "s3:ListBuckets"), // carol's own key
			},
			start: Start{ARN: attacker.arn},
			want:  []string{"e1", "e2", "e3"},
		},
		{
			name: "console password of an existing user: later console sessions only",
			evs: []ev{
				call("e0", 0, dave.consoleAt(0, "ASIADAVEOLD000000001"), "ec2:DescribeInstances"),
				{id: "e1", at: 10, who: attacker, api: "iam:UpdateLoginProfile", req: map[string]any{"userName": "dave"}},
				{id: "e2", at: 20, who: iamUser(acctA, "dave", ""), api: "signin:ConsoleLogin"},
				call("e3", 21, dave.consoleAt(20, "ASIADAVENEW000000001"), "iam:CreateAccessKey"),
				call("e4", 22, dave, "s3:ListBuckets"),
			},
			start: Start{Signal: "sig-dave"},
			want:  []string{"e1", "e2", "e3"},
		},
		{
			name: "role created by the scope: every session of it",
			evs: []ev{
				{id: "e1", at: 0, who: attacker, api: "iam:CreateRole", req: map[string]any{"roleName": "backdoor"},
					resp: map[string]any{"role": map[string]any{"arn": "arn:aws:iam::" + acctA + ":role/backdoor"}}},
				assumeRole("e2", 5, iamUser(acctB, "outsider", "AKIAOUT0000000000001"), "arn:aws:iam::"+acctA+":role/backdoor", "s", "ASIABACK000000000001", nil),
				call("e3", 6, roleSession(acctA, "backdoor", "s", "ASIABACK000000000001"), "s3:ListBuckets"),
				call("e4", 7, roleSession(acctA, "deploy", "s", "ASIADEPLOY0000000001"), "s3:ListBuckets"),
			},
			start: Start{User: "mailer"},
			want:  []string{"e1", "e3"},
		},
		{
			name: "sourceIdentity set by the scope follows sessions",
			evs: []ev{
				assumeRole("e1", 0, attacker, "arn:aws:iam::"+acctA+":role/r1", "a", "ASIASRC0000000000001", map[string]any{"sourceIdentity": "evil"}),
				call("e2", 1, roleSession(acctA, "r2", "b", "ASIASRC0000000000002").withSourceIdentity("evil"), "s3:ListBuckets"),
				call("e3", 2, roleSession(acctA, "r2", "c", "ASIASRC0000000000003").withSourceIdentity("alice"), "s3:ListBuckets"),
			},
			start: Start{AccessKey: attacker.key},
			want:  []string{"e1", "e2"},
		},
		{
			name: "source IP starts, never expands",
			evs: []ev{
				{id: "e1", at: 0, who: attacker, api: "iam:ListUsers", ip: "140.213.52.9"},
				createUser("e2", 1, attacker, "bob"),
				{id: "e3", at: 2, who: iamUser(acctA, "bob", "AKIABOB0000000000009"), api: "s3:ListBuckets", ip: "192.0.2.1"},
				{id: "e4", at: 3, who: alice, api: "iam:ListUsers", ip: "192.0.2.1"}, // shares an address with bob
			},
			start: Start{IP: "140.213.52.9"},
			want:  []string{"e1", "e2", "e3"},
		},
		{
			name: "failed CreateUser does not link; a deleted name reused later stays out",
			evs: []ev{
				func() ev { e := createUser("e1", 0, attacker, "eve"); e.errCode = "AccessDenied"; return e }(),
				createUser("e2", 1, attacker, "tmp"),
				call("e3", 2, iamUser(acctA, "tmp", "AKIATMP0000000000001"), "s3:ListBuckets"),
				call("e4", 3, iamUser(acctA, "eve", "AKIAEVE0000000000001"), "s3:ListBuckets"),
				{id: "e5", at: 10, who: alice, api: "iam:DeleteUser", req: map[string]any{"userName": "tmp"}},
				createUser("e6", 20, alice, "tmp"),
				call("e7", 21, iamUser(acctA, "tmp", "AKIATMP0000000000002"), "s3:ListBuckets"),
			},
			start: Start{ARN: attacker.arn},
			want:  []string{"e1", "e2", "e3"},
		},
		{
			name: "SAML and web identity sessions of a role the scope created; the callers and their other roles stay out",
			evs: []ev{
				{id: "e1", at: 0, who: attacker, api: "iam:CreateRole", req: map[string]any{"roleName": "backdoor"},
					resp: map[string]any{"role": map[string]any{"arn": "arn:aws:iam::" + acctA + ":role/backdoor"}}},
				assumeRoleFederated("e2", 5, samlUser(acctA, "jdoe@corp.example"), "arn:aws:iam::"+acctA+":role/backdoor", "jdoe@corp.example", "ASIASAML000000000001"),
				call("e3", 6, roleSession(acctA, "backdoor", "jdoe@corp.example", "ASIASAML000000000001"), "s3:ListBuckets"),
				assumeRoleFederated("e4", 7, webUser(acctA, "repo:evil/x:ref:refs/heads/main"), "arn:aws:iam::"+acctA+":role/backdoor", "gh-run", "ASIAWEB0000000000001"),
				call("e5", 8, roleSession(acctA, "backdoor", "gh-run", "ASIAWEB0000000000001"), "ec2:RunInstances"),
				// The same SAML user's session of another role is theirs, not the scope's.
				assumeRoleFederated("e6", 9, samlUser(acctA, "jdoe@corp.example"), "arn:aws:iam::"+acctA+":role/readonly", "jdoe@corp.example", "ASIASAML000000000002"),
				call("e7", 10, roleSession(acctA, "readonly", "jdoe@corp.example", "ASIASAML000000000002"), "s3:ListBuckets"),
			},
			start: Start{User: "mailer"},
			want:  []string{"e1", "e3", "e5"},
			keys:  []string{"ASIASAML000000000001 assumed role with SAML", "ASIAWEB0000000000001 assumed role with web identity"},
		},
		{
			name: "role start: its SAML sessions and their role chain join, the SAML user does not",
			evs: []ev{
				assumeRoleFederated("e1", 0, samlUser(acctA, "jdoe@corp.example"), "arn:aws:iam::"+acctA+":role/sso-admin", "jdoe@corp.example", "ASIASSO0000000000001"),
				assumeRole("e2", 1, roleSession(acctA, "sso-admin", "jdoe@corp.example", "ASIASSO0000000000001"),
					"arn:aws:iam::"+acctB+":role/admin", "hop", "ASIAHOP0000000000001", nil),
				call("e3", 2, roleSession(acctB, "admin", "hop", "ASIAHOP0000000000001"), "iam:ListUsers"),
				assumeRoleFederated("e4", 3, samlUser(acctA, "jdoe@corp.example"), "arn:aws:iam::"+acctA+":role/billing", "jdoe@corp.example", "ASIABILL000000000001"),
				call("e5", 4, roleSession(acctA, "billing", "jdoe@corp.example", "ASIABILL000000000001"), "ce:GetCostAndUsage"),
			},
			start: Start{ARN: "arn:aws:iam::" + acctA + ":role/sso-admin"},
			want:  []string{"e2", "e3"},
			keys:  []string{"ASIAHOP0000000000001 assumed role", "ASIASSO0000000000001 assumed role with SAML"},
		},
		{
			name: "federated session key start: that session only, not a reused session name",
			evs: []ev{
				assumeRoleFederated("e1", 0, webUser(acctA, "repo:evil/x:ref:refs/heads/main"), "arn:aws:iam::"+acctA+":role/ci", "GitHubActions", "ASIAWEB0000000000002"),
				call("e2", 1, roleSession(acctA, "ci", "GitHubActions", "ASIAWEB0000000000002"), "secretsmanager:GetSecretValue"),
				assumeRoleFederated("e3", 2, webUser(acctA, "repo:corp/app:ref:refs/heads/main"), "arn:aws:iam::"+acctA+":role/ci", "GitHubActions", "ASIAWEB0000000000003"),
				call("e4", 3, roleSession(acctA, "ci", "GitHubActions", "ASIAWEB0000000000003"), "ecs:UpdateService"),
			},
			start: Start{AccessKey: "ASIAWEB0000000000002"},
			want:  []string{"e2"},
			keys:  []string{"ASIAWEB0000000000002 pre-existing identity"},
		},
		{
			name: "SAML identity start (--arn): the sessions it opened, not the other sessions of the role",
			evs: []ev{
				assumeRoleFederated("e1", 0, samlUser(acctA, "mallory@corp.example"), "arn:aws:iam::"+acctA+":role/sso-admin", "mallory@corp.example", "ASIAMAL0000000000001"),
				call("e2", 1, roleSession(acctA, "sso-admin", "mallory@corp.example", "ASIAMAL0000000000001"), "iam:CreateAccessKey"),
				assumeRoleFederated("e3", 2, samlUser(acctA, "jdoe@corp.example"), "arn:aws:iam::"+acctA+":role/sso-admin", "jdoe@corp.example", "ASIASSO0000000000009"),
				call("e4", 3, roleSession(acctA, "sso-admin", "jdoe@corp.example", "ASIASSO0000000000009"), "iam:ListUsers"),
			},
			start: Start{ARN: "SAMLUser:SAMLPROVIDERHASH=:mallory@corp.example"},
			want:  []string{"e1", "e2"},
			keys:  []string{"ASIAMAL0000000000001 assumed role with SAML"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := loadEvents(t, tc.evs)
			sigs := testSignals(attacker)
			rep, err := Investigate(context.Background(), x, tc.start, sigs, Options{})
			if err != nil {
				t.Fatalf("Investigate: %v", err)
			}
			// The same investigation over a store reads only what the scope needs, and
			// must give the same report.
			sx, err := LoadStore(context.Background(), storeOf(t, tc.evs), tc.start, sigs, LoadOptions{})
			if err != nil {
				t.Fatalf("LoadStore: %v", err)
			}
			srep, err := Investigate(context.Background(), sx, tc.start, sigs, Options{})
			if err != nil {
				t.Fatalf("Investigate over the store: %v", err)
			}
			if diff := cmp.Diff(reportJSON(t, rep), reportJSON(t, srep)); diff != "" {
				t.Errorf("report over the store (-logs +store):\n%s", diff)
			}
			var got []string
			for _, e := range rep.Timeline {
				got = append(got, e.EventID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("events in scope (-want +got):\n%s\nidentities: %+v", diff, rep.Identities)
			}
			if tc.keys != nil {
				var keys []string
				for _, id := range rep.Identities {
					if id.Kind == "access-key" {
						keys = append(keys, id.ID+" "+id.How)
					}
				}
				slices.Sort(keys)
				if diff := cmp.Diff(tc.keys, keys); diff != "" {
					t.Errorf("access keys in scope (-want +got):\n%s\nidentities: %+v", diff, rep.Identities)
				}
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	x := loadEvents(t, []ev{call("e1", 0, attacker, "iam:ListUsers")})
	tests := []struct {
		name     string
		start    Start
		notFound bool
	}{
		{"none", Start{}, false},
		{"two", Start{User: "a", IP: "1.2.3.4"}, false},
		{"unknown key", Start{AccessKey: "AKIANOPE"}, true},
		{"unknown signal", Start{Signal: "nope"}, true},
		{"unknown user", Start{User: "nobody"}, true},
		{"unknown ip", Start{IP: "10.9.9.9"}, true},
		{"unknown arn", Start{ARN: "arn:aws:iam::1:user/x"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Investigate(context.Background(), x, tc.start, nil, Options{})
			if err == nil {
				t.Fatal("got no error")
			}
			if got := errors.Is(err, ErrNotFound); got != tc.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, got, tc.notFound)
			}
		})
	}
}

func TestDuplicatesDropped(t *testing.T) {
	e := call("e1", 0, attacker, "iam:ListUsers")
	x := loadEvents(t, []ev{e, e, call("e2", 1, attacker, "iam:ListRoles")})
	if got := x.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}
	if got := x.Stats().Duplicates; got != 1 {
		t.Errorf("Duplicates = %d, want 1", got)
	}
}
