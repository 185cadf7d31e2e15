package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/signal"
)

// Repair makes a damaged store usable again and says what it could not recover. It never
// deletes: files it does not take into the repaired store are moved to a folder
// quarantine-<time> inside the store.
//
// With a valid manifest, it keeps the manifest's generation and mends its damaged files: a
// damaged segment is replaced by a new one holding every event its intact blocks still give;
// a damaged chunk of signals by one holding its intact lines (each line has its own
// checksum); a damaged ledger or blob is dropped. When events were lost, the file ledger is
// dropped too, so that the next hunt --db reads every input file again and stores (and
// evaluates) the lost events.
//
// Without a valid manifest (missing or damaged), it rebuilds one from the files' own
// footers and checksums. The detection state is the last file a commit writes, so the
// newest generation with a valid state file is known to be complete: Repair takes the
// segments, signals, ledger and blobs of that generation and the ones before it, and moves
// newer files (a commit that did not finish) to the quarantine, so that their input files
// are read and evaluated again. A store without any state file (one written without
// detection) keeps every intact file.
//
// The writer lock is taken: Repair fails with ErrLocked while hunt --db runs.
func Repair(ctx context.Context, dir string, opts Options) (RepairReport, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return RepairReport{}, err
	}
	opts.ReadOnly = false
	if _, err := os.Stat(dir); err != nil {
		return RepairReport{}, fmt.Errorf("repairing store: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return RepairReport{}, fmt.Errorf("repairing store %s: %w", dir, err)
	}
	s := &Store{dir: dir, opts: opts, lock: lock}
	defer s.Close()
	if s.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(opts.Level), zstd.WithWindowSize(4<<20)); err != nil {
		return RepairReport{}, err
	}
	if s.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<32)); err != nil {
		return RepairReport{}, err
	}
	r := &repairer{s: s, ctx: ctx, rep: RepairReport{Dir: dir}}
	if err := r.run(); err != nil {
		return r.rep, fmt.Errorf("repairing store %s: %w", dir, err)
	}
	return r.rep, nil
}

// RepairReport says what Repair did.
type RepairReport struct {
	Dir string `json:"dir"`
	// Rebuilt is true when the manifest was missing or damaged and was rebuilt from the
	// files; false when a valid manifest was kept and its damaged files mended.
	Rebuilt bool `json:"rebuilt"`
	// Changed is false when there was nothing to repair.
	Changed bool `json:"changed"`
	// Generation is the generation of the repaired store.
	Generation uint64 `json:"generation"`
	// Segments and Events are what the repaired store holds.
	Segments int `json:"segments"`
	Events   int `json:"events"`
	// SalvagedEvents were read back from damaged segments; LostEvents could not be (-1:
	// unknown, a segment's footer was damaged).
	SalvagedEvents int `json:"salvaged_events"`
	LostEvents     int `json:"lost_events"`
	// Signals is how many signals the repaired store holds; LostSignals how many lines of
	// damaged chunks could not be read (-1: unknown, a chunk was cut short).
	Signals     int `json:"signals"`
	LostSignals int `json:"lost_signals"`
	// LedgerDropped: the next hunt --db reads every input file again.
	LedgerDropped bool `json:"ledger_dropped"`
	// LostBlobs are the blobs (such as the detection state) that were damaged and dropped.
	LostBlobs []string `json:"lost_blobs,omitempty"`
	// Quarantine is the folder the files not taken were moved to; Quarantined lists them.
	Quarantine  string   `json:"quarantine,omitempty"`
	Quarantined []string `json:"quarantined,omitempty"`
	// Notes say, in sentences, what was found and what it means.
	Notes []string `json:"notes"`
}

func (r *RepairReport) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

type repairer struct {
	s   *Store
	ctx context.Context
	rep RepairReport
	// next is the manifest being built.
	next manifest
	// segs are the segments taken, opened.
	segs []*segment
	// salvage are damaged segment files whose events are to be read back.
	salvage []string
	// chunks are the signal chunks to merge, in order: taken whole, or salvaged.
	chunks [][]signal.Signal
	// quarantine are the files to move aside.
	quarantine []string
	lostEvents bool
	maxSeq     uint64
}

