package investigate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/incident"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/signal"
)

const (
	ownerIP    = "198.18.0.10"
	ownerUA    = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 exec-env/ci"
	attackerIP = "140.213.52.9"
	attackerUA = "Boto3/1.26.45 Python/3.8.10 Linux/5.4.0-150-generic Botocore/1.29.45"
)

// ci is a busy CI user whose key leaks.
var ci = iamUser(acctA, "ci", "AKIACI00000000000001")

// runInstance is an ec2:RunInstances that started instance id.
func runInstance(id string, at int, by who, ip, ua, instance string) ev {
	return ev{id: id, at: at, who: by, api: "ec2:RunInstances", ip: ip, ua: ua,
		req:  map[string]any{"instanceType": "t3.micro", "instancesSet": map[string]any{"items": []any{map[string]any{"imageId": "ami-1", "minCount": 1, "maxCount": 1}}}},
		resp: map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": instance, "instanceType": "t3.micro"}}}}}
}

// from sets the address and client of an event.
func from(e ev, ip, ua string) ev { e.ip, e.ua = ip, ua; return e }

// signalOn is a signal at level marking events.
func signalOn(id string, level signal.Level, who who, events ...string) signal.Signal {
	return signal.Signal{ID: id, RuleID: "r-" + id, Title: "test signal " + id, Level: level, Actor: who.arn, AccessKeyID: who.key, EventIDs: events, EventCount: len(events)}
}

// sharedKey is a CI key its pipeline uses all along and an attacker uses for a while.
func sharedKey() []ev {
	backdoor := iamUser(acctA, "backdoor", "AKIABACKDOOR00000001")
	return []ev{
		from(call("o1", 0, ci, "ec2:DescribeInstances"), ownerIP, ownerUA),
		runInstance("o2", 10, ci, ownerIP, ownerUA, "i-own1"),
		from(call("a1", 300, ci, "iam:ListUsers"), attackerIP, attackerUA),
		from(createUser("a2", 301, ci, "backdoor"), attackerIP, attackerUA),
		from(createKey("a2k", 301, ci, "backdoor", "AKIABACKDOOR00000001"), attackerIP, attackerUA),
		runInstance("o3", 302, ci, ownerIP, ownerUA, "i-own2"),
		runInstance("a3", 303, ci, "203.0.113.50", attackerUA, "i-att"),
		from(call("o4", 304, ci, "ec2:DescribeSubnets"), "198.18.0.99", ownerUA),
		runInstance("u1", 305, ci, "192.0.2.77", "curl/8.5.0", "i-unk"),
		from(call("b1", 306, backdoor, "s3:ListBuckets"), "45.155.205.3", "python-requests/2.31"),
		from(call("o5", 600, ci, "ec2:DescribeInstances"), ownerIP, ownerUA),
		from(call("u2", 700, ci, "sts:GetCallerIdentity"), "192.0.2.88", "Go-http-client/1.1"),
	}
}

// TestAttribution: the calls of a shared identity, attributed one by one, from every start
// that reaches the incident.
func TestAttribution(t *testing.T) {
	const (
		A = incident.Attacker
		O = incident.Owner
		U = incident.Unknown
	)
	legit := []ev{
		from(createKey("l1", 0, alice, "bob", "AKIABOB0000000000001"), "203.0.113.5", "Mozilla/5.0 console"),
		from(call("l2", 5, iamUser(acctA, "bob", "AKIABOB0000000000001"), "s3:ListBuckets"), "203.0.113.20", "aws-cli/2.15.0 bob"),
		from(createUser("l3", 300, iamUser(acctA, "bob", "AKIABOB0000000000001"), "evil"), attackerIP, attackerUA),
		from(call("l3b", 301, iamUser(acctA, "evil", "AKIAEVIL000000000001"), "s3:ListBuckets"), attackerIP, attackerUA),
		from(call("l4", 500, iamUser(acctA, "bob", "AKIABOB0000000000001"), "s3:ListBuckets"), "203.0.113.20", "aws-cli/2.15.0 bob"),
		from(call("l5", 600, alice, "iam:ListUsers"), "203.0.113.5", "Mozilla/5.0 console"),
	}
	deploy := "arn:aws:iam::" + acctA + ":role/deploy"
	roles := []ev{
		from(call("r0", 0, ci, "ec2:DescribeInstances"), ownerIP, ownerUA),
		from(assumeRole("r1", 10, ci, deploy, "pipeline", "ASIAPIPE000000000001", nil), ownerIP, ownerUA),
		runInstance("r2", 11, roleSession(acctA, "deploy", "pipeline", "ASIAPIPE000000000001"), ownerIP, ownerUA, "i-pipe"),
		from(assumeRole("r3", 300, ci, deploy, "x", "ASIAEVIL000000000001", nil), attackerIP, attackerUA),
		runInstance("r4", 301, roleSession(acctA, "deploy", "x", "ASIAEVIL000000000001"), attackerIP, attackerUA, "i-evil"),
		from(call("r5", 600, ci, "ec2:DescribeInstances"), ownerIP, ownerUA),
	}
	tests := []struct {
		name    string
		evs     []ev
		signals []signal.Signal
		starts  []Start
		want    map[string]incident.Attribution // every event of the timeline
		// owned and attacker are resource ids the report must list apart or as the
		// attacker's; commented are ids whose commands the plan comments out; revoked the
		// roles whose sessions it revokes.
		owned, attacker, commented, revoked []string
	}{{
		name:    "busy owner and attacker share a key",
		evs:     sharedKey(),
		signals: []signal.Signal{signalOn("s1", signal.LevelHigh, ci, "a2")},
		starts: []Start{{AccessKey: ci.key}, {Signal: "s1"}, {User: "backdoor"}, {IP: attackerIP},
			{AccessKey: "AKIABACKDOOR00000001"}, {ARN: "arn:aws:iam::" + acctA + ":user/backdoor"}},
		want:  map[string]incident.Attribution{"o1": O, "o2": O, "a1": A, "a2": A, "a2k": A, "o3": O, "a3": A, "o4": O, "u1": U, "b1": A, "o5": O, "u2": O},
		owned: []string{"i-own1", "i-own2"}, attacker: []string{"i-att", "backdoor", "AKIABACKDOOR00000001"}, commented: []string{"i-unk"},
	}, {
		name:      "no signal: nothing can be told",
		evs:       sharedKey(),
		starts:    []Start{{AccessKey: ci.key}},
		want:      map[string]incident.Attribution{"o1": U, "o2": U, "a1": U, "a2": U, "a2k": U, "o3": U, "a3": U, "o4": U, "u1": U, "b1": U, "o5": U, "u2": U},
		commented: []string{"i-own1", "i-own2", "i-att", "i-unk", "backdoor"},
	}, {
		name: "a signal on the owner's usual address and client is not believed",
		evs:  sharedKey(),
		signals: []signal.Signal{signalOn("s1", signal.LevelHigh, ci, "a2"),
			signalOn("fp", signal.LevelMedium, ci, "o3")},
		starts:    []Start{{AccessKey: ci.key}, {Signal: "s1"}},
		want:      map[string]incident.Attribution{"o1": O, "o2": O, "a1": A, "a2": A, "a2k": A, "o3": U, "a3": A, "o4": O, "u1": U, "b1": A, "o5": O, "u2": O},
		owned:     []string{"i-own1"},
		attacker:  []string{"i-att"},
		commented: []string{"i-own2", "i-unk"},
	}, {
		name:    "a key made legitimately and leaked later is its own root",
		evs:     legit,
		signals: []signal.Signal{signalOn("s1", signal.LevelHigh, iamUser(acctA, "bob", "AKIABOB0000000000001"), "l3")},
		starts:  []Start{{AccessKey: "AKIABOB0000000000001"}, {Signal: "s1"}, {User: "evil"}, {IP: attackerIP}},
		want:    map[string]incident.Attribution{"l2": O, "l3": A, "l3b": A, "l4": O},
		owned:   []string{}, attacker: []string{"evil"},
	}, {
		name:     "the owner's own sessions stay out; the attacker's are in",
		evs:      roles,
		signals:  []signal.Signal{signalOn("s1", signal.LevelHigh, ci, "r3")},
		starts:   []Start{{AccessKey: ci.key}, {Signal: "s1"}, {AccessKey: "ASIAEVIL000000000001"}, {IP: attackerIP}},
		want:     map[string]incident.Attribution{"r0": O, "r1": O, "r3": A, "r4": A, "r5": O},
		attacker: []string{"i-evil"},
		revoked:  []string{"deploy"},
	}, {
		name: "a role session used from another network and client than the one that assumed it",
		evs: []ev{
			from(call("s0", 0, ci, "ec2:DescribeInstances"), ownerIP, ownerUA),
			from(assumeRole("s1", 10, ci, deploy, "pipeline", "ASIAPIPE000000000002", nil), ownerIP, ownerUA),
			runInstance("s2", 11, roleSession(acctA, "deploy", "pipeline", "ASIAPIPE000000000002"), ownerIP, ownerUA, "i-pipe2"),
			from(call("s3", 20, roleSession(acctA, "deploy", "pipeline", "ASIAPIPE000000000002"), "s3:ListBuckets"), "91.92.251.10", "aws-cli/2.15.30 kali"),
			from(call("s4", 21, roleSession(acctA, "deploy", "pipeline", "ASIAPIPE000000000002"), "iam:ListRoles"), "91.92.251.10", "aws-cli/2.15.30 kali"),
			from(call("s5", 600, ci, "ec2:DescribeInstances"), ownerIP, ownerUA),
		},
		starts:  []Start{{AccessKey: "ASIAPIPE000000000002"}, {IP: "91.92.251.10"}},
		want:    map[string]incident.Attribution{"s2": O, "s3": A, "s4": A},
		owned:   []string{"i-pipe2"},
		revoked: []string{"deploy"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := loadEvents(t, tc.evs)
			var first string
			for _, st := range tc.starts {
				rep, err := Investigate(context.Background(), x, st, tc.signals, Options{})
				if err != nil {
					t.Fatalf("%s: %v", st, err)
				}
				got := map[string]incident.Attribution{}
				for _, e := range rep.Timeline {
					got[e.EventID] = e.Attribution
					if e.Why == "" {
						t.Errorf("%s: event %s has no evidence", st, e.EventID)
					}
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("%s: attribution (-want +got):\n%s", st, d)
					for _, e := range rep.Timeline {
						t.Logf("%s %s %s", e.EventID, e.Attribution, e.Why)
					}
				}
				ids := func(rs []incident.Resource, keep func(incident.Resource) bool) []string {
					out := []string{}
					for _, r := range rs {
						if keep(r) {
							out = append(out, r.ID, r.Name)
						}
					}
					return out
				}
				ownedIDs := ids(rep.OwnerResources, func(incident.Resource) bool { return true })
				for _, id := range tc.owned {
					if !slices.Contains(ownedIDs, id) {
						t.Errorf("%s: %s not among the owner's resources %v", st, id, ownedIDs)
					}
				}
				attackerIDs := ids(rep.Resources, func(r incident.Resource) bool { return r.Attribution == incident.Attacker })
				for _, id := range tc.attacker {
					if !slices.Contains(attackerIDs, id) {
						t.Errorf("%s: %s not among the attacker's resources %v", st, id, attackerIDs)
					}
				}
				p := planOf(t, rep)
				var b strings.Builder
				if err := p.WriteScript(&b); err != nil {
					t.Fatal(err)
				}
				script := b.String()
				for _, id := range tc.commented {
					if !strings.Contains(script, "\n# aws") || !commentedOut(script, id) {
						t.Errorf("%s: no commented-out command for %s in\n%s", st, id, script)
					}
				}
				for _, role := range tc.revoked {
					if !strings.Contains(script, "\naws iam put-role-policy --role-name '"+role+"' --policy-name AWSRevokeOlderSessions") {
						t.Errorf("%s: the plan does not revoke the sessions of %s:\n%s", st, role, script)
					}
				}
				for _, id := range tc.owned {
					if strings.Contains(script, "'"+id+"'") {
						t.Errorf("%s: the plan names the owner's %s:\n%s", st, id, script)
					}
				}
				if first == "" {
					first = script
				} else if d := cmp.Diff(first, script); d != "" {
					t.Errorf("%s: the plan differs from the one from %s (-first +this):\n%s", st, tc.starts[0], d)
				}
			}
		})
	}
}

// commentedOut reports whether script has a commented-out command naming id, and no command
// that runs naming it.
func commentedOut(script, id string) bool {
	found := false
	for _, l := range strings.Split(script, "\n") {
		if !strings.Contains(l, "'"+id+"'") {
			continue
		}
		if strings.HasPrefix(l, "# aws ") {
			found = true
		} else if strings.HasPrefix(l, "aws ") {
			return false
		}
	}
	return found
}

// TestInstanceCredentialsStolen: an instance profile's credentials used from outside the
// instance, with no signal at all: the calls from another address and client are the
// attacker's, the instance's own the owner's; the credential names the AssumeRole by
// ec2.amazonaws.com that issued it and the instance; the plan revokes the role's sessions,
// names the instance for isolation and lists the data read.
func TestInstanceCredentialsStolen(t *testing.T) {
	ec2 := who{typ: "AWSService", invokedBy: "ec2.amazonaws.com"}
	role := "arn:aws:iam::" + acctA + ":role/app-ec2"
	issue := func(id string, at int, key string) ev {
		e := assumeRole(id, at, ec2, role, "i-0abc", key, nil)
		e.ip, e.ua, e.region = "ec2.amazonaws.com", "ec2.amazonaws.com", "eu-west-1"
		return e
	}
	inst := func(key string) who { return roleSession(acctA, "app-ec2", "i-0abc", key) }
	own := func(e ev) ev { e.ip, e.ua, e.region = "10.0.1.5", "Boto3/1.34.144 exec-env/EC2", "eu-west-1"; return e }
	thief := func(e ev) ev {
		e.ip, e.ua, e.region = "91.92.251.10", "aws-cli/2.15.30 Linux/6.6.9 exe/x86_64.kali.2024", "eu-west-1"
		return e
	}
	get := func(id string, at int, key, object string) ev {
		return ev{id: id, at: at, who: inst(key), api: "s3:GetObject", req: map[string]any{"bucketName": "prod-data", "key": object}}
	}
	evs := []ev{
		issue("i1", 0, "ASIAOLD0000000000001"),
		own(get("p1", 5, "ASIAOLD0000000000001", "config.json")),
		own(call("p2", 30, inst("ASIAOLD0000000000001"), "monitoring:PutMetricData")),
		issue("i2", 60, "ASIANEW0000000000001"),
		own(get("n1", 65, "ASIANEW0000000000001", "config.json")),
		thief(call("t1", 70, inst("ASIANEW0000000000001"), "sts:GetCallerIdentity")),
		thief(call("t2", 71, inst("ASIANEW0000000000001"), "s3:ListBuckets")),
		thief(get("t3", 72, "ASIANEW0000000000001", "exports/customers.csv")),
		own(call("n2", 90, inst("ASIANEW0000000000001"), "monitoring:PutMetricData")),
	}
	x := loadEvents(t, evs)
	want := map[string]incident.Attribution{"n1": incident.Owner, "t1": incident.Attacker, "t2": incident.Attacker, "t3": incident.Attacker, "n2": incident.Owner}
	var first string
	for _, st := range []Start{{AccessKey: "ASIANEW0000000000001"}, {IP: "91.92.251.10"}} {
		rep, err := Investigate(context.Background(), x, st, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]incident.Attribution{}
		for _, e := range rep.Timeline {
			got[e.EventID] = e.Attribution
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: attribution (-want +got):\n%s", st, d)
		}
		if len(rep.Credentials) != 1 {
			t.Fatalf("%s: credentials %+v", st, rep.Credentials)
		}
		c := rep.Credentials[0]
		if c.Kind != incident.CredentialRoleSession || c.RoleARN != role || c.InstanceID != "i-0abc" || c.IssueEventID != "i2" ||
			c.IssuedBy != "ec2.amazonaws.com" || c.Region != "eu-west-1" || c.Account != acctA || c.Attribution != incident.Attacker || c.FirstAttackerEventID != "t1" {
			t.Errorf("%s: credential %+v", st, c)
		}
		if id := rep.Identities[0]; !id.PreExisting || id.ID != "ASIANEW0000000000001" || id.By != "ec2.amazonaws.com" || id.EventID != "i2" {
			t.Errorf("%s: root identity %+v, want the key issued by ec2.amazonaws.com in i2", st, id)
		}
		if !slices.ContainsFunc(rep.Graph.Edges, func(e Edge) bool {
			return e.Kind == EdgeIssued && e.From == "service:ec2.amazonaws.com" && e.To == "access-key:ASIANEW0000000000001" && e.EventID == "i2"
		}) {
			t.Errorf("%s: no issued edge from ec2.amazonaws.com in %+v", st, rep.Graph.Edges)
		}
		if len(rep.Data.S3) != 1 || rep.Data.S3[0].Objects[0].Key != "exports/customers.csv" || rep.Data.S3[0].ObjectCount != 1 {
			t.Errorf("%s: data read %+v: want only the thief's read", st, rep.Data.S3)
		}
		p := planOf(t, rep)
		var cmds, skips []string
		for _, s := range p.Sections {
			for _, step := range s.Steps {
				if step.Line != "" {
					cmds = append(cmds, s.Region+" "+step.Line)
				} else {
					skips = append(skips, s.Region+" "+step.What)
				}
			}
		}
		wantCmds := []string{`global aws iam put-role-policy --role-name 'app-ec2' --policy-name AWSRevokeOlderSessions --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'"}}}]}'`}
		wantSkips := []string{"global s3-bucket prod-data read by the attacker: 1 objects read, 0 listings", "eu-west-1 instance i-0abc, whose role credentials were stolen"}
		if d := cmp.Diff(wantCmds, cmds); d != "" {
			t.Errorf("%s: commands (-want +got):\n%s", st, d)
		}
		if d := cmp.Diff(wantSkips, skips); d != "" {
			t.Errorf("%s: steps without a command (-want +got):\n%s", st, d)
		}
		var b strings.Builder
		if err := p.WriteScript(&b); err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = b.String()
		} else if b.String() != first {
			t.Errorf("%s: another plan than from the key", st)
		}
	}
}

