package match

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// anyOracle is what an Any and the patterns it leaves out must answer together: whether one
// of the patterns matches, asked of each String in turn.
func anyOracle(ms []*String, b []byte) bool {
	for _, m := range ms {
		if m.Match(b) {
			return true
		}
	}
	return false
}

func anyMatch(a *Any, rest []*String, b []byte) bool {
	return (a != nil && a.Match(b)) || anyOracle(rest, b)
}

func compileAll(t testing.TB, ops []Op, patterns []string, cased []bool) []*String {
	t.Helper()
	ms := make([]*String, len(patterns))
	for i, p := range patterns {
		m, err := CompileString(ops[i], p, Options{Cased: cased[i]})
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = m
	}
	return ms
}

func TestAnyMatch(t *testing.T) {
	type pat struct {
		op    Op
		p     string
		cased bool
	}
	tests := []struct {
		name     string
		patterns []pat
		served   int // patterns the Any takes
		yes, no  []string
	}{
		{"contains, folded", []pat{{Contains, "Login", false}, {Contains, "AssumeRole", false}}, 2,
			[]string{"ConsoleLOGIN", "sts:assumerolewithsaml", "login"}, []string{"Logout", "", "Assume Role"}},
		{"contains, cased", []pat{{Contains, "Login", true}, {Contains, "Role", true}}, 2,
			[]string{"xLoginx", "Role"}, []string{"login", "ROLE"}},
		{"startswith and endswith", []pat{{StartsWith, "arn:aws:iam::", false}, {EndsWith, ".exe", false}}, 2,
			[]string{"ARN:AWS:IAM::1:user/x", "C:\\CMD.EXE"}, []string{"xarn:aws:iam::", ".exe.txt"}},
		{"exact values beside prefixes", []pat{{Equals, "GetObject", false}, {StartsWith, "Put", false}}, 2,
			[]string{"getobject", "PutBucketPolicy", "put"}, []string{"GetObjects", "xGetObject"}},
		{"stars at the ends only", []pat{{Equals, "*evil.com", false}, {Equals, "admin*", false}, {Equals, "*miner*", false}}, 3,
			[]string{"x.EVIL.com", "Administrator", "cryptominer-x"}, []string{"evil.com.org", "sysadmin", "mine"}},
		{"empty contains matches all", []pat{{Contains, "", false}}, 1, []string{"", "x"}, nil},
		{"empty prefix matches all", []pat{{StartsWith, "", true}}, 1, []string{"", "x"}, nil},
		{"empty exact", []pat{{Equals, "", false}, {Equals, "x", false}}, 2, []string{"", "X"}, []string{"y", "xx"}},
		{"kelvin sign folds onto k", []pat{{Contains, "kms", false}, {EndsWith, "disk", false}}, 2,
			[]string{"\u212ams:Decrypt", "ramdis\u212a", "KMS"}, []string{"\u212a", "dis"}},
		{"long s folds onto s", []pat{{StartsWith, "sts", false}}, 1, []string{"\u017fTS:GetCallerIdentity"}, []string{"t"}},
		{"non-ASCII folded", []pat{{Contains, "straße", false}, {EndsWith, "ÉTÉ", false}}, 2,
			[]string{"HAUPTSTRASSE STRAßE", "l'été"}, []string{"strasse", "ete"}},
		{"cased non-ASCII", []pat{{Contains, "é", true}}, 1, []string{"café"}, []string{"CAFÉ"}},
		{"invalid UTF-8 in the value", []pat{{Contains, "ab", false}, {StartsWith, "x", false}}, 2,
			[]string{"\xffab", "x\xff"}, []string{"a\xffb", "\xffx"}},
		{"question mark is left out", []pat{{Contains, "a?c", false}, {Contains, "zz", false}}, 1,
			[]string{"xabcx", "zz"}, []string{"ac"}},
		{"star inside is left out", []pat{{Contains, "a*c", false}, {StartsWith, "b*d", false}}, 0,
			[]string{"xaxxc", "bxd"}, []string{"ca"}},
		{"invalid UTF-8 pattern is left out", []pat{{Contains, "a\xe9", true}, {Contains, "q", true}}, 1,
			[]string{"a\xe9", "q"}, []string{"a\u9000"}},
		{"escaped wildcards are literal", []pat{{Contains, `50\%\*`, false}, {EndsWith, `\?`, false}}, 2,
			[]string{`x50\%*y`, "why?"}, []string{`50\%x`, "why"}},
		{"one pattern a prefix of another", []pat{{Contains, "abcd", false}, {Contains, "bc", false}}, 2,
			[]string{"xbcx"}, []string{"acbd"}},
		{"failure links", []pat{{Contains, "abcx", false}, {Contains, "bcd", false}, {Contains, "cz", false}}, 3,
			[]string{"abcd", "abcz", "xxabcx"}, []string{"abc", "bcx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ops []Op
			var ps []string
			var cased []bool
			for _, p := range tt.patterns {
				ops, ps, cased = append(ops, p.op), append(ps, p.p), append(cased, p.cased)
			}
			ms := compileAll(t, ops, ps, cased)
			a, rest := NewAny(ms)
			served := 0
			if a != nil {
				served = a.Len()
			}
			if served != tt.served || served+len(rest) != len(ms) {
				t.Errorf("Any serves %d patterns and leaves %d, want %d served of %d", served, len(rest), tt.served, len(ms))
			}
			for _, v := range tt.yes {
				if !anyMatch(a, rest, []byte(v)) {
					t.Errorf("%q: no match, want one", v)
				}
				if !anyOracle(ms, []byte(v)) {
					t.Errorf("%q: the test is wrong: no String matches it", v)
				}
			}
			for _, v := range tt.no {
				if anyMatch(a, rest, []byte(v)) {
					t.Errorf("%q: match, want none", v)
				}
			}
		})
	}
}

