package decode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/trailhound/trailhound/internal/event"
)

// The scanner below finds the extent of each record without parsing it: it tracks only
// strings, escapes and nesting depth, over the sliding window. Only the top level of an
// object is read key by key, to find "Records" (and the keys of a digest file).

// run detects the format from the first value and reads the input.
func (d *Decoder) run(ctx context.Context) error {
	c, ok := d.skipLeading()
	if !ok {
		if d.w.err != nil {
			return d.broken(0, "at the start of the input")
		}
		d.st.Format = FormatEmpty
		return nil
	}
	if c != '{' && c != '[' {
		d.st.Format = FormatUnknown
		w := &d.w
		d.reject(event.Position{File: d.name}, ReasonUnknownFormat,
			fmt.Sprintf("input starts with %q, not with '{' or '['; nothing of it was read", w.buf[w.pos:min(w.pos+24, w.end)]))
		return nil
	}
	for first := true; ; first = false {
		var err error
		switch c {
		case '[':
			if first {
				d.st.Format = FormatArray
			}
			d.w.pos++
			err = d.elements(ctx)
		case '{':
			err = d.object(ctx, first)
		default:
			err = d.record(ctx, "top-level value")
		}
		if err != nil {
			return err
		}
		if c, ok = d.skipWS(false); !ok {
			if d.w.err != nil {
				return d.broken(0, "after the last complete record")
			}
			return nil
		}
	}
}

// bom is the UTF-8 byte order mark.
const bom = "\xef\xbb\xbf"

// skipLeading skips a UTF-8 byte order mark and white space, counting lines.
func (d *Decoder) skipLeading() (byte, bool) {
	w := &d.w
	for w.end < len(bom) && w.fill() {
	}
	if bytes.HasPrefix(w.buf[:w.end], []byte(bom)) {
		w.pos = len(bom)
	}
	for {
		for ; w.pos < w.end; w.pos++ {
			switch c := w.buf[w.pos]; c {
			case '\n':
				d.line0++
			case ' ', '\t', '\r':
			default:
				return c, true
			}
		}
		w.start = w.pos
		if !d.more() {
			return 0, false
		}
	}
}

// skipWS skips JSON white space and returns the next byte. keep says whether the bytes
// skipped belong to the value being read (and so stay in the window).
func (d *Decoder) skipWS(keep bool) (byte, bool) {
	w := &d.w
	for {
		for ; w.pos < w.end; w.pos++ {
			if c := w.buf[w.pos]; c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
				return c, true
			}
		}
		if !keep {
			w.start = w.pos
		}
		if !d.more() {
			return 0, false
		}
	}
}

// maxKeyHold is how much of a top-level key is kept while its object is being skipped.
const maxKeyHold = 64

// more reads more input. Once the bytes kept for the current record exceed the limit, the
// record is skipped: from then on nothing is kept.
func (d *Decoder) more() bool {
	w := &d.w
	if !d.skipping && w.end-w.start > d.max {
		d.skipping = true
	}
	if d.skipping {
		if i := w.idx(d.hold); d.hold >= 0 && i >= 0 && w.pos-i <= maxKeyHold {
			w.start = i
		} else {
			w.start = w.pos
		}
	}
	return w.fill()
}

// scanValue moves past the JSON value starting at w.pos. It reports false when the input
// ends or fails inside the value, or when no value starts there.
func (d *Decoder) scanValue() bool {
	w := &d.w
	depth, inStr, esc, lit := 0, false, false, false
	switch w.buf[w.pos] {
	case '{', '[':
		depth = 1
	case '"':
		inStr = true
	case ',', ':', ']', '}':
		return false
	default:
		lit = true
	}
	w.pos++
	for {
		b := w.buf[:w.end]
		i := w.pos
		for i < len(b) {
			c := b[i]
			switch {
			case inStr:
				// Fast path through the body of the string.
				if c != '"' && c != '\\' {
					j := bytes.IndexByte(b[i:], '"')
					if j < 0 {
						j = len(b) - i
					}
					if k := bytes.IndexByte(b[i:i+j], '\\'); k >= 0 {
						j = k
					}
					if i += j; i == len(b) {
						goto refill
					}
					c = b[i]
				}
				if c == '\\' {
					if i += 2; i > len(b) {
						esc = true
						goto refill
					}
					continue
				}
				inStr = false
				if depth == 0 {
					w.pos = i + 1
					return true
				}
			case lit:
				if isDelim(c) {
					w.pos = i
					return true
				}
			default:
				switch c {
				case '"':
					inStr = true
				case '{', '[':
					depth++
				case '}', ']':
					if depth--; depth == 0 {
						w.pos = i + 1
						return true
					}
				}
			}
			i++
		}
	refill:
		w.pos = min(i, len(b))
		if !d.more() {
			return lit && w.eof && w.err == nil
		}
		if esc {
			// The byte after a backslash at the end of the last read.
			esc = false
			w.pos++
		}
	}
}

