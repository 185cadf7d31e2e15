package signal

import (
	"fmt"
	"io"
)

// JSONLWriter writes signals as JSON Lines: one JSON object per line, with exactly the keys
// of Signal's JSON form (see Signal.MarshalJSON). It does not buffer: each Write is one write
// to the underlying writer. It is not safe for concurrent use.
type JSONLWriter struct {
	w io.Writer
}

// NewJSONLWriter returns a JSONLWriter writing to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: w}
}

// Write writes one signal as one line.
func (j *JSONLWriter) Write(s Signal) error {
	b, err := s.MarshalJSON()
	if err != nil {
		return err
	}
	if _, err := j.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing signal %s: %w", s.ID, err)
	}
	return nil
}

// WriteJSONL writes signals as JSON Lines, in the order given.
func WriteJSONL(w io.Writer, signals []Signal) error {
	j := NewJSONLWriter(w)
	for _, s := range signals {
		if err := j.Write(s); err != nil {
			return err
		}
	}
	return nil
}
