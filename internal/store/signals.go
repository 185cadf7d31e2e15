package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/trailhound/trailhound/internal/signal"
)

// Signals are kept in chunks: each commit that has signals writes one chunk with them, and a
// signal of a later chunk replaces one of an earlier chunk with the same id (a signal's id
// is fixed by its rule and evidence, so a re-run adds nothing twice). Once a store holds
// more than maxSignalChunks chunks, a commit merges them into one, so a commit costs what
// it adds, not what the store holds.
//
// A chunk's body has one line per signal: the CRC-32C of the signal's JSON (8 hex digits),
// a space, the JSON. The framing checks the whole chunk; the line checksums let `db repair`
// keep the intact signals of a damaged chunk.
const maxSignalChunks = 8

// encodeSignals writes the body of a chunk.
func encodeSignals(sigs []signal.Signal) ([]byte, error) {
	var lines, one bytes.Buffer
	for i := range sigs {
		one.Reset()
		if err := signal.WriteJSONL(&one, sigs[i:i+1]); err != nil {
			return nil, fmt.Errorf("encoding signal %s: %w", sigs[i].ID, err)
		}
		js := bytes.TrimSuffix(one.Bytes(), []byte("\n"))
		fmt.Fprintf(&lines, "%08x ", crc32.Checksum(js, crcTable))
		lines.Write(js)
		lines.WriteByte('\n')
	}
	return lines.Bytes(), nil
}

// decodeSignals reads the body of a chunk. With salvage, lines that fail their checksum or
// do not decode are counted in bad instead of failing the chunk.
func decodeSignals(body []byte, salvage bool) (sigs []signal.Signal, bad int, err error) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		sg, err := decodeSignalLine(b)
		if err != nil {
			if salvage {
				bad++
				continue
			}
			return nil, 0, fmt.Errorf("line %d: %w", line, err)
		}
		sigs = append(sigs, sg)
	}
	if err := sc.Err(); err != nil {
		if salvage {
			return sigs, bad + 1, nil
		}
		return nil, 0, err
	}
	return sigs, bad, nil
}

func decodeSignalLine(b []byte) (signal.Signal, error) {
	var sg signal.Signal
	if len(b) < 10 || b[8] != ' ' {
		return sg, fmt.Errorf("%w: no checksum", errDamaged)
	}
	want, err := strconv.ParseUint(string(b[:8]), 16, 32)
	if err != nil || crc32.Checksum(b[9:], crcTable) != uint32(want) {
		return sg, fmt.Errorf("%w: checksum mismatch", errDamaged)
	}
	if err := json.Unmarshal(b[9:], &sg); err != nil {
		return sg, fmt.Errorf("%w: %v", errDamaged, err)
	}
	return sg, nil
}

// decodeLegacySignals reads the signals.jsonl of a version 1 store.
func decodeLegacySignals(b []byte) ([]signal.Signal, error) {
	var out []signal.Signal
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var sg signal.Signal
		if err := json.Unmarshal(sc.Bytes(), &sg); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, sg)
	}
	return out, sc.Err()
}

// readChunk reads the signals of one chunk.
func readChunk(dir string, f fileRef) ([]signal.Signal, error) {
	path := filepath.Join(dir, f.Name)
	if f.legacy() {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		sigs, err := decodeLegacySignals(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		return sigs, nil
	}
	_, body, err := readFrame(path, kindSignals)
	if err != nil {
		return nil, err
	}
	sigs, _, err := decodeSignals(body, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return sigs, nil
}

// mergeSignals merges chunks read in order: a signal replaces an earlier one with its id,
// and a signal whose latest revision is superseded (signal.Signal.SupersededBy: the
// signal that carries its evidence on is stored) is dropped. The result is sorted most
// severe first (signal.Sort).
func mergeSignals(chunks ...[]signal.Signal) []signal.Signal {
	out := slices.DeleteFunc(signal.Latest(chunks...), func(s signal.Signal) bool { return s.SupersededBy != "" })
	signal.Sort(out)
	return out
}

// Signals returns the stored signals of the committed generation, most severe first
// (signal.Sort).
func (s *Store) Signals() ([]signal.Signal, error) {
	var sigs []signal.Signal
	err := s.withFiles(func(m manifest) error {
		var chunks [][]signal.Signal
		for _, f := range m.files(kindSignals) {
			c, err := readChunk(s.dir, f)
			if err != nil {
				return err
			}
			chunks = append(chunks, c)
		}
		sigs = mergeSignals(chunks...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading signals: %w", err)
	}
	return sigs, nil
}

// Blob returns the named blob of the committed generation, and false when there is none.
func (s *Store) Blob(name string) ([]byte, bool, error) {
	var out []byte
	var found bool
	err := s.withFiles(func(m manifest) error {
		f, ok := m.blob(name)
		if !ok {
			return nil
		}
		found = true
		b, err := readBlob(s.dir, f)
		out = b
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, found, nil
}

// readBlob reads the body of a blob file.
func readBlob(dir string, f fileRef) ([]byte, error) {
	path := filepath.Join(dir, f.Name)
	if f.legacy() {
		return os.ReadFile(path)
	}
	h, body, err := readFrame(path, kindBlob)
	if err != nil {
		return nil, err
	}
	if h.Name != f.Blob {
		return nil, fmt.Errorf("%s: %w: holds blob %q, listed as %q", f.Name, errDamaged, h.Name, f.Blob)
	}
	return body, nil
}

// withFiles calls fn with the committed manifest. A reader in another process than the
// writer may find a file of its generation removed by a later commit: it then reads the
// manifest again and retries.
func (s *Store) withFiles(fn func(manifest) error) error {
	for try := 0; ; try++ {
		s.mu.RLock()
		m := s.man
		s.mu.RUnlock()
		err := fn(m)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || !s.opts.ReadOnly || try == 3 {
			if errors.Is(err, errDamaged) {
				return fmt.Errorf("%w: %s", err, repairHint(s.dir))
			}
			return err
		}
		fresh, rerr := readManifest(s.dir)
		if rerr != nil {
			return rerr
		}
		s.mu.Lock()
		if fresh.Generation >= s.man.Generation {
			s.man.Files = fresh.Files
		}
		s.mu.Unlock()
	}
}
