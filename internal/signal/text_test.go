package signal

import (
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"", ""},
		{"ユーザー", "ユーザー"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"title\x1b]0;pwned\x07", `title\x1b]0;pwned\x07`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1\u009b31m", `c1\x9b31m`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"line\u2028sep", `line\u2028sep`},
		{"tag\U000E0041", `tag\U000e0041`},
		{"bad\xffutf8", `bad\xffutf8`},
		{`back\slash`, `back\slash`},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"\x1b[31m", "ユーザー\u202e", "\xff\xfe", "a\u0301"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, w int) {
		got := sanitize(s)
		if !utf8.ValidString(got) {
			t.Fatalf("sanitize(%q) = %q is not valid UTF-8", s, got)
		}
		for _, r := range got {
			if unsafeRune(r) {
				t.Fatalf("sanitize(%q) = %q keeps unsafe rune %U", s, got, r)
			}
		}
		w = w%200 + 1
		if w < 1 {
			w = -w + 1
		}
		for _, cut := range []string{truncateEnd(got, w), truncateMiddle(got, w)} {
			if widthOf(cut) > w {
				t.Fatalf("truncating %q to %d gives %q, %d wide", got, w, cut, widthOf(cut))
			}
		}
	})
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in          string
		w           int
		end, middle string
	}{
		{"short", 10, "short", "short"},
		{"exactly10!", 10, "exactly10!", "exactly10!"},
		{"role/Admin#alice@example.com", 12, "role/Admin#…", "role/A…e.com"},
		{"日本語のタイトル", 7, "日本語…", "日…トル"},
		{"日本語のタイトル", 6, "日本…", "日…ル"},
		{"abc", 1, "…", "…"},
		{"abc", 0, "", ""},
	}
	for _, tt := range tests {
		if got := truncateEnd(tt.in, tt.w); got != tt.end {
			t.Errorf("truncateEnd(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.end)
		}
		if got := truncateMiddle(tt.in, tt.w); got != tt.middle {
			t.Errorf("truncateMiddle(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.middle)
		}
		if got := widthOf(truncateEnd(tt.in, tt.w)); got > tt.w {
			t.Errorf("widthOf(truncateEnd(%q, %d)) = %d", tt.in, tt.w, got)
		}
	}
	if got := widthOf("a日\u0301🚨"); got != 5 {
		t.Errorf("widthOf = %d, want 5", got)
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in   string
		w, n int
		want []string
	}{
		{"short", 10, 2, []string{"short"}},
		{"", 10, 2, nil},
		{"one two three four", 9, 2, []string{"one two", "three fo…"}},
		{"one two three four", 9, 3, []string{"one two", "three", "four"}},
		{"one two three", 7, 1, []string{"one tw…"}},
		{"abcdefghijkl mn", 5, 3, []string{"abcde", "fghij", "kl mn"}},
		{"日本語のタイトル です", 6, 3, []string{"日本語", "のタイ", "トル…"}},
	}
	for _, tt := range tests {
		got := wrap(tt.in, tt.w, tt.n)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("wrap(%q, %d, %d) (-want +got):\n%s", tt.in, tt.w, tt.n, diff)
		}
		for _, l := range got {
			if widthOf(l) > tt.w {
				t.Errorf("wrap(%q, %d, %d): line %q too wide", tt.in, tt.w, tt.n, l)
			}
		}
	}
}
