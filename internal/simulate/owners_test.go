package simulate

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// generated is a history decoded into events by id, for the tests of optional shapes.
type generated struct {
	truth *GroundTruth
	byID  map[string]event
	all   []event
}

func generateAll(t *testing.T, opts Options) *generated {
	t.Helper()
	m := memSink{}
	gt, err := Generate(context.Background(), opts, m)
	if err != nil {
		t.Fatal(err)
	}
	out := &generated{truth: gt, byID: map[string]event{}}
	for _, p := range slices.Sorted(maps.Keys(m)) {
		if !logPath.MatchString(p) {
			continue
		}
		var doc struct {
			Records []event `json:"Records"`
		}
		if err := json.Unmarshal(gunzip(t, p, m[p]), &doc); err != nil {
			t.Fatal(err)
		}
		for _, e := range doc.Records {
			if _, dup := out.byID[e.EventID]; dup {
				continue
			}
			out.byID[e.EventID] = e
			out.all = append(out.all, e)
		}
	}
	return out
}

// TestBusyOwners: with BusyOwners the leaked keys of attacks 1 and 2 belong to CI users whose
// pipelines call hundreds of times a day, from their runners and clients only, before, during
// and after the attack; the attacks are the same as without.
func TestBusyOwners(t *testing.T) {
	for _, seed := range []uint64{7, 8} {
		g := generateAll(t, Options{Seed: seed, Days: 5, EventsPerDay: 2000, BusyOwners: true, CIUsers: 1})
		if len(g.truth.Owners) != 4 {
			t.Fatalf("seed %d: %d owners, want 2 leaked and 2 benign CI users", seed, len(g.truth.Owners))
		}
		for _, o := range g.truth.Owners {
			var evs []event
			names := map[string]int{}
			for _, e := range g.all {
				if e.UserIdentity.AccessKeyID == o.AccessKeyID && slices.Contains(o.SourceIPs, e.SourceIPAddress) {
					evs = append(evs, e)
					names[e.EventName]++
					if !slices.Contains(o.UserAgents, e.UserAgent) || e.UserIdentity.ARN != o.ARN {
						t.Errorf("seed %d: %s event %s from %s with %q", seed, o.UserName, e.EventID, e.SourceIPAddress, e.UserAgent)
					}
				}
			}
			if len(evs) != o.Events {
				t.Errorf("seed %d: %s made %d calls from its runners, ground truth says %d", seed, o.UserName, len(evs), o.Events)
			}
			// Hundreds of launches and terminations a weekday; ECS and IAM changes.
			if names["RunInstances"] < 5*200 || names["TerminateInstances"] < 5*50 || names["RegisterTaskDefinition"] < 100 ||
				names["UpdateService"] < 100 || names["CreateRole"] < 20 || names["DeleteRole"] < 10 || names["CreatePolicyVersion"] < 10 {
				t.Errorf("seed %d: %s calls %v", seed, o.UserName, names)
			}
			if len(o.Resources) < 1000 {
				t.Errorf("seed %d: %s created %d resources", seed, o.UserName, len(o.Resources))
			}
			if !o.Leaked {
				continue
			}
			// The pipeline runs in the hour of the attack on its key, and before and after.
			var at *AttackTruth
			for i := range g.truth.Attacks {
				if g.truth.Attacks[i].Identities[0].AccessKeyID == o.AccessKeyID {
					at = &g.truth.Attacks[i]
				}
			}
			if at == nil {
				t.Fatalf("seed %d: owner %s is leaked but no attack uses its key", seed, o.UserName)
			}
			var before, during, after int
			for _, e := range evs {
				switch {
				case e.EventTime.Before(at.Start.Add(-time.Hour)):
					before++
				case e.EventTime.After(at.End.Add(time.Hour)):
					after++
				default:
					during++
				}
			}
			if before < 100 || during < 2 || after < 100 {
				t.Errorf("seed %d: %s calls %d before, %d during, %d after attack %d", seed, o.UserName, before, during, after, at.Attack)
			}
			for _, st := range at.Steps {
				if slices.Contains(o.SourceIPs, st.SourceIP) {
					t.Errorf("seed %d: attack step %s from the owner's runner %s", seed, st.Step, st.SourceIP)
				}
			}
		}
	}
}

