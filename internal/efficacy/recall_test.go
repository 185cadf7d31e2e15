package efficacy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/trailhound/trailhound/internal/goldenfile"
	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ioc"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/rules"
)

// The recall and noise efficacy: a simulated week per seed and background with every busy
// benign shape (busy CI owners behind the leaked keys, three Terraform CI users, three heavy
// S3 readers and a CSPM scanner per account) and the three attacks on infrastructure mostly
// outside the built-in IOC lists, hunted as trailhound hunt does (hunt.Run enriches without
// a database), once with the built-in rules and IOC lists and once with the indicator lists
// emptied: recall must not rest on IOC matches. The 2M-event background runs in CI and with
// TRAILHOUND_EFFICACY_2M=1; its section comes from testdata/recall_2m.md otherwise.
var recallSeeds = []uint64{1, 2, 3}

// indicatorLists are the IOC lists of attacker indicators; the allowlists (AWS services,
// scanners, bulk readers) stay, being knowledge of benign callers rather than of attackers.
var indicatorLists = []string{"attacker_asns", "attacker_cidrs", "attacker_user_names", "mining_images"}

// seedAttacks are the attacks the targets hold for (DESIGN.md's two); attack 3 is reported.
var seedAttacks = []simulate.Attack{simulate.AttackLeakedKeyAdmin, simulate.AttackECSCryptomining}

// maxFalsePer100k is the target: medium+ signals without an attacker event per 100,000
// benign events, at the 2M-event background.
const maxFalsePer100k = 1.0

// busyOptions are the simulation of the recall efficacy.
func busyOptions(seed uint64, perDay int) simulate.Options {
	return simulate.Options{Seed: seed, Days: 7, EventsPerDay: perDay, BusyOwners: true, CIUsers: 3, S3Readers: 3,
		Scanners: true, UnlistedInfra: true,
		Attacks: []simulate.Attack{simulate.AttackLeakedKeyAdmin, simulate.AttackECSCryptomining, simulate.AttackRoleTheft}}
}

// recallRun is one hunt of one simulation.
type recallRun struct {
	seed           uint64
	background     int
	events, benign int
	iocs           bool
	// found: attack step → events of the step that are evidence in a low+ signal, of all.
	found, total map[stepKey]int
	level        map[stepKey]signal.Level // highest level of a signal holding the step
	falsePos     map[string]int           // medium+ signals without an attacker event, by rule file
}

type stepKey struct {
	attack simulate.Attack
	step   string
}

var (
	recallMu    sync.Mutex
	recallCache = map[[2]int][2]*recallRun{}
)

