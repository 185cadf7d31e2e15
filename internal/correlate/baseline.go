package correlate

// The state a baseline_count group keeps beside its window: the peak measure of each period
// (UTC day by default) in which it had a hit, for the periods Forget covers. The baseline a
// window is compared with is the highest peak of the periods before the window's own, so a
// burst is measured against history alone and every window of it fires, whatever it
// reached earlier in the same period.

// peak is the highest measure a group's windows reached in one period.
type peak struct {
	p int64 // period number: event time / Period, rounded down
	n int32
}

// periodOf returns the period number of event time t.
func (c *corr) periodOf(t int64) int64 {
	p := int64(c.Period)
	q := t / p
	if t%p < 0 {
		q--
	}
	return q
}

// kept is the number of periods before the current one whose peaks count.
func (c *corr) kept() int64 { return int64(c.Forget / c.Period) }

// baseline returns the highest peak of the periods [p-kept, p-1].
func (g *group) baseline(c *corr, p int64) int {
	b := int32(0)
	for _, x := range g.peaks {
		if x.p < p && x.p >= p-c.kept() {
			b = max(b, x.n)
		}
	}
	return int(b)
}

// record raises the peak of period p to n, and forgets the peaks of periods too old to count
// for any window from p on. peaks stay sorted by period.
func (g *group) record(c *corr, p int64, n int) {
	old := 0
	for old < len(g.peaks) && g.peaks[old].p < p-c.kept() {
		old++
	}
	if old > 0 {
		g.peaks = append(g.peaks[:0], g.peaks[old:]...)
	}
	for i := len(g.peaks) - 1; i >= 0; i-- {
		switch {
		case g.peaks[i].p == p:
			g.peaks[i].n = max(g.peaks[i].n, int32(min(n, 1<<31-1)))
			return
		case g.peaks[i].p < p:
			g.peaks = append(g.peaks, peak{})
			copy(g.peaks[i+2:], g.peaks[i+1:])
			g.peaks[i+1] = peak{p, int32(min(n, 1<<31-1))}
			return
		}
	}
	g.peaks = append([]peak{{p, int32(min(n, 1<<31-1))}}, g.peaks...)
}

// measured is what a window measured, and for baseline_count what it was compared with.
type measured struct {
	n, base int
}

// holds evaluates c's condition for the window measured n that ends at event time t in
// group g. For baseline_count it also learns n as a peak of t's period, and holds only after
// Learning, at or above the floor and above Factor times the baseline of the periods before.
func (e *Engine) holds(c *corr, g *group, n int, t int64) (measured, bool) {
	m := measured{n: n}
	if c.Type != BaselineCount {
		return m, c.Condition.Holds(n)
	}
	p := c.periodOf(t)
	m.base = g.baseline(c, p)
	g.record(c, p, n)
	return m, t >= c.start+int64(c.Learning) && c.Condition.Holds(n) && float64(n) > c.Factor*float64(m.base)
}
