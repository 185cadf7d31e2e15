package hunt

import (
	"time"

	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/event"
)

// interner hands out one string per distinct byte sequence, so the headers kept for
// thousands of matches share their account, region, actor, user agent… strings instead of
// allocating them per match. It belongs to one worker; it is bounded by dropping its table
// when it grows past maxInterned (the strings already handed out stay valid).
type interner struct {
	m       map[string]string
	scratch []byte
}

const maxInterned = 1 << 16

func (in *interner) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if in.m == nil || len(in.m) >= maxInterned {
		in.m = make(map[string]string, 1024)
	}
	s := string(b)
	in.m[s] = s
	return s
}

// header is event.Header with interned strings and a fast path for CloudTrail's time format.
// It reads the event's top level in one pass instead of looking each field up (a lookup
// scans the keys from the first).
func (in *interner) header(ev *event.Event) event.Header {
	h := event.Header{Pos: ev.Pos}
	var ui *fastjson.Value
	var eventTime []byte
	str := func(v *fastjson.Value) []byte {
		if v.Type() != fastjson.TypeString {
			return nil
		}
		b, _ := v.StringBytes()
		return b
	}
	// Like a lookup, the first of repeated keys counts.
	var done uint16
	first := func(bit uint16) bool {
		if done&bit != 0 {
			return false
		}
		done |= bit
		return true
	}
	o, _ := ev.Value.Object()
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "eventID":
			if first(1 << 0) {
				h.EventID = string(str(v))
			}
		case "eventSource":
			if first(1 << 1) {
				h.EventSource = in.get(str(v))
			}
		case "eventName":
			if first(1 << 2) {
				h.EventName = in.get(str(v))
			}
		case "awsRegion":
			if first(1 << 3) {
				h.Region = in.get(str(v))
			}
		case "sourceIPAddress":
			if first(1 << 4) {
				h.SourceIP = in.get(str(v))
			}
		case "userAgent":
			if first(1 << 5) {
				h.UserAgent = in.get(str(v))
			}
		case "errorCode":
			if first(1 << 6) {
				h.ErrorCode = in.get(str(v))
			}
		case "recipientAccountId":
			if first(1 << 7) {
				h.AccountID = in.get(str(v))
			}
		case "eventTime":
			if first(1 << 8) {
				eventTime = str(v)
			}
		case "userIdentity":
			if first(1 << 9) {
				ui = v
			}
		}
	})
	if ui != nil {
		h.AccessKeyID = in.get(ui.GetStringBytes("accessKeyId"))
		h.Actor = in.actor(ev.Value, ui)
		if h.AccountID == "" {
			h.AccountID = in.get(ui.GetStringBytes("accountId"))
		}
	}
	h.EventTime = parseTime(eventTime)
	return h
}

// actor caches event.Actor by the identity fields it depends on.
func (in *interner) actor(v, ui *fastjson.Value) string {
	k := append(in.scratch[:0], ui.GetStringBytes("type")...)
	k = append(k, 0)
	k = append(k, ui.GetStringBytes("arn")...)
	k = append(k, 0)
	k = append(k, ui.GetStringBytes("sessionContext", "sessionIssuer", "arn")...)
	k = append(k, 0)
	k = append(k, ui.GetStringBytes("principalId")...)
	k = append(k, 0)
	k = append(k, ui.GetStringBytes("invokedBy")...)
	k = append(k, 0, 'a')
	in.scratch = k
	if s, ok := in.m[string(k)]; ok {
		return s
	}
	s := event.Actor(v)
	if in.m == nil || len(in.m) >= maxInterned {
		in.m = make(map[string]string, 1024)
	}
	in.m[string(k)] = s
	return s
}

// parseTime reads "2006-01-02T15:04:05Z" without allocating, and anything else RFC 3339
// through the standard parser. A bad or missing time is the zero time.
func parseTime(b []byte) time.Time {
	if len(b) == 20 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == 'Z' {
		n := func(i, j int) (int, bool) {
			v := 0
			for _, c := range b[i:j] {
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int(c-'0')
			}
			return v, true
		}
		y, ok1 := n(0, 4)
		mo, ok2 := n(5, 7)
		d, ok3 := n(8, 10)
		hh, ok4 := n(11, 13)
		mm, ok5 := n(14, 16)
		ss, ok6 := n(17, 19)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && hh < 24 && mm < 60 && ss < 61 {
			return time.Date(y, time.Month(mo), d, hh, mm, ss, 0, time.UTC)
		}
	}
	t, _ := event.ParseTime(b)
	return t
}
