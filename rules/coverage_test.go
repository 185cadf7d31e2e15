package rules_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
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

// coverageEntry is one technique of testdata/stratus_coverage.yml.
type coverageEntry struct {
	Technique string   `yaml:"technique"`
	Rules     []string `yaml:"rules"`
	Case      string   `yaml:"case"`
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

// ruleFiles maps rule and correlation ids to their file.
func ruleFiles(set *ruleset.Set) map[string]string {
	m := map[string]string{}
	for _, r := range set.Rules.Rules {
		m[r.Ref()] = r.File
	}
	for _, c := range set.Rules.Correlations {
		m[c.Ref()] = c.File
	}
	return m
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
	raw, err := os.ReadFile(filepath.Join("testdata", "stratus_coverage.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []coverageEntry
	if err := yaml.Unmarshal(raw, &entries); err != nil {
		t.Fatal(err)
	}
	cat := catalogue(t)
	detonations := shareddata.Dir(t, "data", "cloudtrail", "stratus-red-team-detonation-logs")
	set := builtinSet(t)
	files := ruleFiles(set)
	testFiles, err := ruletest.Load(rules.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	enr, err := enrich.Open(enrich.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer enr.Close()

	byID := map[string]coverageEntry{}
	covered := map[string]bool{} // the rule files that cover some technique
	for _, e := range entries {
		if _, dup := byID[e.Technique]; dup {
			t.Errorf("%s is listed twice", e.Technique)
		}
		byID[e.Technique] = e
		if len(e.Rules) == 0 {
			t.Errorf("%s names no rule", e.Technique)
		}
		for _, r := range e.Rules {
			covered[r] = true
			if _, err := rules.FS.Open(r); err != nil {
				t.Errorf("%s: rule %s is not a built-in rule", e.Technique, r)
			}
			if _, err := rules.FS.Open(strings.TrimSuffix(r, ".yml") + "_test.yml"); err != nil {
				t.Errorf("%s: rule %s has no test file", e.Technique, r)
			}
		}
	}
	inCatalogue := map[string]technique{}
	for _, tc := range cat {
		inCatalogue[tc.id] = tc
	}
	// The techniques of the table: the catalogue, then the detonations it lacks.
	rows := slices.Clone(cat)
	for _, e := range entries {
		if _, ok := inCatalogue[e.Technique]; !ok {
			if _, err := os.Stat(filepath.Join(detonations, e.Technique+".json")); err != nil {
				t.Errorf("%s is neither in the catalogue nor in the detonation logs", e.Technique)
			}
			rows = append(rows, technique{id: e.Technique, tactics: "(not in the catalogue)"})
		}
	}

	var doc strings.Builder
	doc.WriteString("# Detection coverage of the Stratus Red Team AWS techniques\n\n")
	doc.WriteString("Generated by `go test ./rules -run TestStratusCoverage -update` from the catalogue in\n" +
		"`../shared/data/stratus-aws-techniques.tsv`, the detonation logs in\n" +
		"`../shared/data/cloudtrail/stratus-red-team-detonation-logs` and the rules each technique\n" +
		"names in `rules/testdata/stratus_coverage.yml`. Do not edit by hand.\n\n" +
		"Each detonation is hunted alone with the built-in rules and IOC lists and the enrichment\n" +
		"`trailhound hunt` uses without a GeoIP database; a technique is detected when one of its\n" +
		"rules signals at low or above. A technique without a detonation is reproduced by a case\n" +
		"of its first rule's test file, which must fire that rule. The test fails on any `no`.\n\n")
	doc.WriteString("| technique | tactics | rules | detonation | detected | also fired |\n|---|---|---|---|---|---|\n")
	var detected, inData, reproduced int
	for _, tc := range rows {
		e, ok := byID[tc.id]
		if !ok {
			t.Errorf("%s (%s) has no rule: add one and list it in testdata/stratus_coverage.yml", tc.id, tc.name)
			fmt.Fprintf(&doc, "| %s | %s | **none** | | **no** | |\n", tc.id, tc.tactics)
			continue
		}
		own := func(f string) bool { return slices.Contains(e.Rules, f) }
		path := filepath.Join(detonations, tc.id+".json")
		if _, err := os.Stat(path); err == nil {
			inData++
			res, err := hunt.Run(ctx, hunt.Config{Workers: 1, Enricher: enr}, set, []string{path})
			if err != nil {
				t.Fatal(err)
			}
			fired := firing(res.Signals, files)
			mark := "yes: " + ruleList(fired, own)
			if !slices.ContainsFunc(e.Rules, func(r string) bool { _, ok := fired[r]; return ok }) {
				mark = "**no**"
				t.Errorf("%s: none of %v signals at low or above on its detonation (%d events)", tc.id, e.Rules, res.Stats.Evaluated)
			} else {
				detected++
			}
			fmt.Fprintf(&doc, "| %s | %s | %s | %s | %s | %s |\n", tc.id, tc.tactics, strings.Join(e.Rules, ", "), plural(res.Stats.Evaluated, "event"), mark,
				ruleList(fired, func(f string) bool { return !own(f) }))
			continue
		}
		// Not in the data set: the named test case reproduces it.
		if e.Case == "" {
			t.Errorf("%s has no detonation in the data set: name the case of %s that reproduces it", tc.id, e.Rules[0])
			fmt.Fprintf(&doc, "| %s | %s | %s | not in the data set | **no case** | |\n", tc.id, tc.tactics, strings.Join(e.Rules, ", "))
			continue
		}
		sigs, n := runCase(t, set, testFiles, e.Rules[0], e.Case)
		fired := firing(sigs, files)
		mark := fmt.Sprintf("test case «%s» (%s): %s", e.Case, plural(n, "event"), ruleList(fired, func(f string) bool { return f == e.Rules[0] }))
		if _, ok := fired[e.Rules[0]]; !ok {
			mark = fmt.Sprintf("**no**: test case «%s» does not fire it", e.Case)
			t.Errorf("%s: the case %q of %s does not make it signal at low or above", tc.id, e.Case, e.Rules[0])
		} else {
			reproduced++
		}
		fmt.Fprintf(&doc, "| %s | %s | %s | not in the data set | %s | %s |\n", tc.id, tc.tactics, strings.Join(e.Rules, ", "), mark,
			ruleList(fired, func(f string) bool { return f != e.Rules[0] }))
	}
	fmt.Fprintf(&doc, "\n%d techniques in the catalogue, %d in the table; %d with a detonation in the data set, %d of them detected; %d reproduced by a rule test case.\n",
		len(cat), len(rows), inData, detected, reproduced)

	benignNoise(t, &doc, set, files, enr, covered)
	pantherNoise(t, &doc, set, files, covered)

	goldenfile.Check(t, filepath.Join("..", "docs", "COVERAGE.md"), []byte(doc.String()))
}

// runCase evaluates the named case of rule's test file and returns its signals and the
// number of its events.
func runCase(t *testing.T, set *ruleset.Set, testFiles []*ruletest.File, rule, name string) ([]signal.Signal, int) {
	t.Helper()
	for _, f := range testFiles {
		if f.RuleFile != rule {
			continue
		}
		for _, c := range f.Cases {
			if c.Name != name {
				continue
			}
			var ev ruletest.Evaluator = hunt.Evaluator{Rules: set}
			if len(f.GeoIP) > 0 {
				var err error
				if ev, err = (hunt.Evaluator{Rules: set}).WithGeoIP(f.GeoIP); err != nil {
					t.Fatal(err)
				}
			}
			sigs, err := ev.Evaluate(context.Background(), c.Events)
			if err != nil {
				t.Fatal(err)
			}
			return sigs, len(c.Events)
		}
	}
	t.Errorf("%s has no test case %q", rule, name)
	return nil, 0
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
// one at a time, and writes, for each rule of the coverage table that fires on some, how many
// Panther labelled true (its own rule fires) or false.
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
			if !covered[r] {
				continue
			}
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
		"For each rule of the coverage table that signals (low or above) on some, how many of those events\n"+
		"Panther's own rule is expected to flag (true) or not (false), and which Panther rules the events test.\n"+
		"A false label is not a false positive of ours: Panther's tests check Panther's logic (many are the\n"+
		"same call with a detail changed); `internal/efficacy` compares the rules that claim a Panther rule.\n\n", n)
	doc.WriteString("| rule | events | Panther true | Panther false | Panther rules |\n|---|---|---|---|---|\n")
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
		fmt.Fprintf(doc, "| %s | %d | %d | %d | %s |\n", r, tl.labelTrue+tl.labelFalse, tl.labelTrue, tl.labelFalse, strings.Join(pr, ", "))
	}
	if len(names) == 0 {
		doc.WriteString("| none | 0 | | | |\n")
	}
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
