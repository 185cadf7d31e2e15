package detect

import (
	"fmt"
	"strings"
	"testing"
)

// list writes n values, indented for a matcher at the top of a selection.
func list(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "\n    - '"+format+"'", i, i)
	}
	return b.String()
}

func alternation(n int, anchored bool) string {
	alts := make([]string, n)
	for i := range alts {
		alts[i] = fmt.Sprintf("%c%dzq", 'a'+i%26, i)
	}
	re := "(" + strings.Join(alts, "|") + ")"
	if anchored {
		re = "^" + re
	}
	return "'" + re + "'"
}

// TestCostWarnings: what is slow to match is reported at its position, what is not is not.
func TestCostWarnings(t *testing.T) {
	const indexed = "name:\n  eventName: CreateUser\n"
	tests := []struct {
		name string
		det  string
		want []string // "line:col: message prefix"; the detection starts on line 7, indented by 2
	}{
		{"many values with a star inside", "sel:\n  userAgent:" + list(200, "zq%d*x%d") + "\ncondition: sel",
			[]string{"8:5: 200 values of userAgent are matched one at a time (values with '?' or a star inside)"}},
		{"a few values with a star inside", "sel:\n  userAgent:" + list(maxOneByOne, "zq%d*x%d") + "\ncondition: sel", nil},
		{"many plain contains values: one automaton", "sel:\n  userAgent|contains:" + list(5000, "zq%dx%d") + "\ncondition: sel", nil},
		{"many values with |all", "sel:\n  userAgent|contains|all:" + list(150, "zq%dx%d") + "\ncondition: sel",
			[]string{"8:5: 150 values of userAgent are matched one at a time (|all: each value is looked for on its own)"}},
		{"unanchored alternation of literals", "sel:\n  userAgent|re: " + alternation(20, false) + "\ncondition: sel",
			[]string{"8:19: regular expression of userAgent costs about "}},
		{"the alternation's remedy", "sel:\n  userAgent|re: " + alternation(20, false) + "\ncondition: sel",
			[]string{"8:19: regular expression of userAgent costs about 7.9 µs per value: 113 instructions, tried at every position, and no literal of 3 characters or more that every match contains, to skip values without it; its 20 literal alternatives written as a list of values"}},
		{"anchored alternation", "sel:\n  userAgent|re: " + alternation(20, true) + "\ncondition: sel", nil},
		{"huge anchored alternation", "sel:\n  userAgent|re: " + alternation(3000, true) + "\ncondition: sel",
			[]string{"8:19: regular expression of userAgent costs about "}},
		{"a literal the prefilter uses", "sel:\n  userAgent|re: '(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q).*evilcorp'\ncondition: sel", nil},
		{"one small expression without literal", "sel:\n  userAgent|re: '[0-9]{12}'\ncondition: sel", nil},
		{"many small expressions without literal", "sel:\n  userAgent|re:" + list(10, "[0-9]{1%d}[a-z]{%d}") + "\ncondition: sel",
			[]string{"8:5: 10 regular expressions of userAgent, none with a literal to skip values by, cost about "}},
		{"keywords in every event", "keywords:\n  - zqzq\ncondition: keywords",
			[]string{"7:3: keyword search in every event"}},
		{"keywords in indexed events", indexed + "keywords:\n  - zqzq\ncondition: name and keywords", nil},
		{"object text in every event", "sel:\n  requestParameters|contains: zqzq\ncondition: sel",
			[]string{"8:5: substring search of the whole requestParameters object in every event"}},
		{"object text with stars in every event", "sel:\n  responseElements: '*zqzq*'\ncondition: sel",
			[]string{"8:5: substring search of the whole responseElements object in every event"}},
		{"object text in indexed events", indexed + "sel:\n  requestParameters|contains: zqzq\ncondition: name and sel", nil},
		{"a leaf field in every event", "sel:\n  userAgent|contains: zqzq\ncondition: sel", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := compileDetection(t, tt.det, Options{})
			if err != nil {
				t.Fatalf("compiling: %v", err)
			}
			got := e.Warnings()
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %v, want %d starting %q", got, len(tt.want), tt.want)
			}
			for i, w := range got {
				if want := "rule.yml:" + tt.want[i]; !strings.HasPrefix(w.Error(), want) {
					t.Errorf("warning %q, want it to start with %q", w, want)
				}
			}
		})
	}
}
