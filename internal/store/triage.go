package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Triage is kept beside the store, outside its commit protocol: the store's writer lock is
// held by hunt --db or serve for as long as they run, while an analyst sets statuses from a
// read-only UI. So the triage log is its own small append-only file, with its own lock for
// writers:
//
//	triage.log    one line per change: the CRC-32C of the JSON (8 hex digits), a space, the
//	              JSON of a TriageRecord; each line is synced before Append returns
//	triage.lock   held (flock) by a writer for the length of one append
//
// Neither name is a store file (storeFile), so store writers never remove them. Reading
// keeps the latest record of each signal (file order); a damaged line (torn by a crash,
// edited by hand) is reported and skipped, never fatal.

// Names of the triage files in a store folder.
const (
	TriageLogName  = "triage.log"
	triageLockName = "triage.lock"
)

// TriageStatus is where an analyst is with a signal.
type TriageStatus string

// The triage statuses. A signal without a record is StatusNew.
const (
	StatusNew           TriageStatus = "new"
	StatusInvestigating TriageStatus = "investigating"
	StatusTruePositive  TriageStatus = "closed-true-positive"
	StatusFalsePositive TriageStatus = "closed-false-positive"
)

// TriageStatuses lists the statuses in workflow order.
var TriageStatuses = []TriageStatus{StatusNew, StatusInvestigating, StatusTruePositive, StatusFalsePositive}

// Limits of a triage record, so that one line stays small.
const (
	MaxTriageNote = 10_000 // bytes
	MaxTriageBy   = 200    // bytes
)

// TriageRecord is one change of a signal's triage: its status and note from then on, who
// set them and when.
type TriageRecord struct {
	SignalID string       `json:"signal_id"`
	Status   TriageStatus `json:"status"`
	Note     string       `json:"note"`
	By       string       `json:"by"`
	At       time.Time    `json:"at"`
}

// Validate reports what is wrong with a record, or nil.
func (r TriageRecord) Validate() error {
	switch {
	case r.SignalID == "" || len(r.SignalID) > 64 || !printableASCII(r.SignalID):
		return fmt.Errorf("triage: signal id %q is not a signal id", r.SignalID)
	case !validStatus(r.Status):
		return fmt.Errorf("triage: unknown status %q (want new, investigating, closed-true-positive or closed-false-positive)", r.Status)
	case len(r.Note) > MaxTriageNote:
		return fmt.Errorf("triage: note of %d bytes (at most %d)", len(r.Note), MaxTriageNote)
	case len(r.By) > MaxTriageBy:
		return fmt.Errorf("triage: analyst name of %d bytes (at most %d)", len(r.By), MaxTriageBy)
	case !utf8.ValidString(r.Note) || !utf8.ValidString(r.By):
		return errors.New("triage: note and analyst name must be UTF-8")
	case r.At.IsZero():
		return errors.New("triage: no time")
	}
	return nil
}

func validStatus(s TriageStatus) bool {
	for _, v := range TriageStatuses {
		if s == v {
			return true
		}
	}
	return false
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// DamagedTriageLine is a line of the triage log that was skipped.
type DamagedTriageLine struct {
	Line int    `json:"line"`
	Err  string `json:"error"`
}

// TriageState is what the triage log says: per signal, its latest record and every
// record in file order.
type TriageState struct {
	Latest  map[string]TriageRecord
	History map[string][]TriageRecord
	// Damaged lists the lines skipped, with why.
	Damaged []DamagedTriageLine
}

// TriageLog is the triage log of one store folder. It is safe for concurrent use; any
// number of processes may append to the same log (each append takes the log's flock).
type TriageLog struct {
	dir string

	mu     sync.Mutex
	state  TriageState
	offset int64 // bytes of complete lines read into state
	line   int   // lines read into state
}

// OpenTriage returns the triage log of the store folder dir. Nothing is read or created
// until Read or Append.
func OpenTriage(dir string) *TriageLog {
	return &TriageLog{dir: dir, state: emptyTriage()}
}

func emptyTriage() TriageState {
	return TriageState{Latest: map[string]TriageRecord{}, History: map[string][]TriageRecord{}}
}

// Path is the log file.
func (t *TriageLog) Path() string { return filepath.Join(t.dir, TriageLogName) }

// Append makes r durable: it is written as one line and synced before Append returns.
func (t *TriageLog) Append(r TriageRecord) error {
	r.At = r.At.UTC()
	if err := r.Validate(); err != nil {
		return err
	}
	line, err := EncodeTriageLine(r)
	if err != nil {
		return err
	}
	lock, err := lockFile(filepath.Join(t.dir, triageLockName))
	if err != nil {
		return fmt.Errorf("locking the triage log: %w", err)
	}
	defer lock.Close()
	path := t.Path()
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the triage log: %w", err)
	}
	defer f.Close()
	// A line torn by a crash has no newline: end it, so that it stays one damaged line and
	// the new record starts its own.
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
			return fmt.Errorf("reading the triage log: %w", err)
		}
		if last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("writing the triage log: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing the triage log: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(t.dir); err != nil {
			return fmt.Errorf("syncing the store folder: %w", err)
		}
	}
	return nil
}

