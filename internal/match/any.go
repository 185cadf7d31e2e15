package match

import (
	"slices"
	"unicode/utf8"
)

// Any matches a value against many String patterns at once: it reports whether at least one
// of them matches, in time linear in the length of the value whatever the number of
// patterns. It serves the patterns whose only wildcards are stars at their ends — an exact
// value, a prefix (startswith), a suffix (endswith) or a substring (contains) — with three
// automata: a trie walked from the start of the value for exact values and prefixes, a trie
// of reversed suffixes walked from its end, and an Aho-Corasick automaton for substrings.
// Case-insensitive patterns are stored folded and the value is folded as it is read, one
// character at a time, so the result is the one String.Match gives: Unicode simple case
// folding, and invalid UTF-8 bytes equal only themselves.
//
// An Any is immutable and safe for concurrent use; Match does not allocate.
type Any struct {
	n     int
	fold  anyTries // case-insensitive patterns
	cased anyTries // |cased patterns
}

// anyTries are the automata of one case mode.
type anyTries struct {
	prefix   *trie // exact values (exact flag) and prefixes (prefix flag), forward
	suffix   *trie // suffixes, reversed
	contains *trie // substrings, with failure links
}

// NewAny builds an Any from the patterns of ms it can serve, and returns the others (those
// with '?', a star inside, or a character that is not valid UTF-8), in their order. any is
// nil when no pattern can be served.
func NewAny(ms []*String) (any *Any, rest []*String) {
	var fold, cased [4][][]byte // by kindExact, kindPrefix, kindSuffix, kindContains - 1
	n := 0
	for _, m := range ms {
		shape, b, ok := m.literal()
		if !ok {
			rest = append(rest, m)
			continue
		}
		set := &cased
		if m.fold {
			set = &fold
		}
		if shape == kindSuffix {
			slices.Reverse(b)
		}
		set[shape-kindExact] = append(set[shape-kindExact], b)
		n++
	}
	if n == 0 {
		return nil, rest
	}
	a := &Any{n: n}
	a.fold.build(fold)
	a.cased.build(cased)
	return a, rest
}

func (t *anyTries) build(p [4][][]byte) {
	if len(p[0])+len(p[1]) > 0 {
		t.prefix = newTrie(p[0], p[1], false)
	}
	if len(p[2]) > 0 {
		t.suffix = newTrie(nil, p[2], false)
	}
	if len(p[3]) > 0 {
		t.contains = newTrie(nil, p[3], true)
	}
}

// Len returns the number of patterns the Any serves.
func (a *Any) Len() int { return a.n }

// Match reports whether b matches one of the patterns.
func (a *Any) Match(b []byte) bool {
	return a.cased.match(b, false) || a.fold.match(b, true)
}

func (t *anyTries) match(b []byte, fold bool) bool {
	if t.prefix != nil && t.prefix.anchored(b, fold, false) {
		return true
	}
	if t.suffix != nil && t.suffix.anchored(b, fold, true) {
		return true
	}
	return t.contains != nil && t.contains.search(b, fold)
}

// literal returns the shape of the pattern and its literal (folded when case-insensitive),
// when the pattern is an exact value, a prefix, a suffix or a substring of valid UTF-8
// characters; ok is false for any other pattern.
func (s *String) literal() (shape kind, lit []byte, ok bool) {
	for _, sg := range s.segs {
		for _, it := range sg.items {
			if it < 0 { // '?' or a byte of invalid UTF-8
				return 0, nil, false
			}
		}
	}
	empty := func(i int) bool { return len(s.segs[i].items) == 0 }
	switch {
	case !s.star:
		shape = kindExact
	case len(s.segs) == 2 && empty(1):
		shape = kindPrefix
	case len(s.segs) == 2 && empty(0):
		shape = kindSuffix
	case len(s.segs) == 3 && empty(0) && empty(2):
		shape = kindContains
	default:
		return 0, nil, false
	}
	var items []rune
	for _, sg := range s.segs {
		items = append(items, sg.items...)
	}
	return shape, appendItems(nil, items), true
}

