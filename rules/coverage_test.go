package rules_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
	"go.yaml.in/yaml/v3"

	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/goldenfile"
	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/ruletest"
	"github.com/trailhound/trailhound/internal/shareddata"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/rules"
)

// stratusPage is how a rule claims a Stratus Red Team technique: it lists the technique's
// page among its references.
const stratusPage = "https://stratus-red-team.cloud/attack-techniques/AWS/"

// claims maps each Stratus technique that built-in rules reference to those rule files,
// sorted.
func claims(t *testing.T) map[string][]string {
	t.Helper()
	names, err := fs.Glob(rules.FS, "*.yml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.yml") {
			continue
		}
		b, err := fs.ReadFile(rules.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		for {
			var doc struct {
				References []string `yaml:"references"`
			}
			if err := dec.Decode(&doc); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: %v", name, err)
				}
				break
			}
			for _, ref := range doc.References {
				id, ok := strings.CutPrefix(ref, stratusPage)
				if !ok {
					continue
				}
				id = strings.TrimSuffix(id, "/")
				if !slices.Contains(out[id], name) {
					out[id] = append(out[id], name)
				}
			}
		}
	}
	for _, fs := range out {
		slices.Sort(fs)
	}
	return out
}

// technique is one line of the Stratus Red Team catalogue.
type technique struct{ id, name, tactics string }

// catalogue reads ../shared/data/stratus-aws-techniques.tsv.
func catalogue(t *testing.T) []technique {
	t.Helper()
	path := filepath.Join(shareddata.Dir(t, "data"), "stratus-aws-techniques.tsv")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []technique
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "id\t") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("%s:%d: %d columns, want 3", path, i+1, len(f))
		}
		out = append(out, technique{f[0], f[1], f[2]})
	}
	return out
}

