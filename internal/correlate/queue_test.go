package correlate

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPendingQueueOrder: whatever mix of in-order and late pushes, pops come out in
// comparePending order, as from one heap.
func TestPendingQueueOrder(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		var q pendingQueue
		var held []*pending
		tmax := int64(0)
		for i := range 3000 {
			if r.IntN(3) > 0 || q.len() == 0 {
				tt := tmax + int64(r.IntN(3))
				if r.IntN(10) == 0 { // a straggler
					tt -= int64(r.IntN(20))
				}
				tmax = max(tmax, tt)
				p := &pending{t: tt, id: string(rune('a' + r.IntN(3))), rule: string(rune('a' + r.IntN(2))), arrival: uint64(i)}
				q.push(p)
				held = append(held, p)
				continue
			}
			slices.SortFunc(held, comparePending)
			want := held[0]
			if got := q.peek(); got != want {
				t.Fatalf("seed %d: peek %+v, want %+v", seed, *got, *want)
			}
			if got := q.pop(); got != want {
				t.Fatalf("seed %d: pop %+v, want %+v", seed, *got, *want)
			}
			held = held[1:]
		}
		if q.len() != len(held) || len(q.all()) != len(held) {
			t.Fatalf("seed %d: len %d, all %d, want %d", seed, q.len(), len(q.all()), len(held))
		}
	}
}
