package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/trailhound/trailhound/internal/signal"
)

// AddSignals stores signals, replacing any stored signal with the same id (a signal's id is
// fixed by its rule and evidence, so a re-run adds nothing twice). The signals file is
// replaced atomically. It returns how many signals were new.
func (s *Store) AddSignals(sigs []signal.Signal) (added int, err error) {
	if s.opts.ReadOnly {
		return 0, ErrReadOnly
	}
	if len(sigs) == 0 {
		return 0, nil // nothing to replace: the file stays as it is
	}
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	old, err := s.readSignals()
	if err != nil {
		return 0, err
	}
	at := make(map[string]int, len(old))
	for i, sg := range old {
		at[sg.ID] = i
	}
	for _, sg := range sigs {
		if i, ok := at[sg.ID]; ok {
			old[i] = sg
			continue
		}
		at[sg.ID] = len(old)
		old = append(old, sg)
		added++
	}
	signal.Sort(old)
	var buf bytes.Buffer
	if err := signal.WriteJSONL(&buf, old); err != nil {
		return 0, fmt.Errorf("storing signals: %w", err)
	}
	if err := writeAtomic(s.dir, signalsName, buf.Bytes()); err != nil {
		return 0, fmt.Errorf("storing signals: %w", err)
	}
	return added, nil
}

// Signals returns the stored signals, most severe first (signal.Sort).
func (s *Store) Signals() ([]signal.Signal, error) {
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	return s.readSignals()
}

func (s *Store) readSignals() ([]signal.Signal, error) {
	f, err := os.Open(filepath.Join(s.dir, signalsName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading signals: %w", err)
	}
	defer f.Close()
	var out []signal.Signal
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var sg signal.Signal
		if err := json.Unmarshal(sc.Bytes(), &sg); err != nil {
			return nil, fmt.Errorf("reading signals: %s:%d: %w", signalsName, line, err)
		}
		out = append(out, sg)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading signals: %w", err)
	}
	signal.Sort(out)
	return out, nil
}
