package hunt

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
)

// The stateful stage needs every match in event-time order, which file order does not give.
// Matches are kept in memory up to a budget; past it, a worker sorts what it holds and
// spills it to a temporary file as a sorted run, and the stage reads the runs back through a
// k-way merge. Memory then stays bounded whatever the size of the input, and the order —
// hence the signals — is the same as with one in-memory sort.

// compareMatch is the one order of matches: event time, eventID, rule.
//
// The position (file, record) breaks the remaining ties: copies of one event — same eventID
// — are normally identical, but when they are not (test data reusing ids), the merge keeps
// the first, and it must be the same copy whatever the order files were read in.
func compareMatch(a, b *match) int {
	// Each key is compared only when the ones before it tie (cmp.Or would evaluate all of
	// them, string comparisons included, on every call of the sort); matches of one event
	// share their header, so only the rule tells them apart.
	ha, hb := a.hdr, b.hdr
	if ha != hb {
		if c := ha.EventTime.Compare(hb.EventTime); c != 0 {
			return c
		}
		if c := strings.Compare(ha.EventID, hb.EventID); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(a.rule.Index, b.rule.Index); c != 0 || ha == hb {
		return c
	}
	if c := strings.Compare(ha.Pos.File, hb.Pos.File); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(ha.Pos.Record, hb.Pos.Record), cmp.Compare(ha.Pos.Line, hb.Pos.Line))
}

// run is one sequence of matches: in memory (sorted by the merge unless sorted is set), or
// in a file (always sorted).
type run struct {
	mem    []match
	sorted bool
	path   string
}

// removeRuns deletes the files of runs (in-memory runs have none).
func removeRuns(runs []run) {
	for _, r := range runs {
		if r.path != "" {
			os.Remove(r.path)
		}
	}
}

// sortMatches sorts matches in compareMatch order.
func sortMatches(ms []match) {
	slices.SortFunc(ms, func(a, b match) int { return compareMatch(&a, &b) })
}

// A run file is a sequence of records, one per match, in compareMatch order:
//
//	uvarint rule index
//	byte    0: a new event's header follows; 1: same event as the previous record
//	[header: strings EventID, EventSource, EventName, AccountID, Region, SourceIP, UserAgent,
//	         AccessKeyID, ErrorCode, Actor, Pos.File; uvarints Pos.Record, Pos.Line;
//	         EventTime in time's binary form, length-prefixed]
//	uvarint number of fields, then name and value strings
//
// with every string as a uvarint length and its bytes. Matches of one event are adjacent in
// that order, so each header is written once and read back as one shared value.

// runWriter encodes matches to a run file.
type runWriter struct {
	w    *bufio.Writer
	buf  []byte
	last *event.Header
}

func (rw *runWriter) str(s string) {
	rw.buf = binary.AppendUvarint(rw.buf, uint64(len(s)))
	rw.buf = append(rw.buf, s...)
}

func (rw *runWriter) write(m *match) error {
	rw.buf = binary.AppendUvarint(rw.buf[:0], uint64(m.rule.Index))
	if m.hdr == rw.last {
		rw.buf = append(rw.buf, 1)
	} else {
		h := m.hdr
		rw.buf = append(rw.buf, 0)
		for _, s := range [...]string{h.EventID, h.EventSource, h.EventName, h.AccountID, h.Region, h.SourceIP,
			h.UserAgent, h.AccessKeyID, h.ErrorCode, h.Actor, h.Pos.File} {
			rw.str(s)
		}
		rw.buf = binary.AppendUvarint(rw.buf, uint64(h.Pos.Record))
		rw.buf = binary.AppendUvarint(rw.buf, uint64(h.Pos.Line))
		n := len(rw.buf)
		rw.buf = append(rw.buf, 0)
		var err error
		if rw.buf, err = h.EventTime.AppendBinary(rw.buf); err != nil {
			return err
		}
		rw.buf[n] = byte(len(rw.buf) - n - 1)
		rw.last = h
	}
	rw.buf = binary.AppendUvarint(rw.buf, uint64(len(m.fields)))
	for k, v := range m.fields {
		rw.str(k)
		rw.str(v)
	}
	_, err := rw.w.Write(rw.buf)
	return err
}