// builtinSet loads the built-in rules with the built-in IOC lists, as trailhound hunt does.
func builtinSet(t *testing.T) *ruleset.Set {
	t.Helper()
	set, err := ruleset.Load(context.Background(), ruleset.Options{Builtin: rules.FS})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// firing returns, for the signals at low or above, each rule file with its highest level.
func firing(sigs []signal.Signal, files map[string]string) map[string]signal.Level {
	out := map[string]signal.Level{}
	for _, s := range sigs {
		if s.Level < signal.LevelLow {
			continue
		}
		f := files[s.RuleID]
		if l, ok := out[f]; !ok || s.Level > l {
			out[f] = s.Level
		}
	}
	return out
}

// ruleList formats rule files with their levels, sorted.
func ruleList(fired map[string]signal.Level, only func(string) bool) string {
	var parts []string
	for f, l := range fired {
		if only(f) {
			parts = append(parts, fmt.Sprintf("%s (%s)", strings.TrimSuffix(f, ".yml"), l))
		}
	}
	slices.Sort(parts)
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

// TestStratusCoverage checks that every technique of the Stratus Red Team AWS catalogue has
// built-in rules with test files, that every technique of the detonation logs is detected
// at low or above by its rules, with the enrichment trailhound hunt uses, and that every
// catalogue technique without a detonation has a rule test case that reproduces it and
// fires; it measures the same rules' signals on a benign trail and on Panther's labelled
// events, and writes it all to docs/COVERAGE.md.
func TestStratusCoverage(t *testing.T) {
	ctx := context.Background()
	byID := claims(t)
	cat := catalogue(t)
	detonations := shareddata.Dir(t, "data", "cloudtrail", "stratus-red-team-detonation-logs")
	set := builtinSet(t)
	files := set.RuleFiles()
	testFiles, err := ruletest.Load(rules.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	enr, err := enrich.Open(enrich.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer enr.Close()
	covered := map[string]bool{} // the rule files that cover some technique
	for _, rs := range byID {
		for _, r := range rs {
			covered[r] = true
			if _, err := fs.Stat(rules.FS, strings.TrimSuffix(r, ".yml")+"_test.yml"); err != nil {
				t.Errorf("rule %s has no test file", r)
			}
		}
	}
	inCatalogue := map[string]technique{}
	for _, tc := range cat {
		inCatalogue[tc.id] = tc
	}
	// The techniques of the table: the catalogue, then the detonations it lacks.
	rows := slices.Clone(cat)
	var extra []string
	for id := range byID {
		if _, ok := inCatalogue[id]; !ok {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		if _, err := os.Stat(filepath.Join(detonations, id+".json")); err != nil {
			t.Errorf("%s (referenced by %v) is neither in the catalogue nor in the detonation logs", id, byID[id])
		}
		rows = append(rows, technique{id: id, tactics: "(not in the catalogue)"})
	}

	var doc strings.Builder
	doc.WriteString("# Detection coverage of the Stratus Red Team AWS techniques\n\n")
	doc.WriteString("Generated by `go test ./rules -run TestStratusCoverage -update` from the catalogue in\n" +
		"`../shared/data/stratus-aws-techniques.tsv`, the detonation logs in\n" +
		"`../shared/data/cloudtrail/stratus-red-team-detonation-logs`, and the built-in rules that\n" +
		"claim each technique by listing its page (" + stratusPage + "ID/) among their references.\n" +
		"Do not edit by hand.\n\n" +
		"Each detonation is hunted alone with the built-in rules and IOC lists and the enrichment\n" +
		"`trailhound hunt` uses without a GeoIP database; a technique is detected when one of its\n" +
		"rules signals at low or above. A technique without a detonation must be reproduced by a\n" +
		"firing case of one of its rules' test files: the first case (in rule and file order) that\n" +
		"makes its rule signal at low or above is named. The test fails on any `no`.\n\n")
	doc.WriteString("| technique | tactics | rules | detonation | detected | also fired |\n|---|---|---|---|---|---|\n")
	var detected, inData, reproduced int
	for _, tc := range rows {
		claimed := byID[tc.id]
		if len(claimed) == 0 {
			t.Errorf("%s (%s) has no rule: write one and list %s%s/ in its references", tc.id, tc.name, stratusPage, tc.id)
			fmt.Fprintf(&doc, "| %s | %s | **none** | | **no** | |\n", tc.id, tc.tactics)
			continue
		}
		own := func(f string) bool { return slices.Contains(claimed, f) }
		path := filepath.Join(detonations, tc.id+".json")
		if _, err := os.Stat(path); err == nil {
			inData++
			res, err := hunt.Run(ctx, hunt.Config{Workers: 1, Enricher: enr}, set, []string{path})
			if err != nil {
				t.Fatal(err)
			}
			fired := firing(res.Signals, files)
			mark := "yes: " + ruleList(fired, own)
			if !slices.ContainsFunc(claimed, func(r string) bool { _, ok := fired[r]; return ok }) {
				mark = "**no**"
				t.Errorf("%s: none of %v signals at low or above on its detonation (%d events)", tc.id, claimed, res.Stats.Evaluated)
			} else {
				detected++
			}
			fmt.Fprintf(&doc, "| %s | %s | %s | %s | %s | %s |\n", tc.id, tc.tactics, strings.Join(claimed, ", "), plural(res.Stats.Evaluated, "event"), mark,
				ruleList(fired, func(f string) bool { return !own(f) }))
			continue
		}
		// Not in the data set: a firing case of one of its rules' test files reproduces it.
		rule, name, n, fired := reproduce(t, set, files, testFiles, claimed)
		if rule == "" {
			t.Errorf("%s has no detonation in the data set, and no test case of %v makes its rule signal at low or above", tc.id, claimed)
			fmt.Fprintf(&doc, "| %s | %s | %s | not in the data set | **no**: no test case fires | |\n", tc.id, tc.tactics, strings.Join(claimed, ", "))
			continue
		}
		reproduced++
		fmt.Fprintf(&doc, "| %s | %s | %s | not in the data set | test case «%s» of %s (%s): %s | %s |\n", tc.id, tc.tactics, strings.Join(claimed, ", "),
			name, strings.TrimSuffix(rule, ".yml")+"_test.yml", plural(n, "event"), ruleList(fired, func(f string) bool { return f == rule }),
			ruleList(fired, func(f string) bool { return f != rule }))
	}
	fmt.Fprintf(&doc, "\n%d techniques in the catalogue, %d in the table; %d with a detonation in the data set, %d of them detected; %d reproduced by a rule test case.\n",
		len(cat), len(rows), inData, detected, reproduced)

	benignNoise(t, &doc, set, files, enr, covered)
	pantherNoise(t, &doc, set, files, covered)

	goldenfile.Check(t, filepath.Join("..", "docs", "COVERAGE.md"), []byte(doc.String()))
}

// reproduce runs the firing cases of the test files of rules, in that order, and returns
// the first that makes its rule signal at low or above: the rule, the case's name, its
// number of events and the rules that fired. rule is "" when none does.
func reproduce(t *testing.T, set *ruleset.Set, files map[string]string, testFiles []*ruletest.File, claimed []string) (rule, name string, n int, fired map[string]signal.Level) {
	t.Helper()
	for _, r := range claimed {
		for _, f := range testFiles {
			if f.RuleFile != r {
				continue
			}
			var ev ruletest.Evaluator = hunt.Evaluator{Rules: set}
			if len(f.GeoIP) > 0 {
				var err error
				if ev, err = (hunt.Evaluator{Rules: set}).WithGeoIP(f.GeoIP); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range f.Cases {
				if len(c.Expect) == 0 {
					continue
				}
				sigs, err := ev.Evaluate(context.Background(), c.Events)
				if err != nil {
					t.Fatal(err)
				}
				fired := firing(sigs, files)
				if _, ok := fired[r]; ok {
					return r, c.Name, len(c.Events), fired
				}
			}
		}
	}
	return "", "", 0, nil
}

// benignNoise hunts the benign university trail and writes the signals per rule.
func benignNoise(t *testing.T, doc *strings.Builder, set *ruleset.Set, files map[string]string, enr *enrich.Enricher, covered map[string]bool) {
	t.Helper()
	dir := shareddata.Dir(t, "data", "cloudtrail", "grycap-cloudtrail-tracker")
	res, err := hunt.Run(context.Background(), hunt.Config{Workers: 2, Enricher: enr}, set, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		file  string
		level signal.Level
	}
	counts := map[key]int{}
	for _, s := range res.Signals {
		counts[key{files[s.RuleID], s.Level}]++
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(b.level, a.level); c != 0 {
			return c
		}
		return strings.Compare(a.file, b.file)
	})
	fmt.Fprintf(doc, "\n## Signals on a benign trail\n\n`grycap-cloudtrail-tracker`: %d events of a university teaching account (2014 and 2018), no attack,\n"+
		"hunted with every built-in rule and the same enrichment. Rules of the coverage table are marked.\n\n", res.Stats.Evaluated)
	doc.WriteString("| rule | coverage rule | level | signals |\n|---|---|---|---|\n")
	total, coverageMedium := 0, 0
	for _, k := range keys {
		mark := ""
		if covered[k.file] {
			mark = "yes"
			if k.level >= signal.LevelMedium {
				coverageMedium += counts[k]
			}
		}
		fmt.Fprintf(doc, "| %s | %s | %s | %d |\n", k.file, mark, k.level, counts[k])
		total += counts[k]
	}
	fmt.Fprintf(doc, "| **total** | | | %d |\n\nSignals at medium or above from rules of the coverage table: %d.\n", total, coverageMedium)
}

// pantherNoise runs every event of Panther's labelled rule tests through the built-in rules,
// one at a time, and writes, for each rule that fires on some, how many Panther labelled
// true (its own rule fires) or false.
func pantherNoise(t *testing.T, doc *strings.Builder, set *ruleset.Set, files map[string]string, covered map[string]bool) {
	t.Helper()
	path := filepath.Join(shareddata.Dir(t, "data", "cloudtrail", "panther-analysis-rule-tests"), "cloudtrail_rule_tests.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type ptest struct {
		RuleID   string          `json:"rule_id"`
		Name     string          `json:"test_name"`
		Expected bool            `json:"expected_result"`
		Event    json.RawMessage `json:"event"`
	}
	type tally struct {
		labelTrue, labelFalse int
		panther               map[string]bool
	}
	per := map[string]*tally{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	n := 0
	ev := hunt.Evaluator{Rules: set}
	for sc.Scan() {
		var p ptest
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		v, err := fastjson.ParseBytes(p.Event)
		if err != nil {
			t.Fatal(err)
		}
		n++
		sigs, err := ev.Evaluate(context.Background(), []*event.Event{{Raw: p.Event, Value: v, Pos: event.Position{File: path, Line: n}}})
		if err != nil {
			t.Fatal(err)
		}
		for r := range firing(sigs, files) {
			tl := per[r]
			if tl == nil {
				tl = &tally{panther: map[string]bool{}}
				per[r] = tl
			}
			if p.Expected {
				tl.labelTrue++
			} else {
				tl.labelFalse++
			}
			tl.panther[p.RuleID] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(doc, "\n## Signals on Panther's labelled rule tests\n\n%d events of Panther's CloudTrail rule tests (`panther-analysis-rule-tests`), each hunted alone.\n"+
		"For each built-in rule that signals (low or above) on some, how many of those events Panther's own\n"+
		"rule is expected to flag (true) or not (false), and which Panther rules the events test.\n"+
		"A false label is not a false positive of ours: Panther's tests check Panther's logic (many are the\n"+
		"same call with a detail changed); `internal/efficacy` compares the rules that claim a Panther rule.\n\n", n)
	doc.WriteString("| rule | coverage rule | events | Panther true | Panther false | Panther rules |\n|---|---|---|---|---|---|\n")
	names := make([]string, 0, len(per))
	for r := range per {
		names = append(names, r)
	}
	slices.Sort(names)
	for _, r := range names {
		tl := per[r]
		var pr []string
		for p := range tl.panther {
			pr = append(pr, p)
		}
		slices.Sort(pr)
		mark := ""
		if covered[r] {
			mark = "yes"
		}
		fmt.Fprintf(doc, "| %s | %s | %d | %d | %d | %s |\n", r, mark, tl.labelTrue+tl.labelFalse, tl.labelTrue, tl.labelFalse, strings.Join(pr, ", "))
	}
	if len(names) == 0 {
		doc.WriteString("| none | | 0 | | | |\n")
	}
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
