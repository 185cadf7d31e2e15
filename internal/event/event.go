// Package event defines one CloudTrail record as the rest of trailhound sees it: the exact
// bytes AWS delivered, parsed once, with the position it came from, and the few header
// fields (time, source, name, identity) that signals and state are keyed on.
//
// An Event and everything reachable from it are owned by the decoder that produced it and are
// valid only during the callback that receives it: the bytes and the parsed tree are reused
// for the next record. Callers that keep anything copy it (Header does).
package event

import (
	"time"

	"github.com/valyala/fastjson"
)

// EnrichmentKey is the top-level field under which enrichment (ASN, country, IOC hits, actor
// key) is exposed to rules. CloudTrail never writes a top-level key of this name.
const EnrichmentKey = "trailhound"

// Position says where a record came from: the input (file path, or "-" for stdin) and the
// 0-based index of the record within it. Line is the 1-based line for line-oriented inputs
// (JSON Lines) and 0 otherwise.
type Position struct {
	File   string `json:"file"`
	Record int    `json:"record"`
	Line   int    `json:"line,omitempty"`
}

// Event is one decoded CloudTrail record. Reading an Event writes to it (the parser
// unescapes a string in place the first time it is read), so an Event must not be read by
// two goroutines at once: give each goroutine its own parse of Raw.
type Event struct {
	// Raw is the record's JSON text exactly as delivered.
	Raw []byte
	// Value is Raw parsed; it is always a JSON object.
	Value *fastjson.Value
	// Pos is where the record was read.
	Pos Position
	// Enrichment, when not nil, holds fields added by enrichment; rules reach them as
	// "trailhound.<name>".
	Enrichment *fastjson.Value
}

// Lookup calls fn for every value found at the dotted path (already split into keys). When the
// path crosses a JSON array, every element is visited, so "requestParameters.containerDefinitions.image"
// reaches the image of each container definition; a leaf that is an array yields each element.
// Lookup stops early, returning false, when fn returns false. It does not allocate.
func (e *Event) Lookup(path []string, fn func(*fastjson.Value) bool) bool {
	if len(path) == 0 {
		return true
	}
	root := e.Value
	if path[0] == EnrichmentKey {
		if e.Enrichment == nil {
			return true
		}
		root, path = e.Enrichment, path[1:]
	}
	return walk(root, path, fn)
}

// Exists reports whether the path leads to at least one value (JSON null counts as present).
func (e *Event) Exists(path []string) bool {
	found := false
	e.Lookup(path, func(*fastjson.Value) bool { found = true; return false })
	return found
}

func walk(v *fastjson.Value, path []string, fn func(*fastjson.Value) bool) bool {
	for i, k := range path {
		switch v.Type() {
		case fastjson.TypeArray:
			arr, _ := v.Array()
			for _, el := range arr {
				if !walk(el, path[i:], fn) {
					return false
				}
			}
			return true
		case fastjson.TypeObject:
			v = v.Get(k)
			if v == nil {
				return true
			}
		default:
			return true
		}
	}
	if v.Type() == fastjson.TypeArray {
		arr, _ := v.Array()
		for _, el := range arr {
			if !fn(el) {
				return false
			}
		}
		return true
	}
	return fn(v)
}

// Str returns the string at a top-level or nested key path, or "" when absent or not a string.
// The result aliases the event's buffer: copy it to keep it.
func (e *Event) Str(keys ...string) []byte {
	v := e.Value.Get(keys...)
	if v == nil || v.Type() != fastjson.TypeString {
		return nil
	}
	b, _ := v.StringBytes()
	return b
}

// Header is the copy of the identifying fields of an event that outlives it.
type Header struct {
	EventID     string
	EventTime   time.Time
	EventSource string
	EventName   string
	AccountID   string
	Region      string
	SourceIP    string
	UserAgent   string
	AccessKeyID string
	ErrorCode   string
	// Actor is the normalised principal (see Actor).
	Actor string
	Pos   Position
}

// Header copies the identifying fields out of the event.
func (e *Event) Header() Header {
	h := Header{
		EventID:     string(e.Str("eventID")),
		EventSource: string(e.Str("eventSource")),
		EventName:   string(e.Str("eventName")),
		Region:      string(e.Str("awsRegion")),
		SourceIP:    string(e.Str("sourceIPAddress")),
		UserAgent:   string(e.Str("userAgent")),
		AccessKeyID: string(e.Str("userIdentity", "accessKeyId")),
		ErrorCode:   string(e.Str("errorCode")),
		Actor:       Actor(e.Value),
		Pos:         e.Pos,
	}
	h.EventTime, _ = ParseTime(e.Str("eventTime"))
	h.AccountID = string(e.Str("recipientAccountId"))
	if h.AccountID == "" {
		h.AccountID = string(e.Str("userIdentity", "accountId"))
	}
	return h
}

// ParseTime parses a CloudTrail eventTime ("2006-01-02T15:04:05Z", sometimes with fractional
// seconds or an offset).
func ParseTime(b []byte) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
