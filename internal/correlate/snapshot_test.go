package correlate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/goldenfile"
)

func snapshotConfig(first Correlation) Config {
	return Config{Lateness: 5 * m, Correlations: []Correlation{first, newValue, valueCount}}
}

// snapshotEngine leaves state of every kind: buffered hits, windows, an open alert, learned
// values.
func snapshotEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New(snapshotConfig(eventCount(gte(2), 10*m)))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []in{
		h("A", 0, "e1", "user=alice", "ip=1"), h("A", m, "e2", "user=alice", "ip=2"),
		h("A", 8*m, "e3", "user=bob", "ip=1"), h("A", 10*m, "e4", "user=alice", "ip=3"),
		h("A", 14*m, "e5", "user=carol", "ip=1"),
	} {
		if got := e.Observe(x.hit(), x.fieldFunc()); len(got) > 0 {
			t.Fatalf("unexpected alerts before the snapshot: %q", summaries(got))
		}
	}
	return e
}

func TestSnapshotGolden(t *testing.T) {
	e := snapshotEngine(t)
	var buf bytes.Buffer
	if err := e.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "snapshot.golden")
	goldenfile.Check(t, path, buf.Bytes())
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Restoring and snapshotting again gives the same bytes.
	again, err := New(snapshotConfig(eventCount(gte(2), 10*m)))
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Restore(bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	var buf2 bytes.Buffer
	if err := again.Snapshot(&buf2); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf2.String()); diff != "" {
		t.Errorf("snapshot of the restored engine (-want +got):\n%s", diff)
	}
}

func TestRestoreErrors(t *testing.T) {
	tests := []struct {
		name, input string
		want        string
		is          error
	}{
		{"empty", "", "reading snapshot header: EOF", nil},
		{"other format", `{"format":"x","version":1}`, `unsupported snapshot format or version: "x" version 1`, ErrSnapshotVersion},
		{"newer version", `{"format":"trailhound-correlate-state","version":2}`, `version 2`, ErrSnapshotVersion},
		{"truncated", `{"format":"trailhound-correlate-state","version":1}` + "\n" + `{"started":tr`, "reading snapshot:", nil},
		{"bad header index", `{"format":"trailhound-correlate-state","version":1}` + "\n" +
			`{"headers":[],"buffer":[{"t":1,"id":"x","rule":"A","header":5,"keys":[]}]}`,
			`buffered hit "x": header index 5 out of range`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := snapshotEngine(t)
			before := e.Stats()
			err := e.Restore(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Restore: error %v, want one containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Restore: error %v is not %v", err, tt.is)
			}
			if diff := cmp.Diff(before, e.Stats()); diff != "" {
				t.Errorf("state changed by a failed Restore (-before +after):\n%s", diff)
			}
		})
	}
}

// TestRestoreChangedCorrelation: state of a correlation whose definition changed is dropped;
// the others keep theirs.
func TestRestoreChangedCorrelation(t *testing.T) {
	var buf bytes.Buffer
	if err := snapshotEngine(t).Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	e, err := New(snapshotConfig(eventCount(gte(5), 10*m))) // was gte 2
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	groups := map[string]int{}
	for _, c := range e.corrs {
		groups[c.ID] = len(c.groups)
	}
	if diff := cmp.Diff(map[string]int{"c": 0, "n": 2, "v": 2}, groups); diff != "" {
		t.Errorf("groups per correlation after restore (-want +got):\n%s", diff)
	}
	// The buffered hits e4 and e5 are kept for the unchanged correlations.
	if s := e.Stats(); s.Buffered != 2 {
		t.Errorf("Buffered = %d, want 2", s.Buffered)
	}
}

func TestSaveFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := snapshotEngine(t)
	if err := e.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only state.json (no temporary file left)", len(entries))
	}
	if err := e.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := e.SaveFile(filepath.Join(dir, "missing", "state.json")); err == nil {
		t.Error("SaveFile into a missing directory: no error")
	}
}

func TestStats(t *testing.T) {
	e := snapshotEngine(t)
	s := e.Stats()
	// e4 and e5 are buffered; e1-e3 are processed: c has alice (open alert) and bob; n and v
	// likewise hold alice (ip 1, 2) and bob (ip 1).
	want := Stats{Groups: 6, Values: 3 + 3, Hits: 6, Buffered: 2, OpenAlerts: 1, Watermark: t0.Add(9 * m)}
	s.Bytes = 0
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if e.Stats().Bytes <= 0 {
		t.Error("Stats.Bytes is not positive")
	}
}
