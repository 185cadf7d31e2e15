package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Defaults of Options.
const (
	// DefaultBlockSize is the size of raw JSON compressed as one block.
	DefaultBlockSize = 128 << 10
	// DefaultSegmentEvents is the number of events after which a Writer commits a segment
	// on its own.
	DefaultSegmentEvents = 1 << 20
)

// ErrLocked is returned by Open when another process holds the store for writing.
var ErrLocked = errors.New("store is locked by another writer")

// ErrReadOnly is returned by Writer on a store opened read-only.
var ErrReadOnly = errors.New("store is opened read-only")

// Options configures Open. The zero value opens (creating if needed) a store for writing.
type Options struct {
	// ReadOnly opens an existing store without taking the writer lock.
	ReadOnly bool
	// BlockSize is the raw JSON bytes per compressed block; 0 means DefaultBlockSize.
	// Larger blocks compress better; smaller ones make fetching one event cheaper.
	BlockSize int
	// SegmentEvents bounds the events of one segment: a Writer commits when it is reached.
	// 0 means DefaultSegmentEvents.
	SegmentEvents int
	// Level is the zstd level of blocks and columns; 0 means zstd.SpeedDefault.
	Level zstd.EncoderLevel
	// Logger receives debug messages; nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.BlockSize < 1<<10 || o.BlockSize > 64<<20 {
		return o, fmt.Errorf("block size %d: want 1 KiB to 64 MiB", o.BlockSize)
	}
	if o.SegmentEvents == 0 {
		o.SegmentEvents = DefaultSegmentEvents
	}
	if o.SegmentEvents < 0 {
		return o, fmt.Errorf("segment events %d: want a positive number", o.SegmentEvents)
	}
	if o.Level == 0 {
		o.Level = zstd.SpeedDefault
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

const (
	manifestName = "MANIFEST"
	signalsName  = "signals.jsonl"
	lockName     = "LOCK"
	segPrefix    = "seg-"
	segSuffix    = ".ths"
	tmpSuffix    = ".tmp"
)

// manifest is the committed state of a store.
type manifest struct {
	Version  int           `json:"version"`
	NextSeq  uint64        `json:"next_seq"`
	Segments []segmentMeta `json:"segments"`
}

// segmentMeta describes one committed segment.
type segmentMeta struct {
	Name     string `json:"name"`
	Events   int    `json:"events"`
	Bytes    int64  `json:"bytes"`
	RawBytes int64  `json:"raw_bytes"`
	MinTime  int64  `json:"min_time"`
	MaxTime  int64  `json:"max_time"`
}

// Store is an open store. It is safe for concurrent use; Close it when done.
type Store struct {
	dir  string
	opts Options
	lock *os.File // nil when read-only
	enc  *zstd.Encoder
	dec  *zstd.Decoder

	mu   sync.RWMutex
	man  manifest
	segs []*segment // in manifest order
	// retired are segments compaction replaced: still open for the readers that were using
	// them, closed by Close.
	retired []*segment
	writer  *Writer
	sigMu   sync.Mutex
	closed  bool
}

// Open opens the store in the directory path, creating it unless opts.ReadOnly. A writable
// store holds the directory's lock until Close; a second writer gets ErrLocked.
func Open(path string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	s := &Store{dir: path, opts: opts}
	if !opts.ReadOnly {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("opening store: %w", err)
		}
		f, err := lockDir(filepath.Join(path, lockName))
		if err != nil {
			return nil, fmt.Errorf("opening store %s: %w", path, err)
		}
		s.lock = f
	}
	if err := s.load(); err != nil {
		s.releaseLock()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	if !opts.ReadOnly {
		s.removeOrphans()
		// One encoder per core (EncodeAll blocks while all are busy). Frames are blocks and
		// row groups of at most a few MiB, so a 4 MiB window loses nothing and spares each
		// encoder the 16 MiB history of the default one.
		s.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(opts.Level), zstd.WithEncoderConcurrency(max(1, runtime.GOMAXPROCS(0))),
			zstd.WithWindowSize(4<<20))
		if err != nil {
			s.releaseLock()
			return nil, fmt.Errorf("opening store %s: %w", path, err)
		}
	}
	s.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<32))
	if err != nil {
		s.releaseLock()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	return s, nil
}

