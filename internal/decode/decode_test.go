package decode

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/valyala/fastjson"
)

// rec is what a test sees of one record.
type rec struct {
	Record int
	Line   int
	Name   string // eventName of an event
	Reason Reason // reason of a rejection
}

// collector is a Handler that records what it is given and checks the event contract.
type collector struct {
	t    testing.TB
	recs []rec
	rej  []Rejection
}

func (c *collector) Event(e *event.Event) error {
	if e.Value == nil || e.Value.Type().String() != "object" {
		c.t.Errorf("event %v: value is not an object", e.Pos)
	}
	if !bytes.HasPrefix(e.Raw, []byte("{")) || !bytes.HasSuffix(e.Raw, []byte("}")) {
		c.t.Errorf("event %v: raw = %.40q, want a JSON object", e.Pos, e.Raw)
	}
	// Every event handed over has a time, in its value and in its raw text alike.
	if _, err := event.ParseTime(e.Str("eventTime")); err != nil {
		c.t.Errorf("event %v: eventTime %q: %v", e.Pos, e.Str("eventTime"), err)
	}
	if v, err := fastjson.ParseBytes(e.Raw); err != nil {
		c.t.Errorf("event %v: raw does not parse: %v", e.Pos, err)
	} else if got, want := v.GetStringBytes("eventTime"), e.Str("eventTime"); !bytes.Equal(got, want) {
		c.t.Errorf("event %v: raw eventTime %q, value's %q", e.Pos, got, want)
	}
	c.recs = append(c.recs, rec{Record: e.Pos.Record, Line: e.Pos.Line, Name: string(e.Str("eventName"))})
	return nil
}

func (c *collector) Reject(r Rejection) {
	if r.Detail == "" {
		c.t.Errorf("rejection %v: empty detail", r.Pos)
	}
	c.recs = append(c.recs, rec{Record: r.Pos.Record, Line: r.Pos.Line, Reason: r.Reason})
	c.rej = append(c.rej, r)
}

// checkInvariant checks that every record read was handled exactly once, in order.
func checkInvariant(t testing.TB, st Stats, recs []rec) {
	t.Helper()
	if st.Read != st.Events+st.Rejected {
		t.Errorf("Read = %d, want Events %d + Rejected %d", st.Read, st.Events, st.Rejected)
	}
	if recs != nil && len(recs) != st.Read {
		t.Errorf("handler saw %d records, Read = %d", len(recs), st.Read)
	}
	for i, r := range recs {
		if r.Record != i {
			t.Errorf("record %d has index %d", i, r.Record)
			break
		}
	}
	n := 0
	for _, k := range st.ByReason {
		n += k
	}
	if n != st.Rejected {
		t.Errorf("ByReason sums to %d, Rejected = %d", n, st.Rejected)
	}
}

func decodeAll(t testing.TB, d *Decoder, r io.Reader) (Stats, []rec, []Rejection) {
	t.Helper()
	c := &collector{t: t}
	st, err := d.Decode(context.Background(), "in", r, c)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	checkInvariant(t, st, c.recs)
	return st, c.recs, c.rej
}

// testEvents returns the hand-written events in testdata/events.jsonl.
func testEvents(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(b), []byte("\n"))
}

