package shareddata

import (
	"strings"
	"testing"
)

// recordingTB records what Dir asks of the test instead of stopping it.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper()                        {}
func (r *recordingTB) Fatalf(format string, a ...any) { r.fatal = format }
func (r *recordingTB) Skipf(format string, a ...any)  { r.skip = format }

// TestDirMissing: a missing ../shared entry is a skip on a developer's machine and a
// failure in CI, whatever value spells true.
func TestDirMissing(t *testing.T) {
	tests := []struct {
		ci        string
		wantFatal bool
	}{
		{"", false},
		{"false", false},
		{"0", false},
		{"no", false}, // not a boolean: not CI
		{"true", true},
		{"TRUE", true},
		{"1", true},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recordingTB{TB: t}
			Dir(r, "no-such-entry-in-shared")
			if gotFatal := r.fatal != ""; gotFatal != tt.wantFatal || (r.skip != "") == tt.wantFatal {
				t.Errorf("CI=%q: fatal %q, skip %q; want fatal: %v", tt.ci, r.fatal, r.skip, tt.wantFatal)
			}
			if tt.wantFatal && !strings.Contains(r.fatal, "CI must have it") {
				t.Errorf("failure message %q does not say why", r.fatal)
			}
		})
	}
}
