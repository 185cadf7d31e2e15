package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/trailhound/trailhound/internal/event"
)

// Writer adds events to a store. There is one per Store (Store.Writer). It is safe for
// concurrent use: Add may be called from many goroutines (hunt's decode workers), Commit from
// any. Events are durable only once Commit returns.
type Writer struct {
	s    *Store
	mu   sync.Mutex
	seen *hourSets
	// unloaded are the committed segments whose eventID hashes are not in seen yet; loaded
	// are the hours of event time whose keys seen holds whole (loadHour); evicted are the
	// hours seen let go of since (Options.DedupKeys), to read again from every segment.
	unloaded []*segment
	loaded   map[int64]bool
	evicted  map[int64]bool
	// hashesLoaded counts the stored hashes read into seen.
	hashesLoaded int
	// files is the file ledger, sorted by path hash (loaded on first use); pendingFiles
	// are the files read since the last commit, by path hash (see files.go).
	files        []fileRec
	filesLoaded  bool
	pendingFiles map[uint64]FileStamp
	seg          *segWriter
	// pending are the segments written since the last commit: complete files, listed by
	// the next commit's manifest (a writer that dies before leaves them unreferenced).
	pending []*segWriter
	// nextSeq numbers the next file the writer creates.
	nextSeq uint64
	err     error // sticky: the first write error
	// added counts events added since Open, across commits.
	added, dups int
}

// Writer returns the store's writer. It reads no eventID yet: a stored segment's hashes
// are read the first time an event falls within the segment's time range (see Add).
func (s *Store) Writer() (*Writer, error) {
	if s.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("store is closed")
	}
	if s.writer != nil {
		return s.writer, nil
	}
	s.writer = &Writer{s: s, seen: newHourSets(), unloaded: slices.Clone(s.segs), loaded: map[int64]bool{}, evicted: map[int64]bool{}, nextSeq: s.man.NextSeq}
	return s.writer, nil
}

// The copies of one event carry the same eventID and the same eventTime, and that pair is
// what deduplication compares (dedupKey), so an event can only duplicate stored events of
// its own time: Add reads the hashes of the segments whose time range holds the
// event's hour, once per hour of event time. A run over a live trail, whose events are
// recent, reads the segments of the last hours, not every eventID of the store; a run over
// the whole history reads them all, as it must. Events without a time are stored with
// time 0 and are compared with the segments that hold such events.

// hourNanos is the unit of event time for which segments are loaded.
const hourNanos = int64(time.Hour)

// hourOf returns the hour of Unix time t (in ns), rounded down, also for negative times.
func hourOf(t int64) int64 {
	h := t / hourNanos
	if t < 0 && t%hourNanos != 0 {
		h--
	}
	return h
}

// loadHour reads into seen the hashes of every unloaded segment whose time range meets the
// hour of event time t. w.mu is held.
func (w *Writer) loadHour(t int64) error {
	h := hourOf(t)
	if w.loaded[h] {
		w.seen.touch(h)
		return nil
	}
	from, to := h*hourNanos, h*hourNanos+hourNanos-1
	meets := func(sg *segment) bool { return sg.ft.MaxTime >= from && sg.ft.MinTime <= to }
	// Segments never read: every key of theirs, whatever its hour (each is read once).
	keep := w.unloaded[:0]
	var read map[*segment]bool
	for i, sg := range w.unloaded {
		if !meets(sg) {
			keep = append(keep, sg)
			continue
		}
		if err := w.readKeys(sg, nil); err != nil {
			// Keep what is left unloaded: the error is sticky anyway.
			w.unloaded = append(keep, w.unloaded[i:]...)
			return err
		}
		if read == nil {
			read = map[*segment]bool{}
		}
		read[sg] = true
	}
	clear(w.unloaded[len(keep):])
	w.unloaded = keep
	// An hour let go of: its keys again from every committed segment that holds it.
	if w.evicted[h] {
		for _, sg := range w.s.snapshot() {
			if meets(sg) && !read[sg] {
				if err := w.readKeys(sg, &h); err != nil {
					return err
				}
			}
		}
		delete(w.evicted, h)
	}
	w.loaded[h] = true
	w.seen.touch(h)
	return nil
}

