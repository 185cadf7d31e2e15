package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/valyala/fastjson"
	"golang.org/x/sync/errgroup"
)

// Filter selects events. An event matches when it matches every group that is set:
//   - who: any of Actors, UserNames, ActorSuffixes, AccessKeys, SourceIPs, SourceIdentities;
//   - Accounts;
//   - EventName;
//   - the time range [Since, Until).
//
// The zero Filter matches every event.
type Filter struct {
	// Actors are normalised principals (event.Actor). A role ARN
	// (arn:aws:iam::ACCT:role/NAME) also matches every session of the role (ARN#session).
	Actors []string
	// UserNames are IAM user names: they match actors arn:aws:iam::ACCT:user/[PATH/]NAME in
	// any account.
	UserNames []string
	// AccessKeys are userIdentity.accessKeyId values.
	AccessKeys []string
	// ActorSuffixes match actors ending with one of them (e.g. "/ROLE#SESSION": that session
	// name of a role, whatever its path and account).
	ActorSuffixes []string
	// SourceIPs are sourceIPAddress values (addresses or AWS service names).
	SourceIPs []string
	// SourceIdentities are userIdentity.sessionContext.sourceIdentity values. Segments
	// written before that column existed (footer version < 3) never match them.
	SourceIdentities []string
	// Accounts are account ids (recipientAccountId, else userIdentity.accountId).
	Accounts []string
	// EventName, when set, keeps the events whose eventName it accepts (it is called once
	// per distinct name of a segment, not per event).
	EventName func(name string) bool
	// Since and Until bound eventTime; zero means unbounded. Until is exclusive.
	Since, Until time.Time
}

func (f Filter) hasWho() bool {
	return len(f.Actors)+len(f.UserNames)+len(f.ActorSuffixes)+len(f.AccessKeys)+len(f.SourceIPs)+len(f.SourceIdentities) > 0
}

// Ref locates a stored event: the segment's sequence number and the row within it.
type Ref struct {
	Segment uint32 `json:"segment"`
	Row     uint32 `json:"row"`
}

// Record is the indexed form of a stored event: its header fields (Header.Pos is where it was
// first read from) and where its raw JSON is. The strings are shared with the store's
// dictionaries: do not modify them.
type Record struct {
	Ref Ref
	event.Header
}

