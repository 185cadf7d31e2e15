package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The manifest is the one record that says what a store holds: its generation, and every
// file of that generation with its size and checksum. A commit writes all the files of the
// new generation, syncs them, and only then replaces MANIFEST (write, sync, rename, sync the
// folder), so readers and the next writer see a whole generation or the one before it.

const (
	manifestName    = "MANIFEST"
	manifestVersion = 2
)

// Names of the files of version 1 stores (a plain JSON manifest, and these three files
// without checksums). They are read as generation 0 and rewritten as framed files by the
// first commit.
const (
	legacySignalsName = "signals.jsonl"
	legacyStateName   = "state.json"
	legacyLedgerName  = "files.ledger"
)

// StateBlob is the name of the blob that holds the detection stage's state (correlation
// windows, first-seen values, watermark) of a store fed by hunt --db.
const StateBlob = "detection-state"

// manifest is the committed state of a store: one generation.
type manifest struct {
	Version int `json:"version"`
	// Generation counts commits; 0 is an empty store (or a version 1 one).
	Generation uint64 `json:"generation"`
	// NextSeq numbers the next file a writer creates: every file of the store not listed
	// here has a number below it (superseded by this generation) or at or above it (made
	// by a writer that did not commit); either way this manifest proves it unreferenced.
	NextSeq  uint64        `json:"next_seq"`
	Segments []segmentMeta `json:"segments"`
	// Files are the generation's other files: signal chunks (in the order they were
	// written), the file ledger, named blobs.
	Files []fileRef `json:"files,omitempty"`
}

// segmentMeta describes one committed segment.
type segmentMeta struct {
	Name     string `json:"name"`
	Events   int    `json:"events"`
	Bytes    int64  `json:"bytes"`
	RawBytes int64  `json:"raw_bytes"`
	MinTime  int64  `json:"min_time"`
	MaxTime  int64  `json:"max_time"`
	// Generation is the commit that added the segment; CRC is the CRC-32C of the whole
	// file. Both are 0 in version 1 manifests.
	Generation uint64 `json:"generation,omitempty"`
	CRC        uint32 `json:"crc,omitempty"`
}

// clone returns a copy of m that can be changed without changing m.
func (m manifest) clone() manifest {
	m.Segments = slices.Clone(m.Segments)
	m.Files = slices.Clone(m.Files)
	return m
}