// trie is a byte trie in breadth-first order: node 0 is the root, and the children of a
// node are consecutive nodes, sorted by label. It is built from sorted patterns in one pass.
type trie struct {
	label  []byte
	first  []int32  // first child
	nchild []uint16 // number of children
	flags  []uint8
	root   [256]int32

	// Aho-Corasick (the contains trie) only. fail is the node of the longest proper suffix
	// of a node's string. The first ndense nodes — the shallow ones, where a search spends
	// nearly all its time — have their transitions resolved in a table, dense[s*nclass +
	// class[c]], over byte classes (each byte of some pattern is a class; all other bytes
	// are class 0, which leads back to the root).
	fail   []int32
	class  [256]uint8
	nclass int32
	ndense int32
	dense  []int32
}

// denseCells bounds the resolved transition table (4 MiB of int32).
const denseCells = 1 << 20

// Node flags: a pattern ends at the node, as an exact value or as a prefix/suffix/substring;
// for the contains trie, hit means the node or a node on its failure chain ends a pattern.
const (
	flagExact uint8 = 1 << iota
	flagEnd
	flagHit
)

// newTrie builds the trie of the exact patterns and the end patterns (prefixes, reversed
// suffixes or substrings); with links, the failure links of Aho-Corasick too.
func newTrie(exact, end [][]byte, links bool) *trie {
	type pat struct {
		b    []byte
		flag uint8
	}
	ps := make([]pat, 0, len(exact)+len(end))
	for _, b := range exact {
		ps = append(ps, pat{b, flagExact})
	}
	for _, b := range end {
		ps = append(ps, pat{b, flagEnd})
	}
	slices.SortFunc(ps, func(a, b pat) int { return slices.Compare(a.b, b.b) })

	t := &trie{}
	t.add(0)
	// Each queued node covers the sorted patterns ps[lo:hi] that pass through it, at depth d.
	type span struct {
		node   int32
		lo, hi int
		d      int
	}
	queue := []span{{0, 0, len(ps), 0}}
	for len(queue) > 0 {
		sp := queue[0]
		queue = queue[1:]
		i := sp.lo
		for ; i < sp.hi && len(ps[i].b) == sp.d; i++ { // patterns ending here sort first
			t.flags[sp.node] |= ps[i].flag
		}
		t.first[sp.node] = int32(len(t.label))
		for i < sp.hi {
			c := ps[i].b[sp.d]
			j := i + 1
			for j < sp.hi && ps[j].b[sp.d] == c {
				j++
			}
			child := t.add(c)
			t.nchild[sp.node]++
			queue = append(queue, span{child, i, j, sp.d + 1})
			i = j
		}
	}
	for i := range t.root {
		t.root[i] = -1
	}
	for k := range int(t.nchild[0]) {
		c := t.first[0] + int32(k)
		t.root[t.label[c]] = c
	}
	if links {
		t.link()
	}
	return t
}

func (t *trie) add(label byte) int32 {
	t.label = append(t.label, label)
	t.first = append(t.first, 0)
	t.nchild = append(t.nchild, 0)
	t.flags = append(t.flags, 0)
	return int32(len(t.label) - 1)
}