func (r *repairer) run() error {
	s := r.s
	m, merr := readManifestRaw(s.dir)
	switch {
	case merr == nil:
		if err := r.mend(m); err != nil {
			return err
		}
	case errors.Is(merr, fs.ErrNotExist) || errors.Is(merr, errDamaged):
		r.rep.Rebuilt = true
		if errors.Is(merr, fs.ErrNotExist) {
			r.rep.note("MANIFEST was missing: the store is rebuilt from its files' own footers and checksums.")
		} else {
			r.rep.note("MANIFEST was damaged (%v): the store is rebuilt from its files' own footers and checksums.", merr)
		}
		if err := r.rebuild(); err != nil {
			return err
		}
	default:
		return merr
	}
	if !r.rep.Changed {
		r.rep.Generation, r.rep.Segments = m.Generation, len(m.Segments)
		for _, sg := range m.Segments {
			r.rep.Events += sg.Events
		}
		sigs, _ := s.Signals()
		r.rep.Signals = len(sigs)
		r.rep.note("Nothing to repair: every file of generation %d is intact.", m.Generation)
		return nil
	}
	return r.commit()
}

// readManifestRaw reads MANIFEST: ErrNotExist when absent, errDamaged when damaged.
func readManifestRaw(dir string) (manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return manifest{}, err
	}
	m, err := parseManifest(b)
	if err != nil {
		return m, err
	}
	return m.withLegacy(dir), nil
}

// mend keeps a valid manifest and deals with its damaged files.
func (r *repairer) mend(m manifest) error {
	s := r.s
	r.next = m.clone()
	r.next.Segments, r.next.Files = nil, nil
	r.maxSeq = m.NextSeq
	for _, meta := range m.Segments {
		fc := checkSegment(r.ctx, filepath.Join(s.dir, meta.Name), s.dec, &meta)
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if fc.Status == StatusOK {
			if err := r.take(meta); err != nil {
				return err
			}
			continue
		}
		r.rep.Changed = true
		r.rep.note("Segment %s is %s (%s).", meta.Name, fc.Status, fc.Detail)
		if fc.Status == StatusMissing {
			r.rep.LostEvents += meta.Events
			r.lostEvents = true
			continue
		}
		r.salvage = append(r.salvage, meta.Name)
	}
	for _, f := range m.Files {
		fc := checkFramed(filepath.Join(s.dir, f.Name), &f)
		if fc.Status == StatusOK {
			if f.Kind == kindSignals {
				c, err := readChunk(s.dir, f)
				if err != nil {
					return err
				}
				r.chunks = append(r.chunks, c)
				if f.legacy() {
					r.rep.Changed = true // rewritten with checksums
				}
				continue
			}
			r.next.Files = append(r.next.Files, f)
			continue
		}
		r.rep.Changed = true
		r.rep.note("%s %s is %s (%s).", fc.Kind, f.Name, fc.Status, fc.Detail)
		r.lose(f, fc.Status == StatusMissing)
	}
	// Files the manifest does not list are left alone: the next writer removes them.
	return nil
}

// lose handles a damaged or missing file other than a segment.
func (r *repairer) lose(f fileRef, missing bool) {
	switch f.Kind {
	case kindSignals:
		if !missing {
			if c, bad := salvageChunk(filepath.Join(r.s.dir, f.Name)); c != nil || bad != 0 {
				r.chunks = append(r.chunks, c)
				r.addLostSignals(bad)
				r.rep.note("%d signals of %s were read back from their own checksums.", len(c), f.Name)
				r.quarantine = append(r.quarantine, f.Name)
				return
			}
			r.quarantine = append(r.quarantine, f.Name)
		}
		r.addLostSignals(-1)
		r.rep.note("The signals of %s are lost; their events are still stored.", f.Name)
	case kindLedger:
		r.rep.LedgerDropped = true
		if !missing {
			r.quarantine = append(r.quarantine, f.Name)
		}
	case kindBlob:
		r.rep.LostBlobs = append(r.rep.LostBlobs, f.Blob)
		if !missing {
			r.quarantine = append(r.quarantine, f.Name)
		}
		if f.Blob == StateBlob {
			r.rep.note("The detection state is lost: first-seen values are learned again (their learning period starts over) and open correlation windows are gone.")
		}
	}
}