func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ':', ']', '}', '[', '{', '"':
		return true
	}
	return false
}

// record reads one record (an array element or a top-level value) and delivers it.
func (d *Decoder) record(ctx context.Context, what string) error {
	w := &d.w
	w.start = w.pos
	d.skipping = false
	at := w.abs(w.pos)
	if !d.scanValue() {
		return d.broken(0, "in a "+what+" starting at byte "+itoa(at))
	}
	var raw []byte
	if !d.skipping {
		raw = w.buf[w.start:w.pos]
	}
	err := d.deliver(ctx, raw, 0, w.abs(w.pos)-at)
	w.start = w.pos
	d.skipping = false
	return err
}

// elements reads the elements of an array whose '[' was just passed.
func (d *Decoder) elements(ctx context.Context) error {
	w := &d.w
	at := " in the array opened at byte " + itoa(w.abs(w.pos-1))
	c, ok := d.skipWS(false)
	for ok && c != ']' {
		if err := d.record(ctx, "array element"); err != nil {
			return err
		}
		if c, ok = d.skipWS(false); !ok || c == ']' {
			break
		}
		if c != ',' {
			return d.broken(0, "after an element"+at)
		}
		w.pos++
		c, ok = d.skipWS(false)
	}
	if !ok {
		return d.broken(0, at)
	}
	w.pos++
	w.start = w.pos
	return nil
}

// object reads a top-level object: a delivery object (whose Records are streamed), a digest
// file, or a record. For the first value of the input it also tells JSON Lines apart.
func (d *Decoder) object(ctx context.Context, first bool) error {
	w := &d.w
	w.start = w.pos
	d.skipping = false
	objAt := w.abs(w.pos)
	if first {
		d.st.Format = FormatObject
	}
	w.pos++
	records := false
	fail := func() error {
		if first && !records && d.jsonlAfterFailure(objAt) {
			return d.lines(ctx, objAt)
		}
		where := "in the object starting at byte " + itoa(objAt)
		if records {
			where = "in the delivery object after its Records array"
		}
		return d.broken(0, where)
	}
	for n := 0; ; n++ {
		c, ok := d.skipWS(true)
		if !ok {
			return fail()
		}
		if c == '}' && n == 0 {
			w.pos++
			break
		}
		if c != '"' {
			return fail()
		}
		keyAt := w.abs(w.pos) + 1
		d.hold = keyAt
		ok = d.scanValue()
		d.hold = -1
		if !ok {
			return fail()
		}
		// Look at the key now: reading on may discard it.
		isRecords, isDigest := false, false
		if i := w.idx(keyAt); i >= 0 {
			key := w.buf[i : w.pos-1]
			isRecords = string(key) == "Records"
			isDigest = string(key) == "digestStartTime" || string(key) == "logFiles"
		}
		if c, ok = d.skipWS(true); !ok || c != ':' {
			return fail()
		}
		w.pos++
		if c, ok = d.skipWS(true); !ok {
			return fail()
		}
		switch {
		case c == '[' && isRecords:
			records = true
			if first {
				d.st.Format = FormatRecords
			}
			w.pos++
			if err := d.elements(ctx); err != nil {
				return err
			}
		case first && !records && isDigest:
			d.st.Format = FormatDigest
			d.st.Digest = true
			return errStop
		default:
			if !d.scanValue() {
				return fail()
			}
		}
		if c, ok = d.skipWS(true); !ok {
			return fail()
		}
		if c == '}' {
			w.pos++
			break
		}
		if c != ',' {
			return fail()
		}
		w.pos++
	}
	if records {
		w.start = w.pos
		d.skipping = false
		return nil
	}
	if first && d.jsonl(objAt) {
		return d.lines(ctx, objAt)
	}
	var raw []byte
	if !d.skipping {
		raw = w.buf[w.idx(objAt):w.pos]
	}
	err := d.deliver(ctx, raw, 0, w.abs(w.pos)-objAt)
	w.start = w.pos
	d.skipping = false
	return err
}

