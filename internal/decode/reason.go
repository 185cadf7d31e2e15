package decode

import "github.com/trailhound/trailhound/internal/event"

// Reason says why a record could not be evaluated. The values are stable strings fit for
// logs, metrics and JSON output.
type Reason string

// The reasons a record is rejected.
const (
	// ReasonGzip: the gzip stream is truncated or corrupt (bad header, bad deflate data,
	// checksum mismatch, garbage after a member). Everything after the break is lost.
	ReasonGzip Reason = "corrupt-gzip"
	// ReasonInvalidJSON: the record is not valid JSON. Inside a Records document, an array or
	// a stream of objects, an error that breaks the framing ends the input.
	ReasonInvalidJSON Reason = "invalid-json"
	// ReasonNotEvent: the record is valid JSON but not a CloudTrail event: it is not an
	// object, or it is an object with none of the keys eventVersion, eventSource and
	// eventName at the top level.
	ReasonNotEvent Reason = "not-event"
	// ReasonOversized: the record is larger than Options.MaxEventBytes; it was skipped.
	ReasonOversized Reason = "oversized"
	// ReasonRead: reading the input failed (an I/O error); the rest of the input is lost.
	ReasonRead Reason = "read-error"
	// ReasonUnknownFormat: the input is none of the formats the decoder reads (it does not
	// start with '{' or '['); nothing of it was read.
	ReasonUnknownFormat Reason = "unknown-format"
	// ReasonNoEventTime: the event has no eventTime that is a time (RFC 3339, or the
	// "2006-01-02 15:04:05" form of SQL exports) and no @timestamp to stand in for it.
	// Windows, first-seen learning and timelines all run on event time, so an event without
	// one is never evaluated as if it happened in 1970.
	ReasonNoEventTime Reason = "no-event-time"
)

// Reasons returns every Reason in a fixed order, for reports.
func Reasons() []Reason {
	return []Reason{ReasonGzip, ReasonInvalidJSON, ReasonNotEvent, ReasonNoEventTime, ReasonOversized, ReasonRead, ReasonUnknownFormat}
}

// Rejection is a record that was read but cannot be evaluated.
type Rejection struct {
	// Pos is where the record is (or where the input broke).
	Pos event.Position
	// Reason classifies the problem.
	Reason Reason
	// Detail is a human-readable explanation, including what was lost.
	Detail string
}
