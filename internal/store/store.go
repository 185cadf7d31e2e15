package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Defaults of Options.
const (
	// DefaultBlockSize is the size of raw JSON compressed as one block.
	DefaultBlockSize = 128 << 10
	// DefaultDedupKeys is the eventID keys a Writer keeps in memory by default: about 4
	// million, 64 to 128 MB, a few days of a busy organisation's trail.
	DefaultDedupKeys = 1 << 22
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
	// DedupKeys bounds the eventID keys a Writer holds in memory to deduplicate events
	// (16 to 32 bytes each): past it, after a commit, the hours of event time least
	// recently written let go of theirs, read again from the segments when an event of
	// such an hour comes. 0 means DefaultDedupKeys.
	DedupKeys int
	// Level is the zstd level of blocks and columns; 0 means zstd.SpeedDefault.
	Level zstd.EncoderLevel
	// Logger receives debug messages; nil discards.
	Logger *slog.Logger
	// Fault, when set, is called at the named points of a commit (FaultPoints); an error
	// it returns fails that step as an I/O error would. Tests use it to fail or kill a
	// writer at chosen moments.
	Fault func(point string) error
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
	if o.DedupKeys <= 0 {
		o.DedupKeys = DefaultDedupKeys
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
	lockName  = "LOCK"
	segPrefix = "seg-"
	segSuffix = ".ths"
	tmpSuffix = ".tmp"
)

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
	// The lock is released on any way out but success (a panic included).
	opened := false
	defer func() {
		if !opened {
			s.releaseLock()
		}
	}()
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	if !opts.ReadOnly {
		if _, err := os.Stat(filepath.Join(path, manifestName)); errors.Is(err, fs.ErrNotExist) {
			// A new store gets its (empty) manifest before any other file, so that a
			// writer that dies in its first commit leaves files a manifest proves unreferenced.
			if err := s.publish(s.man); err != nil {
				return nil, fmt.Errorf("creating store %s: %w", path, err)
			}
		}
		s.removeUnreferenced(s.man)
		// One encoder per core (EncodeAll blocks while all are busy). Frames are blocks and
		// row groups of at most a few MiB, so a 4 MiB window loses nothing and spares each
		// encoder the 16 MiB history of the default one.
		s.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(opts.Level), zstd.WithEncoderConcurrency(max(1, runtime.GOMAXPROCS(0))),
			zstd.WithWindowSize(4<<20))
		if err != nil {
			return nil, fmt.Errorf("opening store %s: %w", path, err)
		}
	}
	s.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<32))
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	opened = true
	return s, nil
}

// load reads MANIFEST, checks that every file it lists is there with its size, and opens
// its segments. A reader in another process may meet a generation whose files a writer is
// replacing (a compaction): it reads the manifest again.
func (s *Store) load() error {
	for try := 0; ; try++ {
		m, segs, err := s.open()
		if err == nil {
			s.man, s.segs = m, segs
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) || !s.opts.ReadOnly || try == 3 {
			return err
		}
	}
}

// open reads the manifest and opens its segments.
func (s *Store) open() (manifest, []*segment, error) {
	m, err := readManifest(s.dir)
	if err != nil {
		return m, nil, err
	}
	if s.opts.ReadOnly && m.Generation == 0 && len(m.Segments) == 0 {
		if _, err := os.Stat(s.dir); err != nil {
			return m, nil, fmt.Errorf("reading store: %w", err)
		}
	}
	for _, f := range m.Files {
		fi, err := os.Stat(filepath.Join(s.dir, f.Name))
		if err != nil {
			return m, nil, fmt.Errorf("the manifest lists %s: %w: %s", f.Name, err, repairHint(s.dir))
		}
		if !f.legacy() && fi.Size() != f.Bytes {
			return m, nil, fmt.Errorf("%s is %d bytes, the manifest says %d: %w: %s", f.Name, fi.Size(), f.Bytes, errDamaged, repairHint(s.dir))
		}
	}
	segs := make([]*segment, 0, len(m.Segments))
	for _, meta := range m.Segments {
		sg, err := openSegment(filepath.Join(s.dir, meta.Name), meta)
		if err == nil && m.Version >= 2 && sg.size != meta.Bytes {
			sg.close()
			err = fmt.Errorf("%s is %d bytes, the manifest says %d: %w", meta.Name, sg.size, meta.Bytes, errDamaged)
		}
		if err != nil {
			for _, o := range segs {
				o.close()
			}
			return m, nil, fmt.Errorf("%w: %s", err, repairHint(s.dir))
		}
		segs = append(segs, sg)
	}
	return m, segs, nil
}

// Refresh makes a read-only Store see the generation committed since it was opened (or last
// refreshed). Segments it had open stay open for the readers using them until Close.
func (s *Store) Refresh() error {
	if !s.opts.ReadOnly {
		return nil // the writer's own Store is always current
	}
	var m manifest
	var segs []*segment
	var err error
	for try := 0; ; try++ {
		if m, segs, err = s.open(); err == nil || !errors.Is(err, fs.ErrNotExist) || try == 3 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("refreshing store %s: %w", s.dir, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retired = append(s.retired, s.segs...)
	s.man, s.segs = m, segs
	return nil
}

// Generation returns the committed generation the Store reads: 0 for an empty store, one
// more with every commit.
func (s *Store) Generation() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.man.Generation
}

// removeUnreferenced deletes the store files that the committed manifest, read and checked
// when the store was opened or written by this writer, does not list: files superseded by
// a later generation, and leftovers of a writer that died before committing. Only files a
// store writer makes are considered; failures are only logged (an unlisted file is never
// read).
func (s *Store) removeUnreferenced(m manifest) {
	listed := m.referenced()
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		s.opts.Logger.Debug("listing store", "err", err)
		return
	}
	for _, e := range ents {
		n := e.Name()
		if listed[n] || !storeFile(n) {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, n)); err != nil {
			s.opts.Logger.Debug("removing unreferenced file", "file", n, "err", err)
			continue
		}
		s.fault("removed")
	}
}

// fault calls Options.Fault.
func (s *Store) fault(point string) error {
	if s.opts.Fault == nil {
		return nil
	}
	return s.opts.Fault(point)
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
	// Generation is the committed generation: one more with every commit.
	Generation uint64 `json:"generation"`
	// Bytes is the size on disk of the files of the generation: segments, signals, ledger,
	// blobs and the manifest.
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
	st.Generation = s.man.Generation
	for _, f := range s.man.Files {
		st.Bytes += f.Bytes
	}
	if fi, err := os.Stat(filepath.Join(s.dir, manifestName)); err == nil {
		st.Bytes += fi.Size()
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
