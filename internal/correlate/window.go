package correlate

import (
	"cmp"
	"math"
	"slices"
)

// The hits a group holds (group.hits, sorted by event time) and what is kept beside them so
// that no step costs more as more hits share one time: a burst of a million copies of an
// event in one second costs what the same hits spread over a million seconds cost.
//
//   - vals, ruleN: hits per value (ValueCount) and per rule (Temporal*), for the condition.
//   - ruleT (TemporalOrdered): per rule, the times of its hits, sorted, for the ordered
//     prefix by binary search instead of a scan of the window.
//   - dups: the hits by (time, event id[, rule]), for the duplicate check, built once a
//     group holds a run of more than dupScan hits of one time and kept while it holds many.
//   - fresh: how many hits are not in the group's current alert (their gen is not g.gen), so
//     that a late firing need not scan its window for them.

// dupScan is how many hits of the same time the duplicate check compares one by one before
// it indexes the group's hits; dropIndexBelow is the number of hits below which the index
// is dropped again (lower, so that a group at the boundary does not rebuild it each hit).
const (
	dupScan        = 32
	dropIndexBelow = dupScan / 2
)

// dupKey identifies a hit for the duplicate check: its time, its event id and, for the
// temporal types, where an event may count once per referenced rule, its rule (else -1).
type dupKey struct {
	t    int64
	id   string
	rule int32
}

func (c *corr) dupKey(h *hit) dupKey {
	k := dupKey{t: h.t, id: h.id, rule: -1}
	if c.Type == Temporal || c.Type == TemporalOrdered {
		k.rule = h.rule
	}
	return k
}

// isDuplicate reports whether the group holds a hit with h's time, event id and (for the
// temporal types) rule. pos is where h would be inserted: after every held hit of its time.
func (g *group) isDuplicate(c *corr, pos int, h *hit) bool {
	if h.id == "" {
		return false
	}
	k := c.dupKey(h)
	if g.dups == nil {
		for i, n := pos-1, 0; i >= 0 && g.hits[i].t == h.t; i, n = i-1, n+1 {
			if n == dupScan {
				g.indexDups(c)
				return g.dups[k] > 0
			}
			if c.dupKey(&g.hits[i]) == k {
				return true
			}
		}
		return false
	}
	return g.dups[k] > 0
}

func (g *group) indexDups(c *corr) {
	g.dups = make(map[dupKey]int32, len(g.hits))
	for i := range g.hits {
		if g.hits[i].id != "" {
			g.dups[c.dupKey(&g.hits[i])]++
		}
	}
}

// insert adds h to the hits at pos (which keeps them sorted by time) with its gen as it is.
func (g *group) insert(c *corr, pos int, h hit) {
	if g.vals != nil {
		g.vals[h.val]++
	}
	if g.ruleN != nil {
		g.ruleN[h.rule]++
	}
	if g.ruleT != nil {
		ts := g.ruleT[h.rule]
		i, _ := slices.BinarySearch(ts, h.t+1)
		g.ruleT[h.rule] = slices.Insert(ts, i, h.t)
	}
	if g.dups != nil && h.id != "" {
		g.dups[c.dupKey(&h)]++
	}
	if h.gen != g.gen {
		g.fresh++
	}
	if pos == len(g.hits) {
		g.hits = append(g.hits, h)
	} else {
		g.hits = slices.Insert(g.hits, pos, h)
	}
}

// removeFront drops the n oldest hits.
func (g *group) removeFront(c *corr, n int) {
	if n <= 0 {
		return
	}
	for i := range g.hits[:n] {
		h := &g.hits[i]
		if g.vals != nil {
			if g.vals[h.val]--; g.vals[h.val] <= 0 {
				delete(g.vals, h.val)
			}
		}
		if g.ruleN != nil {
			g.ruleN[h.rule]--
		}
		if g.ruleT != nil {
			// The hits are sorted by time, so a rule's oldest hit is the first of its times.
			ts := g.ruleT[h.rule][1:]
			if len(ts) == 0 {
				ts = nil
			}
			g.ruleT[h.rule] = ts
		}
		if g.dups != nil && h.id != "" {
			k := c.dupKey(h)
			if g.dups[k]--; g.dups[k] <= 0 {
				delete(g.dups, k)
			}
		}
		if h.gen != g.gen {
			g.fresh--
		}
	}
	clear(g.hits[:n])
	g.hits = g.hits[n:]
	if len(g.hits) == 0 {
		g.hits = nil
	}
	if len(g.hits) < dropIndexBelow {
		g.dups = nil
	}
}

// orderedTimes is orderedPrefix over all of a group's hits, from the times of each rule's
// hits: the chain of earliest times t0 <= t1 <= ... where tk is the earliest hit of rule k
// not before t(k-1) is what the greedy scan of orderedPrefix finds.
func orderedTimes(ruleT [][]int64) int {
	t := int64(math.MinInt64)
	for k, ts := range ruleT {
		i, _ := slices.BinarySearch(ts, t)
		if i == len(ts) {
			return k
		}
		t = ts[i]
	}
	return len(ruleT)
}

// searchTime returns the index of the first hit at or after time t.
func searchTime(hits []hit, t int64) int {
	i, _ := slices.BinarySearchFunc(hits, t, func(x hit, t int64) int { return cmp.Compare(x.t, t) })
	return i
}
