package main

import (
	"runtime/debug"
	"testing"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestTuneGCForHunt: the hunt's collector settings apply unless GOGC or GOMEMLIMIT is set,
// and are undone by the returned function.
func TestTuneGCForHunt(t *testing.T) {
	before, beforeLimit := gcPercent(), debug.SetMemoryLimit(-1)
	tests := []struct {
		name      string
		env       map[string]string
		wantTuned bool
	}{
		{"defaults", nil, true},
		{"GOGC set", map[string]string{"GOGC": "50"}, false},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			restore := tuneGCForHunt(func(k string) string { return tt.env[k] })
			pct, limit := gcPercent(), debug.SetMemoryLimit(-1)
			restore()
			if tt.wantTuned {
				if pct != huntGCPercent || limit != huntMemoryLimit {
					t.Errorf("GOGC %d, limit %d during the hunt; want %d and %d", pct, limit, huntGCPercent, huntMemoryLimit)
				}
			} else if pct != before || limit != beforeLimit {
				t.Errorf("GOGC %d, limit %d with the user's own settings; want them unchanged (%d, %d)", pct, limit, before, beforeLimit)
			}
			if gcPercent() != before || debug.SetMemoryLimit(-1) != beforeLimit {
				t.Errorf("settings not restored: GOGC %d, limit %d; want %d, %d", gcPercent(), debug.SetMemoryLimit(-1), before, beforeLimit)
			}
		})
	}
}
