package correlate

import (
	"encoding/binary"
	"strings"
)

// encodeFields encodes the values of the named fields as one map key: each value preceded by
// its length as a uvarint, so that no value can be confused with a separator.
func encodeFields(names []string, fields FieldFunc) string {
	if len(names) == 0 {
		return ""
	}
	// The values first, to allocate the key once at its final size.
	var buf [4]string
	vals, size := buf[:0], 0
	for _, name := range names {
		v := ""
		if fields != nil {
			v = fields(name)
		}
		vals, size = append(vals, v), size+uvarintLen(len(v))+len(v)
	}
	var b strings.Builder
	b.Grow(size)
	var n [binary.MaxVarintLen64]byte
	for _, v := range vals {
		b.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		b.WriteString(v)
	}
	return b.String()
}

// uvarintLen is the length of x as a uvarint.
func uvarintLen(x int) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// encodeValues encodes values as encodeFields does.
func encodeValues(vals []string) string {
	i := 0
	return encodeFields(vals, func(string) string { i++; return vals[i-1] })
}

// decodeFields is the inverse of encodeFields; it returns nil for "".
func decodeFields(s string) []string {
	var out []string
	for len(s) > 0 {
		n, k := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
		if k <= 0 || uint64(len(s)-k) < n {
			return append(out, s) // not produced by encodeFields
		}
		out = append(out, s[k:k+int(n)])
		s = s[k+int(n):]
	}
	return out
}

// isEmptyTuple reports whether every value of an encoded tuple is "" (every field absent).
func isEmptyTuple(s string) bool {
	return strings.Trim(s, "\x00") == ""
}
