// Package decode reads CloudTrail records out of one input stream, as AWS and common tools
// deliver them, and hands each record to a Handler either as an event or as a rejection.
//
// It reads gzip (detected by its magic bytes, concatenated members included) or plain
// text, and the formats, detected from the content: a CloudTrail delivery object
// {"Records":[...]}, a JSON array of events, JSON Lines, one event object (or several
// concatenated, pretty-printed or not), and a CloudTrail digest file, which is reported as
// such and not read as events.
//
// Decoding streams: a delivery object or an array is split into records by a byte scanner
// over a sliding window, and only each record is parsed, so memory is bounded by the largest
// record (Options.MaxEventBytes), not by the file. Nothing is lost silently: every record the
// decoder starts to read goes either to Handler.Event or to Handler.Reject, so
// Stats.Read == Stats.Events + Stats.Rejected.
//
// Every event handed on has an eventTime that parses as an RFC 3339 time, as CloudTrail
// writes it. An eventTime in the "2006-01-02 15:04:05.000" form of CloudTrail Lake, Athena
// and SQL exports is rewritten in RFC 3339 (Stats.EventTimeRewritten); exports from log
// pipelines (Elastic, OpenSearch, Logstash) that keep only their own @timestamp get it as
// their eventTime (Stats.TimedByTimestamp); an event with neither is rejected
// (ReasonNoEventTime), never timed at the zero time.
package decode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/valyala/fastjson"
)

// DefaultMaxEventBytes is the default limit on the size of one record.
const DefaultMaxEventBytes = 4 << 20

// initialWindow is the starting size of the sliding window.
const initialWindow = 256 << 10

// Options configures a Decoder.
type Options struct {
	// MaxEventBytes is the largest record accepted, in bytes of JSON text. Larger records
	// are skipped (scanned past without being held in memory) and rejected with
	// ReasonOversized. Zero or less means DefaultMaxEventBytes. A Decoder's window grows to
	// at most about twice this size.
	MaxEventBytes int
}

// Format is the layout of an input, as detected from its content.
type Format string

// The input formats.
const (
	// FormatEmpty: nothing but white space (or nothing at all).
	FormatEmpty Format = "empty"
	// FormatRecords: a CloudTrail delivery object {"Records":[...]} (other top-level keys
	// are allowed and ignored; several such objects may follow each other).
	FormatRecords Format = "records"
	// FormatArray: a JSON array of events.
	FormatArray Format = "array"
	// FormatJSONLines: one event per line; blank lines are ignored, and a bad line is
	// rejected on its own.
	FormatJSONLines Format = "jsonl"
	// FormatObject: one event object, possibly pretty-printed, or several objects
	// concatenated.
	FormatObject Format = "object"
	// FormatDigest: a CloudTrail digest file (top-level digestStartTime or logFiles). It
	// holds no events and is not read further.
	FormatDigest Format = "digest"
	// FormatUnknown: the content starts with neither '{' nor '[', or could not be read at
	// all (unreadable gzip header, read error at the start).
	FormatUnknown Format = "unknown"
)

// Stats describes one call to Decode.
type Stats struct {
	// Format is the detected layout of the input.
	Format Format
	// Gzip reports whether the input was gzip-compressed.
	Gzip bool
	// Digest reports whether the input was a CloudTrail digest file.
	Digest bool
	// Bytes is the number of (decompressed) bytes read.
	Bytes int64
	// Read is the number of records started; Read == Events + Rejected.
	Read int
	// Events is the number of records passed to Handler.Event.
	Events int
	// Rejected is the number of records passed to Handler.Reject.
	Rejected int
	// TimedByTimestamp is the number of events, among Events, that had no valid eventTime
	// and were given their @timestamp as eventTime.
	TimedByTimestamp int
	// EventTimeRewritten is the number of events, among Events, whose eventTime was in the
	// "2006-01-02 15:04:05" form of SQL exports and was rewritten in RFC 3339.
	EventTimeRewritten int
	// ByReason counts rejections by reason; nil when there were none.
	ByReason map[Reason]int
}