// readKeys adds the dedup keys of a segment's events to seen: all of them, or those of
// hour *only.
func (w *Writer) readKeys(sg *segment, only *int64) error {
	hashes, err := sg.section(w.s.dec, secHash)
	var times []byte
	if err == nil {
		times, err = sg.section(w.s.dec, secTime)
	}
	if err == nil && len(times) != len(hashes) {
		err = fmt.Errorf("%d event ids but %d times", len(hashes)/8, len(times)/8)
	}
	if err != nil {
		return fmt.Errorf("loading the event ids of %s: %w", sg.name, err)
	}
	for p := 0; p+8 <= len(hashes); p += 8 {
		t := int64(binary.LittleEndian.Uint64(times[p:]))
		h := hourOf(t)
		if only != nil && h != *only {
			continue
		}
		w.seen.add(h, dedupKey(binary.LittleEndian.Uint64(hashes[p:]), t))
	}
	w.hashesLoaded += len(hashes) / 8
	return nil
}

// evictKeys lets go of the least recently used hours of keys past Options.DedupKeys. It
// runs right after a commit, when every event added is in a committed segment that a
// later loadHour can read again.
func (w *Writer) evictKeys() {
	for _, h := range w.seen.evict(w.s.opts.DedupKeys) {
		delete(w.loaded, h)
		w.evicted[h] = true
	}
}

// replaced updates the unloaded segments after a compaction rewrote old into written: a
// new segment is unloaded if any of the old ones was (loading it again adds only hashes
// not yet read; no hour that was loaded gains an unread event). w.mu is held.
func (w *Writer) replaced(old, written []*segment) {
	gone := map[*segment]bool{}
	for _, sg := range old {
		gone[sg] = true
	}
	keep, dropped := w.unloaded[:0], false
	for _, sg := range w.unloaded {
		if gone[sg] {
			dropped = true
			continue
		}
		keep = append(keep, sg)
	}
	clear(w.unloaded[len(keep):])
	w.unloaded = keep
	if dropped {
		w.unloaded = append(w.unloaded, written...)
	}
}

// WriterStats counts what a Writer did since the store was opened.
type WriterStats struct {
	// Added events are new; Duplicates were already stored (or added twice).
	Added, Duplicates int
	// Pending events are added but not committed.
	Pending int
}

// Stats returns the counts of the writer.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := WriterStats{Added: w.added, Duplicates: w.dups}
	if w.seg != nil {
		st.Pending = len(w.seg.hash)
	}
	for _, sg := range w.pending {
		st.Pending += sg.meta.Events
	}
	return st
}

// Add stores ev unless an event with its eventID and eventTime is already stored (then
// added is false). Events without an eventID are deduplicated by their exact JSON text.
// Add copies what it keeps; ev may be reused when it returns. What can be read off the
// event is read before the writer's lock is taken, so that concurrent callers only queue
// for the bookkeeping.
func (w *Writer) Add(ev *event.Event) (added bool, err error) {
	r := rowOf(ev)
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return false, w.err
	}
	if err := w.loadHour(r.time); err != nil {
		w.err = err
		w.mu.Unlock()
		return false, err
	}
	if !w.seen.add(hourOf(r.time), dedupKey(r.hash, r.time)) {
		w.dups++
		w.mu.Unlock()
		return false, nil
	}
	if w.seg == nil {
		if err := w.startSegment(); err != nil {
			w.err = err
			w.mu.Unlock()
			return false, err
		}
	}
	sg := w.seg
	job := sg.add(&r)
	w.added++
	if len(sg.hash) >= w.s.opts.SegmentEvents {
		// A full segment is written out now, to bound memory, but it is committed only
		// with the signals and state of the events it holds (the next Commit).
		if job != nil {
			sg.compress(job)
		}
		err := w.sealLocked()
		w.mu.Unlock()
		return true, err
	}
	w.mu.Unlock()
	if job != nil {
		sg.compress(job)
	}
	return true, nil
}

