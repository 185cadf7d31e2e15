package main

import (
	"encoding/json"
	"io"

	"github.com/trailhound/trailhound/internal/casefile"
	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/remediate"
)

// writeCaseJSON writes the whole case as one JSON document: the scope report with the cost
// estimate and the remediation plan beside it.
func writeCaseJSON(w io.Writer, c casefile.Case) error {
	doc := struct {
		*investigate.Report
		Cost remediate.Estimate `json:"cost_estimate"`
		Plan remediate.Plan     `json:"remediation_plan"`
	}{c.Report, c.Cost, c.Plan}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