func gz(t testing.TB, parts ...[]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, p := range parts {
		zw := gzip.NewWriter(&out)
		if _, err := zw.Write(p); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func s(x string) []byte { return []byte(x) }

func TestDecode(t *testing.T) {
	evs := testEvents(t)
	e1, e2, e3 := evs[0], evs[1], evs[2]
	names := []string{"DescribeInstances", "CreateUser", "ConsoleLogin"}
	records := join(s(`{"Records":[`), e1, s(","), e2, s(","), e3, s("]}"))
	three := func(line ...int) []rec {
		var rs []rec
		for i, n := range names {
			r := rec{Record: i, Name: n}
			if len(line) > 0 {
				r.Line = line[i]
			}
			rs = append(rs, r)
		}
		return rs
	}
	var pretty bytes.Buffer
	pretty.WriteString("{\r\n  \"Records\": [\r\n")
	for i, e := range evs {
		var b bytes.Buffer
		if err := jsonIndent(&b, e, "    ", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.Write(bytes.ReplaceAll(b.Bytes(), []byte("\n"), []byte("\r\n")))
		if i < 2 {
			pretty.WriteString(",")
		}
		pretty.WriteString("\r\n")
	}
	pretty.WriteString("  ]\r\n}\r\n")
	var prettyEvent bytes.Buffer
	if err := jsonIndent(&prettyEvent, e2, "", "\t"); err != nil {
		t.Fatal(err)
	}
	digest, err := os.ReadFile(filepath.Join("testdata", "digest.json"))
	if err != nil {
		t.Fatal(err)
	}
	big := join(s(`{"eventName":"Big","eventSource":"s3.amazonaws.com","requestParameters":{"x":"`), bytes.Repeat(s("a\\\"{["), 60000), s(`"}}`))

	tests := []struct {
		name   string
		in     []byte
		max    int
		format Format
		gzip   bool
		digest bool
		want   []rec
	}{
		{name: "records", in: records, format: FormatRecords, want: three()},
		{name: "records gzip", in: gz(t, records), format: FormatRecords, gzip: true, want: three()},
		{name: "records gzip in two members split mid-event", in: gz(t, records[:100], records[100:]), format: FormatRecords, gzip: true, want: three()},
		{name: "two gzip members, two documents", in: gz(t, records, records), format: FormatRecords, gzip: true,
			want: append(three(), rec{Record: 3, Name: names[0]}, rec{Record: 4, Name: names[1]}, rec{Record: 5, Name: names[2]})},
		{name: "records with other keys around", format: FormatRecords, want: three(),
			in: join(s(`{"version":{"a":[1,"]"]},"Records":[`), e1, s(","), e2, s(","), e3, s(`],"trailer":"}"}`))},
		{name: "records pretty with CRLF", in: pretty.Bytes(), format: FormatRecords, want: three()},
		{name: "records with BOM", in: join(s(bom), records), format: FormatRecords, want: three()},
		{name: "records empty", in: s(`{"Records": []}`), format: FormatRecords},
		{name: "records null", in: s(`{"Records": null}`), format: FormatObject, want: []rec{{Reason: ReasonNotEvent}}},
		{name: "array", in: join(s("[\n"), e1, s(",\n"), e2, s(",\n"), e3, s("\n]\n")), format: FormatArray, want: three()},
		{name: "array empty", in: s(`[ ]`), format: FormatArray},
		{name: "array trailing comma", in: join(s("["), e2, s(",]")), format: FormatArray, want: []rec{{Name: names[1]}}},
		{name: "single event", in: e2, format: FormatObject, want: []rec{{Name: names[1]}}},
		{name: "single event with newline", in: join(e2, s("\n\n")), format: FormatObject, want: []rec{{Name: names[1]}}},
		{name: "single event pretty", in: prettyEvent.Bytes(), format: FormatObject, want: []rec{{Name: names[1]}}},
		{name: "concatenated pretty events", in: join(prettyEvent.Bytes(), prettyEvent.Bytes()), format: FormatObject,
			want: []rec{{Record: 0, Name: names[1]}, {Record: 1, Name: names[1]}}},
		{name: "concatenated events on one line", in: join(e1, e2), format: FormatObject,
			want: []rec{{Record: 0, Name: names[0]}, {Record: 1, Name: names[1]}}},
		{name: "jsonl", in: join(e1, s("\n"), e2, s("\n"), e3, s("\n")), format: FormatJSONLines, want: three(1, 2, 3)},
		{name: "jsonl crlf blank lines bom no final newline", in: join(s(bom), s("\r\n"), e1, s("\r\n\r\n  \r\n"), e2, s("\r\n"), e3),
			format: FormatJSONLines, want: three(2, 5, 6)},
		{name: "jsonl gzip", in: gz(t, join(e1, s("\n"), e2, s("\n"), e3)), format: FormatJSONLines, gzip: true, want: three(1, 2, 3)},
		{name: "jsonl invalid line", in: join(e1, s("\n{\"eventName\": \"x\n"), e2, s("\n"), e3),
			format: FormatJSONLines, want: []rec{{0, 1, names[0], ""}, {1, 2, "", ReasonInvalidJSON}, {2, 3, names[1], ""}, {3, 4, names[2], ""}}},
		{name: "jsonl invalid first line", in: join(s("{\"eventName\": \"trunc\n"), e2, s("\n"), e3),
			format: FormatJSONLines, want: []rec{{0, 1, "", ReasonInvalidJSON}, {1, 2, names[1], ""}, {2, 3, names[2], ""}}},
		{name: "jsonl garbage first line", in: join(s("{,}\n"), e2, s("\n")),
			format: FormatJSONLines, want: []rec{{0, 1, "", ReasonInvalidJSON}, {1, 2, names[1], ""}}},
		{name: "jsonl wrapper and non-objects", in: join(s(`{"rule":"x","event":`), e2, s("}\n[1]\n"), e3, s("\n\"str\"\n")),
			format: FormatJSONLines, want: []rec{{0, 1, "", ReasonNotEvent}, {1, 2, "", ReasonNotEvent}, {2, 3, names[2], ""}, {3, 4, "", ReasonNotEvent}}},
		{name: "jsonl of EventBridge envelopes", format: FormatJSONLines,
			in: join(s(`{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":`), e2, s("}\n"),
				s(`{"detail-type":"AWS Console Sign In via CloudTrail","detail":`), e3, s("}\n"),
				s(`{"detail-type":"EC2 Instance State-change Notification","detail":{"state":"running"}}`+"\n"),
				s(`{"detail-type":"AWS API Call via CloudTrail","detail":{"not":"an event"}}`+"\n")),
			want: []rec{{0, 1, names[1], ""}, {1, 2, names[2], ""}, {2, 3, "", ReasonNotEvent}, {3, 4, "", ReasonNotEvent}}},
		{name: "jsonl oversized line", max: 400, in: join(e2, s("\n"), big, s("\n"), e3, s("\n")),
			format: FormatJSONLines, want: []rec{{0, 1, names[1], ""}, {1, 2, "", ReasonOversized}, {2, 3, names[2], ""}}},
		{name: "empty", in: nil, format: FormatEmpty},
		{name: "white space", in: s(" \r\n\t\n"), format: FormatEmpty},
		{name: "empty gzip", in: gz(t, nil), format: FormatEmpty, gzip: true},
		{name: "unknown format", in: s("# README\nhello\n"), format: FormatUnknown, want: []rec{{Reason: ReasonUnknownFormat}}},
		{name: "non-object elements", in: join(s(`{"Records":[1, "x\"]", null, true, [{"eventName":"n"}], {"a":{}}, {}, `), e2, s(`]}`)),
			format: FormatRecords, want: []rec{{0, 0, "", ReasonNotEvent}, {1, 0, "", ReasonNotEvent}, {2, 0, "", ReasonNotEvent},
				{3, 0, "", ReasonNotEvent}, {4, 0, "", ReasonNotEvent}, {5, 0, "", ReasonNotEvent}, {6, 0, "", ReasonNotEvent}, {7, 0, names[1], ""}}},
		{name: "invalid element keeps framing", in: join(s(`{"Records":[`), e1, s(`,{"eventName": tru, "x": 1.2.3},`), e2, s(`]}`)),
			format: FormatRecords, want: []rec{{0, 0, names[0], ""}, {1, 0, "", ReasonInvalidJSON}, {2, 0, names[1], ""}}},
		{name: "invalid JSON breaks framing", in: join(s(`{"Records":[`), e1, s(","), e2, s(" garbage, "), e3, s(`]}`)),
			format: FormatRecords, want: []rec{{0, 0, names[0], ""}, {1, 0, names[1], ""}, {2, 0, "", ReasonInvalidJSON}}},
		{name: "unterminated string", in: join(s(`{"Records":[`), e1, s(`,{"eventName":"abc}]}`)),
			format: FormatRecords, want: []rec{{0, 0, names[0], ""}, {1, 0, "", ReasonInvalidJSON}}},
		{name: "truncated after last element", in: join(s(`{"Records":[`), e1, s(`,`), e2),
			format: FormatRecords, want: []rec{{0, 0, names[0], ""}, {1, 0, names[1], ""}, {2, 0, "", ReasonInvalidJSON}}},
		{name: "truncated before closing brace", in: join(s(`{"Records":[`), e1, s(`] `)),
			format: FormatRecords, want: []rec{{0, 0, names[0], ""}, {1, 0, "", ReasonInvalidJSON}}},
		{name: "trailing garbage", in: join(records, s(`]`)),
			format: FormatRecords, want: append(three(), rec{Record: 3, Reason: ReasonInvalidJSON})},
		{name: "oversized element", max: 400, in: join(s(`{"Records":[`), e2, s(","), big, s(","), e3, s("]}")),
			format: FormatRecords, want: []rec{{0, 0, names[1], ""}, {1, 0, "", ReasonOversized}, {2, 0, names[2], ""}}},
		{name: "oversized but buffered", max: 200, in: join(s(`[`), e1, s(","), e2, s("]")),
			format: FormatArray, want: []rec{{0, 0, "", ReasonOversized}, {1, 0, names[1], ""}}},
		{name: "oversized single object", max: 400, in: big, format: FormatObject, want: []rec{{Reason: ReasonOversized}}},
		{name: "oversized member before Records", max: 400, in: join(s(`{"pad":`), big, s(`,"Records":[`), e2, s("]}")),
			format: FormatRecords, want: []rec{{Name: names[1]}}},
		{name: "digest", in: digest, format: FormatDigest, digest: true},
		{name: "digest gzip", in: gz(t, digest), format: FormatDigest, gzip: true, digest: true},
		{name: "gzip magic but garbage", in: s("\x1f\x8bnot really gzip"), format: FormatUnknown, gzip: true, want: []rec{{Reason: ReasonGzip}}},
		{name: "gzip then garbage", in: join(gz(t, records), s("junk")), format: FormatRecords, gzip: true,
			want: append(three(), rec{Record: 3, Reason: ReasonGzip})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			readers := map[string]func(io.Reader) io.Reader{
				"whole":    func(r io.Reader) io.Reader { return r },
				"one byte": iotest.OneByteReader,
				"half":     iotest.HalfReader,
			}
			for rname, wrap := range readers {
				d := New(Options{MaxEventBytes: tc.max})
				st, got, _ := decodeAll(t, d, wrap(bytes.NewReader(tc.in)))
				if st.Format != tc.format || st.Gzip != tc.gzip || st.Digest != tc.digest {
					t.Errorf("%s: format, gzip, digest = %q, %v, %v; want %q, %v, %v", rname, st.Format, st.Gzip, st.Digest, tc.format, tc.gzip, tc.digest)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s: records (-want +got):\n%s", rname, diff)
				}
			}
		})
	}
}

// jsonIndent pretty-prints src.
func jsonIndent(dst *bytes.Buffer, src []byte, prefix, indent string) error {
	return json.Indent(dst, src, prefix, indent)
}

func TestDecodeReuse(t *testing.T) {
	// One Decoder across inputs of different kinds gives the same results as fresh ones.
	evs := testEvents(t)
	inputs := [][]byte{
		gz(t, join(s(`{"Records":[`), evs[0], s(","), evs[1], s("]}"))),
		join(evs[2], s("\n"), evs[1], s("\n")),
		s("{\"Records\":[{\"eventName\":\"abc"),
		join(s("["), evs[0], s("]")),
	}
	d := New(Options{})
	for i, in := range inputs {
		_, got, _ := decodeAll(t, d, bytes.NewReader(in))
		_, want, _ := decodeAll(t, New(Options{}), bytes.NewReader(in))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("input %d: reused decoder differs (-fresh +reused):\n%s", i, diff)
		}
	}
}

func TestDecodeTruncatedGzip(t *testing.T) {
	evs := testEvents(t)
	var doc bytes.Buffer
	doc.WriteString(`{"Records":[`)
	for i := range 300 {
		if i > 0 {
			doc.WriteString(",")
		}
		doc.Write(evs[i%3])
	}
	doc.WriteString("]}")
	full := gz(t, doc.Bytes())
	for _, cut := range []int{1, 2, 5, 10, 11, 20, len(full) / 3, len(full) / 2, len(full) - 9, len(full) - 8, len(full) - 4, len(full) - 1} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			st, got, rej := decodeAll(t, New(Options{}), bytes.NewReader(full[:cut]))
			if st.Rejected != 1 {
				t.Fatalf("Rejected = %d, want 1 (%v)", st.Rejected, rej)
			}
			if cut > 1 && rej[0].Reason != ReasonGzip {
				t.Errorf("reason = %q, want %q (%s)", rej[0].Reason, ReasonGzip, rej[0].Detail)
			}
			if got[len(got)-1].Reason == "" {
				t.Errorf("last record is an event, want the rejection last")
			}
			if st.Events >= 300 && cut <= len(full)/2 {
				t.Errorf("Events = %d from a truncated stream", st.Events)
			}
		})
	}
}

