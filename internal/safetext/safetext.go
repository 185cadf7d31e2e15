// Package safetext makes text that an attacker may have chosen (IAM user names, object keys,
// user agents, file names) safe to show: in a terminal, a shell comment, a report. It is the
// one place that decides what "safe to show" means, so every output escapes the same way.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable returns s with every rune that is not graphic — control characters such as
// newline and ESC, Unicode line and paragraph separators, bidi overrides, zero-width
// characters — and every invalid byte written as a \x or \u escape, and a backslash as two.
// Such text can then neither drive a terminal, nor end a line or a comment, nor reorder what
// a reader sees; and the escapes cannot be confused with text that looked like one.
func Printable(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case plainRune(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

// plain reports whether s needs no escaping: valid UTF-8 of graphic runes and spaces, no
// backslash.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' || c >= 0x80 {
			return asciiFree(s)
		}
	}
	return true
}

func asciiFree(s string) bool {
	if !utf8.ValidString(s) || strings.ContainsRune(s, '\\') {
		return false
	}
	for _, r := range s {
		if !plainRune(r) {
			return false
		}
	}
	return true
}

func plainRune(r rune) bool { return r == ' ' || unicode.IsPrint(r) }
