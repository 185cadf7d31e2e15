package investigate

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/incident"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
)

// busyHistory simulates five days with busy owners behind the leaked keys and all three
// attacks, hunts it and loads it.
func busyHistory(t *testing.T, seed uint64) *simulated {
	t.Helper()
	return simulateAndLoad(t, simulate.Options{Seed: seed, Days: 5, EventsPerDay: 3000, BusyOwners: true,
		Attacks: []simulate.Attack{simulate.AttackLeakedKeyAdmin, simulate.AttackECSCryptomining, simulate.AttackRoleTheft}})
}

// startsOf returns every starting point a responder could take for an attack: each signal
// at medium or above on one of its steps, each key it used (the leaked or stolen one, the
// ones it made), each of its addresses, each user it created, and the console sessions of
// those users.
func (s *simulated) startsOf(at simulate.AttackTruth) []Start {
	var out []Start
	steps := map[string]bool{}
	for _, st := range at.Steps {
		if st.Step != "kms-decrypt-by-s3" {
			steps[st.EventID] = true
		}
	}
	for _, sig := range s.signals {
		if sig.Level >= signal.LevelMedium && slices.ContainsFunc(sig.EventIDs, func(id string) bool { return steps[id] }) {
			out = append(out, Start{Signal: sig.ID})
		}
	}
	for _, id := range at.Identities {
		if id.AccessKeyID != "" {
			out = append(out, Start{AccessKey: id.AccessKeyID})
		}
	}
	for _, ip := range at.SourceIPs {
		out = append(out, Start{IP: ip})
	}
	consoles := map[string]bool{}
	for _, r := range at.Resources {
		if r.Kind != "iam-user" {
			continue
		}
		out = append(out, Start{User: r.Name})
		for i := range s.x.recs {
			rec := &s.x.recs[i]
			if rec.flags&flagConsole != 0 && s.x.str(rec.actor) == r.ARN && !consoles[s.x.str(rec.key)] {
				consoles[s.x.str(rec.key)] = true
				out = append(out, Start{AccessKey: s.x.str(rec.key)})
			}
		}
	}
	return out
}

// TestStartingPointMatrix: for every seed and attack, every starting point a responder could
// take gives the same report (but for its start: same scope, attribution, resources, data,
// credentials) and a byte-identical plan.
func TestStartingPointMatrix(t *testing.T) {

	for _, seed := range []uint64{7, 8, 9} {
		s := busyHistory(t, seed)
		ctx := context.Background()
		for _, at := range s.truth.Attacks {
			starts := s.startsOf(at)
			kinds := map[string]bool{}
			var first, firstPlan string
			var from Start
			for _, st := range starts {
				kinds[strings.Fields(st.String())[0]] = true
				rep, err := Investigate(ctx, s.x, st, s.signals, Options{})
				if err != nil {
					t.Fatalf("seed %d attack %d from %s: %v", seed, at.Attack, st, err)
				}
				rep.Start = Start{}
				var b strings.Builder
				if err := planOf(t, rep).WriteScript(&b); err != nil {
					t.Fatal(err)
				}
				got := reportJSON(t, rep)
				if first == "" {
					first, firstPlan, from = got, b.String(), st
					if rep.Summary.Events == 0 {
						t.Errorf("seed %d attack %d from %s: no attacker event", seed, at.Attack, st)
					}
					continue
				}
				if d := cmp.Diff(firstPlan, b.String()); d != "" {
					t.Errorf("seed %d attack %d: the plan from %s differs from the one from %s (-first +this):\n%s", seed, at.Attack, st, from, d)
				}
				if d := cmp.Diff(first, got); d != "" {
					t.Errorf("seed %d attack %d: the report from %s differs from the one from %s (-first +this):\n%s", seed, at.Attack, st, from, d)
				}
			}
			want := []string{"access", "signal", "source"}
			if at.Attack == simulate.AttackLeakedKeyAdmin {
				want = append(want, "IAM")
			}
			for _, k := range want {
				if !kinds[k] {
					t.Errorf("seed %d attack %d: no starting point of kind %s among %v", seed, at.Attack, k, starts)
				}
			}
			t.Logf("seed %d attack %d: %d starting points, one report and one plan", seed, at.Attack, len(starts))
		}
	}
}

// TestRoleTheftExpectedPlan: stolen instance-profile credentials (simulated attack 3) give
// exactly the standard response: the role's sessions revoked, the instance named for
// isolation, every bucket read listed; the credential names the AssumeRole by
// ec2.amazonaws.com that issued it; the instance's own calls are its owner's.
func TestRoleTheftExpectedPlan(t *testing.T) {
	for _, seed := range []uint64{7, 8} {
		s := busyHistory(t, seed)
		at := s.truth.Attacks[2]
		id := at.Identities[0]
		rep, err := Investigate(context.Background(), s.x, Start{AccessKey: id.AccessKeyID}, s.signals, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Credentials) != 1 {
			t.Fatalf("seed %d: credentials %+v", seed, rep.Credentials)
		}
		c := rep.Credentials[0]
		if c.Kind != incident.CredentialRoleSession || c.RoleARN != id.RoleARN || c.InstanceID != id.InstanceID || c.Region != id.Region ||
			c.IssueEventID != id.IssueEventID || c.IssuedBy != "ec2.amazonaws.com" || c.Attribution != incident.Attacker || c.Account != id.Account {
			t.Errorf("seed %d: credential %+v, want the one of %+v", seed, c, id)
		}
		steps := map[string]bool{}
		for _, st := range at.Steps {
			steps[st.EventID] = true
		}
		for _, e := range rep.Timeline {
			if steps[e.EventID] != (e.Attribution == incident.Attacker) {
				t.Errorf("seed %d: event %s %s attributed to the %s (%s)", seed, e.EventID, e.API, e.Attribution, e.Why)
			}
		}
		if rep.Summary.OwnerEvents == 0 {
			t.Errorf("seed %d: none of the instance's own calls with the stolen key in the timeline", seed)
		}
		role := id.RoleARN[strings.LastIndexByte(id.RoleARN, '/')+1:]
		want := []string{
			id.Account + " global revoke-role-sessions aws iam put-role-policy --role-name '" + role + "' --policy-name AWSRevokeOlderSessions --policy-document " +
				`'{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'"}}}]}'`,
		}
		for _, b := range slices.Sorted(slices.Values(at.BucketsRead)) {
			want = append(want, id.Account+" global skip s3-bucket "+b)
		}
		want = append(want, id.Account+" "+id.Region+" skip instance "+id.InstanceID)
		var got []string
		for _, sec := range planOf(t, rep).Sections {
			for _, st := range sec.Steps {
				line := st.Line
				if line == "" {
					line = strings.TrimSuffix(strings.Join(strings.Fields(st.What)[:2], " "), ",")
				}
				got = append(got, sec.Account+" "+sec.Region+" "+st.Action+" "+line)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("seed %d: plan (-want +got):\n%s", seed, d)
		}
	}
}
