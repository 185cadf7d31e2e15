package match

import (
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pattern items are runes; these negative values are the non-literal items. Bytes of invalid
// UTF-8 are represented as -1-b (from -256 to -1) so that they only equal themselves.
const (
	itemAny  rune = -1 << 20   // '?': exactly one character
	itemStar rune = -1<<20 - 1 // '*': any sequence of characters
)

// Escape returns the Sigma pattern that matches exactly s: it escapes '*', '?' and '\'.
func Escape(s string) string {
	if !strings.ContainsAny(s, `*?\`) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?', '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// Literal returns the plain value of a Sigma pattern without wildcards, with its escapes
// resolved, and reports whether the pattern was free of unescaped wildcards.
func Literal(pattern string) (string, bool) {
	items := parsePattern(pattern)
	var buf []byte
	for _, it := range items {
		if it == itemAny || it == itemStar {
			return "", false
		}
		buf = appendItem(buf, it)
	}
	return string(buf), true
}

// parsePattern splits a Sigma pattern into items following the escaping rules of the Sigma
// specification: "\*", "\?" and "\\" are the literal characters, any other backslash is
// literal.
func parsePattern(p string) []rune {
	items := make([]rune, 0, len(p))
	for i := 0; i < len(p); {
		c := p[i]
		switch c {
		case '\\':
			if i+1 < len(p) && (p[i+1] == '*' || p[i+1] == '?' || p[i+1] == '\\') {
				items = append(items, rune(p[i+1]))
				i += 2
				continue
			}
			items = append(items, '\\')
			i++
			continue
		case '*':
			items = append(items, itemStar)
			i++
			continue
		case '?':
			items = append(items, itemAny)
			i++
			continue
		}
		r, n := decodeString(p, i)
		items = append(items, r)
		i += n
	}
	return items
}

// appendItem appends the bytes of a literal item: the UTF-8 encoding of a rune, or the raw
// byte an invalid-UTF-8 item stands for.
func appendItem(b []byte, it rune) []byte {
	if it < 0 {
		return append(b, byte(-1-it))
	}
	return utf8.AppendRune(b, it)
}

// decode returns the character at b[i] and its width, mapping each byte of invalid UTF-8 to
// its own negative item.
func decode(b []byte, i int) (rune, int) {
	c := b[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeRune(b[i:])
	if r == utf8.RuneError && n == 1 {
		return -1 - rune(c), 1
	}
	return r, n
}

// decodeLast is decode for the character that ends at b[end].
func decodeLast(b []byte, end int) (rune, int) {
	c := b[end-1]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeLastRune(b[:end])
	if r == utf8.RuneError && n == 1 {
		return -1 - rune(c), 1
	}
	return r, n
}

// decodeString is decode for a string.
func decodeString(s string, i int) (rune, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n == 1 {
		return -1 - rune(c), 1
	}
	return r, n
}

// foldRune maps a character to the representative of its simple case-folding orbit: ASCII
// letters to lower case, other runes to the smallest rune of their orbit (lowered when that
// is an ASCII capital, as for the Kelvin sign and the long s). Two characters are equal under
// strings.EqualFold exactly when their folds are equal. Invalid-UTF-8 items map to themselves.
func foldRune(r rune) rune {
	if uint32(r) < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return foldSlow(r)
}

func foldSlow(r rune) rune {
	if r < 0 {
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	if 'A' <= m && m <= 'Z' {
		m += 'a' - 'A'
	}
	return m
}

// foldsOutsideASCII reports whether the ASCII rune r shares a case-folding orbit with a
// non-ASCII rune ('k' with the Kelvin sign, 's' with the long s).
func foldsOutsideASCII(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// lowerASCII lowers an ASCII capital letter and leaves every other byte alone.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isASCII reports whether b holds only ASCII bytes. It reads eight bytes at a time.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
