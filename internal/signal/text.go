package signal

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// unsafeRune reports whether r must not reach a terminal as is: C0 and C1 controls, DEL
// (unicode.Cc, which includes ESC and the one-byte CSI U+009B), format characters such as bidi
// overrides and zero-width spaces (unicode.Cf), and the line and paragraph separators.
func unsafeRune(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// sanitize makes an attacker-controlled string safe to print on a terminal: unsafe runes
// become Go-style escapes (ESC as \x1b, U+202E as \u202e, newline as \n) and invalid UTF-8
// bytes become \xNN, so escape sequences are shown instead of interpreted. Backslashes are
// left as they are.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x100 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff && unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// runeWidth returns the number of terminal columns a printable rune takes: 0 for combining
// marks, 2 for East Asian wide and fullwidth characters and the common emoji blocks, 1
// otherwise. It is an approximation of wcwidth; ambiguous-width characters count as 1.
func runeWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me):
		return 0
	case r >= 0x1100 && r <= 0x115f, // Hangul Jamo
		r >= 0x2e80 && r <= 0x303e, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33ff, // kana, CJK symbols
		r >= 0x3400 && r <= 0x4dbf, // CJK extension A
		r >= 0x4e00 && r <= 0x9fff, // CJK unified ideographs
		r >= 0xa000 && r <= 0xa4cf, // Yi
		r >= 0xac00 && r <= 0xd7a3, // Hangul syllables
		r >= 0xf900 && r <= 0xfaff, // CJK compatibility ideographs
		r >= 0xfe30 && r <= 0xfe4f, // CJK compatibility forms
		r >= 0xff00 && r <= 0xff60, // fullwidth forms
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, // emoji
		r >= 0x1f680 && r <= 0x1f6ff,
		r >= 0x1f900 && r <= 0x1f9ff,
		r >= 0x1fa70 && r <= 0x1faff,
		r >= 0x20000 && r <= 0x3fffd: // CJK extensions B and later
		return 2
	}
	return 1
}

// widthOf returns the terminal columns of a sanitized string.
func widthOf(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

// truncateEnd cuts a sanitized string to at most w columns, ending with "…" when cut (and
// without the spaces before it).
func truncateEnd(s string, w int) string {
	if widthOf(s) <= w {
		return s
	}
	if w <= 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := runeWidth(r)
		if used+rw > w-1 {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	return strings.TrimRight(b.String(), " ") + "…"
}

// truncateMiddle cuts a sanitized string to at most w columns by replacing its middle with
// "…", keeping both ends (the role and the session of "role/Admin#alice@example.com").
func truncateMiddle(s string, w int) string {
	if widthOf(s) <= w {
		return s
	}
	if w <= 2 {
		return truncateEnd(s, w)
	}
	headW := w - 1 - (w-1)/2
	head := strings.TrimSuffix(truncateEnd(s, headW+1), "…")
	tailW := w - 1 - widthOf(head) // what a wide rune left unused goes to the tail
	tail, used := len(s), 0
	for tail > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:tail])
		if used+runeWidth(r) > tailW {
			break
		}
		used += runeWidth(r)
		tail -= n
	}
	return head + "…" + s[tail:]
}
