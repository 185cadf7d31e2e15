package match

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Op says where a string pattern must occur in a value.
type Op uint8

// The string operations: the Sigma default (the whole value) and the contains, startswith
// and endswith modifiers.
const (
	Equals Op = iota
	Contains
	StartsWith
	EndsWith
)

// String returns the Sigma name of the operation.
func (o Op) String() string {
	switch o {
	case Equals:
		return "equals"
	case Contains:
		return "contains"
	case StartsWith:
		return "startswith"
	case EndsWith:
		return "endswith"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Options change how a string pattern compares characters.
type Options struct {
	// Cased makes the comparison case-sensitive (the Sigma "cased" modifier). By default
	// characters are compared under Unicode simple case folding.
	Cased bool
}

// kind is the shape of a compiled pattern; all but kindGlob have a fast path.
type kind uint8

const (
	kindGlob kind = iota
	kindExact
	kindPrefix
	kindSuffix
	kindContains
)

// String is a compiled Sigma string pattern. It is immutable and safe for concurrent use.
type String struct {
	pattern string
	op      Op
	fold    bool

	// Fast path, for patterns without '?' whose only stars are at the ends.
	kind    kind
	lit     []byte // the literal between the stars; lower-cased ASCII when fold
	litSafe bool   // fold only: the ASCII fast path is right for any input, not just ASCII

	// General path: the pattern split at its stars. With no star there is one segment, that
	// must cover the whole value; with stars, the first is anchored at the start and the last
	// at the end (either may be empty).
	star      bool
	segs      []segment
	needASCII bool // some segment's fast path is only right for ASCII input
}

// segment is a run of pattern items between stars.
type segment struct {
	items []rune // literal runes (folded when case-insensitive) and itemAny
	// lit is the segment as bytes when byte-wise comparison is exact: no '?', and valid
	// UTF-8 when cased or ASCII when folded (then lower-cased). Nil otherwise.
	lit     []byte
	litSafe bool // folded ASCII lit that no non-ASCII character folds onto
}

// CompileString compiles a Sigma string pattern for the operation op. The pattern is in
// Sigma syntax (see the package documentation); for Contains, StartsWith and EndsWith the
// implied stars are added after the pattern's escapes are resolved, so a trailing backslash
// stays a literal backslash.
func CompileString(op Op, pattern string, opts Options) (*String, error) {
	if op > EndsWith {
		return nil, fmt.Errorf("compiling pattern %q: unknown operation %d", pattern, op)
	}
	items := parsePattern(pattern)
	switch op {
	case Contains:
		items = append(append([]rune{itemStar}, items...), itemStar)
	case StartsWith:
		items = append(items, itemStar)
	case EndsWith:
		items = append([]rune{itemStar}, items...)
	}
	s := &String{pattern: pattern, op: op, fold: !opts.Cased}

	// Collapse runs of stars and fold literals.
	norm := items[:0]
	for _, it := range items {
		if it == itemStar && len(norm) > 0 && norm[len(norm)-1] == itemStar {
			continue
		}
		if s.fold && it != itemStar && it != itemAny {
			it = foldRune(it)
		}
		norm = append(norm, it)
	}

	// Split into segments.
	start := 0
	for i := 0; i <= len(norm); i++ {
		if i < len(norm) && norm[i] != itemStar {
			continue
		}
		if i < len(norm) {
			s.star = true
		}
		s.segs = append(s.segs, s.newSegment(norm[start:i]))
		if !s.segs[len(s.segs)-1].litSafe && s.segs[len(s.segs)-1].lit != nil && s.fold {
			s.needASCII = true
		}
		start = i + 1
	}

	// Fast path: at most one segment of substance, with stars only around it.
	switch {
	case !s.star:
		s.kind, s.lit, s.litSafe = kindExact, s.segs[0].lit, s.segs[0].litSafe
		if s.lit == nil && !s.fold && !hasAny(s.segs[0].items) {
			// Cased equality is byte equality, even for invalid UTF-8.
			s.lit = appendItems(nil, s.segs[0].items)
		}
	case len(s.segs) == 2 && len(s.segs[1].items) == 0:
		s.kind, s.lit, s.litSafe = kindPrefix, s.segs[0].lit, s.segs[0].litSafe
	case len(s.segs) == 2 && len(s.segs[0].items) == 0:
		s.kind, s.lit, s.litSafe = kindSuffix, s.segs[1].lit, s.segs[1].litSafe
	case len(s.segs) == 3 && len(s.segs[0].items) == 0 && len(s.segs[2].items) == 0:
		s.kind, s.lit, s.litSafe = kindContains, s.segs[1].lit, s.segs[1].litSafe
	}
	if s.kind != kindGlob && s.lit == nil {
		s.kind = kindGlob
	}
	return s, nil
}

// newSegment builds a segment from folded (or cased) items.
func (s *String) newSegment(items []rune) segment {
	sg := segment{items: append([]rune(nil), items...)}
	if hasAny(items) {
		return sg
	}
	lit := appendItems(make([]byte, 0, len(items)), items)
	if !s.fold {
		if utf8.Valid(lit) {
			sg.lit = lit
		}
		return sg
	}
	if !isASCII(lit) {
		return sg
	}
	sg.lit, sg.litSafe = lit, true
	for _, c := range lit {
		if foldsOutsideASCII(rune(c)) {
			sg.litSafe = false
		}
	}
	return sg
}

func hasAny(items []rune) bool {
	for _, it := range items {
		if it == itemAny {
			return true
		}
	}
	return false
}

func appendItems(b []byte, items []rune) []byte {
	for _, it := range items {
		b = appendItem(b, it)
	}
	return b
}

// Pattern returns the pattern the matcher was compiled from.
func (s *String) Pattern() string { return s.pattern }

// Op returns the operation the matcher was compiled for.
func (s *String) Op() Op { return s.op }

// Match reports whether the value b matches the pattern. It does not allocate.
func (s *String) Match(b []byte) bool {
	if s.kind != kindGlob {
		if !s.fold {
			switch s.kind {
			case kindExact:
				return bytes.Equal(b, s.lit)
			case kindPrefix:
				return bytes.HasPrefix(b, s.lit)
			case kindSuffix:
				return bytes.HasSuffix(b, s.lit)
			default:
				return bytes.Contains(b, s.lit)
			}
		}
		// The ASCII comparison is exact when no character of the value can fold onto lit's
		// (litSafe), or when the bytes it compares are ASCII: an ASCII byte is always a whole
		// character, so a byte-wise hit on ASCII bytes is a hit.
		switch n := len(s.lit); s.kind {
		case kindExact:
			if s.litSafe || isASCII(b) {
				return len(b) == n && hasPrefixFoldASCII(b, s.lit)
			}
		case kindPrefix:
			if s.litSafe || isASCII(b[:min(n, len(b))]) {
				return hasPrefixFoldASCII(b, s.lit)
			}
		case kindSuffix:
			if s.litSafe || isASCII(b[max(0, len(b)-n):]) {
				return len(b) >= n && hasPrefixFoldASCII(b[len(b)-n:], s.lit)
			}
		default:
			if indexFoldASCII(b, s.lit) >= 0 {
				return true
			}
			if s.litSafe || isASCII(b) {
				return false
			}
		}
	}
	return s.glob(b)
}

// glob is the general matcher. Stars split the pattern into segments; the first and last are
// anchored, and each middle segment is taken at its leftmost occurrence after the previous
// one, which is optimal, so there is no backtracking across stars: the cost is at most
// len(b) times the pattern length, whatever the number of stars.
func (s *String) glob(b []byte) bool {
	asciiIn := s.needASCII && isASCII(b)
	if !s.star {
		return s.fwd(&s.segs[0], b, 0, asciiIn) == len(b)
	}
	lo := s.fwd(&s.segs[0], b, 0, asciiIn)
	if lo < 0 {
		return false
	}
	hi := s.bwd(&s.segs[len(s.segs)-1], b, len(b), asciiIn)
	if hi < lo {
		return false
	}
	b = b[:hi]
	for i := 1; i < len(s.segs)-1; i++ {
		lo = s.find(&s.segs[i], b, lo, asciiIn)
		if lo < 0 {
			return false
		}
	}
	return true
}

// byteWise reports whether the segment can be compared byte by byte for this input.
func (s *String) byteWise(sg *segment, asciiIn bool) bool {
	return sg.lit != nil && (!s.fold || sg.litSafe || asciiIn)
}

// fwd matches sg at b[p:] and returns the end of the match, or -1.
func (s *String) fwd(sg *segment, b []byte, p int, asciiIn bool) int {
	if s.byteWise(sg, asciiIn) {
		if s.fold {
			if hasPrefixFoldASCII(b[p:], sg.lit) {
				return p + len(sg.lit)
			}
		} else if bytes.HasPrefix(b[p:], sg.lit) {
			return p + len(sg.lit)
		}
		return -1
	}
	for _, it := range sg.items {
		if p >= len(b) {
			return -1
		}
		r, n := decode(b, p)
		if it != itemAny {
			if s.fold {
				r = foldRune(r)
			}
			if r != it {
				return -1
			}
		}
		p += n
	}
	return p
}

// bwd matches sg so that it ends at b[end] and returns the start of the match, or -1.
func (s *String) bwd(sg *segment, b []byte, end int, asciiIn bool) int {
	if s.byteWise(sg, asciiIn) {
		if end < len(sg.lit) {
			return -1
		}
		p := end - len(sg.lit)
		if s.fold {
			if hasPrefixFoldASCII(b[p:end], sg.lit) {
				return p
			}
		} else if bytes.Equal(b[p:end], sg.lit) {
			return p
		}
		return -1
	}
	for i := len(sg.items) - 1; i >= 0; i-- {
		if end <= 0 {
			return -1
		}
		r, n := decodeLast(b, end)
		if it := sg.items[i]; it != itemAny {
			if s.fold {
				r = foldRune(r)
			}
			if r != it {
				return -1
			}
		}
		end -= n
	}
	return end
}

// find returns the end of the leftmost match of sg in b[from:], or -1.
func (s *String) find(sg *segment, b []byte, from int, asciiIn bool) int {
	if s.byteWise(sg, asciiIn) {
		var i int
		if s.fold {
			i = indexFoldASCII(b[from:], sg.lit)
		} else {
			i = bytes.Index(b[from:], sg.lit)
		}
		if i < 0 {
			return -1
		}
		return from + i + len(sg.lit)
	}
	for p := from; ; {
		if e := s.fwd(sg, b, p, asciiIn); e >= 0 {
			return e
		}
		if p >= len(b) {
			return -1
		}
		_, n := decode(b, p)
		p += n
	}
}

// hasPrefixFoldASCII reports whether b starts with lit, a lower-case ASCII string, ignoring
// ASCII case in b.
func hasPrefixFoldASCII(b, lit []byte) bool {
	if len(b) < len(lit) {
		return false
	}
	for i, c := range lit {
		if lowerASCII(b[i]) != c {
			return false
		}
	}
	return true
}

// indexFoldASCII returns the index of the first occurrence of lit, a lower-case ASCII
// string, in b ignoring ASCII case, or -1. Candidates are found with bytes.IndexByte: on a
// byte of lit that is not a letter if there is one, else on both cases of the first byte.
func indexFoldASCII(b, lit []byte) int {
	if len(lit) == 0 {
		return 0
	}
	last := len(b) - len(lit) // last possible start
	for k, c := range lit {
		if 'a' <= c && c <= 'z' {
			continue
		}
		for i := 0; i <= last; i++ {
			j := bytes.IndexByte(b[i+k:last+k+1], c)
			if j < 0 {
				return -1
			}
			i += j
			if hasPrefixFoldASCII(b[i:], lit) {
				return i
			}
		}
		return -1
	}
	lo, up := lit[0], lit[0]-('a'-'A')
	pl, pu := -1, -1 // next position of lo and up at or after i; len(b) when none
	for i := 0; i <= last; {
		if pl < i {
			pl = nextByte(b, i, last, lo)
		}
		if pu < i {
			pu = nextByte(b, i, last, up)
		}
		p := min(pl, pu)
		if p > last {
			return -1
		}
		if hasPrefixFoldASCII(b[p+1:], lit[1:]) {
			return p
		}
		i = p + 1
	}
	return -1
}

// nextByte returns the index of c in b[from:last+1], or len(b).
func nextByte(b []byte, from, last int, c byte) int {
	if j := bytes.IndexByte(b[from:last+1], c); j >= 0 {
		return from + j
	}
	return len(b)
}
