package detect

import (
	"bytes"
	"strconv"
	"time"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/match"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/valyala/fastjson"
)

// node is one compiled piece of a condition.
type node interface {
	eval(m *Matcher, ev *event.Event) bool
}

type constNode bool

func (n constNode) eval(*Matcher, *event.Event) bool { return bool(n) }

type notNode struct{ x node }

func (n notNode) eval(m *Matcher, ev *event.Event) bool { return !n.x.eval(m, ev) }

type andNode []node

func (n andNode) eval(m *Matcher, ev *event.Event) bool {
	for _, t := range n {
		if !t.eval(m, ev) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) eval(m *Matcher, ev *event.Event) bool {
	for _, t := range n {
		if t.eval(m, ev) {
			return true
		}
	}
	return false
}

type existsNode struct {
	path []string
	want bool
}

func (n existsNode) eval(_ *Matcher, ev *event.Event) bool { return ev.Exists(n.path) == n.want }

// nullNode matches when the field is absent or JSON null.
type nullNode struct{ path []string }

func (n nullNode) eval(_ *Matcher, ev *event.Event) bool {
	other := false
	ev.Lookup(n.path, func(v *fastjson.Value) bool {
		if v.Type() != fastjson.TypeNull {
			other = true
			return false
		}
		return true
	})
	return !other
}

// fieldNode matches a field against its values: any value (default) or all of them.
type fieldNode struct {
	path []string
	vals []valueMatcher
	all  bool
}

func (n *fieldNode) eval(m *Matcher, ev *event.Event) bool {
	if !n.all {
		found := false
		ev.Lookup(n.path, func(v *fastjson.Value) bool {
			for _, vm := range n.vals {
				if vm.match(m, ev, v) {
					found = true
					return false
				}
			}
			return true
		})
		return found
	}
	for _, vm := range n.vals {
		found := false
		ev.Lookup(n.path, func(v *fastjson.Value) bool {
			if vm.match(m, ev, v) {
				found = true
				return false
			}
			return true
		})
		if !found {
			return false
		}
	}
	return true
}

// keywordNode matches values anywhere in the event.
type keywordNode struct {
	vals []valueMatcher
	all  bool
}

func (n *keywordNode) eval(m *Matcher, ev *event.Event) bool {
	if !n.all {
		for _, vm := range n.vals {
			if anyLeaf(ev.Value, func(v *fastjson.Value) bool { return vm.match(m, ev, v) }) {
				return true
			}
		}
		return false
	}
	for _, vm := range n.vals {
		if !anyLeaf(ev.Value, func(v *fastjson.Value) bool { return vm.match(m, ev, v) }) {
			return false
		}
	}
	return true
}

// anyLeaf reports whether fn holds for some scalar anywhere below v.
func anyLeaf(v *fastjson.Value, fn func(*fastjson.Value) bool) bool {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		found := false
		o.Visit(func(_ []byte, c *fastjson.Value) {
			if !found && anyLeaf(c, fn) {
				found = true
			}
		})
		return found
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, c := range a {
			if anyLeaf(c, fn) {
				return true
			}
		}
		return false
	}
	return fn(v)
}

// valueMatcher tests one JSON value of the event against one rule value.
type valueMatcher interface {
	match(m *Matcher, ev *event.Event, v *fastjson.Value) bool
}

// text returns the bytes a string pattern compares against: a string's content, or the
// compact JSON text of a number, object or array (so that requestParameters|contains: x
// searches the whole object, as rules written for flattened logs expect). ok is false for
// null.
func (m *Matcher) text(v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return b, true
	case fastjson.TypeNumber, fastjson.TypeObject, fastjson.TypeArray:
		m.scratch = v.MarshalTo(m.scratch[:0])
		return m.scratch, true
	case fastjson.TypeTrue:
		return trueText, true
	case fastjson.TypeFalse:
		return falseText, true
	}
	return nil, false
}

var (
	trueText  = []byte("true")
	falseText = []byte("false")
)

