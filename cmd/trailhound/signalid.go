package main

import (
	"fmt"
	"strings"

	"github.com/trailhound/trailhound/internal/signal"
)

// signalIDHelp says where signal ids come from.
const signalIDHelp = "signal ids are printed by trailhound hunt over the same logs and rules (the ID column of its table, the \"id\" of -f jsonl, -f csv or -f ocsf's finding_info.uid); hunt --db DIR keeps them for investigate --db DIR"

// checkSignalIDSyntax rejects, before any log is read, an id that no signal can have:
// ids are lowercase hexadecimal, signal.IDLength characters at most.
func checkSignalIDSyntax(id string) error {
	if id == "" || len(id) > signal.IDLength || strings.Trim(strings.ToLower(id), "0123456789abcdef") != "" {
		return fmt.Errorf("--signal %q is not a signal id: %s", id, signalIDHelp)
	}
	return nil
}

// findSignalID returns the id of the one signal whose id is id or starts with it, or an
// error that says what was searched and where ids come from.
func findSignalID(signals []signal.Signal, id, where string) (string, error) {
	id = strings.ToLower(id)
	var found []string
	for _, s := range signals {
		if s.ID == id {
			return s.ID, nil
		}
		if strings.HasPrefix(s.ID, id) {
			found = append(found, s.ID)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no signal %s among the %d signals of %s: %s", id, len(signals), where, signalIDHelp)
	case 1:
		return found[0], nil
	}
	if len(found) > 5 {
		found = append(found[:5], "…")
	}
	return "", fmt.Errorf("--signal %s names several signals (%s): give more of the id", id, strings.Join(found, ", "))
}
