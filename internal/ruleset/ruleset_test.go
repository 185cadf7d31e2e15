package ruleset

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/trailhound/trailhound/internal/correlate"
	"github.com/trailhound/trailhound/internal/sigma"
)

const rulesYAML = `title: Base
id: 0b0c9f43-0000-4000-8000-000000000001
name: base
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventName: CreateUser}
    condition: sel
---
title: Many
id: 0b0c9f43-0000-4000-8000-000000000002
correlation:
    type: value_count
    rules: [base]
    group-by: [who]
    aliases:
        who:
            base: userIdentity.arn
    timespan: 5m
    condition: {gte: 3, field: awsRegion}
level: high
---
title: Chained
id: 0b0c9f43-0000-4000-8000-000000000003
correlation:
    type: event_count
    rules: [0b0c9f43-0000-4000-8000-000000000002]
    group-by: [who]
    timespan: 1h
    condition: {gte: 2}
`

const otherYAML = `title: Windows thing
id: 0b0c9f43-0000-4000-8000-000000000004
logsource: {product: windows, service: security}
detection:
    sel: {EventID: 4624}
    condition: sel
---
title: Over windows
id: 0b0c9f43-0000-4000-8000-000000000005
correlation:
    type: event_count
    rules: [0b0c9f43-0000-4000-8000-000000000004]
    group-by: [x]
    timespan: 1h
    condition: {gte: 2}
`

func TestLoadConvertsCorrelations(t *testing.T) {
	fsys := fstest.MapFS{"a.yml": {Data: []byte(rulesYAML)}, "b.yml": {Data: []byte(otherYAML)}}
	set, err := Load(context.Background(), Options{Builtin: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.Engine.Rules()); n != 1 {
		t.Errorf("%d compiled rules, want 1 (the windows rule is skipped)", n)
	}
	if len(set.Skipped) != 2 {
		t.Errorf("skipped %+v, want the windows rule and the correlation over it", set.Skipped)
	}
	got := set.Correlations.Rules
	if len(got) != 2 {
		t.Fatalf("correlations %+v, want 2", got)
	}
	many, chained := got[0], got[1]
	if many.Type != correlate.ValueCount || many.ValueFields[0] != "awsRegion" || many.Aliases["who"]["0b0c9f43-0000-4000-8000-000000000001"] != "userIdentity.arn" {
		t.Errorf("value_count converted as %+v", many)
	}
	if chained.Rules[0] != many.ID {
		t.Errorf("chained correlation references %v, want %s", chained.Rules, many.ID)
	}
	if !set.Correlations.Helpers["0b0c9f43-0000-4000-8000-000000000001"] {
		t.Error("a base rule defined beside its correlation (generate false) must be a helper")
	}
	if _, err := correlate.New(correlate.Config{Correlations: got}); err != nil {
		t.Errorf("the correlate engine rejects the converted correlations: %v", err)
	}
	// What the set covers: the two correlations, not the helper that only feeds them.
	var ids []string
	for _, in := range set.Infos() {
		ids = append(ids, in.ID)
	}
	want := []string{many.ID, chained.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("Infos: %v, want %v", ids, want)
	}
}

func TestLoadReportsPlaceholderErrors(t *testing.T) {
	rule := `title: IOC
id: 0b0c9f43-0000-4000-8000-000000000006
logsource: {product: aws, service: cloudtrail}
detection:
    sel:
        requestParameters.containerDefinitions.image|expand: '%mining_images%'
    condition: sel
`
	fsys := fstest.MapFS{"r.yml": {Data: []byte(rule)}}
	// Default: the built-in lists.
	if _, err := Load(context.Background(), Options{Builtin: fsys}); err != nil {
		t.Errorf("with built-in IOC lists: %v", err)
	}
	// Explicitly none: a positioned error.
	_, err := Load(context.Background(), Options{Builtin: fsys, Placeholders: map[string][]string{}})
	var el sigma.ErrorList
	if !errors.As(err, &el) || len(el) != 1 || el[0].Line != 6 {
		t.Errorf("err = %v, want one error at line 6", err)
	}
}

// TestRuleFiles: every rule and correlation, CloudTrail or not, maps to its file by the id
// its signals carry.
func TestRuleFiles(t *testing.T) {
	fsys := fstest.MapFS{"a.yml": {Data: []byte(rulesYAML)}, "sub/b.yml": {Data: []byte(otherYAML)}}
	set, err := Load(context.Background(), Options{Builtin: fsys})
	if err != nil {
		t.Fatal(err)
	}
	got := set.RuleFiles()
	want := map[string]string{
		"0b0c9f43-0000-4000-8000-000000000001": "a.yml", "0b0c9f43-0000-4000-8000-000000000002": "a.yml",
		"0b0c9f43-0000-4000-8000-000000000003": "a.yml", "0b0c9f43-0000-4000-8000-000000000004": "sub/b.yml",
		"0b0c9f43-0000-4000-8000-000000000005": "sub/b.yml",
	}
	if len(got) != len(want) {
		t.Errorf("RuleFiles() = %v, want %v", got, want)
	}
	for id, f := range want {
		if got[id] != f {
			t.Errorf("RuleFiles()[%s] = %q, want %q", id, got[id], f)
		}
	}
}