// Read returns the triage state, reading only what was appended since the last Read. The
// maps are shared with later calls: do not modify them.
func (t *TriageLog) Read() (TriageState, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, err := os.Open(t.Path())
	if errors.Is(err, os.ErrNotExist) {
		t.state, t.offset, t.line = emptyTriage(), 0, 0
		return t.copyState(), nil
	}
	if err != nil {
		return TriageState{}, fmt.Errorf("reading the triage log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return TriageState{}, fmt.Errorf("reading the triage log: %w", err)
	}
	if fi.Size() < t.offset { // replaced or truncated by hand: read it again
		t.state, t.offset, t.line = emptyTriage(), 0, 0
	}
	if _, err := f.Seek(t.offset, io.SeekStart); err != nil {
		return TriageState{}, fmt.Errorf("reading the triage log: %w", err)
	}
	n, lines := t.state.parse(f, t.line)
	t.offset += n
	t.line += lines
	return t.copyState(), nil
}

// copyState returns the state with its own Damaged slice (the maps are shared).
func (t *TriageLog) copyState() TriageState {
	s := t.state
	s.Damaged = append([]DamagedTriageLine(nil), s.Damaged...)
	return s
}

// parse adds the complete lines of r to s; a last line without a newline is left for a
// later read (a writer may be writing it). It returns the bytes and lines consumed.
// Lines are numbered from first+1.
func (s *TriageState) parse(r io.Reader, first int) (consumed int64, lines int) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line far longer than any record: damaged; skip to its end.
			n := int64(len(b))
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = br.ReadSlice('\n')
				n += int64(len(b))
			}
			if err != nil {
				return consumed, lines
			}
			consumed += n
			lines++
			s.Damaged = append(s.Damaged, DamagedTriageLine{Line: first + lines, Err: "line too long"})
			continue
		}
		if err != nil {
			return consumed, lines // EOF: an incomplete last line waits
		}
		consumed += int64(len(b))
		lines++
		rec, perr := ParseTriageLine(b[:len(b)-1])
		if perr != nil {
			s.Damaged = append(s.Damaged, DamagedTriageLine{Line: first + lines, Err: perr.Error()})
			continue
		}
		s.Latest[rec.SignalID] = rec
		s.History[rec.SignalID] = append(s.History[rec.SignalID], rec)
	}
}

// EncodeTriageLine returns the line of a record, newline included.
func EncodeTriageLine(r TriageRecord) ([]byte, error) {
	js, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding a triage record: %w", err)
	}
	out := make([]byte, 0, len(js)+10)
	out = fmt.Appendf(out, "%08x ", crc32.Checksum(js, crcTable))
	out = append(out, js...)
	return append(out, '\n'), nil
}

// ParseTriageLine reads one line of the triage log (without its newline): the checksum
// must match, the JSON decode into a valid record.
func ParseTriageLine(b []byte) (TriageRecord, error) {
	var r TriageRecord
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) < 10 || b[8] != ' ' {
		return r, errors.New("no checksum")
	}
	want, err := strconv.ParseUint(string(b[:8]), 16, 32)
	if err != nil {
		return r, errors.New("no checksum")
	}
	if got := crc32.Checksum(b[9:], crcTable); got != uint32(want) {
		return r, fmt.Errorf("checksum mismatch: %08x, the line says %08x", got, want)
	}
	// Unknown fields are allowed: a later version may add some.
	dec := json.NewDecoder(bytes.NewReader(b[9:]))
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("decoding: %w", err)
	}
	if dec.More() {
		return r, errors.New("decoding: data after the record")
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	return r, nil
}