func TestDecodeCorruptGzip(t *testing.T) {
	evs := testEvents(t)
	full := gz(t, join(s("["), evs[0], s(","), evs[1], s(","), evs[2], s("]")))
	for i := 12; i < len(full); i += 7 {
		bad := bytes.Clone(full)
		bad[i] ^= 0x55
		st, _, _ := decodeAll(t, New(Options{}), bytes.NewReader(bad))
		if st.Events == 3 && st.Rejected == 0 {
			t.Errorf("flipping byte %d: no rejection", i)
		}
	}
}

func TestDecodeReadError(t *testing.T) {
	evs := testEvents(t)
	doc := join(s(`{"Records":[`), evs[0], s(","), evs[1], s("]}"))
	boom := errors.New("disk on fire")
	for _, in := range [][]byte{doc, gz(t, doc)} {
		r := io.MultiReader(bytes.NewReader(in[:len(in)/2]), iotest.ErrReader(boom))
		_, _, rej := decodeAll(t, New(Options{}), r)
		if len(rej) != 1 || rej[0].Reason != ReasonRead || !strings.Contains(rej[0].Detail, boom.Error()) {
			t.Errorf("rejections = %+v, want one %q mentioning %q", rej, ReasonRead, boom)
		}
	}
}

func TestDecodeHandlerError(t *testing.T) {
	evs := testEvents(t)
	stop := errors.New("enough")
	n := 0
	h := HandlerFuncs{EventFunc: func(*event.Event) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	}}
	st, err := New(Options{}).Decode(context.Background(), "in", bytes.NewReader(join(s("["), evs[0], s(","), evs[1], s(","), evs[2], s("]"))), h)
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want %v", err, stop)
	}
	if st.Events != 2 || st.Read != 2 {
		t.Errorf("Events, Read = %d, %d; want 2, 2", st.Events, st.Read)
	}
}

func TestDecodeCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(Options{}).Decode(ctx, "in", strings.NewReader("[]"), HandlerFuncs{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want %v", err, context.Canceled)
	}
}

func TestDecodeEventView(t *testing.T) {
	// The event handed over is the exact text delivered, parsed, with its position.
	evs := testEvents(t)
	in := join(s(" [ "), evs[0], s(" ,\n"), evs[2], s("]"))
	var raws []string
	var users []string
	h := HandlerFuncs{EventFunc: func(e *event.Event) error {
		raws = append(raws, string(e.Raw))
		users = append(users, string(e.Str("userIdentity", "userName"))+"|"+string(e.Str("note")))
		if e.Pos.File != "x.json" {
			t.Errorf("Pos.File = %q", e.Pos.File)
		}
		return nil
	}}
	if _, err := New(Options{}).Decode(context.Background(), "x.json", bytes.NewReader(in), h); err != nil {
		t.Fatal(err)
	}
	want := []string{string(evs[0]), string(evs[2])}
	if diff := cmp.Diff(want, raws); diff != "" {
		t.Errorf("raw (-want +got):\n%s", diff)
	}
	wantUsers := []string{"alíce|", "|no eventVersion, emoji 😀 ✓ \\"}
	if diff := cmp.Diff(wantUsers, users); diff != "" {
		t.Errorf("decoded strings (-want +got):\n%s", diff)
	}
}