// spill writes the sorted matches to a new temporary file in dir.
func spill(dir string, ms []match) (run, error) {
	sortMatches(ms)
	f, err := os.CreateTemp(dir, "trailhound-matches-*")
	if err != nil {
		return run{}, fmt.Errorf("spilling matches: %w", err)
	}
	fail := func(err error) (run, error) {
		f.Close()
		os.Remove(f.Name())
		return run{}, fmt.Errorf("spilling matches: %w", err)
	}
	rw := runWriter{w: bufio.NewWriterSize(f, 1<<20)}
	for i := range ms {
		if err := rw.write(&ms[i]); err != nil {
			return fail(err)
		}
	}
	if err := rw.w.Flush(); err != nil {
		return fail(err)
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
	r     *bufio.Reader
	file  *os.File
	rules []*detect.Rule
	hdr   *event.Header // the header of the last record read
	in    *interner     // shares the strings that repeat from record to record, over all cursors
	buf   []byte
}

func (c *cursor) next() (bool, error) {
	if c.r == nil {
		if len(c.mem) == 0 {
			return false, nil
		}
		c.cur, c.mem = c.mem[0], c.mem[1:]
		return true, nil
	}
	rule, err := binary.ReadUvarint(c.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, fmt.Errorf("reading spilled matches: %w", err)
	}
	m, err := c.record(rule)
	if err != nil {
		return false, fmt.Errorf("reading spilled matches: %w", err)
	}
	c.cur = m
	return true, nil
}

// record reads the rest of a record whose rule index was read.
func (c *cursor) record(rule uint64) (match, error) {
	if rule >= uint64(len(c.rules)) {
		return match{}, fmt.Errorf("rule %d out of range", rule)
	}
	m := match{rule: c.rules[rule]}
	same, err := c.r.ReadByte()
	if err != nil {
		return match{}, noEOF(err)
	}
	switch {
	case same == 1 && c.hdr != nil:
		m.hdr = c.hdr
	case same == 0:
		h := &event.Header{}
		// Event ids are unique: interning them would only fill the table.
		id, err := c.bytes()
		if err != nil {
			return match{}, err
		}
		h.EventID = string(id)
		for _, p := range [...]*string{&h.EventSource, &h.EventName, &h.AccountID, &h.Region, &h.SourceIP,
			&h.UserAgent, &h.AccessKeyID, &h.ErrorCode, &h.Actor, &h.Pos.File} {
			if *p, err = c.str(); err != nil {
				return match{}, err
			}
		}
		var rec, line uint64
		if rec, err = binary.ReadUvarint(c.r); err == nil {
			line, err = binary.ReadUvarint(c.r)
		}
		if err != nil {
			return match{}, noEOF(err)
		}
		h.Pos.Record, h.Pos.Line = int(rec), int(line)
		b, err := c.bytes()
		if err == nil {
			err = h.EventTime.UnmarshalBinary(b)
		}
		if err != nil {
			return match{}, err
		}
		c.hdr, m.hdr = h, h
	default:
		return match{}, fmt.Errorf("bad record header flag %d", same)
	}
	n, err := binary.ReadUvarint(c.r)
	if err != nil {
		return match{}, noEOF(err)
	}
	if n > 1<<16 {
		return match{}, fmt.Errorf("%d fields in one record", n)
	}
	if n > 0 {
		m.fields = make(map[string]string, n)
	}
	for range n {
		k, err := c.str()
		if err != nil {
			return match{}, err
		}
		v, err := c.str()
		if err != nil {
			return match{}, err
		}
		m.fields[k] = v
	}
	return m, nil
}

// bytes reads a length-prefixed byte string into c.buf.
func (c *cursor) bytes() ([]byte, error) {
	n, err := binary.ReadUvarint(c.r)
	if err != nil {
		return nil, noEOF(err)
	}
	if n > 1<<24 {
		return nil, fmt.Errorf("string of %d bytes", n)
	}
	if uint64(cap(c.buf)) < n {
		c.buf = make([]byte, n)
	}
	c.buf = c.buf[:n]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return nil, noEOF(err)
	}
	return c.buf, nil
}

func (c *cursor) str() (string, error) {
	b, err := c.bytes()
	if err != nil {
		return "", err
	}
	return c.in.get(b), nil
}

// noEOF turns an end of file inside a record into an error of its own.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
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

// maxFanIn is how many runs one merge reads at once (well under the usual limit of 1024
// open files): more runs are first merged, fanIn at a time and in parallel, into longer
// runs, so that open files and read buffers stay bounded whatever the input size. At the
// default budget one level holds about 50M matches (some 20M events with the public rules).
const maxFanIn = 256

// merge calls fn for every match of the runs in order, once per (rule, eventID): trails
// ship duplicates and inputs overlap. It removes the run files; dir receives the
// intermediate runs of a multi-level merge ("" is the system's temporary folder).
func merge(runs []run, rules []*detect.Rule, dir string, fn func(*match) error) error {
	return mergeFanIn(runs, rules, dir, maxFanIn, fn)
}

func mergeFanIn(runs []run, rules []*detect.Rule, dir string, fanIn int, fn func(*match) error) error {
	for len(runs) > fanIn {
		// The groups of a level are independent: merge them in parallel.
		var groups [][]run
		for i := 0; i < len(runs); i += fanIn {
			groups = append(groups, runs[i:min(i+fanIn, len(runs))])
		}
		next := make([]run, len(groups))
		var g errgroup.Group
		g.SetLimit(runtime.GOMAXPROCS(0))
		for i, group := range groups {
			if len(group) == 1 {
				next[i] = group[0]
				continue
			}
			g.Go(func() error {
				r, err := mergeToFile(group, rules, dir)
				next[i] = r
				return err
			})
		}
		if err := g.Wait(); err != nil {
			removeRuns(next)
			return err
		}
		runs = next
	}
	return mergeRuns(runs, rules, fn)
}

// mergeToFile merges runs into one run file.
func mergeToFile(runs []run, rules []*detect.Rule, dir string) (run, error) {
	f, err := os.CreateTemp(dir, "trailhound-matches-*")
	if err != nil {
		removeRuns(runs)
		return run{}, fmt.Errorf("merging spilled matches: %w", err)
	}
	rw := runWriter{w: bufio.NewWriterSize(f, 1<<20)}
	err = mergeRuns(runs, rules, rw.write)
	if err == nil {
		err = rw.w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return run{}, fmt.Errorf("merging spilled matches: %w", err)
	}
	return run{path: f.Name()}, nil
}

// mergeRuns merges runs, all open at once.
func mergeRuns(runs []run, rules []*detect.Rule, fn func(*match) error) (err error) {
	var h cursorHeap
	defer func() {
		removeRuns(runs)
		for _, c := range h {
			if c.file != nil {
				c.file.Close()
			}
		}
	}()
	in := &interner{}
	for _, r := range runs {
		c := &cursor{rules: rules, in: in}
		if r.path != "" {
			f, err := os.Open(r.path)
			if err != nil {
				return fmt.Errorf("reading spilled matches: %w", err)
			}
			c.file, c.r = f, bufio.NewReaderSize(f, 64<<10)
		} else {
			if !r.sorted {
				sortMatches(r.mem)
			}
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
