package conformance

import (
	"testing"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/shareddata"
)

// sharedDir returns ../shared/sub or skips the test.
func sharedDir(tb testing.TB, sub string) string { return shareddata.Dir(tb, sub) }

// testEvent is one shared CloudTrail event.
type testEvent struct {
	// Key names the event: data-set file and record ("x.json#3", "y.jsonl:12").
	Key string
	// ID is the record's eventID (not unique across data sets).
	ID  string
	Raw []byte
	Ev  *event.Event
}

// loadEvents reads every event of the three shared CloudTrail data sets, each parsed with
// its own parser so that all stay valid.
func loadEvents(tb testing.TB) []testEvent {
	tb.Helper()
	var out []testEvent
	for _, e := range shareddata.CloudTrail(tb) {
		out = append(out, testEvent{Key: e.Key, ID: string(e.Value.GetStringBytes("eventID")), Raw: e.Raw,
			Ev: &event.Event{Raw: e.Raw, Value: e.Value}})
	}
	return out
}
