package correlate

import (
	"fmt"
	"testing"
)

func TestValueSet(t *testing.T) {
	for _, n := range []int{3, smallSet, smallSet + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var s valueSet
			for i := range n {
				s.set(fmt.Sprint(i), int64(100-i)) // value n-1 is the least recently seen
			}
			s.set("0", 1000) // update, not a new value
			if s.len() != n {
				t.Fatalf("len = %d, want %d", s.len(), n)
			}
			if got, ok := s.get("0"); !ok || got != 1000 {
				t.Errorf("get(0) = %d, %v; want 1000, true", got, ok)
			}
			s.removeOldest()
			if _, ok := s.get(fmt.Sprint(n - 1)); ok || s.len() != n-1 {
				t.Errorf("after removeOldest: value %d still there or len %d != %d", n-1, s.len(), n-1)
			}
			if _, ok := s.get("missing"); ok {
				t.Error("get(missing) found")
			}
		})
	}
}