type stringValue struct{ s *match.String }

func (s stringValue) match(m *Matcher, _ *event.Event, v *fastjson.Value) bool {
	b, ok := m.text(v)
	return ok && s.s.Match(b)
}

type setValue struct{ s *match.Set }

func (s setValue) match(m *Matcher, _ *event.Event, v *fastjson.Value) bool {
	b, ok := m.text(v)
	return ok && s.s.Match(b)
}

// bytesMatcher is what regexes, CIDR lists and match.Any provide.
type bytesMatcher interface{ Match([]byte) bool }

type bytesValue struct{ b bytesMatcher }

func (s bytesValue) match(m *Matcher, _ *event.Event, v *fastjson.Value) bool {
	b, ok := m.text(v)
	return ok && s.b.Match(b)
}

type numberValue struct{ n *match.Numeric }

func (s numberValue) match(m *Matcher, _ *event.Event, v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeNumber, fastjson.TypeString:
		b, _ := m.text(v)
		return s.n.Match(b)
	}
	return false
}

type boolValue bool

func (s boolValue) match(m *Matcher, _ *event.Event, v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeTrue:
		return bool(s)
	case fastjson.TypeFalse:
		return !bool(s)
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if bool(s) {
			return bytes.EqualFold(b, trueText)
		}
		return bytes.EqualFold(b, falseText)
	}
	return false
}

type nullValue struct{}

func (nullValue) match(_ *Matcher, _ *event.Event, v *fastjson.Value) bool {
	return v.Type() == fastjson.TypeNull
}

// fieldRefValue compares the field with the values of another field of the same event.
type fieldRefValue struct {
	path  []string
	op    match.Op
	cased bool
}

func (f fieldRefValue) match(m *Matcher, ev *event.Event, v *fastjson.Value) bool {
	a, ok := m.text(v)
	if !ok {
		return false
	}
	if t := v.Type(); t != fastjson.TypeString && t != fastjson.TypeTrue && t != fastjson.TypeFalse {
		// m.text reuses m.scratch for JSON text; keep a in the second buffer.
		m.ref = append(m.ref[:0], a...)
		a = m.ref
	}
	found := false
	ev.Lookup(f.path, func(o *fastjson.Value) bool {
		b, ok := m.text(o)
		if !ok {
			return true
		}
		if compareRef(f.op, a, b, f.cased) {
			found = true
			return false
		}
		return true
	})
	return found
}

func compareRef(op match.Op, a, b []byte, cased bool) bool {
	eq := bytes.EqualFold
	if cased {
		eq = bytes.Equal
	}
	switch op {
	case match.Contains:
		if cased {
			return bytes.Contains(a, b)
		}
		return bytes.Contains(bytes.ToLower(a), bytes.ToLower(b))
	case match.StartsWith:
		return len(a) >= len(b) && eq(a[:len(b)], b)
	case match.EndsWith:
		return len(a) >= len(b) && eq(a[len(a)-len(b):], b)
	}
	return eq(a, b)
}

// timeValue reads the field as a time and compares one of its parts.
type timeValue struct {
	part sigma.Modifier
	num  *match.Numeric
}

func (t timeValue) match(m *Matcher, _ *event.Event, v *fastjson.Value) bool {
	if v.Type() != fastjson.TypeString {
		return false
	}
	b, _ := v.StringBytes()
	ts, err := event.ParseTime(b)
	if err != nil {
		return false
	}
	var n int
	switch t.part {
	case sigma.ModMinute:
		n = ts.Minute()
	case sigma.ModHour:
		n = ts.Hour()
	case sigma.ModDay:
		n = ts.Day()
	case sigma.ModWeek:
		_, n = ts.ISOWeek()
	case sigma.ModMonth:
		n = int(ts.Month())
	case sigma.ModYear:
		n = ts.Year()
	}
	m.scratch = strconv.AppendInt(m.scratch[:0], int64(n), 10)
	return t.num.Match(m.scratch)
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

var _ = time.UTC