func (r *repairer) addLostSignals(n int) {
	if n < 0 || r.rep.LostSignals < 0 {
		r.rep.LostSignals = -1
		return
	}
	r.rep.LostSignals += n
}

// take opens a segment for the repaired store.
func (r *repairer) take(meta segmentMeta) error {
	sg, err := openSegment(filepath.Join(r.s.dir, meta.Name), meta)
	if err != nil {
		return err
	}
	r.segs = append(r.segs, sg)
	r.next.Segments = append(r.next.Segments, meta)
	return nil
}

// found is one store file found by rebuild.
type found struct {
	name string
	seq  uint64
	// For segments:
	seg    segInfo
	segErr error
	// For framed files:
	h    frameHeader
	size int64
	crc  uint32
	err  error
}

// rebuild builds a manifest from the files in the folder.
func (r *repairer) rebuild() error {
	s := r.s
	r.rep.Changed = true
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var segs, frames []found
	for _, e := range ents {
		n := e.Name()
		if !storeFile(n) || strings.HasSuffix(n, tmpSuffix) {
			continue
		}
		seq, _ := fileSeq(n)
		r.maxSeq = max(r.maxSeq, seq+1)
		if err := r.ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(s.dir, n)
		if strings.HasPrefix(n, segPrefix) {
			info, err := inspectSegment(r.ctx, path, s.dec)
			segs = append(segs, found{name: n, seq: seq, seg: info, segErr: err})
			continue
		}
		f := found{name: n, seq: seq}
		b, err := os.ReadFile(path)
		if err == nil {
			var body []byte
			f.h, body, err = parseFrame(b)
			if err == nil {
				err = checkBody(f.h, body)
			}
		}
		f.size, f.crc, f.err = int64(len(b)), crc32.Checksum(b, crcTable), err
		switch n {
		case legacySignalsName:
			c, err := decodeLegacySignals(b)
			if err == nil {
				r.chunks = append(r.chunks, c)
				r.quarantine = append(r.quarantine, n)
				continue
			}
			f.err = err
		case legacyLedgerName, legacyStateName:
			f.err = fmt.Errorf("a version 1 file without its manifest")
		}
		frames = append(frames, f)
	}
	// The newest generation known complete: the newest valid detection state.
	var safe uint64
	states, validStates := 0, 0
	var newest uint64
	for _, f := range frames {
		if f.err == nil {
			newest = max(newest, f.h.Generation)
		}
		if strings.HasPrefix(f.name, blobPrefix) && (f.err != nil || f.h.Name == StateBlob) {
			states++
		}
		if f.err == nil && f.h.Kind == kindBlob && f.h.Name == StateBlob {
			validStates++
			safe = max(safe, f.h.Generation)
		}
	}
	for _, sg := range segs {
		if sg.segErr == nil {
			newest = max(newest, sg.seg.ft.Generation)
		}
	}
	if validStates == 0 {
		safe = newest
		if states > 0 {
			r.rep.note("No intact detection state was found: every intact file is kept, but the newest generation (%d) may be one whose commit did not finish; if so, signals of its events may be missing from the store.", newest)
		}
	} else if safe < newest {
		r.rep.note("Generation %d is the newest with an intact detection state: files of later generations (a commit that did not finish) are set aside, and their input files will be read and evaluated again.", safe)
	}
	// The repaired store's generation comes after every generation seen.
	r.next = manifest{Version: manifestVersion, Generation: max(newest, safe)}

	// Segments: the intact ones of generations up to safe, but those a compaction replaced
	// with an intact segment; damaged ones are salvaged.
	replaced := map[string]bool{}
	for _, sg := range segs {
		if sg.segErr == nil && sg.seg.ft.sourceGeneration() <= safe {
			for _, n := range sg.seg.ft.Replaces {
				replaced[n] = true
			}
		}
	}
	sort.Slice(segs, func(i, j int) bool {
		a, b := segs[i].seg.ft.sourceGeneration(), segs[j].seg.ft.sourceGeneration()
		if a != b {
			return a < b
		}
		return segs[i].seq < segs[j].seq
	})
	for _, sg := range segs {
		switch {
		case replaced[sg.name]:
			r.quarantine = append(r.quarantine, sg.name)
		case sg.segErr != nil:
			if sg.seg.ft.Events > 0 && sg.seg.ft.sourceGeneration() > safe {
				r.quarantine = append(r.quarantine, sg.name)
				continue
			}
			r.rep.note("Segment %s is damaged (%v).", sg.name, sg.segErr)
			r.salvage = append(r.salvage, sg.name)
		case sg.seg.ft.sourceGeneration() > safe:
			r.quarantine = append(r.quarantine, sg.name)
		default:
			meta := segmentMeta{Name: sg.name, Events: sg.seg.ft.Events, Bytes: sg.seg.size, MinTime: sg.seg.ft.MinTime, MaxTime: sg.seg.ft.MaxTime,
				Generation: sg.seg.ft.Generation, CRC: sg.seg.crc}
			if err := r.take(meta); err != nil {
				return err
			}
		}
	}
	// Other files: every signal chunk up to safe, in the order written; the newest ledger
	// and blob of each name up to safe.
	sort.Slice(frames, func(i, j int) bool { return frames[i].seq < frames[j].seq })
	latest := map[string]found{}
	for _, f := range frames {
		switch {
		case f.err != nil:
			if strings.HasPrefix(f.name, sigPrefix) {
				c, bad := salvageChunk(filepath.Join(s.dir, f.name))
				r.chunks = append(r.chunks, c)
				r.addLostSignals(bad)
				r.rep.note("Signal chunk %s is damaged (%v): %d of its signals were read back from their own checksums.", f.name, f.err, len(c))
			} else {
				r.rep.note("%s is damaged (%v) and set aside.", f.name, f.err)
			}
			r.quarantine = append(r.quarantine, f.name)
		case f.h.Generation > safe:
			r.quarantine = append(r.quarantine, f.name)
		case f.h.Kind == kindSignals:
			c, err := readChunk(s.dir, fileRef{Name: f.name, Kind: kindSignals})
			if err != nil {
				return err
			}
			r.chunks = append(r.chunks, c)
			r.quarantine = append(r.quarantine, f.name) // merged into a new chunk
		default:
			key := f.h.Kind + "/" + f.h.Name
			if old, ok := latest[key]; ok {
				r.quarantine = append(r.quarantine, old.name)
			}
			latest[key] = f
		}
	}
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range latest {
			if !yield(k) {
				return
			}
		}
	}) {
		f := latest[key]
		r.next.Files = append(r.next.Files, fileRef{Name: f.name, Kind: f.h.Kind, Blob: f.h.Name, Generation: f.h.Generation, Bytes: f.size, CRC: f.crc})
	}
	if _, ok := latest[kindLedger+"/"]; !ok {
		r.rep.LedgerDropped = true
	}
	return nil
}