// row is what a segment keeps of one event, read off it without any lock held. Its byte
// slices point into the event.
type row struct {
	hash  uint64
	id    []byte
	time  int64
	strs  [numStrCols][]byte // colActor and colFile are in actor and file
	actor string
	file  string
	rec   int
	raw   []byte
}

func rowOf(ev *event.Event) row {
	r := row{id: ev.Str("eventID"), actor: event.Actor(ev.Value), file: ev.Pos.File, rec: ev.Pos.Record, raw: ev.Raw}
	if len(r.id) > 0 {
		r.hash = hashID(r.id)
	} else {
		r.hash = hashID(ev.Raw)
	}
	if tt, err := event.ParseTime(ev.Str("eventTime")); err == nil {
		r.time = tt.UnixNano()
	}
	acct := ev.Str("recipientAccountId")
	if len(acct) == 0 {
		acct = ev.Str("userIdentity", "accountId")
	}
	r.strs[colAccount] = acct
	r.strs[colRegion] = ev.Str("awsRegion")
	r.strs[colSource] = ev.Str("eventSource")
	r.strs[colName] = ev.Str("eventName")
	r.strs[colKey] = ev.Str("userIdentity", "accessKeyId")
	r.strs[colIP] = ev.Str("sourceIPAddress")
	r.strs[colUA] = ev.Str("userAgent")
	r.strs[colErr] = ev.Str("errorCode")
	r.strs[colSrcID] = ev.Str("userIdentity", "sessionContext", "sourceIdentity")
	return r
}

// sealLocked writes the segment being filled to its file and adds it to the pending
// segments. w.mu is held.
func (w *Writer) sealLocked() error {
	sg := w.seg
	if sg == nil {
		return nil
	}
	w.seg = nil
	if err := sg.finish(w.s.man.Generation + 1); err != nil {
		sg.discard()
		w.err = fmt.Errorf("writing segment %s: %w", sg.name, err)
		return w.err
	}
	w.pending = append(w.pending, sg)
	w.s.opts.Logger.Debug("segment written", "name", sg.name, "events", sg.meta.Events, "bytes", sg.meta.Bytes)
	return nil
}

// abort discards the uncommitted segments (Store.Close).
func (w *Writer) abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seg != nil {
		w.seg.wait()
		w.seg.discard()
		w.seg = nil
	}
	for _, sg := range w.pending {
		sg.discard()
	}
	w.pending = nil
	if w.err == nil {
		w.err = errors.New("store is closed")
	}
	return nil
}

// newName returns the name of the next file the writer creates. w.mu is held.
func (w *Writer) newName(prefix, suffix string) string {
	n := w.nextSeq
	w.nextSeq++
	return fmt.Sprintf("%s%06d%s", prefix, n, suffix)
}

// startSegment creates the temporary file of the next segment.
func (w *Writer) startSegment() error {
	s := w.s
	name := w.newName(segPrefix, segSuffix)
	path := filepath.Join(s.dir, name)
	f, err := os.OpenFile(path+tmpSuffix, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating segment %s: %w", name, err)
	}
	if _, err := f.WriteString(segMagic); err != nil {
		f.Close()
		os.Remove(path + tmpSuffix)
		return fmt.Errorf("creating segment %s: %w", name, err)
	}
	w.seg = newSegWriter(s, name, path, f)
	return nil
}

// blockJob is a full block of raw JSON waiting to be compressed and written.
type blockJob struct {
	n   int // block number
	raw []byte
}

// segWriter builds one segment: blocks stream to the temporary file as they fill (compressed
// by up to GOMAXPROCS goroutines the segWriter owns), the index columns stay in memory until
// finish. Its fields other than the file state are guarded by Writer.mu.
type segWriter struct {
	s          *Store
	name, path string

	dict map[string]uint32
	strs []string

	hash             []uint64
	ids              []byte
	idCuts           []int // offsets in ids where row groups start (after the first)
	times            []int64
	strCols          [numStrCols][]uint32
	recs, offs, lens []uint32
	blk              []uint32
	cur              []byte // the block being filled
	nBlocks          int
	minT, maxT       int64
	rawBytes         int64

	// replaces names the segments a compaction merges into this one; sourceGen is the
	// newest generation of their events.
	replaces  []string
	sourceGen uint64
	// meta describes the finished segment (finish).
	meta segmentMeta

	// File state, guarded by fileMu.
	fileMu sync.Mutex
	f      *os.File
	off    int64
	crc    uint32     // CRC-32C of the bytes written so far
	blocks []blockRef // by block number
	ferr   error

	wg  sync.WaitGroup
	sem chan struct{}
}

