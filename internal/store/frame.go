package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// Every file of a store other than its segments (signals, the file ledger, named blobs such
// as the detection state, the manifest itself) is a framed file: its kind, the generation
// that wrote it and its body, closed by a checksum of everything before it, so that a file
// can be verified on its own, with or without the manifest that lists it:
//
//	"THFRAME1" | uint32 header length | header JSON | uint64 body length | body |
//	uint32 CRC-32C of all the bytes before it | "THFRMEND"
const (
	frameMagic    = "THFRAME1"
	frameEndMagic = "THFRMEND"
	frameTrailer  = 4 + len(frameEndMagic)
)

// Kinds of framed files.
const (
	kindManifest = "manifest"
	kindSignals  = "signals"
	kindLedger   = "ledger"
	kindBlob     = "blob"
)

// frameHeader says what a framed file holds.
type frameHeader struct {
	Kind string `json:"kind"`
	// Name is the blob's name (kindBlob).
	Name string `json:"name,omitempty"`
	// Generation is the commit that wrote the file.
	Generation uint64 `json:"generation"`
}

// errDamaged marks a file whose bytes are not what was written: a checksum, length or
// framing mismatch.
var errDamaged = errors.New("damaged")

// encodeFrame frames body.
func encodeFrame(h frameHeader, body []byte) []byte {
	hj, _ := json.Marshal(h) // a struct of strings and numbers: cannot fail
	b := make([]byte, 0, len(frameMagic)+4+len(hj)+8+len(body)+frameTrailer)
	b = append(b, frameMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(hj)))
	b = append(b, hj...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(body)))
	b = append(b, body...)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	return append(b, frameEndMagic...)
}

// parseFrame checks a framed file and returns its header and body (which aliases b).
func parseFrame(b []byte) (frameHeader, []byte, error) {
	var h frameHeader
	min := len(frameMagic) + 4 + 8 + frameTrailer
	if len(b) < min || !bytes.HasPrefix(b, []byte(frameMagic)) {
		return h, nil, fmt.Errorf("%w: not a trailhound store file (or truncated)", errDamaged)
	}
	if !bytes.HasSuffix(b, []byte(frameEndMagic)) {
		return h, nil, fmt.Errorf("%w: truncated (no end marker)", errDamaged)
	}
	end := len(b) - frameTrailer
	if crc32.Checksum(b[:end], crcTable) != binary.LittleEndian.Uint32(b[end:]) {
		return h, nil, fmt.Errorf("%w: checksum mismatch", errDamaged)
	}
	p := len(frameMagic)
	hl := int(binary.LittleEndian.Uint32(b[p:]))
	p += 4
	if hl > end-p-8 {
		return h, nil, fmt.Errorf("%w: bad header length", errDamaged)
	}
	if err := json.Unmarshal(b[p:p+hl], &h); err != nil {
		return h, nil, fmt.Errorf("%w: header: %v", errDamaged, err)
	}
	p += hl
	bl := binary.LittleEndian.Uint64(b[p:])
	p += 8
	if bl != uint64(end-p) {
		return h, nil, fmt.Errorf("%w: body of %d bytes, framed as %d", errDamaged, end-p, bl)
	}
	return h, b[p:end], nil
}

// readFrame reads and checks the framed file at path, which must be of the given kind.
func readFrame(path, kind string) (frameHeader, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return frameHeader{}, nil, err
	}
	h, body, err := parseFrame(b)
	if err == nil && h.Kind != kind {
		err = fmt.Errorf("%w: a %q file where a %q file was expected", errDamaged, h.Kind, kind)
	}
	if err != nil {
		return h, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return h, body, nil
}

// fileRef is one file of a generation, as the manifest lists it.
type fileRef struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Blob is the name of a blob (kindBlob).
	Blob       string `json:"blob,omitempty"`
	Generation uint64 `json:"generation"`
	Bytes      int64  `json:"bytes"`
	// CRC is the CRC-32C of the whole file.
	CRC uint32 `json:"crc"`
}

// writeSynced writes data to dir/name through a temporary file that is synced and then
// renamed; the caller syncs the folder (once for all the files of a commit). It returns the
// file's CRC-32C.
func writeSynced(dir, name string, data []byte) (uint32, error) {
	tmp := filepath.Join(dir, name+tmpSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", name, err)
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
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("writing %s: %w", name, err)
	}
	return crc32.Checksum(data, crcTable), nil
}
