package sigma

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/goldenfile"
)

// TestInvalidGolden loads testdata/invalid and compares every error and
// warning, one per line and sorted, and the errors that leave a correlation
// out, with testdata/invalid.golden.
func TestInvalidGolden(t *testing.T) {
	rs, err := LoadFS(context.Background(), os.DirFS("testdata"), "invalid")
	var errs ErrorList
	if !errors.As(err, &errs) {
		t.Fatalf("LoadFS(testdata/invalid) error = %v, want an ErrorList", err)
	}
	var b strings.Builder
	b.WriteString("# errors\n")
	for _, e := range errs {
		b.WriteString(e.Error() + "\n")
	}
	b.WriteString("# warnings\n")
	for _, w := range rs.Warnings {
		b.WriteString(w.Error() + "\n")
	}
	b.WriteString("# errors that leave a correlation out (RuleSet.Invalid)\n")
	for _, e := range rs.Invalid {
		if !slices.Contains(errs, e) {
			t.Errorf("Invalid holds %q, which is not among the errors", e)
		}
		b.WriteString(e.Error() + "\n")
	}
	got := b.String()
	goldenfile.Check(t, filepath.Join("testdata", "invalid.golden"), []byte(got))
}

// TestValidTestdata checks that testdata/valid loads without errors.
func TestValidTestdata(t *testing.T) {
	rs, err := LoadFS(context.Background(), os.DirFS("testdata"), "valid")
	if err != nil {
		t.Fatalf("LoadFS(testdata/valid): %v", err)
	}
	if len(rs.Warnings) != 0 {
		t.Errorf("warnings = %v, want none", rs.Warnings)
	}
	if got, want := len(rs.Rules), 3; got != want {
		t.Errorf("got %d rules, want %d", got, want)
	}
	if got, want := len(rs.Correlations), 2; got != want {
		t.Errorf("got %d correlations, want %d", got, want)
	}
}
