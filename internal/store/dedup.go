package store

// hashSet is an open-addressing set of non-zero 64-bit hashes, at most three quarters full
// (10.7–21 bytes per hash; linear probing stays short since the hashes are mixed). It is not
// safe for concurrent use.
type hashSet struct {
	slots []uint64
	n     int
}

func newHashSet(capacity int) *hashSet {
	size := 1024
	for size*3 < capacity*4 {
		size <<= 1
	}
	return &hashSet{slots: make([]uint64, size)}
}

// add inserts h and reports whether it was absent.
func (s *hashSet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := mix(h) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			s.n++
			return true
		case h:
			return false
		}
	}
}

func (s *hashSet) grow() {
	old := s.slots
	s.slots = make([]uint64, len(old)*2)
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

// mix spreads the bits of h (the splitmix64 finaliser).
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// hashID is the 64-bit FNV-1a hash of an eventID, mixed. Two distinct ids collide with
// probability about n²/2⁶⁵ over n events (3 in a million at 10M events); a collision makes
// the second event be taken for a duplicate.
func hashID(id []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range id {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return mix(h)
}

// dedupKey is what deduplication compares: the eventID hash and the event time (Unix ns, 0
// when the event has none), mixed. The copies CloudTrail delivers twice share both; two
// events that share an eventID but not a time (test data reuses ids) are both kept.
func dedupKey(idHash uint64, t int64) uint64 {
	return mix(idHash ^ uint64(t)*0x9e3779b97f4a7c15)
}

// hourSets holds the dedup keys of events by hour of event time, so that the hours least
// recently used can be let go (and read again from the segments when an event of theirs
// comes back): a long-running writer's memory is then bounded by the keys of the hours it
// is busy with, not by every event it ever stored.
type hourSets struct {
	hours map[int64]*hourSet
	n     int // keys over all hours
	tick  uint64
}

type hourSet struct {
	set  *hashSet
	used uint64 // tick of the last use
}

func newHourSets() *hourSets { return &hourSets{hours: map[int64]*hourSet{}} }

// add inserts key into hour h's set and reports whether it was absent.
func (s *hourSets) add(h int64, key uint64) bool {
	hs := s.hours[h]
	if hs == nil {
		hs = &hourSet{set: newHashSet(0)}
		s.hours[h] = hs
	}
	s.tick++
	hs.used = s.tick
	if !hs.set.add(key) {
		return false
	}
	s.n++
	return true
}

// touch marks hour h as used.
func (s *hourSets) touch(h int64) {
	if hs := s.hours[h]; hs != nil {
		s.tick++
		hs.used = s.tick
	}
}

// evict lets go of the least recently used hours until at most max keys are held, and
// returns them.
func (s *hourSets) evict(max int) []int64 {
	var out []int64
	for s.n > max && len(s.hours) > 0 {
		oldest, at := int64(0), uint64(0)
		first := true
		for h, hs := range s.hours {
			if first || hs.used < at {
				oldest, at, first = h, hs.used, false
			}
		}
		s.n -= s.hours[oldest].set.n
		delete(s.hours, oldest)
		out = append(out, oldest)
	}
	return out
}