// commit writes the repaired generation: salvaged events into new segments, the signals
// merged into one chunk, then the manifest; then it moves the files not taken aside.
func (r *repairer) commit() error {
	s := r.s
	if r.rep.LostEvents != 0 || r.lostEvents {
		r.rep.LedgerDropped = true
	}
	s.man = r.next
	s.man.NextSeq = max(r.maxSeq, s.man.NextSeq)
	s.segs = r.segs
	w, err := s.Writer()
	if err != nil {
		return err
	}
	for _, name := range r.salvage {
		got, lost, err := r.salvageSegment(w, name)
		if err != nil {
			return err
		}
		r.rep.SalvagedEvents += got
		switch {
		case lost < 0 || r.rep.LostEvents < 0:
			r.rep.LostEvents = -1
		default:
			r.rep.LostEvents += lost
		}
		if lost != 0 {
			r.lostEvents = true
			r.rep.LedgerDropped = true
		}
		r.rep.note("%d events were read back from %s%s.", got, name, lostText(lost))
		r.quarantine = append(r.quarantine, name)
	}
	if r.rep.LedgerDropped {
		s.man.Files = slices.DeleteFunc(s.man.Files, func(f fileRef) bool {
			if f.Kind == kindLedger {
				r.quarantine = append(r.quarantine, f.Name)
				return true
			}
			return false
		})
		r.rep.note("The file ledger is dropped: the next hunt --db reads every input file again (events already stored are not stored twice; events that were lost are stored and evaluated).")
	}
	sigs := mergeSignals(r.chunks...)
	r.rep.Signals = len(sigs)
	if err := w.commitRepaired(sigs); err != nil {
		return err
	}
	r.rep.Generation = s.man.Generation
	r.rep.Segments = len(s.man.Segments)
	for _, sg := range s.man.Segments {
		r.rep.Events += sg.Events
	}
	// Move aside what was not taken (never delete).
	listed := s.man.referenced()
	var move []string
	for _, n := range r.quarantine {
		if !listed[n] && !slices.Contains(move, n) {
			if _, err := os.Stat(filepath.Join(s.dir, n)); err == nil {
				move = append(move, n)
			}
		}
	}
	if len(move) > 0 {
		q := filepath.Join(s.dir, "quarantine-"+time.Now().UTC().Format("20060102T150405Z"))
		if err := os.MkdirAll(q, 0o755); err != nil {
			return err
		}
		for _, n := range move {
			if err := os.Rename(filepath.Join(s.dir, n), filepath.Join(q, n)); err != nil {
				return fmt.Errorf("moving %s aside: %w", n, err)
			}
		}
		r.rep.Quarantine, r.rep.Quarantined = q, move
		r.rep.note("%d files not taken into the repaired store were moved to %s (nothing was deleted).", len(move), q)
	}
	if r.rep.LostEvents != 0 || r.rep.LostSignals != 0 || len(r.rep.LostBlobs) > 0 {
		r.rep.note("Run hunt --db over the same logs again to store what was lost and evaluate it.")
	}
	return syncDir(s.dir)
}