// Add adds the counts of o to s (Format, Gzip and Digest are left alone).
func (s *Stats) Add(o Stats) {
	s.Bytes += o.Bytes
	s.Read += o.Read
	s.Events += o.Events
	s.Rejected += o.Rejected
	s.TimedByTimestamp += o.TimedByTimestamp
	s.EventTimeRewritten += o.EventTimeRewritten
	for r, n := range o.ByReason {
		if s.ByReason == nil {
			s.ByReason = make(map[Reason]int)
		}
		s.ByReason[r] += n
	}
}

// Handler receives the records of an input, in order, from the goroutine calling Decode.
//
// The *event.Event passed to Event, and everything reachable from it, belong to the
// Decoder and are valid only until Event returns. An error returned by Event stops Decode,
// which returns it wrapped. Reject receives every record that cannot be evaluated.
type Handler interface {
	Event(e *event.Event) error
	Reject(r Rejection)
}

// HandlerFuncs adapts two functions to a Handler. A nil function ignores its records.
type HandlerFuncs struct {
	EventFunc  func(*event.Event) error
	RejectFunc func(Rejection)
}

// Event calls f.EventFunc.
func (f HandlerFuncs) Event(e *event.Event) error {
	if f.EventFunc == nil {
		return nil
	}
	return f.EventFunc(e)
}

// Reject calls f.RejectFunc.
func (f HandlerFuncs) Reject(r Rejection) {
	if f.RejectFunc != nil {
		f.RejectFunc(r)
	}
}

// Decoder decodes inputs one at a time. It keeps its buffers, gzip reader and JSON parser
// from one Decode to the next, so a worker goroutine should own one Decoder and reuse it.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	max int
	in  errReader
	br  *bufio.Reader
	gz  *gzip.Reader
	w   window
	p   fastjson.Parser
	ev  event.Event
	// unwrapped holds the text of an event taken out of an EventBridge envelope.
	unwrapped []byte
	// timed holds the text of an event given its @timestamp as eventTime; arena holds the
	// value set.
	timed []byte
	stamp []byte
	arena fastjson.Arena

	// State of the current Decode.
	h        Handler
	name     string
	st       Stats
	skipping bool  // the current record is over the limit: scan past it, keep nothing
	line0    int   // line number of the first non-blank byte
	hold     int64 // offset of a top-level key to keep while skipping, or -1
}

// New returns a Decoder configured by opts.
func New(opts Options) *Decoder {
	if opts.MaxEventBytes <= 0 {
		opts.MaxEventBytes = DefaultMaxEventBytes
	}
	return &Decoder{max: opts.MaxEventBytes}
}

// errStop ends decoding of an input after a rejection that leaves the rest unreadable.
var errStop = errors.New("input ends here")

// Decode reads the records of one input from r, calling h for each record. name is what
// positions carry as the file (a path, or "-" for standard input).
//
// Problems with the input are not errors: they are reported to h.Reject, and Decode returns
// normally (a truncated gzip stream or broken JSON framing costs one rejection at the
// position where the input broke, and ends the input). Decode returns an error only when
// h.Event returns one or ctx is done; Stats then covers the records handled so far.
func (d *Decoder) Decode(ctx context.Context, name string, r io.Reader, h Handler) (Stats, error) {
	d.h, d.name, d.st, d.skipping, d.line0, d.hold = h, name, Stats{}, false, 1, -1
	defer func() { d.h, d.ev, d.in.r = nil, event.Event{}, nil }()
	if err := ctx.Err(); err != nil {
		return d.st, fmt.Errorf("decoding %s: %w", name, err)
	}
	d.in = errReader{r: r}
	if d.br == nil {
		d.br = bufio.NewReaderSize(&d.in, 64<<10)
	} else {
		d.br.Reset(&d.in)
	}
	var src io.Reader = d.br
	head, err := d.br.Peek(2)
	if err != nil && err != io.EOF {
		d.st.Format = FormatUnknown
		d.reject(event.Position{File: name}, ReasonRead, fmt.Sprintf("reading the start of the input: %v", err))
		return d.st, nil
	}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		d.st.Gzip = true
		if d.gz == nil {
			d.gz = new(gzip.Reader)
		}
		if err := d.gz.Reset(d.br); err != nil {
			d.st.Format = FormatUnknown
			d.reject(event.Position{File: name}, d.errReason(), fmt.Sprintf("reading the gzip header: %v; nothing could be read", err))
			return d.st, nil
		}
		src = d.gz
	}
	d.w.reset(src, min(initialWindow, 2*d.max+2*minRead), 2*d.max+2*minRead)
	err = d.run(ctx)
	d.st.Bytes = d.w.base + int64(d.w.end)
	if errors.Is(err, errStop) {
		err = nil
	}
	return d.st, err
}

