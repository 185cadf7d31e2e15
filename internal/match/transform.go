package match

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The value transformations of Sigma's encoding modifiers. Each takes a rule value in Sigma
// pattern syntax and returns pattern syntax, ready for CompileString or a further
// transformation, so modifiers chain in rule order (e.g. |wide|base64offset|contains).
// Encoded outputs are raw bytes in a Go string.

// Base64 returns the standard, padded base64 encoding of the value (the "base64" modifier).
// Wildcards cannot be encoded, so a pattern with unescaped wildcards is an error.
func Base64(pattern string) (string, error) {
	lit, ok := Literal(pattern)
	if !ok {
		return "", fmt.Errorf("encoding %q as base64: wildcards cannot be encoded", pattern)
	}
	return base64.StdEncoding.EncodeToString([]byte(lit)), nil
}

// Base64Offset returns the three strings that appear in the base64 encoding of any data that
// contains the value, one for each alignment of the value to base64's 3-byte groups (the
// "base64offset" modifier, meant to be used with contains). The characters that depend on
// the neighbouring bytes are cut off, as pySigma does. A pattern with unescaped wildcards is
// an error.
func Base64Offset(pattern string) ([]string, error) {
	lit, ok := Literal(pattern)
	if !ok {
		return nil, fmt.Errorf("encoding %q as base64offset: wildcards cannot be encoded", pattern)
	}
	starts := [3]int{0, 2, 3}
	endCut := [3]int{0, 3, 2} // indexed by (len+shift) % 3
	out := make([]string, 3)
	for shift := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", shift) + lit))
		lo, hi := starts[shift], len(enc)-endCut[(len(lit)+shift)%3]
		if lo < hi {
			out[shift] = enc[lo:hi]
		}
	}
	return out, nil
}

// maxWindashDashes bounds the variants Windash makes: 5^6 = 15625.
const maxWindashDashes = 6

// Windash returns every variant of the pattern in which each '-' or '/' that starts an
// option is replaced by '-', '/', '–' (en dash), '—' (em dash) or '―' (horizontal bar), the
// "windash" modifier. As in pySigma, a dash starts an option when it is not preceded by a
// word character and is followed by one ("\B[-/]\b"): in " -param-name" only the first dash
// varies. The first variant is the pattern with plain '-' for every such dash; without such
// dashes the result is the pattern alone. More than 6 such dashes is an error.
func Windash(pattern string) ([]string, error) {
	var pos []int // byte offsets of the dashes that vary
	prevWord := false
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		if (r == '-' || r == '/') && !prevWord && i+n < len(pattern) {
			next, _ := utf8.DecodeRuneInString(pattern[i+n:])
			if isWordRune(next) {
				pos = append(pos, i)
			}
		}
		prevWord = isWordRune(r)
		i += n
	}
	if len(pos) > maxWindashDashes {
		return nil, fmt.Errorf("expanding windash in %q: %d option dashes, at most %d allowed", pattern, len(pos), maxWindashDashes)
	}
	dashes := [...]string{"-", "/", "\u2013", "\u2014", "\u2015"}
	total := 1
	for range pos {
		total *= len(dashes)
	}
	out := make([]string, 0, total)
	choice := make([]int, len(pos))
	var sb strings.Builder
	for range total {
		sb.Reset()
		last := 0
		for k, p := range pos {
			sb.WriteString(pattern[last:p])
			sb.WriteString(dashes[choice[k]])
			last = p + 1
		}
		sb.WriteString(pattern[last:])
		out = append(out, sb.String())
		// Advance the odometer; the last dash varies fastest.
		for k := len(choice) - 1; k >= 0; k-- {
			choice[k]++
			if choice[k] < len(dashes) {
				break
			}
			choice[k] = 0
		}
	}
	return out, nil
}

// isWordRune reports whether r is a word character for Python's \w on str.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// UTF16LE encodes the literal characters of the pattern as UTF-16 little-endian (the
// "utf16le" modifier): "cmd" becomes "c\x00m\x00d\x00". Wildcards are kept as wildcards.
func UTF16LE(pattern string) string { return encodeUTF16(pattern, false, false) }

// UTF16BE encodes the literal characters of the pattern as UTF-16 big-endian (the "utf16be"
// modifier): "cmd" becomes "\x00c\x00m\x00d". Wildcards are kept as wildcards.
func UTF16BE(pattern string) string { return encodeUTF16(pattern, true, false) }

// UTF16 is UTF16LE preceded by the byte order mark FF FE (the "utf16" modifier).
func UTF16(pattern string) string { return encodeUTF16(pattern, false, true) }

// Wide is UTF16LE (the "wide" modifier is its alias).
func Wide(pattern string) string { return UTF16LE(pattern) }

func encodeUTF16(pattern string, bigEndian, bom bool) string {
	var sb strings.Builder
	if bom {
		sb.WriteString("\xff\xfe")
	}
	var units []uint16
	for _, it := range parsePattern(pattern) {
		switch it {
		case itemStar:
			sb.WriteByte('*')
			continue
		case itemAny:
			sb.WriteByte('?')
			continue
		}
		if it < 0 {
			it = utf8.RuneError
		}
		units = utf16.AppendRune(units[:0], it)
		for _, u := range units {
			hi, lo := byte(u>>8), byte(u)
			if bigEndian {
				writeEscaped(&sb, hi)
				writeEscaped(&sb, lo)
			} else {
				writeEscaped(&sb, lo)
				writeEscaped(&sb, hi)
			}
		}
	}
	return sb.String()
}

func writeEscaped(sb *strings.Builder, c byte) {
	if c == '*' || c == '?' || c == '\\' {
		sb.WriteByte('\\')
	}
	sb.WriteByte(c)
}