// recallEfficacy simulates one seed and background once per test binary and hunts it with
// and without the indicator lists.
func recallEfficacy(t *testing.T, seed uint64, perDay int) [2]*recallRun {
	t.Helper()
	recallMu.Lock()
	defer recallMu.Unlock()
	k := [2]int{int(seed), perDay}
	if r, ok := recallCache[k]; ok {
		return r
	}
	ctx := context.Background()
	dir := t.TempDir()
	gt, err := simulate.Generate(ctx, busyOptions(seed, perDay), simulate.NewDirSink(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out [2]*recallRun
	for i, iocs := range []bool{true, false} {
		set := rulesWith(t, iocs)
		files := ruleFiles(set)
		res, err := hunt.Run(ctx, hunt.Config{MaxEventIDs: 1 << 20}, set, []string{filepath.Join(dir, "AWSLogs")})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = scoreRecall(gt, res.Signals, files)
		out[i].seed, out[i].background, out[i].iocs = seed, perDay*7, iocs
	}
	recallCache[k] = out
	return out
}

// rulesWith loads the built-in rules with the built-in IOC lists, or with the indicator
// lists emptied.
func rulesWith(t *testing.T, iocs bool) *ruleset.Set {
	t.Helper()
	lists, err := ioc.Load(true)
	if err != nil {
		t.Fatal(err)
	}
	ph := lists.Placeholders()
	if !iocs {
		for _, name := range indicatorLists {
			if _, ok := ph[name]; !ok {
				t.Fatalf("no IOC list %q to empty", name)
			}
			ph[name] = nil
		}
	}
	set, err := ruleset.Load(context.Background(), ruleset.Options{Builtin: rules.FS, Placeholders: ph})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func scoreRecall(gt *simulate.GroundTruth, sigs []signal.Signal, files map[string]string) *recallRun {
	r := &recallRun{found: map[stepKey]int{}, total: map[stepKey]int{}, level: map[stepKey]signal.Level{}, falsePos: map[string]int{}}
	by := map[string][]*signal.Signal{}
	for i := range sigs {
		for _, id := range sigs[i].EventIDs {
			by[id] = append(by[id], &sigs[i])
		}
	}
	attacker := map[string]bool{}
	for _, a := range gt.Attacks {
		for _, st := range a.Steps {
			attacker[st.EventID] = true
			k := stepKey{a.Attack, st.Step}
			r.total[k]++
			hit := false
			for _, s := range by[st.EventID] {
				if s.Level >= signal.LevelLow {
					hit = true
					r.level[k] = max(r.level[k], s.Level)
				}
			}
			if hit {
				r.found[k]++
			}
		}
	}
	r.events = gt.Stats.Events
	r.benign = gt.Stats.Events - len(attacker)
	for _, s := range sigs {
		if s.Level < signal.LevelMedium || slices.ContainsFunc(s.EventIDs, func(id string) bool { return attacker[id] }) {
			continue
		}
		r.falsePos[strings.TrimSuffix(files[s.RuleID], ".yml")]++
	}
	return r
}

func (r *recallRun) falseCount() int {
	n := 0
	for _, v := range r.falsePos {
		n += v
	}
	return n
}

func (r *recallRun) per100k() float64 {
	return float64(r.falseCount()) * 100_000 / float64(max(1, r.benign))
}

// recallFailures checks the targets on the runs of one background: every step of the seed
// attacks detected in every seed without the indicator lists, and at the 2M background at
// most maxFalsePer100k medium+ false signals per 100k benign events, with or without them.
func recallFailures(runs []*recallRun, check2M bool) []string {
	var out []string
	for _, r := range runs {
		for k, n := range r.total {
			if !slices.Contains(seedAttacks, k.attack) || sideEffects[k.step] != "" {
				continue
			}
			if !r.iocs && r.found[k] == 0 {
				out = append(out, fmt.Sprintf("seed %d, %d background events, without IOC lists: attack %d step %s (%d events) is in no low+ signal", r.seed, r.background, k.attack, k.step, n))
			}
		}
		if check2M && r.per100k() > maxFalsePer100k {
			out = append(out, fmt.Sprintf("seed %d, %d background events, IOC lists %v: %d medium+ false signals, %.2f per 100k benign events (target %.1f): %v",
				r.seed, r.background, r.iocs, r.falseCount(), r.per100k(), maxFalsePer100k, r.falsePos))
		}
	}
	sort.Strings(out)
	return out
}

// recallTables renders the recall per behaviour and the noise of one background's runs.
func recallTables(runs []*recallRun) string {
	var b strings.Builder
	var keys []stepKey
	seen := map[stepKey]bool{}
	for _, r := range runs {
		for k := range r.total {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.SortStableFunc(keys, func(a, b stepKey) int {
		if a.attack != b.attack {
			return int(a.attack) - int(b.attack)
		}
		return strings.Compare(a.step, b.step)
	})
	seeds := 0
	for _, r := range runs {
		if r.iocs {
			seeds++
		}
	}
	fmt.Fprintf(&b, "| attack | step | events (all seeds) | seeds detected, with IOC lists | seeds detected, without | events detected, without | highest level, without |\n|---|---|---|---|---|---|---|\n")
	for _, k := range keys {
		var n, with, without, evWithout int
		var lvl signal.Level
		for _, r := range runs {
			if r.iocs {
				n += r.total[k]
				if r.found[k] > 0 {
					with++
				}
				continue
			}
			if r.found[k] > 0 {
				without++
			}
			evWithout += r.found[k]
			lvl = max(lvl, r.level[k])
		}
		lv := "–"
		if lvl > 0 {
			lv = lvl.String()
		}
		if why := sideEffects[k.step]; why != "" && without == 0 {
			fmt.Fprintf(&b, "| %d | %s | %d | n/a | n/a | n/a | AWS's own calls (%s) |\n", k.attack, k.step, n, "investigation evidence, not a detection")
			continue
		}
		mark := func(x int) string {
			if x < seeds {
				return fmt.Sprintf("**%d/%d**", x, seeds)
			}
			return fmt.Sprintf("%d/%d", x, seeds)
		}
		fmt.Fprintf(&b, "| %d | %s | %d | %s | %s | %d of %d | %s |\n", k.attack, k.step, n, mark(with), mark(without), evWithout, n, lv)
	}
	b.WriteString("\n| seed | events | benign events | IOC lists | medium+ false signals | per 100k benign events | rules |\n|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		var rs []string
		for f, n := range r.falsePos {
			rs = append(rs, fmt.Sprintf("%s (%d)", f, n))
		}
		sort.Strings(rs)
		ioc := "without"
		if r.iocs {
			ioc = "with"
		}
		fmt.Fprintf(&b, "| %d | %d | %d | %s | %d | %.2f | %s |\n", r.seed, r.events, r.benign, ioc, r.falseCount(), r.per100k(), strings.Join(rs, ", "))
	}
	return b.String()
}

func recallRuns(t *testing.T, perDay int) []*recallRun {
	var runs []*recallRun
	for _, seed := range recallSeeds {
		r := recallEfficacy(t, seed, perDay)
		runs = append(runs, r[0], r[1])
	}
	return runs
}

// TestRecallEfficacy checks the targets at the 200k-event background (and 2M in CI or with
// TRAILHOUND_EFFICACY_2M=1).
func TestRecallEfficacy(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and hunts weeks of CloudTrail")
	}
	backgrounds := planBackgrounds[:1]
	if run2M() {
		backgrounds = planBackgrounds
	}
	for i, perDay := range backgrounds {
		for _, f := range recallFailures(recallRuns(t, perDay), i == 1) {
			t.Error(f)
		}
	}
}

// recallSection is the recall and noise section of docs/EFFICACY.md.
func recallSection(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("## Recall and noise on busy accounts (simulated)\n\n")
	b.WriteString("A simulated week per seed, 2 accounts, with every busy benign shape of `trailhound simulate`: busy CI\n" +
		"owners behind the leaked keys (`--busy-owners`), three Terraform CI users (`--ci-users 3`), three heavy S3\n" +
		"readers (`--s3-readers 3`) and a CSPM scanner (`--scanners`) per account, and the three attacks on\n" +
		"infrastructure mostly outside the built-in IOC lists (`--unlisted-infra`: three in four addresses from\n" +
		"random hosting networks, three in four mining images fresh names). Each week is hunted as\n" +
		"`trailhound hunt` does (the same enrichment, no GeoIP database), once with the built-in IOC lists and\n" +
		"once with the indicator lists (" + strings.Join(indicatorLists, ", ") + ") emptied: IOC matches may\n" +
		"raise levels, not create recall. A step is detected when one of its events is evidence in a signal at\n" +
		"low or above. A false signal is a signal at medium or above with no attacker event.\n\n" +
		fmt.Sprintf("Targets, checked by TestRecallEfficacy: every step of the seed attacks (1 and 2) detected in every seed\n"+
			"without the IOC lists; at most %.0f medium+ false signal per 100k benign events at the 2M-event\n"+
			"background, with or without them. The 2M-event rows are computed in CI (CI=true) and with %s=1,\n"+
			"and kept in internal/efficacy/testdata/recall_2m.md.\n\n", maxFalsePer100k, gate2M))
	b.WriteString("### 200k background events\n\n")
	b.WriteString(recallTables(recallRuns(t, planBackgrounds[0])))
	path := filepath.Join("testdata", "recall_2m.md")
	if run2M() {
		goldenfile.Check(t, path, []byte(recallTables(recallRuns(t, planBackgrounds[1]))))
	}
	rows2M, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the 2M-event rows (%s=1 go test ./internal/efficacy -run TestEfficacy -update writes them): %v", gate2M, err)
	}
	b.WriteString("\n### 2M background events\n\n")
	b.Write(rows2M)
	b.WriteString("\nThe coverage of the Stratus Red Team AWS techniques (a rule and a test for each, each detonation of the\n" +
		"development set detected at low or above) is in [COVERAGE.md](COVERAGE.md), generated by\n" +
		"`go test ./rules -run TestStratusCoverage -update`; the detonations the rules claim are checked below.\n")
	return b.String()
}

// TestRecallFailures: the target check catches a seed-attack step missed without the IOC
// lists, and too many false signals at 2M, and nothing else: a missed step of attack 3, a
// missed step with the lists, a side effect, or false signals below the target.
func TestRecallFailures(t *testing.T) {
	step := func(a simulate.Attack, s string) stepKey { return stepKey{a, s} }
	run := func(iocs bool, found map[stepKey]int, fp int) *recallRun {
		total := map[stepKey]int{
			step(1, "create-user"): 1, step(2, "ecs-create-cluster"): 17, step(3, "theft-list-buckets"): 1, step(1, "kms-decrypt-by-s3"): 5,
		}
		return &recallRun{seed: 7, background: 2_000_000, benign: 2_000_000, iocs: iocs, total: total, found: found,
			falsePos: map[string]int{"aws_x": fp}}
	}
	all := map[stepKey]int{step(1, "create-user"): 1, step(2, "ecs-create-cluster"): 17}
	tests := []struct {
		name    string
		runs    []*recallRun
		check2M bool
		want    int
	}{
		{"all found, 20 false signals in 2M benign events", []*recallRun{run(true, all, 20), run(false, all, 20)}, true, 0},
		{"a seed step missed without the lists", []*recallRun{run(true, all, 0), run(false, map[stepKey]int{step(1, "create-user"): 1}, 0)}, true, 1},
		{"missed with the lists only", []*recallRun{run(true, nil, 0), run(false, all, 0)}, true, 0},
		{"21 false signals at 2M", []*recallRun{run(true, all, 21), run(false, all, 0)}, true, 1},
		{"21 false signals at 200k are not checked", []*recallRun{run(true, all, 21), run(false, all, 21)}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recallFailures(tt.runs, tt.check2M); len(got) != tt.want {
				t.Errorf("failures %q, want %d", got, tt.want)
			}
		})
	}
}
