package conformance

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/sigma"
)

// publicSets are the public rule sets under /work/shared/rules.
var publicSets = []string{"sigmahq-cloudtrail", "suzaku-cloudtrail"}

// loadSet loads one public rule set; a rejected file fails the test.
func loadSet(t testing.TB, name string) *sigma.RuleSet {
	t.Helper()
	dir := filepath.Join(sharedDir(t, "rules"), name)
	rs, err := sigma.LoadPaths(context.Background(), dir)
	if err != nil {
		var list sigma.ErrorList
		if errors.As(err, &list) {
			t.Errorf("loading %s: %d errors (want 0):\n%v", name, len(list), err)
		} else {
			t.Fatalf("loading %s: %v", name, err)
		}
	}
	return rs
}

// TestPublicRulesLoadAndCompile checks that every public rule file loads and every
// CloudTrail detection rule compiles.
func TestPublicRulesLoadAndCompile(t *testing.T) {
	for _, name := range publicSets {
		t.Run(name, func(t *testing.T) {
			rs := loadSet(t, name)
			var ct []*sigma.Rule
			for _, r := range rs.Rules {
				if r.IsCloudTrail() {
					ct = append(ct, r)
				}
			}
			rejected := 0
			for _, f := range rs.Files {
				if len(f.Rules)+len(f.Correlations) == 0 {
					rejected++
					t.Errorf("%s: no rule loaded from the file", f.Name)
				}
			}
			_, err := detect.Compile(ct, detect.Options{})
			if err != nil {
				t.Errorf("compiling %s: %v", name, err)
			}
			t.Logf("%s: %d files, %d detection rules (%d CloudTrail), %d correlations, %d files rejected, %d warnings",
				name, len(rs.Files), len(rs.Rules), len(ct), len(rs.Correlations), rejected, len(rs.Warnings))
		})
	}
}
