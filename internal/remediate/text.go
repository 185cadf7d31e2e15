package remediate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable returns s safe to show in a terminal or a shell comment: every rune that is not
// graphic (control characters such as newline and ESC, Unicode line separators, bidi
// overrides, zero-width characters) and every invalid byte is written as a \x or \u escape,
// and a backslash as two. An attacker-chosen name can then neither end a shell comment nor
// drive the terminal nor reorder what a reviewer sees.
func printable(s string) string {
	if isPlain(s) && !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case isPlainRune(r):
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

// isPlain reports whether s is valid UTF-8 made of graphic runes and spaces only.
func isPlain(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !isPlainRune(r) {
			return false
		}
	}
	return true
}

func isPlainRune(r rune) bool { return r == ' ' || unicode.IsPrint(r) }

// shellQuote returns s as one shell word that sh takes literally: in single quotes, with each
// single quote written as close-quote, backslash-quote, open-quote. Nothing inside single quotes
// is expanded, so $(…), backquotes, ;, # and globs stay text.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