func lostText(lost int) string {
	switch {
	case lost < 0:
		return " (its footer is damaged: how many were lost is unknown)"
	case lost > 0:
		return fmt.Sprintf("; %d could not be", lost)
	}
	return ""
}

// commitRepaired publishes the repaired generation: the segments taken and salvaged, the
// signals in one chunk, the files carried over; it does not remove unreferenced files (the
// repair moves them aside).
func (w *Writer) commitRepaired(sigs []signal.Signal) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.sealLocked(); err != nil {
		return err
	}
	s := w.s
	s.man.Files = slices.DeleteFunc(s.man.Files, func(f fileRef) bool { return f.Kind == kindSignals })
	return w.commitGeneration(Batch{Signals: sigs}, false, true)
}

// salvageSegment adds every event the damaged segment name still gives and returns how
// many, and how many of those its footer lists could not be read (-1: unknown).
func (r *repairer) salvageSegment(w *Writer, name string) (got, lost int, err error) {
	s := r.s
	path := filepath.Join(s.dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, -1, nil
	}
	add := func(raw []byte, pos event.Position) error {
		v, err := fastjson.ParseBytes(raw)
		if err != nil || v.Type() != fastjson.TypeObject {
			return nil
		}
		ev := &event.Event{Raw: raw, Value: v, Pos: pos}
		if _, err := w.Add(ev); err != nil {
			return err
		}
		got++
		return nil
	}
	// With an intact footer, the block table and the position columns say where each
	// event is and where it came from.
	f, ferr := os.Open(path)
	if ferr == nil {
		defer f.Close()
		if ft, size, ftOff, err := readFooter(f); err == nil {
			sg := &segment{name: name, f: f, ft: ft, size: size, ftOff: ftOff}
			if n, ok := r.salvageWithFooter(sg, add); ok {
				return n, ft.Events - n, nil
			}
		}
	}
	// Without one: every zstd frame that decodes to JSON objects is a block of events.
	n := 0
	for _, raw := range scanFrames(b[min(len(segMagic), len(b)):], s.dec) {
		if len(raw) == 0 || raw[0] != '{' {
			continue
		}
		d := decode.New(decode.Options{})
		rec := 0
		_, err := d.Decode(r.ctx, name, bytes.NewReader(raw), decode.HandlerFuncs{EventFunc: func(e *event.Event) error {
			rec++
			before := got
			err := add(append([]byte(nil), e.Raw...), event.Position{File: "salvaged from " + name, Record: n + rec - 1})
			if got == before {
				rec--
			}
			return err
		}})
		if err != nil {
			return got, -1, err
		}
		n += rec
	}
	return got, -1, nil
}

