package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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
//
// A year of a trail in a few accounts and regions is millions of files, so the ledger
// keeps 24 bytes per file: a 64-bit hash of the absolute path (hashID), the size and the
// modification time, sorted by hash, in memory and on disk. A false "unchanged" would need
// two paths with the same hash and the same size and modification time.

// A ledger (the body of a ledger file of a generation, or the files.ledger of a version 1
// store) is filesMagic, the number of records, the records (hash, size, mtime;
// little-endian, sorted by hash, hashes distinct), then a CRC-32C of everything before it.
const (
	filesMagic = "trailhound-files 1\n"
	fileRecLen = 24
)

// FileStamp is the state of an input file when it was read. A file whose stamp has not
// changed is taken to hold the same events (CloudTrail never rewrites a delivered file).
type FileStamp struct {
	Size    int64
	ModTime int64 // Unix ns
}

// StampOf returns the stamp of a file. An object of a remote store whose FileInfo.Sys has a
// StampTag method (the ETag of an S3 object) is stamped with its size and a hash of the tag
// in place of the modification time: a notification tells the ETag but not the time.
func StampOf(fi fs.FileInfo) FileStamp {
	if t, ok := fi.Sys().(interface{ StampTag() string }); ok && t.StampTag() != "" {
		return FileStamp{Size: fi.Size(), ModTime: int64(hashID([]byte("etag\x00" + t.StampTag())))}
	}
	return FileStamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
}

// fileRec is one file of the ledger.
type fileRec struct {
	hash uint64 // hashID of the absolute path
	FileStamp
}

func compareFileRec(a, b fileRec) int { return cmp.Compare(a.hash, b.hash) }

// FileStored reports whether a committed run read every event of the file at path (an
// absolute path) when it had this stamp.
func (w *Writer) FileStored(path string, st FileStamp) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.loadFiles(); err != nil {
		return false, err
	}
	i, ok := slices.BinarySearchFunc(w.files, fileRec{hash: hashID([]byte(path))}, compareFileRec)
	return ok && w.files[i].FileStamp == st, nil
}

// FileRead records that every event of the file at path (an absolute path, read with this
// stamp) has been added. The record becomes durable with the next Commit, after the events:
// a run that dies before leaves the file to be read again.
func (w *Writer) FileRead(path string, st FileStamp) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pendingFiles == nil {
		w.pendingFiles = map[uint64]FileStamp{}
	}
	w.pendingFiles[hashID([]byte(path))] = st
}

// FilesRecorded returns how many input files the ledger holds: files whose every event a
// committed run stored, which hunt --db does not read again while they are unchanged.
func (s *Store) FilesRecorded() (int, error) {
	var n int
	err := s.withFiles(func(m manifest) error {
		files, err := readLedger(s.dir, m)
		n = len(files)
		return err
	})
	return n, err
}

// readLedger reads the ledger of a generation (none: empty).
func readLedger(dir string, m manifest) ([]fileRec, error) {
	refs := m.files(kindLedger)
	if len(refs) == 0 {
		return nil, nil
	}
	f := refs[len(refs)-1]
	path := filepath.Join(dir, f.Name)
	var body []byte
	var err error
	if f.legacy() {
		body, err = os.ReadFile(path)
	} else {
		_, body, err = readFrame(path, kindLedger)
	}
	var files []fileRec
	if err == nil {
		files, err = parseFiles(body)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the file ledger %s: %w", path, err)
	}
	return files, nil
}

// loadFiles reads the ledger once. w.mu is held.
func (w *Writer) loadFiles() error {
	if w.filesLoaded {
		return nil
	}
	files, err := readLedger(w.s.dir, w.s.man)
	if err != nil {
		return fmt.Errorf("%w (`trailhound db repair` drops a damaged ledger: the next run then reads every file again)", err)
	}
	w.files, w.filesLoaded = files, true
	return nil
}

// mergeFiles merges two ledgers sorted by hash; a record of add replaces one of old with the
// same hash.
func mergeFiles(old, add []fileRec) []fileRec {
	out := make([]fileRec, 0, len(old)+len(add))
	i, j := 0, 0
	for i < len(old) || j < len(add) {
		switch {
		case j == len(add) || i < len(old) && old[i].hash < add[j].hash:
			out = append(out, old[i])
			i++
		case i == len(old) || add[j].hash < old[i].hash:
			out = append(out, add[j])
			j++
		default: // the same file, read again
			out = append(out, add[j])
			i++
			j++
		}
	}
	return out
}

// encodeFiles writes a ledger.
func encodeFiles(files []fileRec) []byte {
	b := make([]byte, 0, len(filesMagic)+8+fileRecLen*len(files)+4)
	b = append(b, filesMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(files)))
	for _, r := range files {
		b = binary.LittleEndian.AppendUint64(b, r.hash)
		b = binary.LittleEndian.AppendUint64(b, uint64(r.Size))
		b = binary.LittleEndian.AppendUint64(b, uint64(r.ModTime))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// parseFiles reads a ledger, checking its framing, checksum and order.
func parseFiles(b []byte) ([]fileRec, error) {
	head := len(filesMagic) + 8
	if len(b) < head+4 || !bytes.HasPrefix(b, []byte(filesMagic)) {
		return nil, errors.New("not a trailhound file ledger")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, errors.New("checksum mismatch")
	}
	n := binary.LittleEndian.Uint64(b[len(filesMagic):])
	if uint64(len(body)-head) != n*fileRecLen {
		return nil, fmt.Errorf("%d bytes of records for %d files", len(body)-head, n)
	}
	files := make([]fileRec, n)
	for i := range files {
		p := body[head+i*fileRecLen:]
		files[i] = fileRec{hash: binary.LittleEndian.Uint64(p), FileStamp: FileStamp{
			Size: int64(binary.LittleEndian.Uint64(p[8:])), ModTime: int64(binary.LittleEndian.Uint64(p[16:]))}}
		if i > 0 && files[i].hash <= files[i-1].hash {
			return nil, fmt.Errorf("record %d out of order", i)
		}
	}
	return files, nil
}
