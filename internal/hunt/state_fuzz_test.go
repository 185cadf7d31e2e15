package hunt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trailhound/trailhound/internal/correlate"
)

// FuzzLoadState: a damaged or foreign state file is an error, never a panic.
func FuzzLoadState(f *testing.F) {
	f.Add([]byte("trailhound-state 1 4\n0\n0\n0\n0\n"))
	f.Add([]byte("trailhound-state 1 4\n5\nhello0\n0\n0\n"))
	f.Add([]byte("{}"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		eng, err := correlate.New(correlate.Config{Correlations: []correlate.Correlation{{
			ID: "c", Type: correlate.EventCount, Rules: []string{"r"}, Timespan: 60e9,
			Condition: correlate.Condition{{Op: correlate.GTE, Value: 2}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "state")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = loadState(path, []*correlate.Engine{eng, nil, nil, nil}, make([]map[string]int, 4))
	})
}
