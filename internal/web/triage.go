package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/trailhound/trailhound/internal/store"
)

// triageRequest is the body of POST /api/triage.
type triageRequest struct {
	SignalID string             `json:"signal_id"`
	Status   store.TriageStatus `json:"status"`
	Note     string             `json:"note"`
	// By names the analyst; empty means Options.Analyst.
	By string `json:"by"`
}

// serveTriage records a status and note for a signal of the store.
func (h *Handler) serveTriage(w http.ResponseWriter, r *http.Request) {
	var req triageRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeError(w, http.StatusRequestEntityTooLarge, "the request is too large")
			return
		}
		writeError(w, http.StatusBadRequest, "reading the request: "+err.Error())
		return
	}
	snap, err := h.inbox.current()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sg, status, msg := snap.find(req.SignalID)
	if sg == nil {
		writeError(w, status, msg)
		return
	}
	by := strings.TrimSpace(req.By)
	if by == "" {
		by = h.opts.Analyst
	}
	rec := store.TriageRecord{SignalID: sg.ID, Status: req.Status, Note: req.Note, By: by, At: h.opts.Now().UTC()}
	if err := rec.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := h.opts.Triage.Append(rec); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("triage", "signal", sg.ID, "status", rec.Status, "by", rec.By)
	writeJSON(w, http.StatusOK, rec)
}
