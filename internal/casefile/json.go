package casefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/safetext"
)

// WriteJSON writes the whole case as one JSON document: the scope report with the cost
// estimate and the remediation plan beside it. Attacker-controlled text is escaped as in
// every output (safetext.JSON): no control, bidi or zero-width character reaches a
// terminal raw.
func WriteJSON(w io.Writer, c Case) error {
	doc := struct {
		*investigate.Report
		Cost remediate.Estimate `json:"cost_estimate"`
		Plan remediate.Plan     `json:"remediation_plan"`
	}{c.Report, c.Cost, c.Plan}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding the case: %w", err)
	}
	if _, err := w.Write(safetext.JSON(buf.Bytes())); err != nil {
		return fmt.Errorf("writing the case: %w", err)
	}
	return nil
}
