package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// A store fed by `hunt --db` over a live trail sees the same folder again and again, one
// new file among thousands already stored. The file ledger remembers the input files whose
// every event a committed run stored, with their size and modification time, so that a
// later run can leave an unchanged file unread instead of decoding it only to find its
// events stored.

// filesName is the ledger: JSON Lines of fileEntry, sorted by path, replaced atomically.
const filesName = "files.jsonl"

// FileStamp is the state of an input file when it was read. A file whose stamp has not
// changed is taken to hold the same events (CloudTrail never rewrites a delivered file).
type FileStamp struct {
	Size    int64 `json:"size"`
	ModTime int64 `json:"mtime_ns"` // Unix ns
}

// StampOf returns the stamp of a file.
func StampOf(fi fs.FileInfo) FileStamp {
	return FileStamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
}

type fileEntry struct {
	Path string `json:"path"`
	FileStamp
}

// FileStored reports whether a committed run read every event of the file at path (an
// absolute path) when it had this stamp.
func (w *Writer) FileStored(path string, st FileStamp) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.loadFiles(); err != nil {
		return false, err
	}
	got, ok := w.files[path]
	return ok && got == st, nil
}

// FileRead records that every event of the file at path (an absolute path, read with this
// stamp) has been added. The record becomes durable with the next Commit, after the events:
// a run that dies before leaves the file to be read again.
func (w *Writer) FileRead(path string, st FileStamp) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pendingFiles == nil {
		w.pendingFiles = map[string]FileStamp{}
	}
	w.pendingFiles[path] = st
}

// loadFiles reads the ledger once. w.mu is held.
func (w *Writer) loadFiles() error {
	if w.files != nil {
		return nil
	}
	files, err := readFiles(filepath.Join(w.s.dir, filesName))
	if err != nil {
		return err
	}
	w.files = files
	return nil
}

// commitFiles merges the files read since the last commit into the ledger and writes it.
// w.mu is held; the events of those files are committed.
func (w *Writer) commitFiles() error {
	if len(w.pendingFiles) == 0 {
		return nil
	}
	if err := w.loadFiles(); err != nil {
		return err
	}
	for p, st := range w.pendingFiles {
		w.files[p] = st
	}
	w.pendingFiles = nil
	b, err := encodeFiles(w.files)
	if err == nil {
		err = writeAtomic(w.s.dir, filesName, b)
	}
	if err != nil {
		return fmt.Errorf("writing the file ledger: %w", err)
	}
	return nil
}

// encodeFiles writes a ledger: one JSON line per file, sorted by path.
func encodeFiles(files map[string]FileStamp) ([]byte, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, p := range paths {
		if err := enc.Encode(fileEntry{Path: p, FileStamp: files[p]}); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// readFiles reads a ledger; an absent one is empty.
func readFiles(path string) (map[string]FileStamp, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]FileStamp{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the file ledger: %w", err)
	}
	defer f.Close()
	files, err := parseFiles(f)
	if err != nil {
		return nil, fmt.Errorf("reading the file ledger: %w (removing %s only makes the next run read every file again)", err, path)
	}
	return files, nil
}

// parseFiles reads the lines of a ledger; the last entry of a path counts.
func parseFiles(r io.Reader) (map[string]FileStamp, error) {
	files := map[string]FileStamp{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e fileEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Path == "" {
			return nil, fmt.Errorf("%s:%d: not a file entry", filesName, line)
		}
		files[e.Path] = e.FileStamp
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return files, nil
}