// files returns the files of the given kind, in manifest order.
func (m manifest) files(kind string) []fileRef {
	var out []fileRef
	for _, f := range m.Files {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// blob returns the file of the named blob.
func (m manifest) blob(name string) (fileRef, bool) {
	for _, f := range m.Files {
		if f.Kind == kindBlob && f.Blob == name {
			return f, true
		}
	}
	return fileRef{}, false
}

// referenced returns the names of every file the manifest lists.
func (m manifest) referenced() map[string]bool {
	out := make(map[string]bool, len(m.Segments)+len(m.Files))
	for _, s := range m.Segments {
		out[s.Name] = true
	}
	for _, f := range m.Files {
		out[f.Name] = true
	}
	return out
}

// encodeManifest frames a manifest.
func encodeManifest(m manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return encodeFrame(frameHeader{Kind: kindManifest, Generation: m.Generation}, b), nil
}

// parseManifest reads a manifest: a framed one, or the plain JSON of version 1 stores.
func parseManifest(b []byte) (manifest, error) {
	var m manifest
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		if err := json.Unmarshal(b, &m); err != nil {
			return m, fmt.Errorf("%w: %v", errDamaged, err)
		}
		if m.Version != 1 {
			return m, fmt.Errorf("%w: version %d in a version 1 manifest", errDamaged, m.Version)
		}
		return m, nil
	}
	h, body, err := parseFrame(b)
	if err != nil {
		return m, err
	}
	if h.Kind != kindManifest {
		return m, fmt.Errorf("%w: a %q file where the manifest was expected", errDamaged, h.Kind)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("%w: %v", errDamaged, err)
	}
	if m.Version != manifestVersion {
		return m, fmt.Errorf("unknown manifest version %d (this trailhound reads versions 1 and %d)", m.Version, manifestVersion)
	}
	if m.Generation != h.Generation {
		return m, fmt.Errorf("%w: generation %d framed as %d", errDamaged, m.Generation, h.Generation)
	}
	return m, nil
}

// withLegacy lists, for a version 1 store, the files of that version that are present.
func (m manifest) withLegacy(dir string) manifest {
	if m.Version != 1 {
		return m
	}
	m = m.clone()
	for _, f := range []fileRef{
		{Name: legacySignalsName, Kind: kindSignals},
		{Name: legacyLedgerName, Kind: kindLedger},
		{Name: legacyStateName, Kind: kindBlob, Blob: StateBlob},
	} {
		if fi, err := os.Stat(filepath.Join(dir, f.Name)); err == nil {
			f.Bytes = fi.Size()
			m.Files = append(m.Files, f)
		}
	}
	return m
}

// legacy reports whether f is a file of a version 1 store (no framing, no checksum).
func (f fileRef) legacy() bool {
	switch f.Name {
	case legacySignalsName, legacyStateName, legacyLedgerName:
		return true
	}
	return false
}

// storeFile reports whether name is a file a store writer makes (and so may remove when a
// valid manifest does not list it). Other files in the folder are never touched.
func storeFile(name string) bool {
	if strings.HasSuffix(name, tmpSuffix) {
		return storeFile(strings.TrimSuffix(name, tmpSuffix)) || name == manifestName+tmpSuffix
	}
	switch name {
	case legacySignalsName, legacyStateName, legacyLedgerName:
		return true
	}
	_, ok := fileSeq(name)
	return ok
}

// Prefixes and suffix of the numbered files.
const (
	sigPrefix    = "sig-"
	ledgerPrefix = "ledger-"
	blobPrefix   = "blob-"
	frameSuffix  = ".thb"
)

// fileSeq returns the sequence number of a numbered store file (seg-000012.ths,
// sig-000013.thb, …).
func fileSeq(name string) (uint64, bool) {
	var num string
	switch {
	case strings.HasPrefix(name, segPrefix) && strings.HasSuffix(name, segSuffix):
		num = name[len(segPrefix) : len(name)-len(segSuffix)]
	case strings.HasSuffix(name, frameSuffix):
		for _, p := range []string{sigPrefix, ledgerPrefix, blobPrefix} {
			if strings.HasPrefix(name, p) {
				num = name[len(p) : len(name)-len(frameSuffix)]
			}
		}
	}
	if num == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	return n, err == nil
}

// ErrNoManifest is returned by Open for a folder that holds store files but no MANIFEST:
// the store cannot tell what is committed, so it changes nothing.
var ErrNoManifest = errors.New("MANIFEST is missing")

// repairHint is what an error about a damaged store tells the user to do.
func repairHint(dir string) string {
	return fmt.Sprintf("nothing was changed; `trailhound db check %s` lists what is damaged, and `trailhound db repair %s` rebuilds the store from what its files' own checksums allow", dir, dir)
}

// readManifest reads the manifest of the store in dir. A folder without one is an empty
// store only when it holds no store file.
func readManifest(dir string) (manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		ents, rerr := os.ReadDir(dir)
		if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return manifest{}, fmt.Errorf("listing store: %w", rerr)
		}
		var found []string
		for _, e := range ents {
			if n := e.Name(); storeFile(n) && !strings.HasSuffix(n, tmpSuffix) {
				found = append(found, n)
			}
		}
		if len(found) > 0 {
			return manifest{}, fmt.Errorf("%w beside %d store files (%s): %s", ErrNoManifest, len(found), strings.Join(found[:min(3, len(found))], ", ")+more(len(found)-3), repairHint(dir))
		}
		return manifest{Version: manifestVersion, NextSeq: 1}, nil
	}
	if err != nil {
		return manifest{}, fmt.Errorf("reading manifest: %w", err)
	}
	m, err := parseManifest(b)
	if err != nil {
		if errors.Is(err, errDamaged) {
			return m, fmt.Errorf("MANIFEST is damaged (%w): %s", err, repairHint(dir))
		}
		return m, fmt.Errorf("reading manifest: %w", err)
	}
	return m.withLegacy(dir), nil
}

func more(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n)
}