// child returns the child of node s labelled c, or -1.
func (t *trie) child(s int32, c byte) int32 {
	if s == 0 {
		return t.root[c]
	}
	lo, hi := t.first[s], t.first[s]+int32(t.nchild[s])
	if hi-lo <= 8 {
		for k := lo; k < hi; k++ {
			if t.label[k] == c {
				return k
			}
		}
		return -1
	}
	end := hi
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		if t.label[m] < c {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < end && t.label[lo] == c {
		return lo
	}
	return -1
}

// link computes the failure links in breadth-first (node) order, flagHit, and the resolved
// transitions of the shallow nodes.
func (t *trie) link() {
	t.fail = make([]int32, len(t.label))
	if t.flags[0]&flagEnd != 0 {
		t.flags[0] |= flagHit
	}
	for s := range int32(len(t.label)) {
		for k := range int32(t.nchild[s]) {
			c := t.first[s] + k
			f := int32(0)
			if s != 0 {
				for f = t.fail[s]; ; f = t.fail[f] {
					if x := t.child(f, t.label[c]); x >= 0 {
						f = x
						break
					}
					if f == 0 {
						break
					}
				}
			}
			t.fail[c] = f
			if t.flags[c]&flagEnd != 0 || t.flags[f]&flagHit != 0 {
				t.flags[c] |= flagHit
			}
		}
	}
	var used [256]bool
	for _, c := range t.label[1:] {
		used[c] = true
	}
	t.nclass = 1
	var rep []byte // a byte of each class; class 0 has none
	rep = append(rep, 0)
	for c := range 256 {
		if used[c] {
			t.class[c] = uint8(t.nclass)
			rep = append(rep, byte(c))
			t.nclass++
		}
	}
	if t.nclass > 255 {
		t.nclass, t.ndense = 0, 0 // every byte is a class of its own: no room for class 0
		return
	}
	t.ndense = min(int32(len(t.label)), max(1, denseCells/t.nclass))
	t.dense = make([]int32, int(t.ndense)*int(t.nclass))
	for s := range t.ndense {
		row := t.dense[s*t.nclass : (s+1)*t.nclass]
		for k := int32(1); k < t.nclass; k++ {
			switch x := t.child(s, rep[k]); {
			case x >= 0:
				row[k] = x
			case s != 0:
				row[k] = t.dense[t.fail[s]*t.nclass+k] // the failure node is shallower: resolved already
			}
		}
	}
}

// next is the Aho-Corasick transition from node s on byte c.
func (t *trie) next(s int32, c byte) int32 {
	for {
		if s < t.ndense {
			return t.dense[s*t.nclass+int32(t.class[c])]
		}
		if x := t.child(s, c); x >= 0 {
			return x
		}
		if s == 0 {
			return 0
		}
		s = t.fail[s]
	}
}

// step is next with the resolved table read in line.
func (t *trie) step(s int32, c byte) int32 {
	if s < t.ndense {
		return t.dense[s*t.nclass+int32(t.class[c])]
	}
	return t.next(s, c)
}

// search reports whether a pattern of the contains trie occurs in b.
func (t *trie) search(b []byte, fold bool) bool {
	if t.flags[0]&flagHit != 0 {
		return true
	}
	s := int32(0)
	if !fold {
		for _, c := range b {
			if s = t.step(s, c); t.flags[s]&flagHit != 0 {
				return true
			}
		}
		return false
	}
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			i++
			if s = t.step(s, lowerASCII(c)); t.flags[s]&flagHit != 0 {
				return true
			}
			continue
		}
		enc, n := foldedBytes(&buf, b, i)
		for _, c := range enc {
			if s = t.step(s, c); t.flags[s]&flagHit != 0 {
				return true
			}
		}
		i += n
	}
	return false
}

// anchored walks the trie from the start of b, or from its end reading backwards when
// reverse (the trie holds reversed patterns then), one character at a time: it reports
// whether a prefix (suffix) pattern ends on the way, or an exact pattern at the end of b.
func (t *trie) anchored(b []byte, fold, reverse bool) bool {
	if t.flags[0]&flagEnd != 0 {
		return true
	}
	s := int32(0)
	var buf [utf8.UTFMax]byte
	for done := 0; done < len(b); {
		enc, n := char(&buf, b, done, fold, reverse)
		for k := range enc {
			c := enc[k]
			if reverse {
				c = enc[len(enc)-1-k]
			}
			if s = t.child(s, c); s < 0 {
				return false
			}
		}
		if t.flags[s]&flagEnd != 0 {
			return true
		}
		done += n
	}
	return t.flags[s]&flagExact != 0
}

// char returns the bytes of the next character of b as a trie compares them (folded when
// fold; invalid UTF-8 bytes one by one, as they are) and its width in b: the character after
// the first done bytes, or, when reverse, before the last done bytes.
func char(buf *[utf8.UTFMax]byte, b []byte, done int, fold, reverse bool) ([]byte, int) {
	i := done
	if reverse {
		i = len(b) - 1 - done
	}
	c := b[i]
	switch {
	case c < utf8.RuneSelf:
		if fold {
			c = lowerASCII(c)
		}
		buf[0] = c
		return buf[:1], 1
	case !fold:
		buf[0] = c // cased: bytes compare as bytes
		return buf[:1], 1
	case reverse:
		r, n := decodeLast(b, i+1)
		return appendItem(buf[:0], foldRune(r)), n
	}
	return foldedBytes(buf, b, i)
}
