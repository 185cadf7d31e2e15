package ocsf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/trailhound/trailhound/internal/safetext"
	"github.com/trailhound/trailhound/internal/signal"
)

// WriteJSONL writes one Detection Finding per signal, one JSON object per line, in the order
// given. Attacker-controlled text is escaped as in every output (safetext.JSON). version is
// trailhound's, for metadata.product.version.
func WriteJSONL(w io.Writer, signals []signal.Signal, version string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, s := range signals {
		buf.Reset()
		if err := enc.Encode(Finding(s, version)); err != nil {
			return fmt.Errorf("encoding signal %s as OCSF: %w", s.ID, err)
		}
		if _, err := w.Write(safetext.JSON(buf.Bytes())); err != nil {
			return fmt.Errorf("writing signal %s as OCSF: %w", s.ID, err)
		}
	}
	return nil
}