// Scan calls fn, from the calling goroutine, for every stored event matching f, in commit
// order (segment by segment, and in insertion order within a segment). It reads only the
// index columns; segments are scanned ahead on up to GOMAXPROCS goroutines, and fn still
// sees them in order. An error from fn stops the scan and is returned.
func (s *Store) Scan(ctx context.Context, f Filter, fn func(Record) error) error {
	segs := s.snapshot()
	nw := workers()
	return ordered(ctx, len(segs), nw, nw, func(i int) ([]Record, error) {
		return s.scanSegment(ctx, segs[i], f)
	}, func(_ int, recs []Record) error {
		for i := range recs {
			if err := fn(recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Events calls fn for every stored event matching f, like Scan (from the calling goroutine,
// in commit order), with the event decoded from its raw JSON. The event is valid only
// during the call (see package event).
func (s *Store) Events(ctx context.Context, f Filter, fn func(Record, *event.Event) error) error {
	segs := s.snapshot()
	nw := workers()
	return ordered(ctx, len(segs), nw, nw, func(i int) ([]Record, error) {
		return s.scanSegment(ctx, segs[i], f)
	}, func(k int, recs []Record) error {
		if len(recs) == 0 {
			return nil
		}
		sg := segs[k]
		rows := make([]uint32, len(recs))
		for i, r := range recs {
			rows[i] = r.Ref.Row
		}
		var ev event.Event
		return s.readRows(ctx, sg, rows, func(i int, raw []byte, v *fastjson.Value) error {
			ev = event.Event{Raw: raw, Value: v, Pos: recs[i].Pos}
			return fn(recs[i], &ev)
		})
	})
}

// dictMatch returns, for the dictionary, which codes satisfy keep; and whether any does.
func dictMatch(dict []string, keep func(string) bool) ([]bool, bool) {
	m := make([]bool, len(dict))
	any := false
	for i, s := range dict {
		if s != "" && keep(s) {
			m[i], any = true, true
		}
	}
	return m, any
}

// actorMatcher returns the predicate of Filter.Actors and Filter.UserNames on actor strings.
func actorMatcher(f Filter) func(string) bool {
	actors := map[string]bool{}
	for _, a := range f.Actors {
		actors[a] = true
	}
	return func(a string) bool {
		if actors[a] {
			return true
		}
		if role, _, ok := strings.Cut(a, "#"); ok && actors[role] {
			return true
		}
		if len(f.UserNames) > 0 {
			if _, rest, ok := strings.Cut(a, ":user/"); ok && strings.HasPrefix(a, "arn:") {
				name := rest[strings.LastIndexByte(rest, '/')+1:]
				if slices.Contains(f.UserNames, name) {
					return true
				}
			}
		}
		for _, suf := range f.ActorSuffixes {
			if suf != "" && strings.HasSuffix(a, suf) {
				return true
			}
		}
		return false
	}
}

func setMatcher(vals []string) func(string) bool {
	m := make(map[string]bool, len(vals))
	for _, v := range vals {
		m[v] = true
	}
	return func(s string) bool { return m[s] }
}

// cond keeps the rows whose code in column col is kept.
type cond struct {
	col  int
	keep []bool
}

// scanSegment returns the records of sg matching f.
func (s *Store) scanSegment(ctx context.Context, sg *segment, f Filter) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("scanning store: %w", err)
	}
	if !f.Since.IsZero() && sg.ft.MaxTime < f.Since.UnixNano() || !f.Until.IsZero() && sg.ft.MinTime >= f.Until.UnixNano() {
		return nil, nil
	}
	if err := sg.load(s.dec); err != nil {
		return nil, err
	}
	var who, acct []cond
	if f.hasWho() {
		anyWho := false
		add := func(col int, on bool, keep func(string) bool) {
			if !on {
				return
			}
			if m, ok := dictMatch(sg.dict, keep); ok {
				who = append(who, cond{col, m})
				anyWho = true
			}
		}
		add(colActor, len(f.Actors)+len(f.UserNames)+len(f.ActorSuffixes) > 0, actorMatcher(f))
		add(colKey, len(f.AccessKeys) > 0, setMatcher(f.AccessKeys))
		add(colIP, len(f.SourceIPs) > 0, setMatcher(f.SourceIPs))
		add(colSrcID, len(f.SourceIdentities) > 0 && sg.ft.Version >= srcIDVersion, setMatcher(f.SourceIdentities))
		if !anyWho {
			return nil, nil
		}
	}
	if len(f.Accounts) > 0 {
		m, ok := dictMatch(sg.dict, setMatcher(f.Accounts))
		if !ok {
			return nil, nil
		}
		acct = append(acct, cond{colAccount, m})
	}
	if f.EventName != nil {
		m, ok := dictMatch(sg.dict, f.EventName)
		if !ok {
			return nil, nil
		}
		acct = append(acct, cond{colName, m})
	}
	cols := map[int]*column{}
	get := func(c int) (*column, error) {
		if col, ok := cols[c]; ok {
			return col, nil
		}
		col, err := sg.column(s.dec, strColNames[c], len(sg.dict))
		if err != nil {
			return nil, err
		}
		cols[c] = col
		return col, nil
	}
	for _, c := range append(who, acct...) {
		if _, err := get(c.col); err != nil {
			return nil, err
		}
	}
	var times *column
	if !f.Since.IsZero() || !f.Until.IsZero() {
		var err error
		if times, err = sg.column(s.dec, secTime, 0); err != nil {
			return nil, err
		}
	}
	type ccond struct {
		col  *column
		keep []bool
	}
	var whoC []ccond
	var filterCols []*column
	for _, c := range who {
		whoC = append(whoC, ccond{cols[c.col], c.keep})
		filterCols = append(filterCols, cols[c.col])
	}
	var andC []ccond
	for _, c := range acct {
		andC = append(andC, ccond{cols[c.col], c.keep})
		filterCols = append(filterCols, cols[c.col])
	}
	since, until := f.Since.UnixNano(), f.Until.UnixNano()
	match := func(i int) bool {
		if len(whoC) > 0 {
			ok := false
			for _, c := range whoC {
				if c.keep[c.col.at(i)] {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		for _, c := range andC {
			if !c.keep[c.col.at(i)] {
				return false
			}
		}
		if times != nil {
			t := int64(times.at(i))
			if !f.Since.IsZero() && t < since || !f.Until.IsZero() && t >= until {
				return false
			}
		}
		return true
	}
	// The row groups that may hold the identity (nil: all).
	var gs []int
	if len(who) > 0 {
		var err error
		if gs, err = s.candidateGroups(sg, who); err != nil {
			return nil, err
		}
		if gs != nil && len(gs) == 0 {
			return nil, nil
		}
	}
	preload(gs, nil, append(filterCols, times)...)
	var rows []uint32
	if gs == nil {
		gs = make([]int, sg.groups())
		for g := range gs {
			gs[g] = g
		}
	}
	for _, g := range gs {
		for i := g << groupShift; i < g<<groupShift+sg.rowsIn(g); i++ {
			if match(i) {
				rows = append(rows, uint32(i))
			}
		}
	}
	if err := columnErr(cols, times); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	for c := range numHeaderCols {
		if _, err := get(c); err != nil {
			return nil, err
		}
	}
	if times == nil {
		var err error
		if times, err = sg.column(s.dec, secTime, 0); err != nil {
			return nil, err
		}
	}
	return s.records(sg, rows, cols, times)
}

// candidateGroups returns the row groups of sg whose code sets (groupSets) hold a code
// kept by one of the who conditions, in order; nil (all groups) when a column has no sets.
func (s *Store) candidateGroups(sg *segment, who []cond) ([]int, error) {
	sets := make([][][]uint32, len(who))
	for i, c := range who {
		gsets, err := sg.groupSets(s.dec, c.col)
		if err != nil || gsets == nil {
			return nil, err
		}
		sets[i] = gsets
	}
	gs := []int{}
	for g := range sg.groups() {
	conds:
		for i, c := range who {
			for _, code := range sets[i][g] {
				if c.keep[code] {
					gs = append(gs, g)
					break conds
				}
			}
		}
	}
	return gs, nil
}

// columnErr returns the first read error of the columns.
func columnErr(cols map[int]*column, more ...*column) error {
	for c := range numStrCols {
		if col := cols[c]; col != nil && col.err != nil {
			return col.err
		}
	}
	for _, col := range more {
		if col != nil && col.err != nil {
			return col.err
		}
	}
	return nil
}

// records builds the records of the given rows (ascending) from the string columns (all in
// cols) and the time column.
func (s *Store) records(sg *segment, rows []uint32, cols map[int]*column, times *column) ([]Record, error) {
	recCol, err := sg.column(s.dec, secRecord, 0)
	if err != nil {
		return nil, err
	}
	ids, err := sg.idColumn(s.dec)
	if err != nil {
		return nil, err
	}
	var arr [numHeaderCols]*column
	for c := range numHeaderCols {
		arr[c] = cols[c]
	}
	var gs []int
	for _, r := range rows {
		if g := int(r >> groupShift); len(gs) == 0 || gs[len(gs)-1] != g {
			gs = append(gs, g)
		}
	}
	preload(gs, ids, append(arr[:], times, recCol)...)
	seq := sg.seq()
	out := make([]Record, len(rows))
	dict := sg.dict
	str := func(c int, r int) string { return dict[arr[c].at(r)] }
	// Every group the rows need is loaded (preload), so the columns are only read here and
	// chunks of rows are built concurrently.
	build := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := rows[i]
			r := int(row)
			out[i] = Record{Ref: Ref{Segment: seq, Row: row}, Header: event.Header{
				EventID:     ids.at(r),
				EventTime:   time.Unix(0, int64(times.at(r))).UTC(),
				EventSource: str(colSource, r),
				EventName:   str(colName, r),
				AccountID:   str(colAccount, r),
				Region:      str(colRegion, r),
				SourceIP:    str(colIP, r),
				UserAgent:   str(colUA, r),
				AccessKeyID: str(colKey, r),
				ErrorCode:   str(colErr, r),
				Actor:       str(colActor, r),
				Pos:         event.Position{File: str(colFile, r), Record: int(recCol.at(r))},
			}}
		}
	}
	const chunkRows = 8192
	if nw := workers(); nw > 1 && len(rows) > chunkRows {
		var g errgroup.Group
		g.SetLimit(nw)
		for lo := 0; lo < len(rows); lo += chunkRows {
			g.Go(func() error { build(lo, min(lo+chunkRows, len(rows))); return nil })
		}
		g.Wait()
	} else {
		build(0, len(rows))
	}
	if err := columnErr(cols, times, recCol); err != nil {
		return nil, err
	}
	if ids.err != nil {
		return nil, ids.err
	}
	return out, nil
}

// seq returns the sequence number in the segment's name.
func (sg *segment) seq() uint32 { return sg.num }

// readRows calls fn, from the calling goroutine, with the index in rows, the raw JSON and
// the parsed JSON of each row (ascending). Each block is decompressed
// once; blocks are read, decompressed and parsed ahead on up to GOMAXPROCS goroutines. The
// bytes and the value are valid only during the call.
func (s *Store) readRows(ctx context.Context, sg *segment, rows []uint32, fn func(i int, raw []byte, v *fastjson.Value) error) error {
	if err := sg.load(s.dec); err != nil {
		return err
	}
	blk, err := sg.column(s.dec, secBlock, len(sg.blocks))
	if err != nil {
		return err
	}
	offs, err := sg.column(s.dec, secOffset, 0)
	if err != nil {
		return err
	}
	lens, err := sg.column(s.dec, secLength, 0)
	if err != nil {
		return err
	}
	var gs []int
	for _, r := range rows {
		if g := int(r >> groupShift); len(gs) == 0 || gs[len(gs)-1] != g {
			gs = append(gs, g)
		}
	}
	preload(gs, nil, blk, offs, lens)
	// Runs of rows in the same block: rows[run[k].lo:run[k].hi] are in block run[k].b.
	type run struct{ b, lo, hi int }
	var runs []run
	pos := make([][2]uint32, len(rows)) // offset and length of each row
	for i, row := range rows {
		r := int(row)
		b := int(blk.at(r))
		pos[i] = [2]uint32{uint32(offs.at(r)), uint32(lens.at(r))}
		if err := columnErr(nil, blk, offs, lens); err != nil {
			return err
		}
		if b >= len(sg.blocks) {
			return fmt.Errorf("segment %s row %d: block %d out of range", sg.name, r, b)
		}
		if len(runs) > 0 && runs[len(runs)-1].b == b {
			runs[len(runs)-1].hi = i + 1
		} else {
			runs = append(runs, run{b, i, i + 1})
		}
	}
	// chunk is one run read ahead: its block and a parser per row. The first
	// n rows are ready; err is the error of the next one.
	type chunk struct {
		buf  []byte
		ps   []*fastjson.Parser
		vals []*fastjson.Value
		n    int
		err  error
	}
	nw := workers()
	err = ordered(ctx, len(runs), nw, 2*nw, func(k int) (chunk, error) {
		if err := ctx.Err(); err != nil {
			return chunk{}, fmt.Errorf("reading events: %w", err)
		}
		rn := runs[k]
		buf, err := sg.block(s.dec, rn.b)
		if err != nil {
			return chunk{}, err
		}
		c := chunk{buf: buf}
		for i := rn.lo; i < rn.hi; i++ {
			o, l := uint64(pos[i][0]), uint64(pos[i][1])
			if o+l > uint64(len(buf)) {
				c.err = fmt.Errorf("segment %s row %d: event outside its block", sg.name, rows[i])
				break
			}
			p := parserPool.Get()
			c.ps = append(c.ps, p)
			v, err := p.ParseBytes(buf[o : o+l])
			if err != nil {
				c.err = fmt.Errorf("segment %s row %d: parsing event: %w", sg.name, rows[i], err)
				break
			}
			c.vals = append(c.vals, v)
			c.n++
		}
		return c, nil
	}, func(k int, c chunk) error {
		defer func() {
			for _, p := range c.ps {
				parserPool.Put(p)
			}
			putBuf(c.buf)
		}()
		rn := runs[k]
		for j := range c.n {
			i := rn.lo + j
			o, l := pos[i][0], pos[i][1]
			if err := fn(i, c.buf[o:o+l], c.vals[j]); err != nil {
				return err
			}
		}
		return c.err
	})
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) && !strings.HasPrefix(err.Error(), "reading events") {
		return fmt.Errorf("reading events: %w", err)
	}
	return err
}

// parserPool holds the parsers of readRows: one per row read ahead.
var parserPool fastjson.ParserPool

// segmentEvents calls fn for every event of sg, in insertion order, with the position where
// it was first read.
func (s *Store) segmentEvents(ctx context.Context, sg *segment, fn func(*event.Event) error) error {
	if err := sg.load(s.dec); err != nil {
		return err
	}
	files, err := sg.column(s.dec, strColNames[colFile], len(sg.dict))
	if err != nil {
		return err
	}
	recCol, err := sg.column(s.dec, secRecord, 0)
	if err != nil {
		return err
	}
	rows := make([]uint32, sg.ft.Events)
	for i := range rows {
		rows[i] = uint32(i)
	}
	var ev event.Event
	return s.readRows(ctx, sg, rows, func(i int, raw []byte, v *fastjson.Value) error {
		row := rows[i]
		f, rec := files.at(int(row)), recCol.at(int(row))
		if err := columnErr(nil, files, recCol); err != nil {
			return err
		}
		ev = event.Event{Raw: raw, Value: v, Pos: event.Position{File: sg.dict[f], Record: int(rec)}}
		return fn(&ev)
	})
}
