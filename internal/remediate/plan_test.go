package remediate

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/incident"
)

// TestPlanDecisions: one resource (or a few) in, the commands and skips that must come out.
func TestPlanDecisions(t *testing.T) {
	const acct = "111122223333"
	at := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
	res := func(typ incident.ResourceType, region, id, name string, details map[string]string) incident.Resource {
		return incident.Resource{Type: typ, Account: acct, Region: region, ID: id, Name: name, Details: details,
			CreatedBy: "arn:aws:iam::111122223333:user/mallory", CreatedAt: at, CreateEventID: "e1", Attribution: incident.Attacker}
	}
	changed := func(r incident.Resource) incident.Resource { r.Changed = true; return r }
	deleted := func(r incident.Resource) incident.Resource {
		r.Deleted, r.DeletedAt, r.DeleteEventID = true, at.Add(time.Hour), "e2"
		return r
	}
	withARN := func(r incident.Resource, arn string) incident.Resource { r.ARN = arn; return r }
	orig := []incident.Credential{{Kind: incident.CredentialAccessKey, Account: acct, UserARN: "arn:aws:iam::111122223333:user/alice", UserName: "alice",
		AccessKeyID: "AKIAALICE", Attribution: incident.Attacker, FirstAttackerEventID: "e0"}}
	unknown := func(r incident.Resource) incident.Resource {
		r.Attribution, r.Why = incident.Unknown, "a new address"
		return r
	}
	owner := func(r incident.Resource) incident.Resource { r.Attribution = incident.Owner; return r }
	tests := []struct {
		name      string
		in        []incident.Resource
		opts      PlanOptions
		wantLines []string
		wantSkips []string // substrings of Step.Skip
		notLines  []string // substrings no command that runs may contain
		order     []string // substrings the commands must contain in this order
		// wantCommented are commands written commented out.
		wantCommented []string
	}{{
		name:      "original user is never deleted",
		in:        []incident.Resource{res(incident.IAMUser, "global", "", "alice", nil)},
		opts:      PlanOptions{Credentials: orig},
		wantLines: []string{"aws iam update-access-key --user-name 'alice' --access-key-id 'AKIAALICE' --status Inactive"},
		wantSkips: []string{"legitimate identity: not deleted"},
		notLines:  []string{"delete-user"},
	}, {
		name: "key the attacker created on a legitimate user is deleted",
		in:   []incident.Resource{res(incident.IAMAccessKey, "global", "AKIANEW", "alice", map[string]string{"user": "alice"})},
		opts: PlanOptions{Credentials: orig},
		wantLines: []string{
			"aws iam update-access-key --user-name 'alice' --access-key-id 'AKIANEW' --status Inactive",
			"aws iam delete-access-key --user-name 'alice' --access-key-id 'AKIANEW'",
		},
		notLines: []string{"delete-access-key --user-name 'alice' --access-key-id 'AKIAALICE'"},
	}, {
		name:      "changed key is deactivated only",
		in:        []incident.Resource{changed(res(incident.IAMAccessKey, "global", "AKIAOLD", "bob", map[string]string{"user": "bob", "status": "Active"}))},
		wantLines: []string{"aws iam update-access-key --user-name 'bob' --access-key-id 'AKIAOLD' --status Inactive"},
		notLines:  []string{"delete-access-key"},
	}, {
		name:      "leaked key listed as a resource is deactivated once",
		in:        []incident.Resource{changed(res(incident.IAMAccessKey, "global", "AKIAALICE", "alice", map[string]string{"user": "alice"}))},
		opts:      PlanOptions{Credentials: orig},
		wantLines: []string{"aws iam update-access-key --user-name 'alice' --access-key-id 'AKIAALICE' --status Inactive"},
		wantSkips: []string{"deactivated above"},
	}, {
		name:      "key without user name belongs to its creator",
		in:        []incident.Resource{res(incident.IAMAccessKey, "global", "AKIASELF", "", nil)},
		wantLines: []string{"aws iam delete-access-key --user-name 'mallory' --access-key-id 'AKIASELF'"},
	}, {
		name: "stolen instance credentials: the role's sessions revoked, the instance named, the data listed",
		opts: PlanOptions{Credentials: []incident.Credential{{Kind: incident.CredentialRoleSession, Account: acct, AccessKeyID: "ASIATEMP",
			RoleARN: "arn:aws:iam::111122223333:role/app/web-ec2-role", Session: "i-0abc", InstanceID: "i-0abc", Region: "eu-west-1",
			IssuedBy: "ec2.amazonaws.com", IssueEventID: "e9", Attribution: incident.Attacker, FirstAttackerEventID: "e0"}},
			DataRead: []incident.DataRead{{Account: acct, Kind: "s3-bucket", Name: "prod-data", What: "12 objects read", EventID: "e3"}}},
		wantLines: []string{`aws iam put-role-policy --role-name 'web-ec2-role' --policy-name AWSRevokeOlderSessions --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'"}}}]}'`},
		wantSkips: []string{"isolate it before anything else touches it", "a read cannot be undone"},
		notLines:  []string{"update-access-key", "terminate-instances"},
	}, {
		name: "credential of unknown attribution: its command commented out; an owner's left alone",
		opts: PlanOptions{Credentials: []incident.Credential{
			{Kind: incident.CredentialAccessKey, Account: acct, UserName: "bob", AccessKeyID: "AKIABOB", Attribution: incident.Unknown, Why: "no signal"},
			{Kind: incident.CredentialAccessKey, Account: acct, UserName: "carol", AccessKeyID: "AKIACAROL", Attribution: incident.Owner, Why: "all the owner's"}}},
		wantCommented: []string{"aws iam update-access-key --user-name 'bob' --access-key-id 'AKIABOB' --status Inactive"},
		wantSkips:     []string{"all its calls in scope are its owner's"},
		notLines:      []string{"AKIABOB", "AKIACAROL"},
	}, {
		name: "unknown resources: commands commented out with the reason; owner resources never",
		in: []incident.Resource{
			unknown(res(incident.EC2Instance, "us-east-1", "i-unk", "i-unk", map[string]string{"instance_type": "t3.micro"})),
			owner(res(incident.EC2Instance, "us-east-1", "i-own", "i-own", map[string]string{"instance_type": "t3.micro"})),
			unknown(res(incident.IAMUser, "global", "", "maybe", nil)),
		},
		wantCommented: []string{"aws ec2 terminate-instances --instance-ids 'i-unk' --region 'us-east-1'", "aws iam delete-user --user-name 'maybe'"},
		wantSkips:     []string{"made by its owner's calls"},
		notLines:      []string{"i-unk", "i-own", "maybe"},
	}, {
		name:      "changed login profile is left to the owner",
		in:        []incident.Resource{changed(res(incident.IAMLoginProfile, "global", "", "bob", nil))},
		wantSkips: []string{"changed the password"},
		notLines:  []string{"delete-login-profile"},
	}, {
		name: "role policies and inline policies",
		in: []incident.Resource{
			res(incident.IAMPolicyAttachment, "global", "", "arn:aws:iam::aws:policy/ReadOnlyAccess", map[string]string{"principal_type": "role", "principal": "r1"}),
			res(incident.IAMInlinePolicy, "global", "", "p1", map[string]string{"principal_type": "group", "principal": "g1"}),
			res(incident.IAMRole, "global", "", "r1", nil),
		},
		wantLines: []string{
			"aws iam detach-role-policy --role-name 'r1' --policy-arn 'arn:aws:iam::aws:policy/ReadOnlyAccess'",
			"aws iam delete-group-policy --group-name 'g1' --policy-name 'p1'",
			"aws iam delete-role --role-name 'r1'",
		},
	}, {
		name: "service of a deleted cluster",
		in: []incident.Resource{
			deleted(res(incident.ECSCluster, "eu-north-1", "c1", "c1", nil)),
			res(incident.ECSService, "eu-north-1", "s1", "s1", map[string]string{"cluster": "c1"}),
		},
		wantSkips: []string{"already deleted", "its cluster is already deleted"},
		notLines:  []string{"ecs"},
	}, {
		name: "service in a cluster the attacker did not create: no wait, no cluster deletion",
		in:   []incident.Resource{res(incident.ECSService, "eu-north-1", "s1", "s1", map[string]string{"cluster": "prod"})},
		wantLines: []string{
			"aws ecs update-service --cluster 'prod' --service 's1' --desired-count 0 --region 'eu-north-1'",
			"aws ecs delete-service --cluster 'prod' --service 's1' --force --region 'eu-north-1'",
		},
		notLines: []string{"wait", "delete-cluster"},
	}, {
		name: "group membership is removed before the user is deleted",
		in: []incident.Resource{
			res(incident.IAMUser, "global", "", "aws-cli-x1", nil),
			res(incident.IAMGroupMembership, "global", "Admins/aws-cli-x1", "Admins", map[string]string{"group": "Admins", "user": "aws-cli-x1"}),
			res(incident.IAMGroupMembership, "global", "Ops/alice", "Ops", map[string]string{"group": "Ops", "user": "alice"}),
			res(incident.IAMGroupMembership, "global", "/", "", map[string]string{}),
		},
		opts: PlanOptions{Credentials: orig},
		wantLines: []string{
			"aws iam remove-user-from-group --group-name 'Admins' --user-name 'aws-cli-x1'",
			"aws iam remove-user-from-group --group-name 'Ops' --user-name 'alice'",
		},
		wantSkips: []string{"group or user of the membership unknown"},
		order:     []string{"remove-user-from-group --group-name 'Admins'", "delete-user --user-name 'aws-cli-x1'"},
	}, {
		name: "policy versions: a created version is deleted, a default change is restored by hand first",
		in: []incident.Resource{
			changed(withARN(res(incident.IAMManagedPolicy, "global", "arn:aws:iam::111122223333:policy/ci", "ci",
				map[string]string{"version": "v3", "set_as_default": "true", "default_version": "v3"}), "arn:aws:iam::111122223333:policy/ci")),
			changed(withARN(res(incident.IAMManagedPolicy, "global", "arn:aws:iam::111122223333:policy/ops", "ops",
				map[string]string{"version": "v2", "set_as_default": "false"}), "arn:aws:iam::111122223333:policy/ops")),
			changed(withARN(res(incident.IAMManagedPolicy, "global", "arn:aws:iam::111122223333:policy/old", "old",
				map[string]string{"default_version": "v1"}), "arn:aws:iam::111122223333:policy/old")),
			deleted(changed(res(incident.IAMManagedPolicy, "global", "arn:aws:iam::111122223333:policy/gone", "gone", map[string]string{"version": "v2"}))),
		},
		wantLines: []string{
			"aws iam delete-policy-version --policy-arn 'arn:aws:iam::111122223333:policy/ci' --version-id 'v3'",
			"aws iam delete-policy-version --policy-arn 'arn:aws:iam::111122223333:policy/ops' --version-id 'v2'",
		},
		wantSkips: []string{"made version v3 the default", "made version v1 the default", "already deleted"},
		notLines:  []string{"policy/old", "policy/gone", "set-default-policy-version"},
	}, {
		name:      "task definition without revision",
		in:        []incident.Resource{res(incident.ECSTaskDefinition, "us-east-2", "fam", "fam", nil)},
		wantSkips: []string{"revision unknown"},
	}, {
		name:      "task definition named by ARN",
		in:        []incident.Resource{withARN(res(incident.ECSTaskDefinition, "us-east-2", "", "", nil), "arn:aws:ecs:us-east-2:111122223333:task-definition/fam:3")},
		wantLines: []string{"aws ecs deregister-task-definition --task-definition 'fam:3' --region 'us-east-2'"},
	}, {
		name: "rule of a deleted group; source-group and icmp rules",
		in: []incident.Resource{
			deleted(res(incident.EC2SecurityGroup, "us-west-1", "sg-1", "g", nil)),
			res(incident.EC2SecurityGroupRule, "us-west-1", "", "", map[string]string{"group_id": "sg-1", "protocol": "tcp", "from_port": "22", "to_port": "22", "cidr": "0.0.0.0/0"}),
			res(incident.EC2SecurityGroupRule, "us-west-1", "", "", map[string]string{"group_id": "sg-2", "protocol": "tcp", "from_port": "0", "to_port": "65535", "cidr": "sg-9"}),
			res(incident.EC2SecurityGroupRule, "us-west-1", "", "", map[string]string{"group_id": "sg-2", "protocol": "icmp", "from_port": "-1", "to_port": "-1", "cidr": "10.0.0.0/8"}),
			res(incident.EC2SecurityGroupRule, "us-west-1", "", "", map[string]string{"group_id": "sg-2", "protocol": "udp", "from_port": "1000", "to_port": "2000", "cidr": "1.2.3.4/32"}),
		},
		wantLines: []string{
			`aws ec2 revoke-security-group-ingress --group-id 'sg-2' --ip-permissions '[{"IpProtocol":"tcp","FromPort":0,"ToPort":65535,"UserIdGroupPairs":[{"GroupId":"sg-9"}]}]' --region 'us-west-1'`,
			`aws ec2 revoke-security-group-ingress --group-id 'sg-2' --ip-permissions '[{"IpProtocol":"icmp","FromPort":-1,"ToPort":-1,"IpRanges":[{"CidrIp":"10.0.0.0/8"}]}]' --region 'us-west-1'`,
			"aws ec2 revoke-security-group-ingress --group-id 'sg-2' --protocol 'udp' --port '1000-2000' --cidr '1.2.3.4/32' --region 'us-west-1'",
		},
		wantSkips: []string{"its security group is already deleted"},
		notLines:  []string{"'sg-1'"},
	}, {
		name: "key pair by name, instance without id, unknown type",
		in: []incident.Resource{
			res(incident.EC2KeyPair, "us-west-1", "", "k1", nil),
			res(incident.EC2Instance, "us-west-1", "", "e1", map[string]string{"instance_type": "t3.micro"}),
			res("sqs:queue", "us-west-1", "q", "q", nil),
		},
		wantLines: []string{"aws ec2 delete-key-pair --key-name 'k1' --region 'us-west-1'"},
		wantSkips: []string{"no instance id", "no cleanup known"},
		notLines:  []string{"terminate-instances"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := buildPlan(t, tt.in, tt.opts)
			var lines, skips, commented []string
			for _, s := range p.Sections {
				for _, st := range s.Steps {
					switch {
					case st.Line != "" && st.Commented:
						commented = append(commented, st.Line)
					case st.Line != "":
						lines = append(lines, st.Line)
					}
					if st.Skip != "" {
						skips = append(skips, st.Skip)
					}
				}
			}
			for _, want := range tt.wantLines {
				if !contains(lines, want, true) {
					t.Errorf("no command %q in\n%s", want, strings.Join(lines, "\n"))
				}
			}
			for _, want := range tt.wantCommented {
				if !contains(commented, want, true) {
					t.Errorf("no commented-out command %q in\n%s", want, strings.Join(commented, "\n"))
				}
			}
			for _, want := range tt.wantSkips {
				if !contains(skips, want, false) {
					t.Errorf("no skip %q in %q", want, skips)
				}
			}
			for _, bad := range tt.notLines {
				if contains(lines, bad, false) {
					t.Errorf("a command contains %q:\n%s", bad, strings.Join(lines, "\n"))
				}
			}
			last := -1
			for _, o := range tt.order {
				i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, o) })
				if i <= last {
					t.Errorf("%q is not after the previous commands of %q in\n%s", o, tt.order, strings.Join(lines, "\n"))
				}
				last = i
			}
			if n := len(lines) + len(skips) + len(commented); n < len(tt.in) {
				t.Errorf("%d steps for %d resources: every resource must show in the plan", n, len(tt.in))
			}
		})
	}
}

func contains(list []string, s string, exact bool) bool {
	for _, x := range list {
		if (exact && x == s) || (!exact && strings.Contains(x, s)) {
			return true
		}
	}
	return false
}

// TestShellQuote: sh reads every quoted string back unchanged.
func TestShellQuote(t *testing.T) {
	needSh(t)
	for _, s := range []string{"", "plain", "x'; rm -rf / #", "''", `\'`, "$(id)", "`id`", "a b\tc", "*", "~root", "!!", "é€"} {
		out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+shellQuote(s)).Output()
		if err != nil {
			t.Fatalf("sh on %q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("shellQuote(%q) read back as %q", s, out)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"aws-cli7xq2", "aws-cli7xq2"},
		{"a\nb", `a\x0ab`},
		{"a\r#b", `a\x0d#b`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"ok\u202eevil", `ok\u202eevil`},
		{"line\u2028sep", `line\u2028sep`},
		{`back\slash`, `back\\slash`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"café", "café"},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
