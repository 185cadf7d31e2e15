package signal

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    Level
		wantErr bool
	}{
		{"informational", LevelInformational, false},
		{"low", LevelLow, false},
		{"medium", LevelMedium, false},
		{"high", LevelHigh, false},
		{"critical", LevelCritical, false},
		{"  HIGH ", LevelHigh, false},
		{"Critical", LevelCritical, false},
		{"", 0, true},
		{"info", 0, true},
		{"severe", 0, true},
		{"high!", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidLevel) {
				t.Errorf("ParseLevel(%q) error = %v, want ErrInvalidLevel", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestLevelOrderStringJSON(t *testing.T) {
	order := []Level{LevelInformational, LevelLow, LevelMedium, LevelHigh, LevelCritical}
	for i, l := range order {
		if i > 0 && !(order[i-1] < l) {
			t.Errorf("%v < %v = false, want true", order[i-1], l)
		}
		back, err := ParseLevel(l.String())
		if err != nil || back != l {
			t.Errorf("ParseLevel(%v.String()) = %v, %v", l, back, err)
		}
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + l.String() + `"`; string(b) != want {
			t.Errorf("json.Marshal(%v) = %s, want %s", l, b, want)
		}
		var got Level
		if err := json.Unmarshal(b, &got); err != nil || got != l {
			t.Errorf("json.Unmarshal(%s) = %v, %v, want %v", b, got, err, l)
		}
	}
	if got := Level(9).String(); got != "Level(9)" {
		t.Errorf("Level(9).String() = %q", got)
	}
	if _, err := json.Marshal(Level(9)); !errors.Is(err, ErrInvalidLevel) {
		t.Errorf("json.Marshal(Level(9)) error = %v, want ErrInvalidLevel", err)
	}
	var l Level
	if err := json.Unmarshal([]byte(`"bogus"`), &l); !errors.Is(err, ErrInvalidLevel) {
		t.Errorf("json.Unmarshal(bogus) error = %v, want ErrInvalidLevel", err)
	}
}
