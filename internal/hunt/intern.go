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

// The top-level fields a header reads (headerField).
const (
	hEventID = iota
	hEventSource
	hEventName
	hRegion
	hSourceIP
	hUserAgent
	hErrorCode
	hAccount
	hEventTime
	hUserIdentity
	hFields
)

// headerField returns the header field a top-level key holds, or -1.
func headerField(k []byte) int {
	switch string(k) {
	case "eventID":
		return hEventID
	case "eventSource":
		return hEventSource
	case "eventName":
		return hEventName
	case "awsRegion":
		return hRegion
	case "sourceIPAddress":
		return hSourceIP
	case "userAgent":
		return hUserAgent
	case "errorCode":
		return hErrorCode
	case "recipientAccountId":
		return hAccount
	case "eventTime":
		return hEventTime
	case "userIdentity":
		return hUserIdentity
	}
	return -1
}

// header is event.Header with interned strings and a fast path for CloudTrail's time format.
// It reads the event's top level in one pass instead of looking each field up (a lookup
// scans the keys from the first).
func (in *interner) header(ev *event.Event) event.Header {
	var vals [hFields]*fastjson.Value
	o, _ := ev.Value.Object()
	o.Visit(func(k []byte, v *fastjson.Value) {
		// Like a lookup, the first of repeated keys counts.
		if f := headerField(k); f >= 0 && vals[f] == nil {
			vals[f] = v
		}
	})
	str := func(f int) []byte {
		if v := vals[f]; v != nil && v.Type() == fastjson.TypeString {
			b, _ := v.StringBytes()
			return b
		}
		return nil
	}
	h := event.Header{
		EventID:     string(str(hEventID)),
		EventSource: in.get(str(hEventSource)),
		EventName:   in.get(str(hEventName)),
		Region:      in.get(str(hRegion)),
		SourceIP:    in.get(str(hSourceIP)),
		UserAgent:   in.get(str(hUserAgent)),
		ErrorCode:   in.get(str(hErrorCode)),
		AccountID:   in.get(str(hAccount)),
		EventTime:   parseTime(str(hEventTime)),
		Pos:         ev.Pos,
	}
	if ui := vals[hUserIdentity]; ui != nil {
		h.AccessKeyID = in.get(ui.GetStringBytes("accessKeyId"))
		h.Actor = in.actor(ev.Value, ui)
		if h.AccountID == "" {
			h.AccountID = in.get(ui.GetStringBytes("accountId"))
		}
	}
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
