package match

import (
	"math/rand/v2"
	"strings"
	"testing"
)

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

// TestRegexLiteralPrefilter: the required literal is found where one exists, never where a
// match could lack it, and matching with the prefilter always equals the plain expression.
func TestRegexLiteralPrefilter(t *testing.T) {
	lits := []struct {
		expr  string
		flags RegexFlags
		lit   string
		fold  bool
	}{
		{".+:assumed-role/aws:.+", 0, ":assumed-role/aws:", false},
		{"^AKIA[A-Z0-9]{16}$", 0, "AKIA", false},
		{"(foo|bar)baz", 0, "baz", false},
		{"foo|bar", 0, "", false},
		{"(abc)+x?", 0, "abc", false},
		{"(abc)*x", 0, "x", false},
		{"(?:abc){0,3}", 0, "", false},
		{"(?:abcd){2}", 0, "abcd", false},
		{"ARN:AWS", RegexI, "ARN:AW", true},   // S folds to the long s: cut there
		{"kube-system", RegexI, "ube-", true}, // k folds to the Kelvin sign
		{"aws_dev", RegexI, "_dev", true},
		{"ks", RegexI, "", false},
		{"(?i)x(?-i)ABC", 0, "ABC", false},
	}
	for _, c := range lits {
		r, err := CompileRegex(c.expr, c.flags)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(string(r.lit), c.lit) || (c.lit != "" && r.fold != c.fold) || !c.fold && string(r.lit) != c.lit {
			t.Errorf("%q: literal %q fold %v, want %q fold %v", c.expr, r.lit, r.fold, c.lit, c.fold)
		}
	}
	exprs := []string{"xks", ".+:assumed-role/aws:.+", "(?i)ab+c", "a(b|c)d", "^x.*y$", "(xy)+z", "ab{2,}c", "(?s)a.b", "é+x", "(?i)ÉTÉ"}
	alphabet := []string{"a", "b", "c", "d", "x", "y", "z", "A", "B", "C", ":", "é", "É", "\n", "assumed-role/aws", "K", "\u212a", "k", "s", "\u017f", "xk"}
	rnd := rand.New(rand.NewPCG(9, 9))
	for _, e := range exprs {
		for _, flags := range []RegexFlags{0, RegexI} {
			r, err := CompileRegex(e, flags)
			if err != nil {
				t.Fatal(err)
			}
			for range 3000 {
				var sb strings.Builder
				for range rnd.IntN(12) {
					sb.WriteString(alphabet[rnd.IntN(len(alphabet))])
				}
				in := []byte(sb.String())
				if got, want := r.Match(in), r.re.Match(in); got != want {
					t.Fatalf("%q flags %d on %q: prefiltered %v, plain %v", e, flags, in, got, want)
				}
			}
		}
	}
}

func TestRegexShape(t *testing.T) {
	tests := []struct {
		expr     string
		flags    RegexFlags
		anchored bool
		literal  string
		alts     int
	}{
		{`^arn:aws:sts::\d{12}:assumed-role/`, 0, true, ":assumed-role/", 0},
		{`\d{12}`, 0, false, "", 0},
		{`(evil|bad|worse)\.com`, 0, false, ".com", 3},
		{`(?i)(evil|bad|wor.e)`, 0, false, "", 2},
		{`^(p2|p3|p3dn|g[45]dn)\..+$`, RegexI, true, ".", 3},
		{`(?:a|b|\||c)x`, 0, false, "x", 4},
		{`[(|)]|a|b`, 0, false, "", 2},
	}
	for _, tt := range tests {
		r, err := CompileRegex(tt.expr, tt.flags)
		if err != nil {
			t.Fatal(err)
		}
		sh := r.Shape()
		if sh.Anchored != tt.anchored || sh.Literal != tt.literal || sh.Alternatives != tt.alts || sh.Insts == 0 {
			t.Errorf("Shape(%q) = %+v, want anchored %v, literal %q, %d literal alternatives", tt.expr, sh, tt.anchored, tt.literal, tt.alts)
		}
	}
}

// FuzzRegexShape: the shape of any expression that compiles is computed without panicking,
// and counts no more literal alternatives than the expression has branches.
func FuzzRegexShape(f *testing.F) {
	for _, s := range []string{`(a|b|c)`, `(?i)x|y`, `[(|)]`, `\|`, `(?:a|(b|c))|d`, `(?`, `a\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if n := literalBranches(expr); n > strings.Count(expr, "|")+1 {
			t.Fatalf("literalBranches(%q) = %d, more than its branches", expr, n)
		}
		r, err := CompileRegex(expr, 0)
		if err != nil {
			return
		}
		if sh := r.Shape(); sh.Insts <= 0 {
			t.Fatalf("Shape(%q) = %+v: no instructions", expr, sh)
		}
	})
}
