package hunt

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/source"
)

// memLedger is a FileLedger in memory.
type memLedger map[string]int64

func (m memLedger) Unchanged(path string, fi fs.FileInfo) (bool, error) {
	n, ok := m[path]
	return ok && n == fi.Size(), nil
}
func (m memLedger) Read(path string, fi fs.FileInfo) { m[path] = fi.Size() }

// TestRunFilter: the filter leaves events out (counted, never evaluated), the counts add up,
// and a file some of whose events were left out is not recorded as stored whole, so that a
// later run without the filter reads it again.
func TestRunFilter(t *testing.T) {
	set := builtin(t)
	dir := t.TempDir()
	other := strings.Replace(loginEvent("s-3", "No"), `"recipientAccountId":"111122223333"`, `"recipientAccountId":"444455556666"`, 1)
	mixed := filepath.Join(dir, "mixed.jsonl")
	only := filepath.Join(dir, "only.jsonl")
	if err := os.WriteFile(mixed, []byte(loginEvent("s-1", "No")+"\n"+other+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(only, []byte(loginEvent("s-2", "No")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ledger := memLedger{}
	tests := []struct {
		name      string
		filter    source.Filter
		evaluated int
		signals   int
	}{
		{"account", source.Filter{Accounts: []string{"111122223333"}}, 2, 1},
		{"other account", source.Filter{Accounts: []string{"444455556666"}}, 1, 1},
		{"region", source.Filter{Regions: []string{"eu-west-1"}}, 0, 0},
		{"since after", source.Filter{Since: time.Date(2026, 11, 20, 9, 12, 45, 0, time.UTC)}, 0, 0},
		{"until after", source.Filter{Until: time.Date(2026, 11, 20, 9, 12, 45, 0, time.UTC)}, 3, 2},
	}
	for _, tt := range tests {
		res, err := Run(context.Background(), Config{Source: source.Options{Filter: tt.filter}}, set, []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		st := res.Stats
		if st.Read != 3 || st.Evaluated != tt.evaluated || st.Filtered != 3-tt.evaluated || len(res.Signals) != tt.signals {
			t.Errorf("%s: read %d, evaluated %d, filtered %d, %d signals; want 3, %d, %d, %d", tt.name, st.Read, st.Evaluated, st.Filtered, len(res.Signals), tt.evaluated, 3-tt.evaluated, tt.signals)
		}
	}
	if _, err := Run(context.Background(), Config{Files: ledger, Source: source.Options{Filter: source.Filter{Accounts: []string{"111122223333"}}}}, set, []string{dir}); err != nil {
		t.Fatal(err)
	}
	absMixed, _ := filepath.Abs(mixed)
	absOnly, _ := filepath.Abs(only)
	if _, ok := ledger[absMixed]; ok {
		t.Error("a file with an event left out by the filter was recorded as stored whole")
	}
	if _, ok := ledger[absOnly]; !ok {
		t.Error("a file whose every event was kept was not recorded")
	}
}
