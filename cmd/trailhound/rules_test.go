package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// usersRule is a helper rule and a correlation over it in one file (generate: false): the
// helper only feeds the correlation. ref is what the correlation's rules list names.
func usersRule(ref string) string {
	return `title: IAM user created (helper)
name: test_user_created
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventSource: iam.amazonaws.com, eventName: CreateUser}
    condition: selection
level: low
---
title: Three IAM users created by one actor
name: test_three_users
correlation:
    type: event_count
    rules: [` + ref + `]
    group-by: [userIdentity.arn]
    timespan: 10m
    condition: {gte: 3}
level: high
`
}

// usersEvents are four users created by one actor within a minute, as JSON Lines.
func usersEvents() string {
	var b strings.Builder
	for i := range 4 {
		fmt.Fprintf(&b, `{"eventVersion":"1.09","eventID":"e%d","eventTime":"2026-11-20T10:00:%02dZ","eventSource":"iam.amazonaws.com",`+
			`"eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9","recipientAccountId":"111122223333",`+
			`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE"},`+
			`"requestParameters":{"userName":"u%d"}}`+"\n", i, 10*i, i)
	}
	return b.String()
}

// TestInvalidCorrelationStopsEveryCommand: a rule set with a correlation that cannot run (here
// it references a rule that does not exist) makes hunt, rules lint, rules test and
// investigate exit 2 with the positioned error and the hint, and hunt prints no signal —
// not the helper's signals in place of the correlation's. The same files with the reference
// fixed run, and give the correlation's signal only.
func TestInvalidCorrelationStopsEveryCommand(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rules, 0o755); err != nil {
		t.Fatal(err)
	}
	ruleFile := filepath.Join(rules, "users.yml")
	events := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(events, []byte(usersEvents()), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(ref string) {
		if err := os.WriteFile(ruleFile, []byte(usersRule(ref)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("test_user_created, test_no_such_rule")
	wantErr := ruleFile + `:13:32: correlation references unknown rule "test_no_such_rule"`
	const hint = "hint: a correlation that cannot run"
	tests := []struct {
		name string
		args []string
	}{
		{"hunt", []string{"hunt", "--no-builtin", "--rules", rules, "-f", "jsonl", events}},
		{"hunt with built-in rules", []string{"hunt", "--rules", rules, "-f", "jsonl", events}},
		{"rules lint", []string{"rules", "lint", rules}},
		{"rules test", []string{"rules", "test", rules}},
		{"investigate", []string{"investigate", "--no-builtin", "--rules", rules, events, "--user", "alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if out := r.stdout + r.stderr; !strings.Contains(out, wantErr) || !strings.Contains(r.stderr, hint) {
				t.Errorf("want the error %q and the hint on stderr; got\nstdout:\n%s\nstderr:\n%s", wantErr, r.stdout, r.stderr)
			}
			if tt.name != "rules lint" && tt.name != "rules test" && strings.TrimSpace(r.stdout) != "" {
				t.Errorf("printed results of a refused run:\n%s", r.stdout)
			}
		})
	}

	write("test_user_created")
	r := runCLI(t, nil, "hunt", "--no-builtin", "--rules", rules, "-f", "jsonl", events)
	if r.code != 0 {
		t.Fatalf("with the reference fixed: exit %d\n%s", r.code, r.stderr)
	}
	sigs := signalLines(t, r.stdout)
	if len(sigs) != 1 || sigs[0].Title != "Three IAM users created by one actor" || sigs[0].EventCount != 4 {
		t.Errorf("with the reference fixed, want the correlation's signal over 4 events only; got %+v", sigs)
	}
	if r := runCLI(t, nil, "rules", "lint", rules); r.code != 0 || strings.Contains(r.stderr, hint) {
		t.Errorf("rules lint with the reference fixed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestRulesLintWarnsAboutSlowRules: rules lint reports a rule that makes matching slow as a
// positioned warning and still exits 0; --help says so.
func TestRulesLintWarnsAboutSlowRules(t *testing.T) {
	dir := t.TempDir()
	var vals strings.Builder
	for i := range 200 {
		fmt.Fprintf(&vals, "            - 'zq%d*x%d'\n", i, i)
	}
	rule := "title: Slow\nid: 6a1f0a4e-2c1b-4d8e-9f3a-0b1c2d3e4f50\nlogsource: {product: aws, service: cloudtrail}\n" +
		"detection:\n    sel:\n        eventName: CreateUser\n        userAgent:\n" + vals.String() +
		"    every:\n        requestParameters|contains: zqzq\n    condition: sel or every\nlevel: low\n"
	path := filepath.Join(dir, "slow.yml")
	if err := os.WriteFile(path, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "rules", "lint", dir)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0: warnings do not fail lint\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		path + ":7:9: 200 values of userAgent are matched one at a time",
		path + ":209:9: substring search of the whole requestParameters object in every event",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lint output misses %q:\n%s", want, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "(warning)"); n != 2 || !strings.Contains(r.stderr, "2 warning(s)") {
		t.Errorf("want 2 warnings, each marked; got %d:\n%s%s", n, r.stdout, r.stderr)
	}
	if h := runCLI(t, nil, "rules", "lint", "--help"); !strings.Contains(h.stdout, "warnings never fail lint") {
		t.Errorf("rules lint --help does not document warnings:\n%s", h.stdout)
	}
}
