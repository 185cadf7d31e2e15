package store

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/trailhound/trailhound/internal/signal"
)

// A commit makes one generation durable: the segments written since the last commit, the
// signals, the file ledger and the named blobs given with it. Its steps:
//
//  1. finish the segment being filled; every pending segment is then a complete file,
//     synced and renamed into place (Add writes full segments as it goes);
//  2. write each other file of the generation — a chunk of signals, the ledger, the blobs,
//     the detection state last — to a temporary file, sync it, rename it into place, sync
//     the folder, in that order;
//  3. publish: write the new manifest, listing every file of the generation with its size
//     and checksum, to a temporary file, sync it, rename it over MANIFEST, sync the folder;
//  4. remove the files the new manifest no longer lists.
//
// A crash before step 3 completes leaves MANIFEST at the previous generation, whose files
// are all still there; the files of the unfinished generation are unreferenced, and the next
// writer removes them. A crash after it leaves the new generation and at most some
// superseded files, which the next writer removes. Because the detection state is the last
// file of a generation to be written, a valid state file proves that the rest of its
// generation is complete: `db repair` relies on it when the manifest itself is lost.

// FaultPoints are the points of a commit at which Options.Fault is called:
//
//	sync:segment       before a finished segment is synced
//	renamed:segment    after a finished segment is renamed into place
//	sync:<kind>        before the file of a signals chunk, ledger or blob is written and synced
//	renamed:<kind>     after it is renamed into place
//	sync:manifest      before the new manifest is written and synced
//	published          after MANIFEST is replaced and the folder synced
//	removed            after each superseded file is removed
var FaultPoints = []string{"sync:segment", "renamed:segment", "sync:signals", "renamed:signals", "sync:ledger", "renamed:ledger",
	"sync:blob", "renamed:blob", "sync:manifest", "published", "removed"}

// Batch is what a commit makes durable together with the events added since the last one.
type Batch struct {
	// Signals are stored, each replacing a stored signal with its id.
	Signals []signal.Signal
	// Blobs replace the named blobs of the store (the detection state, checkpoints of
	// sources, outboxes of sinks); a nil value removes the blob; a blob not named keeps its
	// value.
	Blobs map[string][]byte
}

func (b Batch) empty() bool { return len(b.Signals) == 0 && len(b.Blobs) == 0 }

// Commit makes every event added so far, and the files read whole since the last commit
// (FileRead), durable and visible to readers as one new generation.
func (w *Writer) Commit() error { return w.CommitBatch(Batch{}) }

// CommitBatch is Commit with signals and blobs: the events added, the files read, the
// signals and the blobs of b become durable together, in one generation, or not at all.
// When there is nothing to commit, no generation is made.
func (w *Writer) CommitBatch(b Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.commitLocked(b)
}

// commitLocked commits; w.mu is held. A failed commit leaves the store at its previous
// generation and the writer unusable (its error is sticky): the caller reports it, and the
// next run reads the inputs again.
func (w *Writer) commitLocked(b Batch) error {
	if w.err != nil {
		return w.err
	}
	if err := w.sealLocked(); err != nil {
		return err
	}
	s := w.s
	legacy := s.man.Version == 1
	if len(w.pending) == 0 && b.empty() && len(w.pendingFiles) == 0 && !legacy {
		return nil
	}
	if err := w.commitGeneration(b, legacy, false); err != nil {
		w.err = fmt.Errorf("committing to store %s: %w (the store is unchanged)", s.dir, err)
		return w.err
	}
	w.evictKeys()
	return nil
}

