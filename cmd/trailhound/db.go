package main

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/store"
)

// storeSink feeds a hunt's events and signals into the embedded store.
type storeSink struct {
	st *store.Store
	w  *store.Writer
}

func openStoreSink(path string) (*storeSink, error) {
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return nil, err
	}
	w, err := st.Writer()
	if err != nil {
		st.Close()
		return nil, err
	}
	return &storeSink{st: st, w: w}, nil
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

// commit makes the run's events durable, records its signals, then compacts the store
// once small segments (one per run) have piled up.
func (s *storeSink) commit(ctx context.Context, sigs []signal.Signal) error {
	if err := s.w.Commit(); err != nil {
		return err
	}
	if _, err := s.st.AddSignals(sigs); err != nil {
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
	return fmt.Sprintf("store %s: %d events added, %d already stored; %d events, %.0f bytes/event on disk", s.st.Dir(), ws.Added, ws.Duplicates, st.Events, per)
}

func (s *storeSink) close() { s.st.Close() }
