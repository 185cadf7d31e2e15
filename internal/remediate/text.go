package remediate

import (
	"github.com/trailhound/trailhound/internal/safetext"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable returns s safe to show in a terminal or a shell comment (see
// safetext.Printable): an attacker-chosen name can neither end a shell comment nor drive the
// terminal nor reorder what a reviewer sees.
func printable(s string) string { return safetext.Printable(s) }

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