// commitGeneration writes and publishes the next generation; legacy converts a version 1
// store's files, keep leaves the files it no longer lists in place (db repair moves them
// aside itself).
func (w *Writer) commitGeneration(b Batch, legacy, keep bool) error {
	s := w.s
	next := s.man.clone()
	next.Version = manifestVersion
	next.Generation++
	gen := next.Generation
	var written []string // files of this generation, removed if it fails
	fail := func(err error) error {
		for _, sg := range w.pending {
			sg.discard()
		}
		w.pending = nil
		for _, n := range written {
			os.Remove(filepath.Join(s.dir, n))
		}
		return err
	}
	// put writes one framed file of the generation.
	put := func(prefix string, h frameHeader, body []byte) (fileRef, error) {
		h.Generation = gen
		name := w.newName(prefix, frameSuffix)
		if err := s.fault("sync:" + h.Kind); err != nil {
			return fileRef{}, fmt.Errorf("writing %s: %w", name, err)
		}
		data := encodeFrame(h, body)
		crc, err := writeSynced(s.dir, name, data)
		if err == nil {
			written = append(written, name)
			err = syncDir(s.dir)
		}
		if err != nil {
			return fileRef{}, err
		}
		if err := s.fault("renamed:" + h.Kind); err != nil {
			return fileRef{}, err
		}
		return fileRef{Name: name, Kind: h.Kind, Blob: h.Name, Generation: gen, Bytes: int64(len(data)), CRC: crc}, nil
	}
	drop := func(match func(fileRef) bool) {
		next.Files = slices.DeleteFunc(next.Files, match)
	}

	// Segments: already written, synced and renamed.
	var opened []*segment
	for _, sg := range w.pending {
		next.Segments = append(next.Segments, sg.meta)
	}

	// Signals: one chunk with the batch's; all chunks merged into one when there are too many
	// (or when a version 1 store's signals.jsonl is rewritten).
	chunks := next.files(kindSignals)
	if len(b.Signals) > 0 || legacy && len(chunks) > 0 {
		merge := legacy || len(chunks)+1 > maxSignalChunks
		sigs := b.Signals
		if merge {
			var all [][]signal.Signal
			for _, f := range chunks {
				c, err := readChunk(s.dir, f)
				if err != nil {
					return fail(fmt.Errorf("merging signals: %w", err))
				}
				all = append(all, c)
			}
			sigs = mergeSignals(append(all, b.Signals)...)
			drop(func(f fileRef) bool { return f.Kind == kindSignals })
		}
		body, err := encodeSignals(sigs)
		if err != nil {
			return fail(err)
		}
		ref, err := put(sigPrefix, frameHeader{Kind: kindSignals}, body)
		if err != nil {
			return fail(err)
		}
		next.Files = append(next.Files, ref)
	}

	// The file ledger, with the files read whole since the last commit.
	ledger := w.files
	if len(w.pendingFiles) > 0 || legacy && len(next.files(kindLedger)) > 0 {
		if err := w.loadFiles(); err != nil {
			return fail(err)
		}
		files := w.files
		if len(w.pendingFiles) > 0 {
			add := make([]fileRec, 0, len(w.pendingFiles))
			for h, st := range w.pendingFiles {
				add = append(add, fileRec{hash: h, FileStamp: st})
			}
			slices.SortFunc(add, compareFileRec)
			files = mergeFiles(w.files, add)
		}
		ref, err := put(ledgerPrefix, frameHeader{Kind: kindLedger}, encodeFiles(files))
		if err != nil {
			return fail(err)
		}
		drop(func(f fileRef) bool { return f.Kind == kindLedger })
		next.Files = append(next.Files, ref)
		ledger = files
	}

	// Blobs, in name order; a version 1 store's state.json becomes a framed blob.
	blobs := maps.Clone(b.Blobs)
	if legacy {
		if f, ok := next.blob(StateBlob); ok && f.legacy() {
			if _, given := blobs[StateBlob]; !given {
				v, err := readBlob(s.dir, f)
				if err != nil {
					return fail(fmt.Errorf("reading %s: %w", f.Name, err))
				}
				if blobs == nil {
					blobs = map[string][]byte{}
				}
				blobs[StateBlob] = v
			}
		}
	}
	// The detection state goes last: a valid state file proves its generation complete.
	names := slices.Sorted(maps.Keys(blobs))
	if i := slices.Index(names, StateBlob); i >= 0 {
		names = append(slices.Delete(names, i, i+1), StateBlob)
	}
	for _, name := range names {
		v := blobs[name]
		drop(func(f fileRef) bool { return f.Kind == kindBlob && f.Blob == name })
		if v == nil {
			continue
		}
		ref, err := put(blobPrefix, frameHeader{Kind: kindBlob, Name: name}, v)
		if err != nil {
			return fail(err)
		}
		next.Files = append(next.Files, ref)
	}

	next.NextSeq = w.nextSeq
	for _, sg := range w.pending {
		o, err := openSegment(sg.path, sg.meta)
		if err != nil {
			for _, o := range opened {
				o.close()
			}
			return fail(err)
		}
		opened = append(opened, o)
	}
	perr := s.publish(next)
	var pe *publishedError
	if perr != nil && !errors.As(perr, &pe) {
		for _, o := range opened {
			o.close()
		}
		return fail(perr)
	}
	w.pending = nil
	w.files, w.pendingFiles = ledger, nil
	s.mu.Lock()
	s.man = next
	s.segs = append(s.segs[:len(s.segs):len(s.segs)], opened...)
	s.mu.Unlock()
	if err := s.fault("published"); err != nil {
		// The generation is committed: what fails now is only the clean-up.
		s.opts.Logger.Debug("after publishing", "err", err)
	}
	if perr != nil {
		return perr
	}
	if !keep {
		s.removeUnreferenced(next)
	}
	s.opts.Logger.Debug("generation committed", "generation", gen, "segments", len(opened), "signals", len(b.Signals), "files", len(next.Files))
	return nil
}

// publish makes m the committed generation on disk by replacing MANIFEST. Every file m
// lists must be written and synced. The caller then makes m the Store's generation in memory.
func (s *Store) publish(m manifest) error {
	if err := syncDir(s.dir); err != nil {
		return err
	}
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	if err := s.fault("sync:manifest"); err != nil {
		return fmt.Errorf("writing %s: %w", manifestName, err)
	}
	if _, err := writeSynced(s.dir, manifestName, data); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		// MANIFEST was renamed: the generation is visible, though perhaps not yet durable.
		// Its files must stay.
		return &publishedError{err}
	}
	return nil
}

// publishedError is a failure after MANIFEST was replaced.
type publishedError struct{ err error }

func (e *publishedError) Error() string {
	return fmt.Sprintf("syncing the store folder after replacing MANIFEST: %v", e.err)
}
func (e *publishedError) Unwrap() error { return e.err }
