package sink

import (
	"bytes"
	"context"
	"io"

	"github.com/trailhound/trailhound/internal/ocsf"
	"github.com/trailhound/trailhound/internal/signal"
)

// OCSF writes each revision as an OCSF Detection Finding (class 2004; ocsf.Finding, whose
// activity follows the revision: Create, Update, Close), one JSON object a line, to standard
// output or a rotated file.
type OCSF struct {
	f       *lineFile
	version string
}

// NewOCSF returns an OCSF sink appending to path (as NewJSONL); version is trailhound's.
func NewOCSF(path string, maxBytes int64, keep int, stdout io.Writer, version string) (*OCSF, error) {
	f, err := newLineFile(path, maxBytes, keep, stdout)
	if err != nil {
		return nil, err
	}
	return &OCSF{f: f, version: version}, nil
}

// Deliver appends the findings and syncs the file.
func (o *OCSF) Deliver(ctx context.Context, revs []signal.Signal) (int, error) {
	var b bytes.Buffer
	if err := ocsf.WriteJSONL(&b, revs, o.version); err != nil {
		return 0, err
	}
	if err := o.f.write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(revs), nil
}

// Close closes the file.
func (o *OCSF) Close() error { return o.f.Close() }
