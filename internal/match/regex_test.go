package match

import "testing"

func TestRegex(t *testing.T) {
	tests := []struct {
		expr  string
		flags RegexFlags
		value string
		want  bool
	}{
		{"Login", 0, "ConsoleLogin", true},  // unanchored
		{"login", 0, "ConsoleLogin", false}, // case-sensitive by default
		{"login", RegexI, "ConsoleLogin", true},
		{"^Console", 0, "xConsole", false},
		{"^b$", 0, "a\nb", false},
		{"^b$", RegexM, "a\nb", true},
		{"a.b", 0, "a\nb", false},
		{"a.b", RegexS, "a\nb", true},
		{"^A.B$", RegexI | RegexM | RegexS, "x\na\nb", true},
		{`\d{12}`, 0, "arn:aws:iam::123456789012:root", true},
		{"(Get|Put)Object$", 0, "PutObject", true},
		{"[^a-z]", 0, "abc", false},
	}
	for _, tt := range tests {
		r, err := CompileRegex(tt.expr, tt.flags)
		if err != nil {
			t.Fatalf("CompileRegex(%q): %v", tt.expr, err)
		}
		if got := r.Match([]byte(tt.value)); got != tt.want {
			t.Errorf("regex %q flags %03b Match(%q) = %v, want %v", tt.expr, tt.flags, tt.value, got, tt.want)
		}
		if r.Expr() != tt.expr {
			t.Errorf("Expr() = %q, want %q", r.Expr(), tt.expr)
		}
	}
	for _, bad := range []string{"(", "a(?=b)", `(a)\1`} {
		if _, err := CompileRegex(bad, 0); err == nil {
			t.Errorf("CompileRegex(%q) succeeded, want an error", bad)
		}
	}
}
