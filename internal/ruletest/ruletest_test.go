package ruletest_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/ruletest"
	"github.com/trailhound/trailhound/rules"
)

// runTests loads the rules of fsys (as built-in rules) and their test files, runs every
// case through the engine, and returns the results with the numbers of test and rule files.
func runTests(t *testing.T, fsys fs.FS) (results []ruletest.Result, testFiles, ruleFiles int) {
	t.Helper()
	ctx := context.Background()
	set, err := ruleset.Load(ctx, ruleset.Options{Builtin: fsys})
	if err != nil {
		t.Fatal(err)
	}
	files, err := ruletest.Load(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	results, err = ruletest.Run(ctx, files, set.Rules, hunt.Evaluator{Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	return results, len(files), len(set.Rules.Files)
}

// TestBuiltinRules runs every case of every built-in rule through the engine.
func TestBuiltinRules(t *testing.T) {
	results, nfiles, nrules := runTests(t, rules.FS)
	if nfiles != nrules {
		t.Errorf("%d test files for %d rule files: every rule needs its _test.yml", nfiles, nrules)
	}
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("%s:%d: %s: %s", r.File, r.Line, r.Case, r.Failure)
		}
	}
	if len(results) == 0 {
		t.Fatal("no cases ran")
	}
}

const ruleYAML = `title: Test rule
id: 5c0d9a51-7a2e-4b6e-9a57-0f3f3c1f2b11
status: test
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventName: CreateUser
    condition: selection
level: high
`

func event(id, name string) string {
	return `{"eventVersion": "1.08", "eventID": "` + id + `", "eventName": "` + name + `", "eventSource": "iam.amazonaws.com", "eventTime": "2026-11-20T09:00:00Z"}`
}

// TestRunReportsMismatches checks that wrong expectations fail, in both directions.
func TestRunReportsMismatches(t *testing.T) {
	testYAML := `cases:
  - name: "fires, expected"
    events: [` + event("a", "CreateUser") + `]
    expect: [{event_ids: [a]}]
  - name: "fires, but expected silence"
    events: [` + event("b", "CreateUser") + `]
    expect: []
  - name: "silent, but expected a signal"
    events: [` + event("c", "ListUsers") + `]
    expect: [{event_ids: [c]}]
  - name: "fires on the wrong event"
    events: [` + event("d", "CreateUser") + `, ` + event("e", "ListUsers") + `]
    expect: [{event_ids: [e]}]
`
	fsys := fstest.MapFS{
		"r.yml":      {Data: []byte(ruleYAML)},
		"r_test.yml": {Data: []byte(testYAML)},
	}
	results, _, _ := runTests(t, fsys)
	want := []struct {
		pass    bool
		failure string
	}{
		{true, ""},
		{false, "unexpected [b]"},
		{false, "missing [c]"},
		{false, "missing [e]; unexpected [d]"},
	}
	if len(results) != len(want) {
		t.Fatalf("got %d results, want %d", len(results), len(want))
	}
	for i, w := range want {
		r := results[i]
		if r.Passed() != w.pass || !strings.Contains(r.Failure, w.failure) {
			t.Errorf("case %q: passed=%v failure=%q; want passed=%v failure containing %q", r.Case, r.Passed(), r.Failure, w.pass, w.failure)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, data := range map[string]string{
		"no cases":      "cases: []\n",
		"not yaml":      "cases: [\n",
		"event not obj": "cases:\n  - name: x\n    events: [1]\n    expect: []\n",
	} {
		if _, err := ruletest.Parse("x_test.yml", []byte(data)); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
}

// FuzzParse: a test file of any content parses or fails with an error, never panics, and
// every event it yields is a JSON object.
func FuzzParse(f *testing.F) {
	f.Add([]byte("cases:\n  - name: x\n    events: [{eventName: A}]\n    expect: []\n"))
	f.Add([]byte("cases: [{name: y, events: [], expect: [{event_ids: [a, b]}]}]"))
	f.Add([]byte("cases:\n  - &a {name: z}\n  - *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ruletest.Parse("f_test.yml", data)
		if err != nil {
			return
		}
		for _, c := range file.Cases {
			for _, ev := range c.Events {
				if ev.Value == nil || ev.Value.Type().String() != "object" {
					t.Fatalf("case %q yields a non-object event", c.Name)
				}
			}
		}
	})
}

// hunt.Evaluator can run files that declare geoip networks.
var _ ruletest.GeoIPEvaluator = hunt.Evaluator{}

// TestGeoIPFixtures: a test file's geoip networks reach the rules as trailhound.src_asn and
// src_country; without them the same events carry no such fields.
func TestGeoIPFixtures(t *testing.T) {
	rule := `title: From Indonesia
id: 5c0d9a51-7a2e-4b6e-9a57-0f3f3c1f2b12
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {trailhound.src_country: ID, trailhound.src_asn: 7713}
    condition: sel
level: high
`
	ev := `{"eventVersion": "1.08", "eventID": "g1", "eventName": "ListUsers", "eventTime": "2026-11-20T09:00:00Z", "sourceIPAddress": "36.68.1.1"}`
	with := "geoip:\n  - {network: 36.68.0.0/16, asn: 7713, country: ID}\ncases:\n  - name: fires\n    events: [" + ev + "]\n    expect: [{event_ids: [g1]}]\n"
	without := "cases:\n  - name: silent\n    events: [" + ev + "]\n    expect: []\n"
	for name, testYAML := range map[string]string{"with": with, "without": without} {
		fsys := fstest.MapFS{"r.yml": {Data: []byte(rule)}, "r_test.yml": {Data: []byte(testYAML)}}
		results, _, _ := runTests(t, fsys)
		for _, r := range results {
			if !r.Passed() {
				t.Errorf("%s: %s", name, r.Failure)
			}
		}
	}
	if _, err := ruletest.Parse("x_test.yml", []byte("geoip:\n  - {network: nope}\ncases:\n  - {name: x, events: [], expect: []}\n")); err == nil {
		t.Error("a bad geoip network was accepted")
	}
}
