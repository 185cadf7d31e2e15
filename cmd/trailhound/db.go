package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/store"
)

// storeSink feeds a hunt's events into the embedded store; commit then makes the run's
// events, the files it read whole, its signals and the detection state after it durable
// together, as one generation of the store.
type storeSink struct {
	st *store.Store
	w  *store.Writer
	// state is the detection state the run starts from (nil: none yet).
	state []byte
}

func openStoreSink(path string, opts store.Options) (*storeSink, error) {
	st, err := store.Open(path, opts)
	if err != nil {
		return nil, err
	}
	w, err := st.Writer()
	if err != nil {
		st.Close()
		return nil, err
	}
	state, _, err := st.Blob(store.StateBlob)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &storeSink{st: st, w: w, state: state}, nil
}

// add stores the event and reports whether it is new (not stored by an earlier run).
func (s *storeSink) add(ev *event.Event) (bool, error) {
	return s.w.Add(ev)
}

// Unchanged reports whether an earlier run stored every event of the file, as it is now
// (hunt.FileLedger).
func (s *storeSink) Unchanged(path string, fi fs.FileInfo) (bool, error) {
	return s.w.FileStored(path, store.StampOf(fi))
}

// Read records a file whose every event this run handed to the store (hunt.FileLedger).
func (s *storeSink) Read(path string, fi fs.FileInfo) { s.w.FileRead(path, store.StampOf(fi)) }

// commit makes the run durable in one generation — its events, the files it read whole, its
// signals and the state after it — then compacts the store once small segments (one per
// run) have piled up. A run that changed nothing makes no generation.
func (s *storeSink) commit(ctx context.Context, sigs []signal.Signal, state []byte) error {
	b := store.Batch{Signals: sigs}
	if state != nil && !bytes.Equal(state, s.state) {
		b.Blobs = map[string][]byte{store.StateBlob: state}
	}
	if err := s.w.CommitBatch(b); err != nil {
		return err
	}
	_, err := s.w.Compact(ctx)
	return err
}

func (s *storeSink) summary() string {
	ws, st := s.w.Stats(), s.st.Stats()
	per := 0.0
	if st.Events > 0 {
		per = float64(st.Bytes) / float64(st.Events)
	}
	return fmt.Sprintf("store %s: %d events added, %d already stored; %d events, %.0f bytes/event on disk (generation %d)", s.st.Dir(), ws.Added, ws.Duplicates, st.Events, per, st.Generation)
}

func (s *storeSink) close() { s.st.Close() }
