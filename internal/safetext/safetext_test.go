package safetext

import "testing"

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice", "alice"},
		{"ünïcödé 名前", "ünïcödé 名前"},
		{"a\nb", `a\x0ab`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"evil\u202eexe.txt", `evil\u202eexe.txt`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{`back\slash`, `back\\slash`},
		{`\x1b looks escaped`, `\\x1b looks escaped`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"tab\there", `tab\x09here`},
		{"line\u2028sep", `line\u2028sep`},
		{"", ""},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"a", "\x1b[0m", "\u202e", `\`, "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Printable(s)
		for _, r := range out {
			if r != ' ' && !plainRune(r) {
				t.Fatalf("Printable(%q) = %q keeps %U", s, out, r)
			}
		}
		if Printable(s) != out {
			t.Fatal("not deterministic")
		}
	})
}
