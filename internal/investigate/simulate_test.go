package investigate

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/incident"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/rules"
)

// simulated is one generated history, hunted and loaded, shared by the tests below.
type simulated struct {
	dir     string // the logs
	truth   *simulate.GroundTruth
	x       *Index
	signals []signal.Signal
}

func loadSimulated(t *testing.T) *simulated {
	t.Helper()
	return simulateAndLoad(t, simulate.Options{Seed: 7, Days: 5, EventsPerDay: 3000})
}

// simulateAndLoad generates a history, hunts it with the built-in rules and loads it.
func simulateAndLoad(t *testing.T, opts simulate.Options) *simulated {
	t.Helper()
	if testing.Short() {
		t.Skip("generates and hunts a simulated history")
	}
	ctx := context.Background()
	dir := t.TempDir()
	truth, err := simulate.Generate(ctx, opts, simulate.NewDirSink(dir))
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	set, err := ruleset.Load(ctx, ruleset.Options{Builtin: rules.FS})
	if err != nil {
		t.Fatalf("loading rules: %v", err)
	}
	res, err := hunt.Run(ctx, hunt.Config{}, set, []string{dir})
	if err != nil {
		t.Fatalf("hunt: %v", err)
	}
	x, err := Load(ctx, []string{dir}, LoadOptions{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return &simulated{dir: dir, truth: truth, x: x, signals: res.Signals}
}

// signalWith returns a signal whose evidence holds one of the step event ids of the named
// kinds ("" for any).
func (s *simulated) signalWith(t *testing.T, at simulate.AttackTruth, steps ...string) []signal.Signal {
	t.Helper()
	ids := map[string]bool{}
	for _, st := range at.Steps {
		if len(steps) == 0 || slices.Contains(steps, st.Step) {
			ids[st.EventID] = true
		}
	}
	var out []signal.Signal
	for _, sig := range s.signals {
		for _, id := range sig.EventIDs {
			if ids[id] {
				out = append(out, sig)
				break
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no signal holds a step %v of %q", steps, at.Name)
	}
	return out
}

func TestSimulatedAttacks(t *testing.T) {
	s := loadSimulated(t)
	ctx := context.Background()
	attack := func(which simulate.Attack) simulate.AttackTruth {
		for _, a := range s.truth.Attacks {
			if a.Attack == which {
				return a
			}
		}
		t.Fatalf("no attack %d in the ground truth", which)
		return simulate.AttackTruth{}
	}
	at1, at2 := attack(simulate.AttackLeakedKeyAdmin), attack(simulate.AttackECSCryptomining)

	t.Run("attack 1 from the admin-user signal", func(t *testing.T) {
		sigs := s.signalWith(t, at1, "attach-user-policy")
		sig := sigs[0]
		for _, x := range sigs {
			if strings.Contains(x.Title, "Administrator") {
				sig = x
				break
			}
		}
		t.Logf("starting from signal %s %q", sig.ID, sig.Title)
		rep, err := Investigate(ctx, s.x, Start{Signal: sig.ID}, s.signals, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkScope(t, rep, at1)
		var failed int
		for _, r := range rep.Resources {
			if r.Type == incident.EC2Instance && r.Region == "us-west-1" && r.Failed && r.ErrorCode == "Client.PendingVerification" {
				failed++
			}
		}
		if failed != 2 {
			t.Errorf("failed us-west-1 launches in resources = %d, want 2", failed)
		}
		gets := 0
		for _, st := range at1.Steps {
			if st.Step == "s3-get-object" || st.Step == "s3-head-object" {
				gets++
			}
		}
		read := 0
		for _, b := range rep.Data.S3 {
			read += b.Calls["GetObject"] + b.Calls["HeadObject"]
		}
		if read < gets {
			t.Errorf("S3 object reads in data touched = %d, want at least the %d of the attack", read, gets)
		}
		if len(rep.Data.KMS) == 0 || rep.Data.KMS[0].ByService["s3.amazonaws.com"] == 0 {
			t.Errorf("no KMS decrypt by S3 on behalf of the scope: %+v", rep.Data.KMS)
		}
		if !hasBlindSpot(rep, "scope-only-region", "us-west-1") {
			t.Errorf("us-west-1 (used only by the attacker) not reported: %+v", rep.BlindSpots)
		}
	})
	t.Run("attack 2 from any signal", func(t *testing.T) {
		for _, sig := range s.signalWith(t, at2) {
			rep, err := Investigate(ctx, s.x, Start{Signal: sig.ID}, s.signals, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkScope(t, rep, at2)
			regions := map[incident.ResourceType]map[string]bool{}
			for _, r := range rep.Resources {
				if regions[r.Type] == nil {
					regions[r.Type] = map[string]bool{}
				}
				regions[r.Type][r.Region] = true
			}
			for _, typ := range []incident.ResourceType{incident.ECSCluster, incident.ECSTaskDefinition, incident.ECSService} {
				if n := len(regions[typ]); n != 17 {
					t.Errorf("signal %s (%s): %s in %d regions, want 17", sig.ID, sig.Title, typ, n)
				}
			}
		}
	})
}

func hasBlindSpot(rep *Report, kind, region string) bool {
	for _, b := range rep.BlindSpots {
		if b.Kind == kind && b.Region == region {
			return true
		}
	}
	return false
}

// truthKey returns the incident resource key a ground-truth resource should have.
func truthKey(r simulate.Resource) (incident.ResourceType, string) {
	switch r.Kind {
	case "iam-user":
		return incident.IAMUser, r.Name
	case "iam-user-policy":
		return incident.IAMPolicyAttachment, r.Policy + "@" + r.Parent
	case "login-profile":
		return incident.IAMLoginProfile, r.Parent
	case "access-key":
		return incident.IAMAccessKey, r.ID
	case "key-pair":
		return incident.EC2KeyPair, r.Name
	case "security-group":
		return incident.EC2SecurityGroup, r.ID
	case "security-group-rule":
		return incident.EC2SecurityGroupRule, r.Parent + " " + r.Protocol + " " + strconv.Itoa(r.FromPort) + "-" + strconv.Itoa(r.ToPort) + " " + r.CIDR
	case "ecs-cluster":
		return incident.ECSCluster, r.Name
	case "ecs-task-definition":
		return incident.ECSTaskDefinition, r.Name
	case "ecs-service":
		return incident.ECSService, r.Name
	}
	return "", ""
}

func resourceName(r incident.Resource) string {
	switch r.Type {
	case incident.IAMPolicyAttachment:
		return r.Name + "@" + r.Details["principal"]
	case incident.IAMAccessKey, incident.EC2SecurityGroup:
		return r.ID
	}
	return r.Name
}

// checkScope checks a report against an attack's ground truth: every step in the timeline,
// every identity and resource found, and no identity that is not the attacker's.
func checkScope(t *testing.T, rep *Report, at simulate.AttackTruth) {
	t.Helper()
	inTimeline := map[string]bool{}
	identities := map[string]bool{}
	for _, e := range rep.Timeline {
		inTimeline[e.EventID] = true
		identities[e.Identity] = true
	}
	for _, st := range at.Steps {
		if !inTimeline[st.EventID] {
			t.Errorf("step %s (%s:%s, %s) not in the timeline", st.Step, st.EventSource, st.EventName, st.EventID)
		}
	}
	attackers := map[string]bool{}
	for _, id := range at.Identities {
		attackers[id.ARN] = true
		if !identities[id.ARN] {
			t.Errorf("identity %s (%s) not in the timeline", id.ARN, id.How)
		}
	}
	for id := range identities {
		if !attackers[id] {
			t.Errorf("timeline holds %s, which is not an identity of the attack", id)
		}
	}
	keys := map[string]bool{}
	for _, id := range rep.Identities {
		keys[id.ID] = true
	}
	for _, id := range at.Identities {
		if id.AccessKeyID != "" && !keys[id.AccessKeyID] && !keys[id.ARN] {
			t.Errorf("identity %s / key %s not in the scope's identities", id.ARN, id.AccessKeyID)
		}
	}
	got := map[[4]string]bool{}
	for _, r := range rep.Resources {
		got[[4]string{string(r.Type), r.Account, r.Region, resourceName(r)}] = true
	}
	for _, r := range at.Resources {
		typ, name := truthKey(r)
		k := [4]string{string(typ), r.Account, r.Region, name}
		if !got[k] {
			t.Errorf("resource %s %s in %s/%s not found", typ, name, r.Account, r.Region)
		}
	}
}