// errReader remembers the first error of the raw input, to tell I/O errors apart from
// gzip errors.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// errReason classifies a failed read.
func (d *Decoder) errReason() Reason {
	if d.in.err == nil && d.st.Gzip {
		return ReasonGzip
	}
	return ReasonRead
}

// reject counts and reports one rejected record at pos.
func (d *Decoder) reject(pos event.Position, reason Reason, detail string) {
	pos.Record = d.st.Read
	d.st.Read++
	d.st.Rejected++
	if d.st.ByReason == nil {
		d.st.ByReason = make(map[Reason]int)
	}
	d.st.ByReason[reason]++
	d.h.Reject(Rejection{Pos: pos, Reason: reason, Detail: detail})
}

// deliver evaluates one record: raw is its text (nil when it was skipped as oversized),
// line its line for JSON Lines, size its length in bytes.
func (d *Decoder) deliver(ctx context.Context, raw []byte, line int, size int64) error {
	if d.st.Read&255 == 255 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("decoding %s: %w", d.name, err)
		}
	}
	pos := event.Position{File: d.name, Line: line}
	if d.skipping || size > int64(d.max) {
		d.reject(pos, ReasonOversized, fmt.Sprintf("record of %d bytes is larger than the limit of %d bytes; skipped", size, d.max))
		return nil
	}
	v, err := d.p.ParseBytes(raw)
	if err != nil {
		d.reject(pos, ReasonInvalidJSON, clip(err.Error()))
		return nil
	}
	if v.Type() != fastjson.TypeObject {
		d.reject(pos, ReasonNotEvent, fmt.Sprintf("record is a JSON %s, not an object", v.Type()))
		return nil
	}
	o, _ := v.Object()
	if !isEvent(o) {
		detail := eventBridgeDetail(o)
		if detail == nil {
			d.reject(pos, ReasonNotEvent, notEventDetail(o))
			return nil
		}
		// A CloudTrail event as EventBridge delivers it (and Firehose writes it to S3): the
		// event is the envelope's "detail"; the envelope adds nothing the event lacks.
		d.unwrapped = detail.MarshalTo(d.unwrapped[:0])
		raw, v = d.unwrapped, detail
	}
	if when, fromTimestamp, ok, why := eventTime(v); !ok {
		if why != "" {
			d.reject(pos, ReasonNoEventTime, why)
			return nil
		}
		// The time found becomes the eventTime, in CloudTrail's own form, that every later
		// stage reads (rules, windows, the store, timelines).
		d.stamp = when.AppendFormat(d.stamp[:0], time.RFC3339Nano)
		d.arena.Reset()
		v.Set("eventTime", d.arena.NewStringBytes(d.stamp))
		d.timed = v.MarshalTo(d.timed[:0])
		raw = d.timed
		if fromTimestamp {
			d.st.TimedByTimestamp++
		} else {
			d.st.EventTimeRewritten++
		}
	}
	pos.Record = d.st.Read
	d.st.Read++
	d.st.Events++
	d.ev = event.Event{Raw: raw, Value: v, Pos: pos}
	if err := d.h.Event(&d.ev); err != nil {
		return fmt.Errorf("handling %s record %d: %w", d.name, pos.Record, err)
	}
	return nil
}

