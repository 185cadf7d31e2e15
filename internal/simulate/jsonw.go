package simulate

import (
	"strconv"
	"time"
)

// jw appends JSON to a byte slice without reflection. It inserts commas itself: after a
// value or a closing bracket the next key or value is preceded by one.
type jw struct {
	b     []byte
	comma bool
}

// reset empties the writer and returns it, for one request or response object.
func (w *jw) reset() *jw { w.b, w.comma = w.b[:0], false; return w }

func (w *jw) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
}

// o opens an object: as a value when k is "", else as the value of key k.
func (w *jw) o(k string) *jw {
	w.key(k)
	w.b = append(w.b, '{')
	w.comma = false
	return w
}

// a opens an array (see o).
func (w *jw) a(k string) *jw {
	w.key(k)
	w.b = append(w.b, '[')
	w.comma = false
	return w
}

// c closes the innermost object; ca the innermost array.
func (w *jw) c() *jw  { w.b = append(w.b, '}'); w.comma = true; return w }
func (w *jw) ca() *jw { w.b = append(w.b, ']'); w.comma = true; return w }

func (w *jw) key(k string) {
	w.sep()
	w.comma = false
	if k != "" {
		w.b = appendString(w.b, k)
		w.b = append(w.b, ':')
	}
}

// s writes a string member (or an array element when k is "").
func (w *jw) s(k, v string) *jw {
	w.key(k)
	w.b = appendString(w.b, v)
	w.comma = true
	return w
}

// n writes a number member.
func (w *jw) n(k string, v int64) *jw {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
	w.comma = true
	return w
}

// t writes a boolean member.
func (w *jw) t(k string, v bool) *jw {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
	w.comma = true
	return w
}

// raw writes already encoded JSON as a member.
func (w *jw) raw(k string, v []byte) *jw {
	w.key(k)
	w.b = append(w.b, v...)
	w.comma = true
	return w
}

// null writes a null member.
func (w *jw) null(k string) *jw {
	w.key(k)
	w.b = append(w.b, "null"...)
	w.comma = true
	return w
}

// ts writes a CloudTrail timestamp member (2006-01-02T15:04:05Z).
func (w *jw) ts(k string, t time.Time) *jw {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendTime(w.b, t)
	w.b = append(w.b, '"')
	w.comma = true
	return w
}

// appendString appends s as a JSON string. Generated values rarely need escaping, so the
// common case is one copy.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendTime appends t in UTC as 2006-01-02T15:04:05Z.
func appendTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T')
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':')
	return append(b, byte('0'+s/10), byte('0'+s%10), 'Z')
}