func TestDecodeHugeStream(t *testing.T) {
	// A delivery object far larger than the window, through gzip, decodes fully.
	evs := testEvents(t)
	pr, pw := io.Pipe()
	const n = 20000
	go func() {
		zw := gzip.NewWriter(pw)
		zw.Write(s(`{"Records":[`))
		for i := range n {
			if i > 0 {
				zw.Write(s(","))
			}
			zw.Write(evs[i%3])
		}
		zw.Write(s("]}"))
		zw.Close()
		pw.Close()
	}()
	st, _, _ := decodeAll(t, New(Options{MaxEventBytes: 1000}), pr)
	if st.Events != n || st.Rejected != 0 {
		t.Errorf("Events, Rejected = %d, %d; want %d, 0", st.Events, st.Rejected, n)
	}
	if cap(New(Options{MaxEventBytes: 1000}).w.buf) != 0 {
		t.Errorf("fresh decoder has a buffer")
	}
}

func TestDecodeAllocsPerEvent(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	// Allocations are per input, never per event: 1000 events cost no more than 10.
	evs := testEvents(t)
	build := func(n int) map[string][]byte {
		var recs, lines bytes.Buffer
		recs.WriteString(`{"Records":[`)
		for i := range n {
			if i > 0 {
				recs.WriteString(",")
			}
			recs.Write(evs[i%3])
			lines.Write(evs[i%3])
			lines.WriteString("\n")
		}
		recs.WriteString("]}")
		return map[string][]byte{"records": recs.Bytes(), "records gzip": gz(t, recs.Bytes()), "jsonl": lines.Bytes()}
	}
	small, large := build(10), build(1000)
	d := New(Options{})
	h := &countHandler{}
	r := bytes.NewReader(nil)
	allocs := func(in []byte) float64 {
		return testing.AllocsPerRun(20, func() {
			r.Reset(in)
			if _, err := d.Decode(context.Background(), "in", r, h); err != nil {
				t.Fatal(err)
			}
		})
	}
	for name := range small {
		a10, a1000 := allocs(small[name]), allocs(large[name])
		if a1000 > a10 {
			t.Errorf("%s: %v allocations for 1000 events, %v for 10: allocating per event", name, a1000, a10)
		}
	}
}

