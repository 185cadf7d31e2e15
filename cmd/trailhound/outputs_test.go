package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestHuntTableIDs: the table shows each signal's id (a unique prefix), and investigate
// --signal takes it.
func TestHuntTableIDs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"logs.jsonl": string(loginLines(3))})
	logs := filepath.Join(dir, "logs.jsonl")
	jsonl := runCLI(t, nil, "hunt", "-q", "-f", "jsonl", logs)
	table := runCLI(t, nil, "hunt", "-q", "-f", "table", "--width", "80", logs)
	if jsonl.code != 0 || table.code != 0 {
		t.Fatalf("exits %d and %d: %s%s", jsonl.code, table.code, jsonl.stderr, table.stderr)
	}
	sigs := signalLines(t, jsonl.stdout)
	lines := strings.Split(strings.TrimSpace(table.stdout), "\n")
	if !strings.HasPrefix(lines[0], "LEVEL  ID ") {
		t.Fatalf("table header %q has no ID column", lines[0])
	}
	var ids []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 1 && !strings.HasPrefix(l, " ") {
			ids = append(ids, f[1])
		}
	}
	if len(ids) != len(sigs) || len(sigs) != 3 {
		t.Fatalf("table rows %v for %d signals", ids, len(sigs))
	}
	for i, id := range ids {
		if !strings.HasPrefix(sigs[i].ID, id) {
			t.Errorf("row %d shows id %q, the signal's is %q", i, id, sigs[i].ID)
		}
	}
	r := runCLI(t, nil, "investigate", logs, "--signal", ids[0])
	if r.code != 0 || !strings.Contains(r.stdout, "signal "+ids[0]) {
		t.Errorf("investigate --signal %s (from the table): exit %d\n%s", ids[0], r.code, r.stderr)
	}
}
