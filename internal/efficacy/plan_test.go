package efficacy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/trailhound/trailhound/internal/goldenfile"
	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/incident"
	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
)

// The plan efficacy runs a simulated week with busy CI owners behind the leaked keys and all
// three attacks, at two backgrounds, for several seeds. The 2M-event background takes about a
// minute per seed on this machine's two cores: it runs in CI (CI=true) and with
// TRAILHOUND_EFFICACY_2M=1, and its rows in docs/EFFICACY.md come from testdata/plan_2m.md,
// which that run checks (and rewrites with -update).
var (
	planSeeds = []uint64{1, 2, 3}
	// planBackgrounds are background events per day over the week: 200k and 2M in all.
	planBackgrounds = []int{200_000 / 7, 2_000_000 / 7}
)

const gate2M = "TRAILHOUND_EFFICACY_2M"

// run2M reports whether the 2M-event background runs: in CI, or when asked.
func run2M() bool { return os.Getenv(gate2M) != "" || os.Getenv("CI") == "true" }

// planScore is how one plan compares with the ground truth.
type planScore struct {
	seed                      uint64
	background, events        int
	attack                    simulate.Attack
	start                     string
	correct, missed, wrong    int
	commented, ownerTargets   int
	attackerEvents, steps     int
	ownerEvents, ownerCreated int
	benignInScope             []string
	missedWhat, wrongWhat     []string
	commentedWhat             []string
}

var (
	planMu    sync.Mutex
	planCache = map[[2]int][]planScore{}
)