// eventTime checks the event's time. It returns ok when eventTime is an RFC 3339 time, as
// CloudTrail writes it. Otherwise it returns the time to write as eventTime — eventTime
// itself in the "2006-01-02 15:04:05.000" form of CloudTrail Lake, Athena and SQL exports
// (UTC), else @timestamp in either form (fromTimestamp) — or, when there is none, why.
func eventTime(v *fastjson.Value) (t time.Time, fromTimestamp, ok bool, why string) {
	et := v.Get("eventTime")
	if et != nil && et.Type() == fastjson.TypeString {
		b := et.GetStringBytes()
		if _, err := event.ParseTime(b); err == nil {
			return time.Time{}, false, true, ""
		}
		if t, err := parseSQLTime(b); err == nil {
			return t, false, false, ""
		}
	}
	problem := "no eventTime"
	if et != nil {
		problem = "eventTime " + clip(string(et.MarshalTo(nil))) + " is not a time"
	}
	ts := v.Get("@timestamp")
	if ts == nil {
		return time.Time{}, false, false, problem + " and no @timestamp"
	}
	if ts.Type() == fastjson.TypeString {
		b := ts.GetStringBytes()
		if t, err := event.ParseTime(b); err == nil {
			return t, true, false, ""
		}
		if t, err := parseSQLTime(b); err == nil {
			return t, true, false, ""
		}
	}
	return time.Time{}, false, false, problem + ", and @timestamp " + clip(string(ts.MarshalTo(nil))) + " is not a time"
}

// sqlTime is the layout of times in CloudTrail Lake, Athena and other SQL exports: RFC 3339
// with a space for the T, no zone (UTC), and optional fractional seconds.
const sqlTime = "2006-01-02 15:04:05.999999999"

func parseSQLTime(b []byte) (time.Time, error) {
	return time.ParseInLocation(sqlTime, string(b), time.UTC)
}

// isEvent reports whether an object is taken for a CloudTrail event: it has one of
// eventVersion, eventSource, eventName.
func isEvent(o *fastjson.Object) bool {
	return o.Get("eventVersion") != nil || o.Get("eventSource") != nil || o.Get("eventName") != nil
}

// eventBridgeDetail returns the CloudTrail event inside an EventBridge envelope
// ({"detail-type": "AWS API Call via CloudTrail", "detail": {event}, ...}: also "AWS
// Console Sign In via CloudTrail" and "AWS Service Event via CloudTrail"), or nil.
func eventBridgeDetail(o *fastjson.Object) *fastjson.Value {
	dt := o.Get("detail-type")
	if dt == nil || !strings.HasSuffix(string(dt.GetStringBytes()), "via CloudTrail") {
		return nil
	}
	detail := o.Get("detail")
	if detail == nil || detail.Type() != fastjson.TypeObject {
		return nil
	}
	if do, _ := detail.Object(); !isEvent(do) {
		return nil
	}
	return detail
}

// notEventDetail explains why an object is not taken for a CloudTrail event.
func notEventDetail(o *fastjson.Object) string {
	const none = "object has none of eventVersion, eventSource, eventName"
	if in := o.Get("event"); in != nil && in.Type() == fastjson.TypeObject {
		if in.Exists("eventVersion") || in.Exists("eventSource") || in.Exists("eventName") {
			return none + `: a wrapper whose "event" field holds the event`
		}
		return none + `: a wrapper whose "event" field holds an object that has none of them either`
	}
	if rs := o.Get("Records"); rs != nil && rs.Type() == fastjson.TypeArray {
		return none + `: a CloudTrail delivery object inside JSON Lines or an array`
	}
	var keys []byte
	n := 0
	o.Visit(func(k []byte, _ *fastjson.Value) {
		if n++; n <= 6 {
			if len(keys) > 0 {
				keys = append(keys, ", "...)
			}
			keys = append(keys, k...)
		}
	})
	if n == 0 {
		return none + " (empty object)"
	}
	if n > 6 {
		keys = append(keys, ", ..."...)
	}
	return fmt.Sprintf("%s (keys: %s)", none, keys)
}

// clip shortens a detail message.
func clip(s string) string {
	const n = 300
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