func newSegWriter(s *Store, name, path string, f *os.File) *segWriter {
	return &segWriter{
		s: s, name: name, path: path, f: f, off: int64(len(segMagic)), crc: crc32.Checksum([]byte(segMagic), crcTable),
		dict: map[string]uint32{"": 0}, strs: []string{""},
		sem: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
	}
}

// code returns the dictionary code of b, adding it if new.
func (sg *segWriter) code(b []byte) uint32 {
	if c, ok := sg.dict[string(b)]; ok {
		return c
	}
	c := uint32(len(sg.strs))
	s := string(b)
	sg.strs = append(sg.strs, s)
	sg.dict[s] = c
	return c
}

// codeStr is code for a string.
func (sg *segWriter) codeStr(s string) uint32 {
	if c, ok := sg.dict[s]; ok {
		return c
	}
	c := uint32(len(sg.strs))
	sg.strs = append(sg.strs, s)
	sg.dict[s] = c
	return c
}

// add appends the index row and the raw JSON of an event. When that fills the current
// block, it returns the block for compression, to be passed to compress once Writer.mu is
// released.
func (sg *segWriter) add(r *row) *blockJob {
	if len(sg.hash) > 0 && len(sg.hash)%groupRows == 0 {
		sg.idCuts = append(sg.idCuts, len(sg.ids))
	}
	sg.hash = append(sg.hash, r.hash)
	sg.ids = binary.AppendUvarint(sg.ids, uint64(len(r.id)))
	sg.ids = append(sg.ids, r.id...)
	t := r.time
	if len(sg.times) == 0 || t < sg.minT {
		sg.minT = t
	}
	if len(sg.times) == 0 || t > sg.maxT {
		sg.maxT = t
	}
	sg.times = append(sg.times, t)
	c := &sg.strCols
	for col := range numStrCols {
		switch col {
		case colActor:
			c[col] = append(c[col], sg.codeStr(r.actor))
		case colFile:
			c[col] = append(c[col], sg.codeStr(r.file))
		default:
			c[col] = append(c[col], sg.code(r.strs[col]))
		}
	}
	sg.recs = append(sg.recs, uint32(r.rec))
	sg.blk = append(sg.blk, uint32(sg.nBlocks))
	sg.offs = append(sg.offs, uint32(len(sg.cur)))
	sg.lens = append(sg.lens, uint32(len(r.raw)))
	sg.rawBytes += int64(len(r.raw))
	if sg.cur == nil {
		sg.cur = make([]byte, 0, sg.s.opts.BlockSize+sg.s.opts.BlockSize/4)
	}
	sg.cur = append(sg.cur, r.raw...)
	if len(sg.cur) >= sg.s.opts.BlockSize {
		return sg.seal()
	}
	return nil
}

// seal closes the current block. The caller holds Writer.mu.
func (sg *segWriter) seal() *blockJob {
	if len(sg.cur) == 0 {
		return nil
	}
	j := &blockJob{n: sg.nBlocks, raw: sg.cur}
	sg.nBlocks++
	sg.cur = nil
	sg.wg.Add(1)
	return j
}

// compress compresses and writes one block on a goroutine of its own, at most GOMAXPROCS at
// a time; it blocks while that many are running. finish waits for them.
func (sg *segWriter) compress(j *blockJob) {
	sg.sem <- struct{}{}
	go func() {
		defer sg.wg.Done()
		defer func() { <-sg.sem }()
		c := sg.s.enc.EncodeAll(j.raw, make([]byte, 0, len(j.raw)/4))
		sg.fileMu.Lock()
		defer sg.fileMu.Unlock()
		if sg.ferr != nil {
			return
		}
		if err := sg.write(c); err != nil {
			sg.ferr = fmt.Errorf("writing block: %w", err)
			return
		}
		for len(sg.blocks) <= j.n {
			sg.blocks = append(sg.blocks, blockRef{})
		}
		sg.blocks[j.n] = blockRef{off: sg.off, clen: int64(len(c)), raw: int64(len(j.raw))}
		sg.off += int64(len(c))
	}()
}

