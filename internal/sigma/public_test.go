package sigma

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailhound/trailhound/internal/shareddata"
)

// sharedDir returns ../shared/elem... or skips the test.
func sharedDir(t testing.TB, elem ...string) string { return shareddata.Dir(t, elem...) }

// knownInvalid lists public rule files that are genuinely invalid Sigma,
// with the reason. They must be rejected, and nothing else may be.
var knownInvalid = map[string]string{}

func TestPublicRuleSets(t *testing.T) {
	for _, set := range []struct {
		dir       string
		wantFiles int
		wantCorr  int
	}{
		{"sigmahq-cloudtrail", 57, 0},
		{"suzaku-cloudtrail", 738, 5},
	} {
		t.Run(set.dir, func(t *testing.T) {
			dir := sharedDir(t, "rules", set.dir)
			rs, err := LoadPaths(context.Background(), dir)
			var errs ErrorList
			if err != nil && !errors.As(err, &errs) {
				t.Fatalf("LoadPaths(%s): %v", dir, err)
			}
			rejected := map[string]bool{}
			for _, e := range errs {
				base := filepath.Base(e.File)
				rejected[base] = true
				if _, ok := knownInvalid[base]; !ok {
					t.Errorf("unexpected error: %v", e)
				}
			}
			for name := range knownInvalid {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil && !rejected[name] {
					t.Errorf("%s is listed as invalid (%s) but loaded without error", name, knownInvalid[name])
				}
			}
			cloudTrail := 0
			for _, r := range rs.Rules {
				if r.IsCloudTrail() {
					cloudTrail++
				}
			}
			t.Logf("%s: %d files, %d rules (%d CloudTrail), %d correlations, %d rejected files, %d warnings",
				set.dir, len(rs.Files), len(rs.Rules), cloudTrail, len(rs.Correlations), len(rejected), len(rs.Warnings))
			for _, w := range rs.Warnings {
				if testing.Verbose() {
					t.Logf("warning: %v", w)
				}
			}
			if got := len(rs.Files); got != set.wantFiles {
				t.Errorf("loaded %d files, want %d", got, set.wantFiles)
			}
			if got := len(rs.Correlations); got != set.wantCorr {
				t.Errorf("loaded %d correlations, want %d", got, set.wantCorr)
			}
		})
	}
}