// TestDecodeEventBridge: an event taken out of an EventBridge envelope is the envelope's
// detail, as JSON equal to the event CloudTrail wrote, without the envelope's fields.
func TestDecodeEventBridge(t *testing.T) {
	evs := testEvents(t)
	in := join(s(`{"version":"0","detail-type":"AWS API Call via CloudTrail","account":"1","detail":`), evs[1], s("}\n"))
	var got []byte
	h := HandlerFuncs{EventFunc: func(e *event.Event) error {
		got = append([]byte(nil), e.Raw...)
		return nil
	}}
	if _, err := New(Options{}).Decode(context.Background(), "eb.jsonl", bytes.NewReader(in), h); err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("raw of the unwrapped event: %v", err)
	}
	if err := json.Unmarshal(evs[1], &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, a); diff != "" {
		t.Errorf("unwrapped event (-CloudTrail's +got):\n%s", diff)
	}
}

// TestDecodeEventTime: an event's time is its eventTime in RFC 3339; the SQL-export form is
// rewritten, @timestamp stands in for a missing or broken eventTime, and an event with
// neither is rejected as no-event-time, never timed at the zero time.
func TestDecodeEventTime(t *testing.T) {
	const base = `"eventVersion":"1.09","eventSource":"iam.amazonaws.com","eventName":"CreateUser"`
	tests := []struct {
		name      string
		fields    string // JSON members added to base
		wantTime  string // eventTime handed over; "" for a rejection
		rewritten bool   // Raw differs from the input
		timestamp bool   // counted in TimedByTimestamp
		sql       bool   // counted in EventTimeRewritten
		why       string // part of the rejection's detail
	}{
		{name: "RFC 3339 as CloudTrail writes it", fields: `"eventTime":"2026-11-20T09:12:44Z"`, wantTime: "2026-11-20T09:12:44Z"},
		{name: "fraction and offset kept", fields: `"eventTime":"2026-11-20T10:12:44.5+01:00"`, wantTime: "2026-11-20T10:12:44.5+01:00"},
		{name: "valid eventTime wins over @timestamp", fields: `"eventTime":"2026-11-20T09:12:44Z","@timestamp":"2030-01-01T00:00:00Z"`, wantTime: "2026-11-20T09:12:44Z"},
		{name: "SQL export form rewritten", fields: `"eventTime":"2025-03-26 16:43:57.000000000"`, wantTime: "2025-03-26T16:43:57Z", rewritten: true, sql: true},
		{name: "SQL export form with milliseconds", fields: `"eventTime":"2025-03-26 16:43:57.120"`, wantTime: "2025-03-26T16:43:57.12Z", rewritten: true, sql: true},
		{name: "@timestamp when eventTime is missing", fields: `"@timestamp":"2026-11-20T09:12:44.000Z"`, wantTime: "2026-11-20T09:12:44Z", rewritten: true, timestamp: true},
		{name: "@timestamp with an offset, in UTC", fields: `"@timestamp":"2026-11-20T11:12:44+02:00"`, wantTime: "2026-11-20T09:12:44Z", rewritten: true, timestamp: true},
		{name: "@timestamp in the SQL form", fields: `"@timestamp":"2026-11-20 09:12:44"`, wantTime: "2026-11-20T09:12:44Z", rewritten: true, timestamp: true},
		{name: "@timestamp when eventTime is broken", fields: `"eventTime":"yesterday","@timestamp":"2026-11-20T09:12:44Z"`, wantTime: "2026-11-20T09:12:44Z", rewritten: true, timestamp: true},
		{name: "@timestamp when eventTime is null", fields: `"eventTime":null,"@timestamp":"2026-11-20T09:12:44Z"`, wantTime: "2026-11-20T09:12:44Z", rewritten: true, timestamp: true},
		{name: "neither", fields: `"awsRegion":"us-east-1"`, why: "no eventTime and no @timestamp"},
		{name: "empty eventTime", fields: `"eventTime":""`, why: `eventTime "" is not a time and no @timestamp`},
		{name: "eventTime a number", fields: `"eventTime":1732094400`, why: "eventTime 1732094400 is not a time"},
		{name: "date only", fields: `"eventTime":"2026-11-20"`, why: "is not a time"},
		{name: "broken @timestamp", fields: `"@timestamp":"last tuesday"`, why: `no eventTime, and @timestamp "last tuesday" is not a time`},
		{name: "@timestamp epoch number", fields: `"@timestamp":1732094400000`, why: "@timestamp 1732094400000 is not a time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := s("{" + base + "," + tc.fields + "}")
			// The same event alone, in a delivery object and in JSON Lines between two others.
			for _, layout := range []struct {
				name string
				in   []byte
				at   int
			}{
				{"object", in, 0},
				{"records", join(s(`{"Records":[`), in, s("]}")), 0},
				{"jsonl", join(s(`{`+base+`,"eventTime":"2026-01-01T00:00:00Z"}`+"\n"), in, s("\n"+`{`+base+`,"eventTime":"2026-01-02T00:00:00Z"}`+"\n")), 1},
			} {
				var got []*event.Event
				var rej []Rejection
				h := HandlerFuncs{
					EventFunc: func(e *event.Event) error {
						got = append(got, &event.Event{Raw: bytes.Clone(e.Raw), Pos: e.Pos})
						return nil
					},
					RejectFunc: func(r Rejection) { rej = append(rej, r) },
				}
				st, err := New(Options{}).Decode(context.Background(), "in", bytes.NewReader(layout.in), h)
				if err != nil {
					t.Fatal(err)
				}
				if st.Read != st.Events+st.Rejected {
					t.Errorf("%s: Read %d != Events %d + Rejected %d", layout.name, st.Read, st.Events, st.Rejected)
				}
				wantTS, wantSQL := 0, 0
				if tc.timestamp {
					wantTS = 1
				}
				if tc.sql {
					wantSQL = 1
				}
				if st.TimedByTimestamp != wantTS || st.EventTimeRewritten != wantSQL {
					t.Errorf("%s: TimedByTimestamp, EventTimeRewritten = %d, %d; want %d, %d", layout.name, st.TimedByTimestamp, st.EventTimeRewritten, wantTS, wantSQL)
				}
				if tc.why != "" {
					if len(rej) != 1 || rej[0].Reason != ReasonNoEventTime || !strings.Contains(rej[0].Detail, tc.why) || rej[0].Pos.Record != layout.at {
						t.Errorf("%s: rejections %+v; want one no-event-time at record %d saying %q", layout.name, rej, layout.at, tc.why)
					}
					if st.ByReason[ReasonNoEventTime] != 1 {
						t.Errorf("%s: ByReason = %v", layout.name, st.ByReason)
					}
					continue
				}
				if len(rej) != 0 {
					t.Fatalf("%s: rejected: %+v", layout.name, rej)
				}
				ev := got[layout.at]
				v, err := fastjson.ParseBytes(ev.Raw)
				if err != nil {
					t.Fatalf("%s: raw %s: %v", layout.name, ev.Raw, err)
				}
				if et := string(v.GetStringBytes("eventTime")); et != tc.wantTime {
					t.Errorf("%s: eventTime = %q, want %q", layout.name, et, tc.wantTime)
				}
				if same := bytes.Equal(ev.Raw, in); same == tc.rewritten {
					t.Errorf("%s: raw %s rewritten = %v, want %v", layout.name, ev.Raw, !same, tc.rewritten)
				}
				// Nothing else of the event changes.
				if string(v.GetStringBytes("eventName")) != "CreateUser" || (tc.timestamp && v.Get("@timestamp") == nil) {
					t.Errorf("%s: raw %s lost fields", layout.name, ev.Raw)
				}
			}
		})
	}
}