// TestRoleTheft: attack 3 uses the instance's current credentials from a public address with
// another client; the instance's own calls come from its private address, every hour, with
// credentials ec2.amazonaws.com issued for a session named after the instance.
func TestRoleTheft(t *testing.T) {
	g := generateAll(t, Options{Seed: 7, Days: 3, EventsPerDay: 1000, Attacks: []Attack{AttackRoleTheft}})
	if len(g.truth.Attacks) != 1 || g.truth.Attacks[0].Attack != AttackRoleTheft {
		t.Fatalf("attacks %+v", g.truth.Attacks)
	}
	at := g.truth.Attacks[0]
	id := at.Identities[0]
	issue, ok := g.byID[id.IssueEventID]
	if !ok || issue.EventName != "AssumeRole" || issue.SourceIPAddress != "ec2.amazonaws.com" ||
		!strings.Contains(string(issue.ResponseElements), `"accessKeyId":"`+id.AccessKeyID+`"`) ||
		!strings.Contains(string(issue.RequestParameters), `"roleSessionName":"`+id.InstanceID+`"`) {
		t.Fatalf("issuing event %s: %+v", id.IssueEventID, issue)
	}
	if !strings.HasSuffix(id.ARN, ":assumed-role/"+strings.TrimPrefix(id.RoleARN[strings.Index(id.RoleARN, ":role/"):], ":role/")+"/"+id.InstanceID) {
		t.Errorf("session %s of role %s, instance %s", id.ARN, id.RoleARN, id.InstanceID)
	}
	steps := map[string]int{}
	for _, st := range at.Steps {
		steps[st.Step]++
		e := g.byID[st.EventID]
		if e.UserIdentity.AccessKeyID != id.AccessKeyID {
			t.Errorf("step %s with key %s", st.Step, e.UserIdentity.AccessKeyID)
		}
		if st.Step != "kms-decrypt-by-s3" && (e.SourceIPAddress != at.SourceIPs[0] || e.UserAgent != attacker3UA) {
			t.Errorf("step %s from %s with %q", st.Step, e.SourceIPAddress, e.UserAgent)
		}
	}
	if steps["theft-s3-list-objects"] < 2 || steps["theft-s3-get-object"] < 20 || steps["theft-list-buckets"] != 1 || len(at.BucketsRead) < 2 {
		t.Errorf("steps %v, buckets read %v", steps, at.BucketsRead)
	}
	// The instance's own calls: private address, its own client, every hour.
	own, issued := 0, 0
	hours := map[int64]bool{}
	for _, e := range g.all {
		switch {
		case e.EventName == "AssumeRole" && e.SourceIPAddress == "ec2.amazonaws.com" && strings.Contains(string(e.RequestParameters), id.InstanceID):
			issued++
		case strings.HasSuffix(e.UserIdentity.ARN, "/"+id.InstanceID) && e.SourceIPAddress != at.SourceIPs[0] && e.SourceIPAddress != "s3.amazonaws.com":
			own++
			hours[e.EventTime.Unix()/3600] = true
			if !strings.HasPrefix(e.SourceIPAddress, "10.") || e.UserAgent != instanceUA {
				t.Errorf("instance call %s from %s with %q", e.EventID, e.SourceIPAddress, e.UserAgent)
			}
		}
	}
	if issued != 72 || len(hours) < 60 || own < 3*72 {
		t.Errorf("%d credentials issued, %d own calls in %d hours; want 72 and calls in most hours", issued, own, len(hours))
	}
}