// load reads MANIFEST (an absent one is an empty store) and opens its segments.
func (s *Store) load() error { return s.loadRetry(3) }

func (s *Store) loadRetry(retries int) error {
	b, err := os.ReadFile(filepath.Join(s.dir, manifestName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if s.opts.ReadOnly {
			if _, err := os.Stat(s.dir); err != nil {
				return fmt.Errorf("reading store: %w", err)
			}
		}
		s.man = manifest{Version: 1, NextSeq: 1}
		return nil
	case err != nil:
		return fmt.Errorf("reading manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("reading manifest: %w", err)
	}
	if m.Version != 1 {
		return fmt.Errorf("reading manifest: unknown version %d", m.Version)
	}
	segs := make([]*segment, 0, len(m.Segments))
	for _, meta := range m.Segments {
		sg, err := openSegment(filepath.Join(s.dir, meta.Name), meta)
		if err != nil {
			for _, o := range segs {
				o.close()
			}
			if errors.Is(err, fs.ErrNotExist) && retries > 0 {
				// A writer compacted the segments between our reads: read the new manifest.
				return s.loadRetry(retries - 1)
			}
			return err
		}
		segs = append(segs, sg)
	}
	s.man, s.segs = m, segs
	return nil
}

// removeOrphans deletes segment files the manifest does not list: leftovers of a writer that
// died before committing. Failures are only logged: orphans are never read.
func (s *Store) removeOrphans() {
	listed := map[string]bool{}
	for _, m := range s.man.Segments {
		listed[m.Name] = true
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		s.opts.Logger.Debug("listing store", "err", err)
		return
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, segPrefix) && !listed[n] || strings.HasSuffix(n, tmpSuffix) {
			if err := os.Remove(filepath.Join(s.dir, n)); err != nil {
				s.opts.Logger.Debug("removing orphan segment", "file", n, "err", err)
			}
		}
	}
}

// snapshot returns the committed segments.
func (s *Store) snapshot() []*segment {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.segs
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// StatePath is the file the stateful detection stage may keep its state in.
func (s *Store) StatePath() string { return filepath.Join(s.dir, "state.json") }

// Stats describes a store's contents.
type Stats struct {
	Events   int `json:"events"`
	Segments int `json:"segments"`
	// Bytes is the size on disk of segments, manifest and signals.
	Bytes int64 `json:"bytes"`
	// RawBytes is the size of the events' JSON text.
	RawBytes int64 `json:"raw_bytes"`
	// BytesPerEvent is Bytes / Events.
	BytesPerEvent float64 `json:"bytes_per_event"`
}

// Stats returns the counts of the committed segments.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var st Stats
	for _, m := range s.man.Segments {
		st.Events += m.Events
		st.Bytes += m.Bytes
		st.RawBytes += m.RawBytes
	}
	st.Segments = len(s.man.Segments)
	for _, n := range []string{manifestName, signalsName} {
		if fi, err := os.Stat(filepath.Join(s.dir, n)); err == nil {
			st.Bytes += fi.Size()
		}
	}
	if st.Events > 0 {
		st.BytesPerEvent = float64(st.Bytes) / float64(st.Events)
	}
	return st
}

// Close discards what the Writer added since its last Commit, closes the segments and
// releases the lock. The Store must not be used afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	w := s.writer
	segs := append(append([]*segment(nil), s.segs...), s.retired...)
	s.mu.Unlock()
	var errs []error
	if w != nil {
		errs = append(errs, w.abort())
	}
	for _, sg := range segs {
		errs = append(errs, sg.close())
	}
	if s.enc != nil {
		errs = append(errs, s.enc.Close())
	}
	if s.dec != nil {
		s.dec.Close()
	}
	errs = append(errs, s.releaseLock())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing store %s: %w", s.dir, err)
	}
	return nil
}

func (s *Store) releaseLock() error {
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close() // closing releases the flock
	s.lock = nil
	return err
}

// writeManifest replaces MANIFEST atomically with m. The caller holds s.mu.
func (s *Store) writeManifest(m manifest) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	return writeAtomic(s.dir, manifestName, b)
}

// writeAtomic writes data to dir/name through a temporary file, fsync and rename.
func writeAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+tmpSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
