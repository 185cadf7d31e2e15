package signal

import (
	"os"
	"testing"
)

func TestColorEnabled(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		env      map[string]string
		want     bool
	}{
		{"terminal", true, nil, true},
		{"not a terminal", false, nil, false},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, false},
		{"empty NO_COLOR", true, map[string]string{"NO_COLOR": ""}, true},
		{"dumb terminal", true, map[string]string{"TERM": "dumb"}, false},
		{"xterm", true, map[string]string{"TERM": "xterm-256color"}, true},
	}
	for _, tt := range tests {
		getenv := func(k string) string { return tt.env[k] }
		if got := colorEnabled(tt.terminal, getenv); got != tt.want {
			t.Errorf("%s: colorEnabled = %v, want %v", tt.name, got, tt.want)
		}
	}
	if ColorEnabled(nil) {
		t.Error("ColorEnabled(nil) = true")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ColorEnabled(f) {
		t.Error("ColorEnabled(regular file) = true")
	}
}