// write appends b to the file, keeping the running checksum. Blocks are written under
// fileMu; finish writes after every block.
func (sg *segWriter) write(b []byte) error {
	if _, err := sg.f.Write(b); err != nil {
		return err
	}
	sg.crc = crc32.Update(sg.crc, crcTable, b)
	return nil
}

// wait waits for the blocks being compressed.
func (sg *segWriter) wait() { sg.wg.Wait() }

// finish writes the last block, the index sections and the footer (for the commit of
// generation gen), syncs the file and renames it into place; sg.meta then describes it. The
// caller holds Writer.mu.
func (sg *segWriter) finish(gen uint64) error {
	meta, err := sg.finishFile(gen)
	if err != nil {
		return err
	}
	sg.meta = meta
	if err := sg.s.fault("renamed:segment"); err != nil {
		return err
	}
	return nil
}

func (sg *segWriter) finishFile(gen uint64) (segmentMeta, error) {
	if j := sg.seal(); j != nil {
		sg.compress(j)
	}
	sg.wait()
	if sg.ferr != nil {
		return segmentMeta{}, sg.ferr
	}
	n := len(sg.hash)
	ft := footer{Events: n, Blocks: sg.nBlocks, MinTime: sg.minT, MaxTime: sg.maxT, Sections: map[string]section{},
		Generation: gen, Replaces: sg.replaces, SourceGeneration: sg.sourceGen}
	// put writes one section: raw cut at the given chunk boundaries (none: one chunk).
	put := func(name string, raw []byte, width int, cuts []int) error {
		sec := section{Width: width}
		for i := 0; i <= len(cuts); i++ {
			from, to := 0, len(raw)
			if i > 0 {
				from = cuts[i-1]
			}
			if i < len(cuts) {
				to = cuts[i]
			}
			c := sg.s.enc.EncodeAll(raw[from:to], make([]byte, 0, (to-from)/2+64))
			if err := sg.write(c); err != nil {
				return fmt.Errorf("writing %s: %w", name, err)
			}
			sec.Chunks = append(sec.Chunks, [3]int64{sg.off, int64(len(c)), int64(to - from)})
			sg.off += int64(len(c))
		}
		ft.Sections[name] = sec
		return nil
	}
	// groupCuts returns the chunk boundaries of a fixed-width column: one chunk per row group.
	groupCuts := func(w int) []int {
		var cuts []int
		for r := groupRows; r < n; r += groupRows {
			cuts = append(cuts, r*w)
		}
		return cuts
	}
	fixed := func(name string, vals []uint32, w int) error {
		if w == 0 {
			var m uint32
			for _, v := range vals {
				m = max(m, v)
			}
			w = widthFor(uint64(m))
		}
		b := make([]byte, 0, len(vals)*w)
		for _, v := range vals {
			b = appendFixed(b, uint64(v), w)
		}
		return put(name, b, w, groupCuts(w))
	}
	var dict []byte
	for _, s := range sg.strs {
		dict = binary.AppendUvarint(dict, uint64(len(s)))
		dict = append(dict, s...)
	}
	if err := put(secDict, dict, 0, nil); err != nil {
		return segmentMeta{}, err
	}
	c := &sg.strCols
	at := func(col int) func(int) uint32 { return func(i int) uint32 { return c[col][i] } }
	act := activityOf(n, at(colAccount), at(colRegion), at(colSource), at(colName), func(i int) int64 { return sg.times[i] })
	if err := put(secActivity, act.encode(), 0, nil); err != nil {
		return segmentMeta{}, err
	}
	b := make([]byte, 0, 8*n)
	for _, h := range sg.hash {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	if err := put(secHash, b, 8, groupCuts(8)); err != nil {
		return segmentMeta{}, err
	}
	b = b[:0]
	for _, t := range sg.times {
		b = binary.LittleEndian.AppendUint64(b, uint64(t))
	}
	if err := put(secTime, b, 8, groupCuts(8)); err != nil {
		return segmentMeta{}, err
	}
	if err := put(secID, sg.ids, 0, sg.idCuts); err != nil {
		return segmentMeta{}, err
	}
	for i, col := range sg.strCols {
		if err := fixed(strColNames[i], col, 0); err != nil {
			return segmentMeta{}, err
		}
	}
	// Per row group, the distinct codes of the identity columns, so that a lookup skips the
	// groups without the identity (footer version 2).
	seen := make([]int, len(sg.strs))
	for _, c := range setCols {
		col := sg.strCols[c]
		b = b[:0]
		var codes []uint32
		for g := 0; g*groupRows < n; g++ {
			codes = codes[:0]
			for _, v := range col[g*groupRows : min(n, (g+1)*groupRows)] {
				if seen[v] != g+1 {
					seen[v] = g + 1
					codes = append(codes, v)
				}
			}
			slices.Sort(codes)
			b = binary.AppendUvarint(b, uint64(len(codes)))
			prev := uint32(0)
			for _, v := range codes {
				b = binary.AppendUvarint(b, uint64(v-prev))
				prev = v
			}
		}
		if err := put(strColNames[c]+setSuffix, b, 0, nil); err != nil {
			return segmentMeta{}, err
		}
		for i := range seen {
			seen[i] = 0
		}
	}
	for _, c := range []struct {
		name string
		vals []uint32
		w    int
	}{{secRecord, sg.recs, 4}, {secBlock, sg.blk, 0}, {secOffset, sg.offs, 4}, {secLength, sg.lens, 4}} {
		if err := fixed(c.name, c.vals, c.w); err != nil {
			return segmentMeta{}, err
		}
	}
	bt := make([]byte, 0, 24*len(sg.blocks))
	for _, r := range sg.blocks {
		bt = binary.LittleEndian.AppendUint64(bt, uint64(r.off))
		bt = binary.LittleEndian.AppendUint64(bt, uint64(r.clen))
		bt = binary.LittleEndian.AppendUint64(bt, uint64(r.raw))
	}
	if err := put(secBlocks, bt, 0, nil); err != nil {
		return segmentMeta{}, err
	}
	ft.Version = footerVersion
	ft.BodyCRC = sg.crc
	fj, err := json.Marshal(ft)
	if err != nil {
		return segmentMeta{}, fmt.Errorf("encoding footer: %w", err)
	}
	tr := binary.LittleEndian.AppendUint32(nil, uint32(len(fj)))
	tr = binary.LittleEndian.AppendUint32(tr, crc32.Checksum(fj, crcTable))
	tr = append(tr, segEndMagic...)
	if err := sg.write(append(fj, tr...)); err != nil {
		return segmentMeta{}, fmt.Errorf("writing footer: %w", err)
	}
	size := sg.off + int64(len(fj)+len(tr))
	if err := sg.s.fault("sync:segment"); err != nil {
		return segmentMeta{}, err
	}
	if err := sg.f.Sync(); err != nil {
		return segmentMeta{}, fmt.Errorf("syncing: %w", err)
	}
	if err := sg.f.Close(); err != nil {
		return segmentMeta{}, fmt.Errorf("closing: %w", err)
	}
	sg.f = nil
	if err := os.Rename(sg.path+tmpSuffix, sg.path); err != nil {
		return segmentMeta{}, fmt.Errorf("renaming: %w", err)
	}
	if err := syncDir(filepath.Dir(sg.path)); err != nil {
		return segmentMeta{}, err
	}
	return segmentMeta{Name: sg.name, Events: n, Bytes: size, RawBytes: sg.rawBytes, MinTime: sg.minT, MaxTime: sg.maxT,
		Generation: gen, CRC: sg.crc}, nil
}

// discard removes the segment's files: the temporary one, or the finished one that no
// commit lists.
func (sg *segWriter) discard() {
	if sg.f != nil {
		sg.f.Close()
		sg.f = nil
	}
	os.Remove(sg.path + tmpSuffix)
	if sg.meta.Name != "" {
		os.Remove(sg.path)
	}
}