// randomPattern returns a Sigma pattern from a small alphabet, so that patterns and values
// overlap often: letters of both cases, characters that fold across the ASCII boundary,
// non-ASCII letters, invalid UTF-8, wildcards and escapes.
func randomPattern(r *rand.Rand, maxLen int) string {
	atoms := []string{"a", "b", "A", "B", "k", "K", "s", "S", "\u212a", "\u017f", "é", "É", "ß", ".", ":",
		"\xff", "\xe9", "*", "?", `\*`, `\\`, "\\"}
	var b strings.Builder
	for range r.IntN(maxLen + 1) {
		a := atoms[r.IntN(len(atoms))]
		if (a == "*" || a == "?") && r.IntN(4) != 0 {
			a = "a" // wildcards inside are rare, so most patterns are served
		}
		b.WriteString(a)
	}
	return b.String()
}

// randomValue is a value built from the patterns (so that they match often) and noise.
func randomValue(r *rand.Rand, patterns []string) string {
	var b strings.Builder
	for range r.IntN(4) {
		if r.IntN(2) == 0 && len(patterns) > 0 {
			p := patterns[r.IntN(len(patterns))]
			p = strings.NewReplacer(`\*`, "*", `\\`, `\`, "*", "", "?", "x").Replace(p)
			if r.IntN(2) == 0 {
				p = strings.ToUpper(p)
			}
			b.WriteString(p)
		} else {
			b.WriteString(randomPattern(r, 3))
		}
	}
	return strings.NewReplacer("*", "", "?", "").Replace(b.String())
}

// TestAnyDifferential compares an Any (with the patterns it leaves out) with the patterns
// asked one by one, on random lists of every operation, both case modes, and values built
// to meet them.
func TestAnyDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ops := []Op{Equals, Contains, StartsWith, EndsWith}
	served := 0
	for range 2000 {
		n := 1 + r.IntN(12)
		var os []Op
		var ps []string
		var cased []bool
		for range n {
			os = append(os, ops[r.IntN(len(ops))])
			ps = append(ps, randomPattern(r, 5))
			cased = append(cased, r.IntN(3) == 0)
		}
		ms := compileAll(t, os, ps, cased)
		a, rest := NewAny(ms)
		if a != nil {
			served += a.Len()
		}
		for range 30 {
			v := []byte(randomValue(r, ps))
			if got, want := anyMatch(a, rest, v), anyOracle(ms, v); got != want {
				t.Fatalf("value %q against %q %q (cased %v): Any says %v, the patterns one by one say %v", v, os, ps, cased, got, want)
			}
		}
	}
	if served < 10000 {
		t.Errorf("only %d patterns were served by an Any: the comparison hardly tests it", served)
	}
}

func FuzzAny(f *testing.F) {
	f.Add("Login", "aws", "ConsoleLOGIN", uint8(0))
	f.Add("\u212ams", "straße", "\u212aMS STRASSE", uint8(5))
	f.Add("a\xffb", "*", "a\xffb", uint8(255))
	f.Fuzz(func(t *testing.T, p1, p2, v string, mode uint8) {
		ops := []Op{Op(mode % 4), Op(mode / 4 % 4)}
		cased := []bool{mode&16 != 0, mode&32 != 0}
		ms := make([]*String, 2)
		for i, p := range []string{p1, p2} {
			m, err := CompileString(ops[i], p, Options{Cased: cased[i]})
			if err != nil {
				t.Skip()
			}
			ms[i] = m
		}
		a, rest := NewAny(ms)
		if got, want := anyMatch(a, rest, []byte(v)), anyOracle(ms, []byte(v)); got != want {
			t.Fatalf("value %q against %q %q (%v, cased %v): Any says %v, one by one %v", v, p1, p2, ops, cased, got, want)
		}
	})
}
