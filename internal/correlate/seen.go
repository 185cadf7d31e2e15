package correlate

import "math"

// smallSet is the largest learned-value set kept as a slice; most groups of a new_value
// correlation hold a handful of values, and a slice costs far less than a map.
const smallSet = 8

// valueSet maps a value (encoded tuple) to the latest event time it was seen.
type valueSet struct {
	small []seenValue
	large map[string]int64
}

type seenValue struct {
	v string
	t int64
}

func (s *valueSet) len() int { return len(s.small) + len(s.large) }

func (s *valueSet) get(v string) (int64, bool) {
	if s.large != nil {
		t, ok := s.large[v]
		return t, ok
	}
	for _, x := range s.small {
		if x.v == v {
			return x.t, true
		}
	}
	return 0, false
}

func (s *valueSet) set(v string, t int64) {
	if s.large != nil {
		s.large[v] = t
		return
	}
	for i := range s.small {
		if s.small[i].v == v {
			s.small[i].t = t
			return
		}
	}
	if len(s.small) < smallSet {
		s.small = append(s.small, seenValue{v, t})
		return
	}
	s.large = make(map[string]int64, 2*smallSet)
	for _, x := range s.small {
		s.large[x.v] = x.t
	}
	s.small = nil
	s.large[v] = t
}

// removeOldest forgets the least recently seen value (the smallest value among equals).
func (s *valueSet) removeOldest() {
	oldest, ot := "", int64(math.MaxInt64)
	s.each(func(v string, t int64) {
		if t < ot || (t == ot && v < oldest) {
			oldest, ot = v, t
		}
	})
	if s.large != nil {
		delete(s.large, oldest)
		return
	}
	for i, x := range s.small {
		if x.v == oldest {
			s.small = append(s.small[:i], s.small[i+1:]...)
			return
		}
	}
}

func (s *valueSet) each(fn func(v string, t int64)) {
	for _, x := range s.small {
		fn(x.v, x.t)
	}
	for v, t := range s.large {
		fn(v, t)
	}
}
