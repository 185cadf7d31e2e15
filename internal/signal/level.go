package signal

import (
	"errors"
	"fmt"
	"strings"
)

// Level is the severity of a signal, as in a Sigma rule's "level" field. Levels are ordered:
// a greater Level is more severe, so they compare with < and >. The zero Level is
// LevelInformational, which is also what a rule without a level gets.
type Level uint8

// The Sigma levels, least severe first.
const (
	LevelInformational Level = iota
	LevelLow
	LevelMedium
	LevelHigh
	LevelCritical
)

// ErrInvalidLevel is wrapped by the errors of ParseLevel and Level.UnmarshalText.
var ErrInvalidLevel = errors.New("invalid level")

// ParseLevel parses a Sigma level name (informational, low, medium, high, critical), ignoring
// case and surrounding spaces. Any other value is an error wrapping ErrInvalidLevel.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "informational":
		return LevelInformational, nil
	case "low":
		return LevelLow, nil
	case "medium":
		return LevelMedium, nil
	case "high":
		return LevelHigh, nil
	case "critical":
		return LevelCritical, nil
	}
	return 0, fmt.Errorf("parsing level %q: %w: want informational, low, medium, high or critical", s, ErrInvalidLevel)
}

// Valid reports whether l is one of the five defined levels.
func (l Level) Valid() bool { return l <= LevelCritical }

// String returns the Sigma name of the level ("high"), or "Level(N)" for an invalid value.
func (l Level) String() string {
	switch l {
	case LevelInformational:
		return "informational"
	case LevelLow:
		return "low"
	case LevelMedium:
		return "medium"
	case LevelHigh:
		return "high"
	case LevelCritical:
		return "critical"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// MarshalText encodes the level as its name, so that it is a string in JSON and YAML. An
// invalid level is an error.
func (l Level) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, fmt.Errorf("marshalling level %d: %w", uint8(l), ErrInvalidLevel)
	}
	return []byte(l.String()), nil
}

// UnmarshalText decodes a level name as ParseLevel does.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}
