package sigma

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ruleDoc builds a rule whose detection has one selection with the given
// field lines (indented by 8 spaces). The selection starts on line 8.
func ruleDoc(lines ...string) string {
	return "title: t\nid: 6a0e7b7e-3c55-4f0b-b8a3-3c1d7f9b2e10\nlogsource:\n    product: aws\n    service: cloudtrail\n" +
		"detection:\n    selection:\n        " + strings.Join(lines, "\n        ") + "\n    condition: selection\n"
}

// errorStrings returns "line:col: msg" for each error of err.
func errorStrings(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var l ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("error %v is not an ErrorList", err)
	}
	var out []string
	for _, e := range l {
		out = append(out, strings.TrimPrefix(e.Error(), e.File+":"))
	}
	return out
}

func TestModifierValidation(t *testing.T) {
	tests := []struct {
		name string
		line string
		want []string // errors; nil means valid
	}{
		{"contains", "eventName|contains: Delete", nil},
		{"contains all", "userAgent|contains|all: [a, b]", nil},
		{"re flags", `arn|re|i|m|s: '^a.*$'`, nil},
		{"windash base64offset", "x|windash|base64offset|contains: '-enc'", nil},
		{"utf16 base64", "x|wide|base64: cmd", nil},
		{"fieldref neq", "x|fieldref|neq: y", nil},
		{"time compare", "eventTime|hour|gte: 22", nil},
		{"cidr v6", "ip|cidr: '2001:db8::/32'", nil},
		{"cased", "x|cased: Root", nil},
		{"expand", "x|expand: '%admins%'", nil},
		{"unknown", "x|bogus: 1", []string{`8:11: unknown modifier "bogus"`}},
		{"upper case", "x|EndsWith: a", []string{`8:11: unknown modifier "EndsWith" (modifiers are lower case: "endswith")`}},
		{"two positions", "x|startswith|endswith: a", []string{`8:22: modifier "endswith" conflicts with "startswith": use only one of contains, startswith and endswith`}},
		{"two encodings", "x|utf16le|utf16be: a", []string{`8:19: modifier "utf16be" conflicts with "utf16le": use only one of utf16, utf16le, utf16be and wide`}},
		{"repeated", "x|contains|contains: a", []string{`8:20: modifier "contains" is repeated`}},
		{"flag without re", "x|m: a", []string{`8:11: "m" is a sub-modifier of re and must follow it (field|re|m)`}},
		{"exists with contains", "x|exists|contains: true", []string{`8:18: modifier "contains" cannot be combined with "exists"`}},
		{"re with cidr", "x|re|cidr: a", []string{`8:14: modifier "cidr" cannot be combined with "re"`}},
		{"time after compare", "x|gt|hour: 3", []string{`8:14: time modifier "hour" must come before "gt"`}},
		{"exists not bool", "x|exists: 'true'", []string{`8:19: modifier exists takes a single true or false, found string "true"`}},
		{"exists list", "x|exists: [true, false]", []string{`8:20: modifier exists takes a single true or false, found bool "true"`}},
		{"gt string", "x|gt: '5'", []string{`8:15: modifier gt needs a number, found string "5"`}},
		{"contains bool", "x|contains: true", []string{`8:21: modifier contains needs a string, found bool "true"`}},
		{"all single", "x|contains|all: a", []string{`8:9: modifier all needs a list of two or more values (a single value with all is not allowed)`}},
		{"null with modifier", "x|contains: null", []string{`8:21: null cannot be used with modifier "contains"`}},
		{"null in list", "x: [a, null]", []string{`8:16: null cannot be part of a list of values of "x": put it in a search identifier of its own`}},
		{"bad cidr", "x|cidr: 10.0.0.0/33", []string{`8:17: invalid CIDR network "10.0.0.0/33": netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`}},
		{"lookbehind", `x|re: 'a(?<=b)'`, []string{"8:17: invalid regular expression: invalid named capture: `(?<=b)` (lookbehind is not supported by Go's RE2 regular expressions)"}},
		{"backreference", `x|re: '(a)\1'`, []string{"8:19: invalid regular expression: invalid escape sequence: `\\1` (backreferences are not supported by Go's RE2 regular expressions)"}},
		{"empty field", "'': a", []string{"8:9: empty field name"}},
		{"map value", "x: {a: b}", []string{`8:12: value of "x" must be a value or a list of values, found a map`}},
		{"exists nested list", "x|exists: [[true]]", []string{`8:20: values of "x|exists" must be plain values, found a list`}},
		{"empty list", "x: []", []string{`8:12: field "x" has an empty list of values`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yml", []byte(ruleDoc(tt.line)))
			if diff := cmp.Diff(tt.want, errorStrings(t, err)); diff != "" {
				t.Errorf("Parse(%q) errors (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func TestValueTyping(t *testing.T) {
	f, err := Parse("r.yml", []byte(ruleDoc(
		"s: 'text*'",
		"plain: Delete?Bucket",
		"n: 4624",
		"hex: 0x17",
		"f: 1.5",
		"quoted: '4624'",
		"b: true",
		"z: null",
		"d: 2024-01-02",
		`e|expand: 'a%one%\%no b%two%'`,
		"kw|all: [x, y]",
	)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	ms := f.Rules[0].Detection.Searches[0].Selections[0].Matchers
	type got struct {
		Field        string
		Kind         ValueKind
		Raw          string
		Number       float64
		Bool         bool
		Placeholders []string
	}
	var gots []got
	for _, m := range ms {
		v := m.Values[0]
		gots = append(gots, got{m.Field, v.Kind, v.Raw, v.Number, v.Bool, v.Placeholders})
	}
	want := []got{
		{"s", KindString, "text*", 0, false, nil},
		{"plain", KindString, "Delete?Bucket", 0, false, nil},
		{"n", KindNumber, "4624", 4624, false, nil},
		{"hex", KindNumber, "0x17", 23, false, nil},
		{"f", KindNumber, "1.5", 1.5, false, nil},
		{"quoted", KindString, "4624", 0, false, nil},
		{"b", KindBool, "true", 0, true, nil},
		{"z", KindNull, "null", 0, false, nil},
		{"d", KindString, "2024-01-02", 0, false, nil},
		{"e", KindString, `a%one%\%no b%two%`, 0, false, []string{"one", "two"}},
		{"kw", KindString, "x", 0, false, nil},
	}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if !ms[len(ms)-1].MatchAll() || ms[0].MatchAll() {
		t.Errorf("MatchAll wrong: last %v, first %v", ms[len(ms)-1].MatchAll(), ms[0].MatchAll())
	}
}

func TestSearchForms(t *testing.T) {
	doc := `title: forms
logsource: {product: AWS, service: CloudTrail}
detection:
    as_map:
        eventName: A
        eventSource|endswith: .amazonaws.com
    as_list:
        - eventName: A
        - eventName: B
          readOnly: true
    as_keywords:
        - evil
        - 42
    as_keyword: evil
    as_all_keywords:
        '|all': [evil, corp]
    condition: 1 of as_*
`
	f, err := Parse("forms.yml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	r := f.Rules[0]
	if !r.IsCloudTrail() {
		t.Errorf("IsCloudTrail() = false for logsource %+v", r.LogSource)
	}
	type shape struct {
		Name       string
		Form       SearchForm
		Selections []int // matchers per selection
		Fields     []string
	}
	var got []shape
	for _, s := range r.Detection.Searches {
		sh := shape{Name: s.Name, Form: s.Form}
		for _, sel := range s.Selections {
			sh.Selections = append(sh.Selections, len(sel.Matchers))
			for _, m := range sel.Matchers {
				sh.Fields = append(sh.Fields, m.Field)
			}
		}
		got = append(got, sh)
	}
	want := []shape{
		{"as_map", FormMap, []int{2}, []string{"eventName", "eventSource"}},
		{"as_list", FormMapList, []int{1, 2}, []string{"eventName", "eventName", "readOnly"}},
		{"as_keywords", FormKeywords, []int{1}, []string{""}},
		{"as_keyword", FormKeywords, []int{1}, []string{""}},
		{"as_all_keywords", FormMap, []int{1}, []string{""}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("searches (-want +got):\n%s", diff)
	}
	if got := r.Detection.Conditions[0].Expr.(*OfExpr).Names; len(got) != 5 {
		t.Errorf("1 of as_* resolved to %v, want 5 names", got)
	}
}

func TestIsCloudTrail(t *testing.T) {
	tests := []struct {
		ls   LogSource
		want bool
	}{
		{LogSource{Product: "aws", Service: "cloudtrail"}, true},
		{LogSource{Product: "AWS", Service: "CloudTrail"}, true},
		{LogSource{Product: "aws"}, false},
		{LogSource{Product: "windows", Service: "cloudtrail"}, false},
		{LogSource{Category: "cloudtrail"}, false},
	}
	for _, tt := range tests {
		r := &Rule{LogSource: tt.ls}
		if got := r.IsCloudTrail(); got != tt.want {
			t.Errorf("IsCloudTrail(%+v) = %v, want %v", tt.ls, got, tt.want)
		}
	}
}

func TestCorrelationParse(t *testing.T) {
	doc := `title: c
correlation:
    type: value_count
    rules: [a, b]
    group-by: [sourceIPAddress]
    timespan: 90m
    condition:
        field: [eventName, eventSource]
        gt: 10
        lte: 20
    aliases:
        ip:
            a: sourceIPAddress
            b: requestParameters.ip
generate: true
`
	f, err := Parse("c.yml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	c := f.Correlations[0]
	want := &Correlation{
		Meta:     Meta{Title: "c"},
		File:     "c.yml",
		Pos:      Pos{1, 1},
		Type:     ValueCount,
		Rules:    []*RuleRef{{Ref: "a", Pos: Pos{4, 13}}, {Ref: "b", Pos: Pos{4, 16}}},
		GroupBy:  []string{"sourceIPAddress"},
		Timespan: Duration{Raw: "90m", D: 90 * time.Minute, Pos: Pos{6, 15}},
		Condition: &CorrelationCondition{
			Field: []string{"eventName", "eventSource"},
			Comparisons: []Comparison{
				{Op: "gt", Value: 10, Raw: "10", Pos: Pos{9, 9}},
				{Op: "lte", Value: 20, Raw: "20", Pos: Pos{10, 9}},
			},
			Pos: Pos{7, 5},
		},
		Aliases:  []Alias{{Name: "ip", Fields: map[string]string{"a": "sourceIPAddress", "b": "requestParameters.ip"}, Pos: Pos{12, 9}}},
		Generate: true,
	}
	if diff := cmp.Diff(want, c, cmpopts.IgnoreUnexported(Correlation{})); diff != "" {
		t.Errorf("correlation (-want +got):\n%s", diff)
	}
}

func TestCorrelationValidation(t *testing.T) {
	head := "title: c\ncorrelation:\n"
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"temporal ok", "    type: temporal\n    rules: [a, b]\n    group-by: [x]\n    timespan: 1d\n", nil},
		{"new_value ok", "    type: new_value\n    rules: [a]\n    field: x\n    learning: 2w\n", nil},
		{"no type", "    rules: [a]\n", []string{"2:1: correlation has no type"}},
		{"no rules", "    type: temporal\n    group-by: [x]\n    timespan: 1m\n", []string{"2:1: correlation has no rules"}},
		{"event_count no condition", "    type: event_count\n    rules: [a]\n    group-by: [x]\n    timespan: 1m\n",
			[]string{"2:1: event_count correlation has no condition"}},
		{"field on event_count", "    type: event_count\n    rules: [a]\n    group-by: [x]\n    timespan: 1m\n    condition: {gte: 2, field: y}\n",
			[]string{"7:5: event_count condition takes no field (only value_count, value_sum, value_avg, value_percentile and baseline_count do)"}},
		{"fractional count", "    type: event_count\n    rules: [a]\n    group-by: [x]\n    timespan: 1m\n    condition: {gte: 2.5}\n",
			[]string{"7:17: gte: event_count compares a count and needs a whole number, found 2.5"}},
		{"new_value learn-first ok", "    type: new_value\n    rules: [a]\n    group-by: [x]\n    field: y\n    learn-first: true\n", nil},
		{"learn-first on event_count", "    type: event_count\n    rules: [a]\n    group-by: [x]\n    timespan: 5m\n    condition: {gte: 5}\n    learn-first: true\n",
			[]string{"2:1: learn-first is only used by new_value correlations"}},
		{"learning on temporal", "    type: temporal\n    rules: [a]\n    group-by: [x]\n    timespan: 1m\n    learning: 1d\n",
			[]string{"2:1: learning is only used by new_value and baseline_count correlations"}},
		{"baseline_count ok", "    type: baseline_count\n    rules: [a]\n    group-by: [x]\n    timespan: 5m\n    condition: {gte: 15, field: eventName}\n    factor: 3\n    learning: 7d\n    forget: 30d\n", nil},
		{"baseline_count of events, default factor", "    type: baseline_count\n    rules: [a]\n    group-by: [x]\n    timespan: 5m\n    condition: {gt: 99}\n", nil},
		{"baseline_count without a floor", "    type: baseline_count\n    rules: [a]\n    group-by: [x]\n    timespan: 5m\n    condition: {lt: 10}\n",
			[]string{"7:5: baseline_count condition needs a floor (gte 1 or more, or gt): without one a group with no history fires at its first event"}},
		{"baseline_count without a condition", "    type: baseline_count\n    rules: [a]\n    group-by: [x]\n    timespan: 5m\n",
			[]string{"2:1: baseline_count correlation has no condition"}},
		{"baseline_count factor below 1", "    type: baseline_count\n    rules: [a]\n    group-by: [x]\n    timespan: 5m\n    condition: {gte: 5}\n    factor: 0.5\n",
			[]string{"8:13: factor must be a number between 1 and 1000000, found 0.5"}},
		{"baseline_count field outside condition", "    type: baseline_count\n    rules: [a]\n    group-by: [x]\n    timespan: 5m\n    condition: {gte: 5}\n    field: y\n",
			[]string{"2:1: field is only used by new_value correlations (value_count and baseline_count take their field in condition)"}},
		{"factor on event_count", "    type: event_count\n    rules: [a]\n    group-by: [x]\n    timespan: 5m\n    condition: {gte: 5}\n    factor: 2\n",
			[]string{"8:13: factor is only used by baseline_count correlations"}},
		{"bad unit", "    type: temporal\n    rules: [a]\n    group-by: [x]\n    timespan: 1M\n",
			[]string{`6:15: timespan: invalid duration "1M": write a whole number and a unit s, m, h, d or w, such as 5m`}},
		{"unknown key", "    type: temporal\n    rules: [a]\n    group-by: [x]\n    timespan: 1m\n    window: 1m\n",
			[]string{`7:5: unknown key "window" in correlation`}},
		{"generate not bool", "    type: temporal\n    rules: [a]\n    group-by: [x]\n    timespan: 1m\n    generate: 'no'\n",
			[]string{"7:15: generate must be true or false, found a string"}},
		{"not a map", "    - a\n", []string{"3:5: correlation must be a map (type, rules, group-by, timespan, condition), found a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yml", []byte(head+tt.body))
			if diff := cmp.Diff(tt.want, errorStrings(t, err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"30s", 30 * time.Second, false},
		{"5m", 5 * time.Minute, false},
		{"1h", time.Hour, false},
		{"1d", 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"0m", 0, true},
		{"5", 0, true},
		{"1.5h", 0, true},
		{"5H", 0, true},
		{"99999999999999999999d", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMultiDocument(t *testing.T) {
	fsys := fstest.MapFS{
		"rules/chain.yml": {Data: []byte(`title: chain
correlation:
    type: temporal_ordered
    rules: [first, 3b5d4c3e-2f51-4c59-8a8c-1f0f8f6a9a02, count_first]
    group-by: [userIdentity.arn]
    timespan: 10m
---
title: count first
name: count_first
correlation:
    type: event_count
    rules: [first]
    group-by: [userIdentity.arn]
    timespan: 5m
    condition: {gte: 3}
---
title: First
name: first
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventName: A}
    condition: sel
`)},
		"rules/other/second.yaml": {Data: []byte(`title: Second
id: 3b5d4c3e-2f51-4c59-8a8c-1f0f8f6a9a02
logsource: {product: gcp, service: audit}
detection:
    sel: {eventName: B}
    condition: sel
`)},
		"rules/other/second_test.yml": {Data: []byte("not: [a rule\n")},
		"rules/notes.txt":             {Data: []byte("ignored")},
	}
	rs, err := LoadFS(context.Background(), fsys, "rules")
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	var files []string
	for _, f := range rs.Files {
		files = append(files, f.Name)
	}
	if diff := cmp.Diff([]string{"rules/chain.yml", "rules/other/second.yaml"}, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if len(rs.Rules) != 2 || len(rs.Correlations) != 2 {
		t.Fatalf("got %d rules and %d correlations, want 2 and 2", len(rs.Rules), len(rs.Correlations))
	}
	chain := rs.Correlations[0]
	type res struct {
		Ref, By, Target string
	}
	var got []res
	for _, ref := range chain.Rules {
		r := res{Ref: ref.Ref, By: ref.By}
		switch {
		case ref.Rule != nil:
			r.Target = "rule " + ref.Rule.Title
		case ref.Correlation != nil:
			r.Target = "correlation " + ref.Correlation.Title
		}
		got = append(got, r)
	}
	want := []res{
		{"first", "name", "rule First"},
		{"3b5d4c3e-2f51-4c59-8a8c-1f0f8f6a9a02", "id", "rule Second"},
		{"count_first", "name", "correlation count first"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("references (-want +got):\n%s", diff)
	}
	if r, _ := rs.Lookup("first"); r == nil || r.Doc != 2 || r.Pos != (Pos{17, 1}) {
		t.Errorf("Lookup(first) = %+v, want document 2 at 17:1", r)
	}
	if rs.Rules[1].IsCloudTrail() {
		t.Errorf("gcp rule reported as CloudTrail")
	}
}

func TestIsRuleFile(t *testing.T) {
	for name, want := range map[string]bool{
		"a.yml": true, "a.yaml": true, "dir/a_b.yml": true,
		"a_test.yml": false, "a_test.yaml": false, "a.json": false, "a.yml.bak": false,
	} {
		if got := IsRuleFile(name); got != want {
			t.Errorf("IsRuleFile(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseKeepsCustomAndMeta(t *testing.T) {
	doc := ruleDoc("eventName: A") + `related:
    - id: 929a690e-bef0-4204-a928-ef5e620d6fcc
      type: derived
references:
falsepositives: Unknown
x-team: blue
`
	f, err := Parse("r.yml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	m := f.Rules[0].Meta
	if diff := cmp.Diff(Meta{
		Title:          "t",
		ID:             "6a0e7b7e-3c55-4f0b-b8a3-3c1d7f9b2e10",
		FalsePositives: []string{"Unknown"},
		Related:        []Related{{ID: "929a690e-bef0-4204-a928-ef5e620d6fcc", Type: "derived"}},
		Custom:         map[string]any{"x-team": "blue"},
	}, m); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
}

func TestErrorListFormatting(t *testing.T) {
	l := ErrorList{
		{File: "b.yml", Line: 1, Col: 1, Msg: "z"},
		{File: "a.yml", Line: 2, Col: 5, Msg: "y"},
		{File: "a.yml", Line: 2, Col: 3, Msg: "x"},
		{File: "a.yml", Line: 2, Col: 3, Msg: "x"},
		{File: "c.yml", Msg: "reading rule file: denied"},
	}
	l.Sort()
	want := "a.yml:2:3: x\na.yml:2:5: y\nb.yml:1:1: z\nc.yml: reading rule file: denied"
	if got := l.Error(); got != want {
		t.Errorf("ErrorList.Error() =\n%s\nwant\n%s", got, want)
	}
	var e *Error
	if !errors.As(error(l), &e) || e.Msg != "x" {
		t.Errorf("errors.As did not find the first *Error: %v", e)
	}
	if (ErrorList{}).Err() != nil {
		t.Errorf("empty ErrorList.Err() != nil")
	}
}

// TestCopiedRule: a rule copied into a second file, even reformatted, is ignored with a
// warning; a different rule under the same id is an error.
func TestCopiedRule(t *testing.T) {
	const rule = `title: Copied
id: 5d0e6d7c-3d5f-4c1e-9d8e-2f9a1b7c6e01
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventName: [A, B]}
    condition: sel
`
	const reformatted = `# the same rule, written differently
title: "Copied"
id: 5d0e6d7c-3d5f-4c1e-9d8e-2f9a1b7c6e01
logsource:
  product: aws
  service: cloudtrail
detection:
  sel:
    eventName:
      - A
      - B
  condition: sel
`
	quoted := strings.Replace(rule, "[A, B]", "[A, '1']", 1)
	tests := []struct {
		name, first, second string
		wantErr             bool
	}{
		{"same text", rule, rule, false},
		{"reformatted", rule, reformatted, false},
		{"other value", rule, strings.Replace(rule, "[A, B]", "[A, C]", 1), true},
		{"other key", rule, strings.Replace(rule, "eventName", "eventSource", 1), true},
		{"number instead of string", quoted, strings.Replace(quoted, "'1'", "1", 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"rules/a.yml": {Data: []byte(tt.first)},
				"rules/b.yml": {Data: []byte(tt.second)},
			}
			rs, err := LoadFS(context.Background(), fsys, "rules")
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "duplicate rule id") {
					t.Fatalf("LoadFS error = %v, want a duplicate rule id", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadFS: %v", err)
			}
			if len(rs.Rules) != 1 || len(rs.Warnings) != 1 || !strings.Contains(rs.Warnings[0].Error(), "exact copy") {
				t.Errorf("got %d rules, warnings %v; want 1 rule and an exact-copy warning", len(rs.Rules), rs.Warnings)
			}
		})
	}
}