// planEfficacy simulates, hunts and investigates one seed and background (once per test
// binary), from the highest signal on each attack, as a responder would start.
func planEfficacy(t *testing.T, seed uint64, perDay int) []planScore {
	t.Helper()
	planMu.Lock()
	defer planMu.Unlock()
	k := [2]int{int(seed), perDay}
	if s, ok := planCache[k]; ok {
		return s
	}
	ctx := context.Background()
	dir := t.TempDir()
	gt, err := simulate.Generate(ctx, simulate.Options{Seed: seed, Days: 7, EventsPerDay: perDay, BusyOwners: true,
		Attacks: []simulate.Attack{simulate.AttackLeakedKeyAdmin, simulate.AttackECSCryptomining, simulate.AttackRoleTheft}}, simulate.NewDirSink(dir))
	if err != nil {
		t.Fatal(err)
	}
	res, err := hunt.Run(ctx, hunt.Config{}, builtin(t), []string{filepath.Join(dir, "AWSLogs")})
	if err != nil {
		t.Fatal(err)
	}
	x, err := investigate.Load(ctx, []string{filepath.Join(dir, "AWSLogs")}, investigate.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []planScore
	for _, at := range gt.Attacks {
		// A responder starts from the highest signal; with none (stolen credentials the rules
		// missed), from the key an outside alert (GuardDuty) names.
		start, from := investigate.Start{AccessKey: at.Identities[0].AccessKeyID}, "key (no signal)"
		if sig := highestSignal(res.Signals, at); sig != nil {
			start, from = investigate.Start{Signal: sig.ID}, "signal: "+sig.Title
		}
		rep, err := investigate.Investigate(ctx, x, start, res.Signals, investigate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		plan := remediate.BuildPlan(rep.Resources, remediate.PlanOptions{Credentials: rep.Credentials, DataRead: rep.Data.Reads(), OwnerResources: len(rep.OwnerResources)})
		attr := map[string]incident.Attribution{}
		for _, e := range rep.Timeline {
			attr[e.EventID] = e.Attribution
		}
		if err := remediate.CheckPlan(plan, func(id string) incident.Attribution { return attr[id] }); err != nil {
			t.Errorf("seed %d attack %d: %v", seed, at.Attack, err)
		}
		s := score(gt, at, rep, plan)
		s.seed, s.background, s.events, s.start = seed, perDay*7, gt.Stats.Events, from
		out = append(out, s)
	}
	planCache[k] = out
	return out
}

// highestSignal is the signal a responder starts from: the highest level, then the earliest,
// among those whose evidence holds one of the attack's own calls.
func highestSignal(sigs []signal.Signal, at simulate.AttackTruth) *signal.Signal {
	steps := map[string]bool{}
	for _, st := range at.Steps {
		steps[st.EventID] = true
	}
	var best *signal.Signal
	for i := range sigs {
		s := &sigs[i]
		if !slices.ContainsFunc(s.EventIDs, func(id string) bool { return steps[id] }) {
			continue
		}
		if best == nil || s.Level > best.Level || s.Level == best.Level && s.FirstSeen.Before(best.FirstSeen) {
			best = s
		}
	}
	return best
}

// artefacts are the plan targets (remediate.Step.Target) of what an attack made or used: each
// needs a command.
func artefacts(at simulate.AttackTruth) map[string]bool {
	out := map[string]bool{}
	for _, id := range at.Identities {
		switch {
		case id.How == "leaked access key":
			out["key|"+id.AccessKeyID] = true
		case id.RoleARN != "":
			out["role|"+id.Account+"|"+id.RoleARN[strings.LastIndexByte(id.RoleARN, '/')+1:]] = true
		}
	}
	for _, r := range at.Resources {
		out[truthTarget(r)] = true
	}
	return out
}

// truthTarget returns the plan target of a ground-truth resource.
func truthTarget(r simulate.Resource) string {
	loc := func(t incident.ResourceType, id string) string {
		return string(t) + "|" + r.Account + "|" + r.Region + "|" + id
	}
	switch r.Kind {
	case "iam-user":
		return loc(incident.IAMUser, r.Name)
	case "iam-user-policy":
		return loc(incident.IAMPolicyAttachment, "user/"+r.Parent+" "+r.Policy)
	case "login-profile":
		return loc(incident.IAMLoginProfile, r.Parent)
	case "access-key":
		return loc(incident.IAMAccessKey, r.ID)
	case "key-pair":
		return loc(incident.EC2KeyPair, r.ID)
	case "security-group":
		return loc(incident.EC2SecurityGroup, r.ID)
	case "security-group-rule":
		return loc(incident.EC2SecurityGroupRule, r.Parent+" "+r.Protocol+" "+strconv.Itoa(r.FromPort)+"-"+strconv.Itoa(r.ToPort)+" "+r.CIDR)
	case "ecs-cluster":
		return loc(incident.ECSCluster, r.Name)
	case "ecs-task-definition":
		return loc(incident.ECSTaskDefinition, r.Name)
	case "ecs-service":
		return loc(incident.ECSService, r.Name)
	case "ec2-instance":
		return loc(incident.EC2Instance, r.ID)
	case "iam-role":
		return loc(incident.IAMRole, r.Name)
	case "iam-role-policy":
		return loc(incident.IAMInlinePolicy, "role/"+r.Parent+" "+r.Policy)
	case "iam-policy-version":
		return loc(incident.IAMManagedPolicy, r.ARN)
	}
	return r.Kind + "|" + r.Name
}

// score compares a report and its plan with the ground truth of one attack.
func score(gt *simulate.GroundTruth, at simulate.AttackTruth, rep *investigate.Report, plan remediate.Plan) planScore {
	want := artefacts(at)
	owned := map[string]bool{}
	for _, o := range gt.Owners {
		for _, r := range o.Resources {
			owned[truthTarget(r)] = true
			if r.Kind == "iam-role" {
				owned["role|"+r.Account+"|"+r.Name] = true
			}
		}
	}
	var s planScore
	s.attack = at.Attack
	hit := map[string]bool{}
	for _, sec := range plan.Sections {
		for _, st := range sec.Steps {
			if st.Line == "" || st.Action == "wait" {
				continue
			}
			if st.Commented {
				s.commented++
				s.commentedWhat = append(s.commentedWhat, st.Line+" ("+strings.Join(st.Notes, "; ")+")")
				hit[st.Target] = true
				continue
			}
			switch {
			case want[st.Target]:
				s.correct++
				hit[st.Target] = true
			default:
				s.wrong++
				s.wrongWhat = append(s.wrongWhat, st.Line)
				if owned[st.Target] {
					s.ownerTargets++
				}
			}
		}
	}
	for k := range want {
		if !hit[k] {
			s.missed++
			s.missedWhat = append(s.missedWhat, k)
		}
	}
	slices.Sort(s.missedWhat)
	// The scope: every call not the owners' is the attacker's own, by an identity of the
	// attack; the owners' calls are only those of the attack's leaked or stolen key.
	keys, arns := map[string]bool{}, map[string]bool{}
	for _, id := range at.Identities {
		keys[id.AccessKeyID], arns[id.ARN] = true, true
	}
	shared := at.Identities[0].AccessKeyID
	s.steps = len(at.Steps)
	steps := map[string]bool{}
	for _, st := range at.Steps {
		steps[st.EventID] = true
	}
	for _, e := range rep.Timeline {
		switch {
		case e.Attribution == incident.Owner:
			s.ownerEvents++
			if e.AccessKeyID != shared {
				s.benignInScope = append(s.benignInScope, "owner call "+e.EventID+" with key "+e.AccessKeyID)
			}
		case !keys[e.AccessKeyID] && !arns[e.Identity]:
			s.benignInScope = append(s.benignInScope, e.Identity+" ("+e.AccessKeyID+") "+e.EventID)
		}
		if e.Attribution == incident.Attacker && steps[e.EventID] {
			s.attackerEvents++
		}
	}
	s.ownerCreated = len(rep.OwnerResources)
	return s
}

// TestPlanEfficacy: with busy owners behind the leaked keys, for every seed at a 200k-event
// background (and 2M in CI or with TRAILHOUND_EFFICACY_2M=1), each attack's plan from its highest
// signal has no command on anything the attack did not make or use (none on the owners'
// resources), misses no artefact of the attack, attributes every attacker call to the
// attacker, and holds no benign identity.
func TestPlanEfficacy(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and hunts weeks of CloudTrail")
	}
	backgrounds := planBackgrounds[:1]
	if run2M() {
		backgrounds = planBackgrounds
	}
	for _, perDay := range backgrounds {
		for _, seed := range planSeeds {
			for _, s := range planEfficacy(t, seed, perDay) {
				name := fmt.Sprintf("seed %d, %d background events, attack %d", seed, perDay*7, s.attack)
				if s.wrong != 0 || s.ownerTargets != 0 || s.missed != 0 || len(s.benignInScope) > 0 || s.attackerEvents != s.steps {
					t.Errorf("%s: %d correct, %d missed %v, %d wrong %v (%d on the owners'), %d of %d attacker calls attributed to the attacker, benign in scope %v",
						name, s.correct, s.missed, s.missedWhat, s.wrong, s.wrongWhat, s.ownerTargets, s.attackerEvents, s.steps, s.benignInScope)
				}
				for _, c := range s.commentedWhat {
					t.Logf("%s: commented out: %s", name, c)
				}
				if s.attack != simulate.AttackRoleTheft && (s.ownerEvents < 500 || s.ownerCreated < 500) {
					t.Errorf("%s: only %d owner calls and %d owner resources in the report: the busy owner is missing", name, s.ownerEvents, s.ownerCreated)
				}
			}
		}
	}
}

// planTable renders the rows of one background.
func planTable(rows []planScore) string {
	var b strings.Builder
	for _, s := range rows {
		fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d | %d | %d | %d | %d of %d | %d | %d |\n", s.seed, s.background, s.events, s.attack,
			s.correct, s.missed, s.wrong, s.ownerTargets, s.commented, s.attackerEvents, s.steps, s.ownerEvents, s.ownerCreated)
	}
	return b.String()
}

