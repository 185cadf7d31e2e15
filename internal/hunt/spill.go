package hunt

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
)

// The stateful stage needs every match in event-time order, which file order does not give.
// Matches are kept in memory up to a budget; past it, a worker sorts what it holds and
// spills it to a temporary file as a sorted run, and the stage reads the runs back through a
// k-way merge. Memory then stays bounded whatever the size of the input, and the order —
// hence the signals — is the same as with one in-memory sort.

// compareMatch is the one order of matches: event time, eventID, rule.
func compareMatch(a, b *match) int {
	return cmp.Or(a.hdr.EventTime.Compare(b.hdr.EventTime), cmp.Compare(a.hdr.EventID, b.hdr.EventID), cmp.Compare(a.rule.Index, b.rule.Index))
}

// spillRecord is a match as written to a run file.
type spillRecord struct {
	Rule   int
	Hdr    event.Header
	Fields map[string]string
}

// run is one sorted sequence of matches: in memory, or in a file.
type run struct {
	mem  []match
	path string
}

// spill writes the sorted matches to a new temporary file in dir.
func spill(dir string, ms []match) (run, error) {
	slices.SortFunc(ms, func(a, b match) int { return compareMatch(&a, &b) })
	f, err := os.CreateTemp(dir, "trailhound-matches-*")
	if err != nil {
		return run{}, fmt.Errorf("spilling matches: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	enc := gob.NewEncoder(bw)
	for i := range ms {
		m := &ms[i]
		if err := enc.Encode(spillRecord{Rule: m.rule.Index, Hdr: m.hdr, Fields: m.fields}); err != nil {
			f.Close()
			os.Remove(f.Name())
			return run{}, fmt.Errorf("spilling matches: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return run{}, fmt.Errorf("spilling matches: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return run{}, fmt.Errorf("spilling matches: %w", err)
	}
	return run{path: f.Name()}, nil
}

// cursor reads one run in order.
type cursor struct {
	cur   match
	mem   []match
	dec   *gob.Decoder
	file  *os.File
	rules []*detect.Rule
}

func (c *cursor) next() (bool, error) {
	if c.dec == nil {
		if len(c.mem) == 0 {
			return false, nil
		}
		c.cur, c.mem = c.mem[0], c.mem[1:]
		return true, nil
	}
	var r spillRecord
	if err := c.dec.Decode(&r); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, fmt.Errorf("reading spilled matches: %w", err)
	}
	if r.Rule < 0 || r.Rule >= len(c.rules) {
		return false, fmt.Errorf("reading spilled matches: rule %d out of range", r.Rule)
	}
	c.cur = match{rule: c.rules[r.Rule], hdr: r.Hdr, fields: r.Fields}
	return true, nil
}

type cursorHeap []*cursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return compareMatch(&h[i].cur, &h[j].cur) < 0 }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// merge calls fn for every match of the runs in order, once per (rule, eventID): trails
// ship duplicates and inputs overlap. It removes the run files.
func merge(runs []run, rules []*detect.Rule, fn func(*match) error) (err error) {
	var h cursorHeap
	defer func() {
		for _, r := range runs {
			if r.path != "" {
				os.Remove(r.path)
			}
		}
		for _, c := range h {
			if c.file != nil {
				c.file.Close()
			}
		}
	}()
	for _, r := range runs {
		c := &cursor{rules: rules}
		if r.path != "" {
			f, err := os.Open(r.path)
			if err != nil {
				return fmt.Errorf("reading spilled matches: %w", err)
			}
			c.file, c.dec = f, gob.NewDecoder(bufio.NewReaderSize(f, 1<<20))
		} else {
			slices.SortFunc(r.mem, func(a, b match) int { return compareMatch(&a, &b) })
			c.mem = r.mem
		}
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, c)
		} else if c.file != nil {
			c.file.Close()
		}
	}
	heap.Init(&h)
	var last *match
	var prev match
	for h.Len() > 0 {
		c := h[0]
		m := c.cur
		if last == nil || m.rule.Index != prev.rule.Index || m.hdr.EventID != prev.hdr.EventID {
			if err := fn(&m); err != nil {
				return err
			}
		}
		prev, last = m, &prev
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
			if c.file != nil {
				c.file.Close()
				c.file = nil
			}
		}
	}
	return nil
}