// salvageWithFooter reads the events of the intact blocks of sg, with their positions
// when the columns are intact. ok is false when the block table itself is damaged.
func (r *repairer) salvageWithFooter(sg *segment, add func([]byte, event.Position) error) (n int, ok bool) {
	s := r.s
	if sg.load(s.dec) != nil {
		return 0, false
	}
	rows := sg.ft.Events
	col := func(name string) *column {
		c, err := sg.column(s.dec, name, 0)
		if err != nil {
			return nil
		}
		for g := range c.groups {
			c.load(g)
		}
		if c.err != nil {
			return nil
		}
		return c
	}
	blk, off, ln, rec := col(secBlock), col(secOffset), col(secLength), col(secRecord)
	var files *column
	if d := len(sg.dict); d > 0 {
		if c, err := sg.column(s.dec, strColNames[colFile], d); err == nil {
			for g := range c.groups {
				c.load(g)
			}
			if c.err == nil {
				files = c
			}
		}
	}
	blocks := make([][]byte, len(sg.blocks))
	for i, b := range sg.blocks {
		if raw, err := sg.frame(s.dec, b.off, b.clen, b.raw); err == nil {
			blocks[i] = raw
		}
	}
	if blk != nil && off != nil && ln != nil {
		for i := range rows {
			bi, o, l := int(blk.at(i)), int(off.at(i)), int(ln.at(i))
			if bi >= len(blocks) || blocks[bi] == nil || o+l > len(blocks[bi]) {
				continue
			}
			pos := event.Position{File: "salvaged from " + sg.name, Record: i}
			if rec != nil {
				pos.Record = int(rec.at(i))
			}
			if files != nil {
				pos.File = sg.dict[files.at(i)]
			}
			if add(append([]byte(nil), blocks[bi][o:o+l]...), pos) != nil {
				return n, true
			}
			n++
		}
		return n, true
	}
	// Columns damaged: split the intact blocks themselves.
	for bi, raw := range blocks {
		if raw == nil {
			continue
		}
		d := decode.New(decode.Options{})
		k := 0
		d.Decode(r.ctx, sg.name, bytes.NewReader(raw), decode.HandlerFuncs{EventFunc: func(e *event.Event) error {
			k++
			if add(append([]byte(nil), e.Raw...), event.Position{File: fmt.Sprintf("salvaged from %s block %d", sg.name, bi), Record: k - 1}) == nil {
				n++
			}
			return nil
		}})
	}
	return n, true
}

// scanFrames decodes every zstd frame found in b (a segment whose footer is lost). A frame's
// end is not known: it is tried up to the next frame's magic number, and, as a frame's
// compressed bytes may hold the magic number too, up to the few after it.
func scanFrames(b []byte, dec *zstd.Decoder) [][]byte {
	magic := []byte{0x28, 0xb5, 0x2f, 0xfd}
	var out [][]byte
	for p := 0; p < len(b); {
		i := bytes.Index(b[p:], magic)
		if i < 0 {
			break
		}
		start := p + i
		end := start + 4
		for try := 0; try < 4 && end < len(b); try++ {
			next := bytes.Index(b[end:], magic)
			if next < 0 {
				end = len(b)
			} else {
				end += next
			}
			if raw, err := dec.DecodeAll(b[start:end], nil); err == nil {
				out = append(out, raw)
				break
			}
			end += 4
		}
		p = start + 4
	}
	return out
}

// salvageChunk reads the intact lines of a damaged signal chunk, and counts the others (-1
// when the chunk is cut short or its header is lost, so that how many were lost is unknown).
func salvageChunk(path string) ([]signal.Signal, int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, -1
	}
	body, known := b, true
	if k := headerEnd(b); k > 0 {
		body = b[k:]
	} else {
		known = false
	}
	if bytes.HasSuffix(b, []byte(frameEndMagic)) && len(body) >= frameTrailer {
		body = body[:len(body)-frameTrailer]
	} else {
		known = false
	}
	sigs, bad, _ := decodeSignals(body, true)
	if !known {
		bad = -1
	}
	return sigs, bad
}

// headerEnd returns where the body of a framed file starts, from its header length, or 0.
func headerEnd(b []byte) int {
	p := len(frameMagic)
	if len(b) < p+4 || !bytes.HasPrefix(b, []byte(frameMagic)) {
		return 0
	}
	hl := int(binary.LittleEndian.Uint32(b[p:]))
	if hl < 0 || p+4+hl+8 > len(b) {
		return 0
	}
	return p + 4 + hl + 8
}