// jsonl reports whether the complete first object, which starts at objAt and ends at
// w.pos, begins JSON Lines: it sits on one line, and more follows on later lines.
// It leaves w.pos where it was.
func (d *Decoder) jsonl(objAt int64) bool {
	w := &d.w
	i := w.idx(objAt)
	if d.skipping || i < 0 || w.pos-i > d.max || bytes.IndexByte(w.buf[i:w.pos], '\n') >= 0 {
		return false
	}
	end := w.abs(w.pos)
	defer func() { w.pos = w.idx(end) }()
	newline := false
	for j := w.pos; ; j++ {
		if j == w.end {
			at := w.abs(j)
			if !w.fill() {
				return false
			}
			j = w.idx(at)
		}
		switch c := w.buf[j]; c {
		case '\n':
			newline = true
		case ' ', '\t', '\r':
		default:
			return newline
		}
	}
}

// jsonlAfterFailure reports whether a first object that failed to scan is the first line
// of JSON Lines: a later line starts with '{'.
func (d *Decoder) jsonlAfterFailure(objAt int64) bool {
	w := &d.w
	i := w.idx(objAt)
	if d.skipping || i < 0 || w.pos-i > d.max {
		return false
	}
	newline := false
	for j := i; ; j++ {
		if j == w.end {
			at := w.abs(j)
			if !w.fill() {
				return false
			}
			j = w.idx(at)
		}
		switch c := w.buf[j]; {
		case c == '\n':
			newline = true
		case !newline || c == ' ' || c == '\t' || c == '\r':
		default:
			return c == '{'
		}
	}
}

// lines reads JSON Lines from offset at, which starts line d.line0.
func (d *Decoder) lines(ctx context.Context, at int64) error {
	w := &d.w
	d.st.Format = FormatJSONLines
	d.skipping = false
	w.pos = w.idx(at)
	w.start = w.pos
	for line := d.line0; ; line++ {
		lineAt := w.abs(w.start)
		for {
			if j := bytes.IndexByte(w.buf[w.pos:w.end], '\n'); j >= 0 {
				w.pos += j
				break
			}
			w.pos = w.end
			if !d.more() {
				if w.err != nil || !w.eof {
					return d.broken(line, "in line "+itoa(int64(line)))
				}
				return d.line(ctx, line, lineAt)
			}
		}
		if err := d.line(ctx, line, lineAt); err != nil {
			return err
		}
		w.pos++
		w.start = w.pos
		d.skipping = false
	}
}

// line delivers the line from w.start to w.pos, unless it is blank.
func (d *Decoder) line(ctx context.Context, line int, at int64) error {
	w := &d.w
	size := w.abs(w.pos) - at
	var raw []byte
	if !d.skipping {
		raw = bytes.TrimSpace(w.buf[w.start:w.pos])
		if len(raw) == 0 {
			return nil
		}
	}
	return d.deliver(ctx, raw, line, size)
}

// broken rejects the rest of an input that cannot be read past the current position, and
// ends decoding. where says what was being read.
func (d *Decoder) broken(line int, where string) error {
	w := &d.w
	pos := event.Position{File: d.name, Line: line}
	at := w.abs(w.pos)
	lost := fmt.Sprintf("after %d records; the rest of the input is lost", d.st.Read)
	switch {
	case w.err != nil:
		reason := d.errReason()
		what := fmt.Sprintf("reading failed (%v)", w.err)
		switch {
		case reason == ReasonGzip && errors.Is(w.err, io.ErrUnexpectedEOF):
			what = "gzip stream is truncated"
		case reason == ReasonGzip:
			what = fmt.Sprintf("gzip stream is corrupt (%v)", w.err)
		}
		d.reject(pos, reason, fmt.Sprintf("%s at decompressed byte %d, %s, %s", what, w.abs(w.end), where, lost))
	case w.pos >= w.end && w.eof:
		d.reject(pos, ReasonInvalidJSON, fmt.Sprintf("input ends at byte %d %s (truncated JSON), %s", at, where, lost))
	case w.pos >= w.end:
		d.reject(pos, ReasonInvalidJSON, fmt.Sprintf("no room to read past byte %d %s, %s", at, where, lost))
	default:
		d.reject(pos, ReasonInvalidJSON, fmt.Sprintf("unexpected %q at byte %d %s, %s", w.buf[w.pos], at, where, lost))
	}
	return errStop
}

func itoa(n int64) string { return fmt.Sprint(n) }
