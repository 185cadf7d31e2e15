package store

import (
	"math/rand/v2"
	"testing"
)

// TestHashSet: add reports new and repeated hashes as a map would, through every growth and
// for the zero hash (kept as 1).
func TestHashSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := newHashSet(0)
	seen := map[uint64]bool{}
	for i := range 200_000 {
		h := r.Uint64N(150_000) // many repeats
		if i%1000 == 0 {
			h = 0
		}
		key := h
		if key == 0 {
			key = 1
		}
		if got, want := s.add(h), !seen[key]; got != want {
			t.Fatalf("add(%d) #%d = %v, want %v", h, i, got, want)
		}
		seen[key] = true
		if s.n*4 > len(s.slots)*3 {
			t.Fatalf("%d hashes in %d slots: more than three quarters full", s.n, len(s.slots))
		}
	}
	if s.n != len(seen) {
		t.Errorf("%d hashes held, want %d", s.n, len(seen))
	}
}