// planSection is the plan efficacy section of docs/EFFICACY.md: the 200k rows computed now,
// the 2M rows from testdata/plan_2m.md (computed, compared and with -update rewritten in CI
// or when TRAILHOUND_EFFICACY_2M is set).
func planSection(t *testing.T) string {
	t.Helper()
	var rows200k []planScore
	for _, seed := range planSeeds {
		rows200k = append(rows200k, planEfficacy(t, seed, planBackgrounds[0])...)
	}
	path := filepath.Join("testdata", "plan_2m.md")
	if run2M() {
		var rows []planScore
		for _, seed := range planSeeds {
			rows = append(rows, planEfficacy(t, seed, planBackgrounds[1])...)
		}
		goldenfile.Check(t, path, []byte(planTable(rows)))
	}
	rows2M, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the 2M-event rows (%s=1 go test ./internal/efficacy -run TestEfficacy -update writes them): %v", gate2M, err)
	}
	var b strings.Builder
	b.WriteString("## Remediation plans (simulated busy owners)\n\n")
	b.WriteString("A simulated week per seed with a busy CI user behind each leaked key (hundreds of launches,\n" +
		"terminations, ECS and IAM changes a day from its runners, before, during and after the attack) and\n" +
		"the three attacks (1 and 2 on the CI keys, 3 on an instance profile's credentials), hunted, then\n" +
		"investigated from the highest signal on each attack (from the stolen key when no rule fired), as\n" +
		"trailhound investigate does; the plan is scored against the ground truth.\n" +
		"Commands: correct (on an artefact the attack made or used), missed (artefacts without one),\n" +
		"wrong target (anything else; on the owners' resources in particular), commented out (unknown\n" +
		"attribution). TestPlanEfficacy fails on any wrong target, any miss, any attacker call not\n" +
		"attributed to the attacker or any benign identity in scope. The 2M-event rows are computed in CI\n" +
		"(CI=true) and with " + gate2M + "=1 (about a minute per seed here), and kept in\n" +
		"internal/efficacy/testdata/plan_2m.md.\n\n")
	b.WriteString("| seed | background events (nominal) | events written | attack | correct | missed | wrong target | on owners' resources | commented out | attacker calls attributed | owner calls in the report | owner resources (listed apart) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	b.WriteString(planTable(rows200k))
	b.Write(rows2M)
	return b.String()
}
