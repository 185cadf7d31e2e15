package match

import (
	"fmt"
	"unicode/utf8"
)

// Set matches a value equal to any of a list of literal strings, with one hash lookup instead
// of one comparison per string. It is immutable and safe for concurrent use.
type Set struct {
	fold   bool
	minLen int
	keys   map[uint64][]string // hash of the folded key -> folded keys
	n      int
}

// NewSet compiles the patterns into a Set. Each pattern is in Sigma syntax and must not
// contain unescaped wildcards (compile those with CompileString). Comparison is
// case-insensitive unless opts.Cased is set.
func NewSet(opts Options, patterns ...string) (*Set, error) {
	s := &Set{fold: !opts.Cased, keys: make(map[uint64][]string, len(patterns)), minLen: -1}
	for _, p := range patterns {
		lit, ok := Literal(p)
		if !ok {
			return nil, fmt.Errorf("compiling set value %q: wildcards are not allowed in a set", p)
		}
		key := []byte(lit)
		if s.fold {
			key = appendFolded(nil, key)
		}
		h := s.hash([]byte(lit))
		dup := false
		for _, k := range s.keys[h] {
			dup = dup || k == string(key)
		}
		if dup {
			continue
		}
		s.keys[h] = append(s.keys[h], string(key))
		s.n++
		if s.minLen < 0 || len(key) < s.minLen {
			s.minLen = len(key)
		}
	}
	return s, nil
}

// Len returns the number of distinct values in the set (after case folding).
func (s *Set) Len() int { return s.n }

// Match reports whether b equals one of the set's values. It does not allocate.
func (s *Set) Match(b []byte) bool {
	// Folding never lengthens a value, so a value shorter than every key cannot match.
	if s.n == 0 || len(b) < s.minLen {
		return false
	}
	for _, k := range s.keys[s.hash(b)] {
		if s.equal(b, k) {
			return true
		}
	}
	return false
}

// FNV-1a, over the folded bytes of the value.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func (s *Set) hash(b []byte) uint64 {
	h := uint64(fnvOffset)
	if !s.fold {
		for _, c := range b {
			h = (h ^ uint64(c)) * fnvPrime
		}
		return h
	}
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			h = (h ^ uint64(lowerASCII(c))) * fnvPrime
			i++
			continue
		}
		var buf [utf8.UTFMax]byte
		enc, n := foldedBytes(&buf, b, i)
		for _, c := range enc {
			h = (h ^ uint64(c)) * fnvPrime
		}
		i += n
	}
	return h
}

// equal reports whether b folds to the key k.
func (s *Set) equal(b []byte, k string) bool {
	if !s.fold {
		return string(b) == k
	}
	j := 0
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			if j >= len(k) || k[j] != lowerASCII(c) {
				return false
			}
			i++
			j++
			continue
		}
		var buf [utf8.UTFMax]byte
		enc, n := foldedBytes(&buf, b, i)
		if len(k)-j < len(enc) || k[j:j+len(enc)] != string(enc) {
			return false
		}
		i += n
		j += len(enc)
	}
	return j == len(k)
}

// foldedBytes returns the folded encoding of the character at b[i] (in buf) and its width
// in b. Invalid UTF-8 bytes are kept as they are.
func foldedBytes(buf *[utf8.UTFMax]byte, b []byte, i int) ([]byte, int) {
	r, n := decode(b, i)
	return appendItem(buf[:0], foldRune(r)), n
}

// appendFolded appends the folded form of b.
func appendFolded(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		r, n := decode(b, i)
		dst = appendItem(dst, foldRune(r))
		i += n
	}
	return dst
}
