package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Cell returns s made safe for a table cell that a spreadsheet may open (CSV, a Markdown
// table pasted into one): Printable, and, when it starts with a character a spreadsheet
// reads as the start of a formula (= + - @, or a tab or carriage return before one), with
// a single quote in front, which spreadsheets show as text. This is the neutralisation
// OWASP describes for CSV injection ("=HYPERLINK(...)" in an IAM user name must not run).
func Cell(s string) string {
	s = Printable(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// JSON rewrites the runes of encoding/json output that could change how a terminal shows
// it and that encoding/json leaves raw — DEL, C1 controls, Unicode format characters (bidi
// overrides, zero-width characters), the line and paragraph separators and the
// replacement character of invalid input — as \u escapes (surrogate pairs beyond the
// Basic Multilingual Plane). b must be the output of encoding/json: such runes can only be
// inside strings there, where the escape means the same rune, so the document decodes to
// the same value. b is returned as is when it holds none.
func JSON(b []byte) []byte {
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			if b[i] == 0x7f {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if unsafeInJSON(r) {
			break
		}
		i += n
	}
	if i == len(b) {
		return b
	}
	out := append(make([]byte, 0, len(b)+16), b[:i]...)
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		i += n
		if !unsafeInJSON(r) {
			out = utf8.AppendRune(out, r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out
}

// unsafeInJSON reports whether r must be escaped in JSON meant for a terminal. C0 controls
// are not: encoding/json escapes them in strings, so the raw ones are the layout of
// indented output.
func unsafeInJSON(r rune) bool {
	if r < utf8.RuneSelf {
		return r == 0x7f
	}
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}
