package sigma

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCondition(t *testing.T) {
	tests := []struct {
		in   string
		want string // Expr.String(), fully parenthesised
	}{
		{"selection", "selection"},
		{"a and b or c", "((a and b) or c)"},
		{"a or b and c", "(a or (b and c))"},
		{"not a and b", "(not a and b)"},
		{"not (a and b)", "not (a and b)"},
		{"a and (b or c)", "(a and (b or c))"},
		{"a AND NOT b Or c", "((a and not b) or c)"},
		{"a and b and c", "(a and b and c)"},
		{"1 of sel* and not 1 of filter_*", "(1 of sel* and not 1 of filter_*)"},
		{"all of them", "all of them"},
		{"any of them", "1 of them"},
		{"ALL OF selection_*", "all of selection_*"},
		{"not not a", "not not a"},
		{"((a))", "a"},
		{"selection and not (error_code or error_msg)", "(selection and not (error_code or error_msg))"},
	}
	for _, tt := range tests {
		e, err := ParseCondition(tt.in)
		if err != nil {
			t.Errorf("ParseCondition(%q) error: %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("ParseCondition(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseConditionErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantOff int
		wantMsg string
	}{
		{"", 0, "empty condition"},
		{"a and", 5, `unexpected end of condition: expected a search identifier, "not", "(" or "x of"`},
		{"(a or b", 7, `expected ")" to close the "(" at offset 0, found end of condition`},
		{"a or b)", 6, `unbalanced ")"`},
		{"a b", 2, `unexpected identifier "b": expected "and", "or" or end of condition`},
		{"sel | count() > 5", 4, `aggregation expressions ("| count() by ...") are not part of Sigma any more: write a correlation rule instead`},
		{"3 of sel*", 0, `"3" of is not supported: use "1 of" or "all of"`},
		{"1 sel*", 2, `expected "of" after "1", found identifier "sel*"`},
		{"all of", 6, `expected "them" or a search identifier pattern after "of", found end of condition`},
		{"sel* and a", 0, `wildcard pattern "sel*" must follow "1 of" or "all of"`},
		{"a and $b", 6, `unexpected character '$'`},
		{"and a", 0, `unexpected "and": expected a search identifier, "not", "(" or "x of"`},
	}
	for _, tt := range tests {
		_, err := ParseCondition(tt.in)
		var ce *ConditionError
		if !errors.As(err, &ce) {
			t.Errorf("ParseCondition(%q) error = %v, want a *ConditionError", tt.in, err)
			continue
		}
		if ce.Offset != tt.wantOff || ce.Msg != tt.wantMsg {
			t.Errorf("ParseCondition(%q) error = %d %q, want %d %q", tt.in, ce.Offset, ce.Msg, tt.wantOff, tt.wantMsg)
		}
	}
}

func TestResolveCondition(t *testing.T) {
	names := []string{"selection", "selection_b", "filter_1", "_hidden"}
	tests := []struct {
		in        string
		wantNames []string // Names of the first OfExpr found
		wantErrs  []string
	}{
		{in: "1 of selection*", wantNames: []string{"selection", "selection_b"}},
		{in: "all of them", wantNames: []string{"selection", "selection_b", "filter_1"}},
		{in: "1 of *_*", wantNames: []string{"selection_b", "filter_1", "_hidden"}},
		{in: "1 of filter", wantErrs: []string{`0: pattern "filter" matches no search identifier`}},
		{in: "selection and nope or Filter_1", wantErrs: []string{
			`14: unknown search identifier "nope"`,
			`22: unknown search identifier "Filter_1" (did you mean "filter_1"? identifiers are case-sensitive)`,
		}},
	}
	for _, tt := range tests {
		e, cerr := parseCondition(tt.in)
		if cerr != nil {
			t.Fatalf("parseCondition(%q): %v", tt.in, cerr)
		}
		var gotErrs []string
		for _, err := range resolveCondition(e, names) {
			gotErrs = append(gotErrs, err.Error()[len("offset "):])
		}
		if diff := cmp.Diff(tt.wantErrs, gotErrs); diff != "" {
			t.Errorf("resolveCondition(%q) errors (-want +got):\n%s", tt.in, diff)
		}
		if tt.wantNames != nil {
			of := findOf(e)
			if of == nil {
				t.Fatalf("no OfExpr in %q", tt.in)
			}
			if diff := cmp.Diff(tt.wantNames, of.Names); diff != "" {
				t.Errorf("resolveCondition(%q) names (-want +got):\n%s", tt.in, diff)
			}
		}
	}
}

func findOf(e Expr) *OfExpr {
	switch e := e.(type) {
	case *OfExpr:
		return e
	case *NotExpr:
		return findOf(e.X)
	case *AndExpr:
		for _, t := range e.Terms {
			if of := findOf(t); of != nil {
				return of
			}
		}
	case *OrExpr:
		for _, t := range e.Terms {
			if of := findOf(t); of != nil {
				return of
			}
		}
	}
	return nil
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"sel*", "selection", true},
		{"sel*", "sel", true},
		{"*tion", "selection", true},
		{"s*l*n", "selection", true},
		{"s*x*n", "selection", false},
		{"a*a", "a", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