// TestAttributionNeverBlamesOwner: over many random incidents on a shared key, with the
// attacker sometimes on the owner's network or with the owner's client, and false signals on
// the owner's calls, no resource of the owner's calls is ever attributed to the attacker and
// no command of the plan targets one (CheckPlan against the true attribution). The owner
// works before and after the attack with its usual clients (what makes it the owner); the
// attacker's calls are marked by at least one signal.
func TestAttributionNeverBlamesOwner(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	ownerIPs := []string{"198.18.0.10", "198.18.0.11", "198.18.0.12"}
	ownerUAs := []string{"Terraform/1.9.8 ci", "aws-cli/2.22.4 exec-env/ci"}
	attackerIPs := []string{"140.213.52.9", "45.155.205.3", "91.92.251.10"}
	attackerUAs := []string{"Boto3/1.26.45 Python/3.8.10", "aws-cli/1.22.34 Python/3.10.12"}
	var attackerOK, attackerAll, unknown int
	for n := range 200 {
		var evs []ev
		truth := map[string]incident.Attribution{}
		var signals []signal.Signal
		shareIP, shareUA := r.IntN(4) == 0, r.IntN(4) == 0
		var seeds, fps []string
		add := func(e ev, a incident.Attribution) {
			evs = append(evs, e)
			truth[e.id] = a
		}
		for i := range 40 { // the owner all along, the attack in the middle
			at := i * 30
			id := fmt.Sprintf("o%d", i)
			ip, ua := ownerIPs[r.IntN(len(ownerIPs))], ownerUAs[r.IntN(len(ownerUAs))]
			if r.IntN(2) == 0 {
				add(runInstance(id, at, ci, ip, ua, "i-"+id), incident.Owner)
			} else {
				add(from(call(id, at, ci, "ec2:DescribeInstances"), ip, ua), incident.Owner)
			}
			if r.IntN(10) == 0 {
				fps = append(fps, id) // a false signal on the owner's call
			}
		}
		for i := range 1 + r.IntN(12) {
			at := 500 + i*3 + r.IntN(3)
			id := fmt.Sprintf("a%d", i)
			ip, ua := attackerIPs[r.IntN(len(attackerIPs))], attackerUAs[r.IntN(len(attackerUAs))]
			if shareIP && r.IntN(2) == 0 {
				ip = ownerIPs[0] // a shared NAT
			}
			if shareUA && r.IntN(2) == 0 {
				ua = ownerUAs[0] // the same client version
			}
			switch r.IntN(3) {
			case 0:
				add(runInstance(id, at, ci, ip, ua, "i-"+id), incident.Attacker)
			case 1:
				add(from(createUser(id, at, ci, "u"+id), ip, ua), incident.Attacker)
			default:
				add(from(call(id, at, ci, "iam:ListUsers"), ip, ua), incident.Attacker)
			}
			if i == 0 || r.IntN(3) == 0 {
				seeds = append(seeds, id)
			}
		}
		signals = append(signals, signalOn("s", signal.LevelHigh, ci, seeds...))
		if len(fps) > 0 {
			signals = append(signals, signalOn("fp", signal.LevelMedium, ci, fps...))
		}
		x := loadEvents(t, evs)
		rep, err := Investigate(context.Background(), x, Start{AccessKey: ci.key}, signals, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range rep.Resources {
			if res.Attribution == incident.Attacker && truth[res.CreateEventID] == incident.Owner {
				t.Errorf("incident %d (shared address %v, client %v): the owner's %s attributed to the attacker: %s", n, shareIP, shareUA, res.Key(), res.Why)
			}
		}
		for _, e := range rep.Timeline {
			if truth[e.EventID] == incident.Owner && e.Attribution == incident.Attacker {
				t.Errorf("incident %d: the owner's call %s attributed to the attacker: %s", n, e.EventID, e.Why)
			}
			if truth[e.EventID] == incident.Attacker {
				attackerAll++
				if e.Attribution == incident.Attacker {
					attackerOK++
				}
			}
			if e.Attribution == incident.Unknown {
				unknown++
			}
		}
		p := remediate.BuildPlan(rep.Resources, remediate.PlanOptions{Credentials: rep.Credentials})
		if err := remediate.CheckPlan(p, func(id string) incident.Attribution { return truth[id] }); err != nil {
			t.Errorf("incident %d: %v", n, err)
		}
	}
	t.Logf("attacker calls attributed to the attacker: %d of %d; unknown calls: %d", attackerOK, attackerAll, unknown)
	if attackerOK*10 < attackerAll*8 {
		t.Errorf("only %d of %d attacker calls attributed to the attacker", attackerOK, attackerAll)
	}
}
