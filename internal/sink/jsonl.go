package sink

import (
	"bytes"
	"context"
	"io"

	"github.com/trailhound/trailhound/internal/signal"
)

// JSONL writes each revision as one JSON Lines record, with the keys of hunt -f jsonl
// (status and revision included), to standard output or a rotated file.
type JSONL struct {
	f *lineFile
}

// NewJSONL returns a JSONL sink appending to path ("" or "-": stdout, which nil means
// os.Stdout), rotated past maxBytes with keep old files.
func NewJSONL(path string, maxBytes int64, keep int, stdout io.Writer) (*JSONL, error) {
	f, err := newLineFile(path, maxBytes, keep, stdout)
	if err != nil {
		return nil, err
	}
	return &JSONL{f: f}, nil
}

// Deliver appends the revisions and syncs the file.
func (j *JSONL) Deliver(ctx context.Context, revs []signal.Signal) (int, error) {
	var b bytes.Buffer
	if err := signal.WriteJSONL(&b, revs); err != nil {
		return 0, err
	}
	if err := j.f.write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(revs), nil
}

// Close closes the file.
func (j *JSONL) Close() error { return j.f.Close() }
