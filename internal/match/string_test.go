package match

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStringMatch(t *testing.T) {
	tests := []struct {
		name    string
		op      Op
		pattern string
		cased   bool
		value   string
		want    bool
	}{
		// Equals, the Sigma default.
		{"equals", Equals, "ConsoleLogin", false, "ConsoleLogin", true},
		{"equals fold", Equals, "ConsoleLogin", false, "consolelogin", true},
		{"equals fold upper", Equals, "consolelogin", false, "CONSOLELOGIN", true},
		{"equals longer", Equals, "ConsoleLogin", false, "ConsoleLogins", false},
		{"equals shorter", Equals, "ConsoleLogin", false, "ConsoleLogi", false},
		{"equals cased", Equals, "ConsoleLogin", true, "consolelogin", false},
		{"equals cased same", Equals, "ConsoleLogin", true, "ConsoleLogin", true},
		{"empty pattern empty value", Equals, "", false, "", true},
		{"empty pattern value", Equals, "", false, "x", false},
		{"non-letters fold", Equals, "[@`{", false, "[@`{", true},
		{"fold does not merge symbols", Equals, "@", false, "`", false},

		// Contains, StartsWith, EndsWith.
		{"contains", Contains, "Login", false, "ConsoleLOGIN-x", true},
		{"contains no", Contains, "Logout", false, "ConsoleLogin", false},
		{"contains empty", Contains, "", false, "", true},
		{"contains empty any", Contains, "", false, "abc", true},
		{"contains cased", Contains, "Login", true, "consolelogin", false},
		{"startswith", StartsWith, "Get", false, "getObject", true},
		{"startswith no", StartsWith, "Get", false, "xGet", false},
		{"startswith empty", StartsWith, "", false, "", true},
		{"endswith", EndsWith, "\\cmd.exe", false, "C:\\Windows\\CMD.EXE", true},
		{"endswith no", EndsWith, "\\cmd.exe", false, "C:\\Windows\\cmd.exe ", false},
		{"endswith too short", EndsWith, "abc", false, "bc", false},

		// Wildcards.
		{"star", Equals, "prog*.exe", false, "progA.exe", true},
		{"star empty", Equals, "prog*.exe", false, "prog.exe", true},
		{"star no", Equals, "prog*.exe", false, "prog.ex", false},
		{"question", Equals, "prog?.exe", false, "progA.exe", true},
		{"question not empty", Equals, "prog?.exe", false, "prog.exe", false},
		{"question not two", Equals, "prog?.exe", false, "progAB.exe", false},
		{"question is one rune", Equals, "prog?.exe", false, "progé.exe", true},
		{"question is one 4-byte rune", Equals, "?", false, "😀", true},
		{"question invalid byte", Equals, "a?b", false, "a\xffb", true},
		{"only star", Equals, "*", false, "", true},
		{"only stars", Equals, "***", false, "anything", true},
		{"only question", Equals, "?", false, "", false},
		{"star question", Equals, "*?", false, "", false},
		{"star question one", Equals, "*?", false, "x", true},
		{"contains with star", Contains, "a*b", false, "xxAyyBzz", true},
		{"contains with star no", Contains, "a*b", false, "xxByyAzz", false},
		{"startswith question", StartsWith, "a?c", false, "abcdef", true},
		{"endswith question", EndsWith, "a?c", false, "xxabc", true},
		{"endswith question no", EndsWith, "a?c", false, "xxabcd", false},
		{"anchors overlap", Equals, "ab*ba", false, "aba", false},
		{"anchors touch", Equals, "ab*ba", false, "abba", true},
		{"middle segments order", Equals, "*a*b*c*", false, "cba", false},
		{"middle segments", Equals, "*a*b*c*", false, "xaxbxcx", true},
		{"middle with question", Equals, "x*a?c*y", false, "xzzabcy", true},
		{"middle with question no", Equals, "x*a?c*y", false, "xzzacy", false},
		{"middle leftmost", Equals, "*ab*ab", false, "abab", true},
		{"middle leftmost 2", Equals, "*ab*ab", false, "aba", false},
		{"arn", Equals, "arn:aws:iam::*:role/*", false, "arn:aws:iam::123456789012:role/Admin", true},

		// Escapes (Sigma specification, "Escape Character").
		{"escaped star", Equals, `a\*b`, false, "a*b", true},
		{"escaped star literal", Equals, `a\*b`, false, "axb", false},
		{"escaped question", Equals, `a\?b`, false, "a?b", true},
		{"escaped question literal", Equals, `a\?b`, false, "axb", false},
		{"backslash then x", Equals, `a\x`, false, `a\x`, true},
		{"double backslash then x", Equals, `a\\x`, false, `a\x`, true},
		{"double backslash is one", Equals, `a\\x`, false, `a\\x`, false},
		{"escaped backslash star", Equals, `a\\*`, false, `a\anything`, true},
		{"escaped backslash star empty", Equals, `a\\*`, false, `a\`, true},
		{"escaped backslash star needs backslash", Equals, `a\\*`, false, `ab`, false},
		{"three backslashes star", Equals, `a\\\*`, false, `a\*`, true},
		{"three backslashes star literal", Equals, `a\\\*`, false, `a\x`, false},
		{"three backslashes", Equals, `a\\\b`, false, `a\\b`, true},
		{"four backslashes", Equals, `a\\\\b`, false, `a\\b`, true},
		{"trailing backslash", Equals, `a\`, false, `a\`, true},
		{"only backslash", Equals, `\`, false, `\`, true},
		{"contains trailing backslash", Contains, `a\`, false, `xa\y`, true},
		{"contains trailing backslash needs it", Contains, `a\`, false, `xay`, false},
		{"endswith backslash path", EndsWith, `\Temp\`, false, `C:\temp\`, true},
		{"escaped star cased", Equals, `A\*`, true, `A*`, true},

		// Unicode case folding.
		{"unicode fold", Equals, "STRASSE", false, "strasse", true},
		{"unicode fold e acute", Equals, "É", false, "é", true},
		{"unicode fold greek", Contains, "σ", false, "ΟΔΥΣΣΕΥΣ", true},
		{"unicode fold final sigma", Equals, "ς", false, "Σ", true},
		{"kelvin sign", Equals, "k", false, "\u212a", true},
		{"kelvin sign pattern", Equals, "\u212a", false, "K", true},
		{"long s", Contains, "ss", false, "xſSx", true},
		{"long s startswith", StartsWith, "s", false, "ſa", true},
		{"long s endswith", EndsWith, "as", false, "aſ", true},
		{"kelvin contains", Contains, "risk", false, "high RIS\u212a!", true},
		{"kelvin with wildcard", Equals, "*k*", false, "\u212a", true},
		{"unicode cased", Equals, "É", true, "é", false},
		{"non-ascii contains", Contains, "straße", false, "Hauptstraße 1", true},
		{"non-ascii contains upper", Contains, "ÄÖÜ", false, "xäöüx", true},
		{"sharp s is not ss", Equals, "ß", false, "ss", false},
		{"capital sharp s", Equals, "ß", false, "\u1e9e", true},
		{"non-ascii pattern ascii value", Equals, "é", false, "e", false},
		{"ascii pattern non-ascii value", Contains, "abc", false, "éabcé", true},
		{"ascii pattern non-ascii value no", Equals, "abc", false, "ábc", false},
		{"fold changes width", Equals, "k?", false, "\u212ax", true},
		{"fold changes width suffix", EndsWith, "k", false, "a\u212a", true},

		// Invalid UTF-8 in values.
		{"invalid value contains", Contains, "abc", false, "\xff\xfeABC", true},
		{"invalid value equals", Equals, "abc", false, "ab\xff", false},
		{"invalid byte only equals itself", Equals, "\uFFFD", false, "\xff", false},
		{"invalid pattern byte", Equals, "\xff\xfea", false, "\xff\xfeA", true},
		{"invalid pattern byte cased", Contains, "\xfe", true, "a\xfeb", true},
		{"invalid pattern byte not in rune", Contains, "\xa9", true, "é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := CompileString(tt.op, tt.pattern, Options{Cased: tt.cased})
			if err != nil {
				t.Fatalf("CompileString(%v, %q): %v", tt.op, tt.pattern, err)
			}
			if got := m.Match([]byte(tt.value)); got != tt.want {
				t.Errorf("%v %q (cased %v) Match(%q) = %v, want %v", tt.op, tt.pattern, tt.cased, tt.value, got, tt.want)
			}
			// Every case must agree with the regexp reference where it is defined.
			if utf8.ValidString(tt.pattern) && utf8.ValidString(tt.value) && !strings.Contains(tt.pattern, "\uFFFD") {
				if ref := refMatch(t, tt.op, tt.pattern, tt.cased, tt.value); ref != tt.want {
					t.Errorf("reference disagrees with the table for %q: %v", tt.name, ref)
				}
			}
		})
	}
}

func TestCompileStringBadOp(t *testing.T) {
	if _, err := CompileString(Op(42), "x", Options{}); err == nil {
		t.Error("CompileString(Op(42)) succeeded, want an error")
	}
}

// TestStringPathological checks that patterns that make backtracking matchers exponential
// are answered; a super-linear matcher would time the test out.
func TestStringPathological(t *testing.T) {
	long := strings.Repeat("a", 100000)
	tests := []struct {
		pattern string
		value   string
		want    bool
	}{
		{strings.Repeat("*a", 30) + "*b", long, false},
		{strings.Repeat("*a", 30) + "*", long, true},
		{strings.Repeat("a*", 30) + "b", long, false},
		{strings.Repeat("*?", 30) + "b", long, false},
		{strings.Repeat("*A?", 20) + "*", long, true},
		{"*" + strings.Repeat("a", 50) + "b*", long, false},
	}
	for _, tt := range tests {
		for _, cased := range []bool{false, true} {
			m, err := CompileString(Equals, tt.pattern, Options{Cased: cased})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if cased && strings.Contains(tt.pattern, "A") {
				want = false
			}
			if got := m.Match([]byte(long)); got != want {
				t.Errorf("pattern %.20q... (cased %v) = %v, want %v", tt.pattern, cased, got, want)
			}
		}
	}
}

func TestEscapeLiteral(t *testing.T) {
	tests := []struct {
		plain string
	}{{""}, {"abc"}, {`a*b?c\d`}, {`\`}, {`\\*`}, {"\xff*"}}
	for _, tt := range tests {
		p := Escape(tt.plain)
		got, ok := Literal(p)
		if !ok || got != tt.plain {
			t.Errorf("Literal(Escape(%q)) = %q, %v; want %q, true", tt.plain, got, ok, tt.plain)
		}
		m, _ := CompileString(Equals, p, Options{Cased: true})
		if !m.Match([]byte(tt.plain)) {
			t.Errorf("Escape(%q) = %q does not match its input", tt.plain, p)
		}
	}
	if _, ok := Literal("a*"); ok {
		t.Error(`Literal("a*") reported no wildcard`)
	}
	if got, ok := Literal(`a\x\\`); !ok || got != `a\x\` {
		t.Errorf(`Literal("a\x\\") = %q, %v; want "a\x\", true`, got, ok)
	}
}

// refToken splits a Sigma pattern independently of parsePattern.
var refToken = regexp.MustCompile(`(?s)\\[*?\\]|\*|\?|.`)

// refRegexp translates a Sigma pattern and operation into an anchored regular expression.
func refRegexp(op Op, pattern string, cased bool) string {
	var sb strings.Builder
	sb.WriteString("(?s)")
	if !cased {
		sb.WriteString("(?i)")
	}
	sb.WriteString("^")
	if op == Contains || op == EndsWith {
		sb.WriteString(".*")
	}
	for _, tok := range refToken.FindAllString(pattern, -1) {
		switch tok {
		case "*":
			sb.WriteString(".*")
		case "?":
			sb.WriteString(".")
		default:
			sb.WriteString(regexp.QuoteMeta(strings.TrimPrefix(tok, `\`)))
			if tok == `\` {
				sb.WriteString(`\\`)
			}
		}
	}
	if op == Contains || op == StartsWith {
		sb.WriteString(".*")
	}
	sb.WriteString("$")
	return sb.String()
}

func refMatch(t testing.TB, op Op, pattern string, cased bool, value string) bool {
	re, err := regexp.Compile(refRegexp(op, pattern, cased))
	if err != nil {
		t.Fatalf("reference for %q: %v", pattern, err)
	}
	return re.MatchString(value)
}

func FuzzStringMatch(f *testing.F) {
	seeds := []struct {
		pattern, value string
	}{
		{"*a*a*b", "aaaaab"}, {`a\*b`, "a*b"}, {`a\`, `a\`}, {"k?", "\u212ax"}, {"ſ*S", "sſs"},
		{"?*?", "é"}, {"*ab*ab", "abab"}, {`\\\*`, `\*`}, {"ΣΑ*", "σας"}, {"", ""},
	}
	for _, s := range seeds {
		for op := range EndsWith + 1 {
			f.Add(uint8(op), false, s.pattern, s.value)
			f.Add(uint8(op), true, s.pattern, s.value)
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, cased bool, pattern, value string) {
		o := Op(op % 4)
		m, err := CompileString(o, pattern, Options{Cased: cased})
		if err != nil {
			t.Fatal(err)
		}
		got := m.Match([]byte(value))
		if !utf8.ValidString(pattern) || !utf8.ValidString(value) || strings.Contains(pattern, "\uFFFD") {
			return // regexp reads invalid UTF-8 as U+FFFD; we keep bytes apart
		}
		if want := refMatch(t, o, pattern, cased, value); got != want {
			t.Errorf("%v %q (cased %v) Match(%q) = %v, reference %s says %v", o, pattern, cased, value, got, refRegexp(o, pattern, cased), want)
		}
	})
}
