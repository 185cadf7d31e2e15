package efficacy

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
)

// sideEffects are ground-truth steps that are not calls the attacker made but AWS's own
// calls on their behalf; they are evidence for an investigation (data touched), not for a
// detection.
var sideEffects = map[string]string{
	"kms-decrypt-by-s3": "KMS decrypts S3 makes for the attacker's GetObject calls (invokedBy s3): the investigation lists them under data touched",
}

// demoResult is what the built-in rules find on simulated data with both seed attacks.
type demoResult struct {
	table    string
	failures []string
}

// demoEfficacy simulates two weeks (the demo's data, a fixed seed), hunts it with the built-in
// rules and checks the ground truth: every attacker step is evidence in some signal, and no
// benign look-alike is evidence in a signal at medium or above.
func demoEfficacy(t *testing.T) demoResult {
	t.Helper()
	dir := t.TempDir()
	gt, err := simulate.Generate(context.Background(), simulate.Options{Seed: 20261126, Days: 14}, simulate.NewDirSink(dir))
	if err != nil {
		t.Fatal(err)
	}
	set := builtin(t)
	files := ruleFiles(set)
	res, err := hunt.Run(context.Background(), hunt.Config{MaxEventIDs: 1 << 20}, set, []string{filepath.Join(dir, "AWSLogs")})
	if err != nil {
		t.Fatal(err)
	}
	// event id -> signals that list it.
	by := map[string][]signal.Signal{}
	for _, s := range res.Signals {
		for _, id := range s.EventIDs {
			by[id] = append(by[id], s)
		}
	}
	var out demoResult
	var b strings.Builder
	fmt.Fprintf(&b, "Simulated two weeks (seed %d): %d events, %d files, 2 accounts; both attacks. Signals: %d.\n\n", gt.Seed, gt.Stats.Events, gt.Stats.Files, len(res.Signals))
	b.WriteString("| attack | step | events | found | rules (highest level) |\n|---|---|---|---|---|\n")
	for _, a := range gt.Attacks {
		type agg struct {
			n, found int
			rules    map[string]signal.Level
		}
		steps := map[string]*agg{}
		var order []string
		for _, st := range a.Steps {
			g := steps[st.Step]
			if g == nil {
				g = &agg{rules: map[string]signal.Level{}}
				steps[st.Step] = g
				order = append(order, st.Step)
			}
			g.n++
			if sigs := by[st.EventID]; len(sigs) > 0 {
				g.found++
				for _, s := range sigs {
					r := strings.TrimSuffix(files[s.RuleID], ".yml")
					if s.Level > g.rules[r] || g.rules[r] == 0 {
						g.rules[r] = s.Level
					}
				}
			}
		}
		for _, name := range order {
			g := steps[name]
			var rs []string
			for r, l := range g.rules {
				rs = append(rs, fmt.Sprintf("%s (%s)", r, l))
			}
			sort.Strings(rs)
			found := fmt.Sprintf("%d/%d", g.found, g.n)
			if why, ok := sideEffects[name]; ok && g.found == 0 {
				fmt.Fprintf(&b, "| %s | %s | %d | n/a | %s |\n", a.Name, name, g.n, why)
				continue
			}
			if g.found == 0 {
				found = "**0/" + fmt.Sprint(g.n) + "**"
				out.failures = append(out.failures, fmt.Sprintf("%s: step %s (%d events) is in no signal", a.Name, name, g.n))
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", a.Name, name, g.n, found, strings.Join(rs, ", "))
		}
	}
	// Look-alikes: which signals list them, at what level.
	kinds := map[string][2]int{} // kind -> {events, in medium+ signals}
	var kindOrder []string
	for _, la := range gt.LookAlikes {
		k, ok := kinds[la.Kind]
		if !ok {
			kindOrder = append(kindOrder, la.Kind)
		}
		k[0]++
		for _, s := range by[la.EventID] {
			if s.Level >= signal.LevelMedium {
				k[1]++
				out.failures = append(out.failures, fmt.Sprintf("benign %s event %s is evidence in %s signal %q", la.Kind, la.EventID, s.Level, s.Title))
				break
			}
		}
		kinds[la.Kind] = k
	}
	b.WriteString("\nBenign look-alikes (must stay below medium):\n\n| look-alike | events | in medium+ signals |\n|---|---|---|\n")
	for _, k := range kindOrder {
		fmt.Fprintf(&b, "| %s | %d | %d |\n", k, kinds[k][0], kinds[k][1])
	}
	// Signals at medium+ with no attacker event at all: false positives on benign traffic.
	attacker := map[string]bool{}
	for _, a := range gt.Attacks {
		for _, st := range a.Steps {
			attacker[st.EventID] = true
		}
	}
	fp := map[string]int{}
	for _, s := range res.Signals {
		if s.Level < signal.LevelMedium {
			continue
		}
		hit := false
		for _, id := range s.EventIDs {
			if attacker[id] {
				hit = true
				break
			}
		}
		if !hit {
			fp[fmt.Sprintf("%s (%s)", strings.TrimSuffix(files[s.RuleID], ".yml"), s.Level)]++
		}
	}
	b.WriteString("\nSignals at medium or above with no attacker event (false positives):\n\n| rule | signals |\n|---|---|\n")
	var fps []string
	for k := range fp {
		fps = append(fps, k)
	}
	sort.Strings(fps)
	for _, k := range fps {
		fmt.Fprintf(&b, "| %s | %d |\n", k, fp[k])
	}
	if len(fps) == 0 {
		b.WriteString("| none | 0 |\n")
	}
	out.table = b.String()
	return out
}

// TestDemoEfficacy needs no third-party data: the simulator writes the data and the answers.
func TestDemoEfficacy(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates two weeks of CloudTrail")
	}
	r := demoEfficacy(t)
	for _, f := range r.failures {
		t.Error(f)
	}
	if t.Failed() {
		t.Log("\n" + r.table)
	}
}
