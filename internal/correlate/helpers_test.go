package correlate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/event"
)

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// in is one hit of a test stream: rule, offset from t0, event id and "field=value" pairs.
type in struct {
	rule   string
	at     time.Duration
	id     string
	fields map[string]string
}

func h(rule string, at time.Duration, id string, kv ...string) in {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return in{rule, at, id, m}
}

func (x in) hit() Hit {
	at := t0.Add(x.at)
	return Hit{Rule: x.rule, Time: at, EventID: x.id, Header: &event.Header{
		EventID: x.id, EventTime: at, EventName: x.rule, Actor: x.fields["user"], SourceIP: x.fields["ip"],
	}}
}

func (x in) fieldFunc() FieldFunc {
	return func(name string) string { return x.fields[name] }
}

// run observes the stream in order, then flushes, and returns every alert.
func run(t testing.TB, cfg Config, stream []in) ([]Alert, *Engine) {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var out []Alert
	for _, x := range stream {
		out = append(out, e.Observe(x.hit(), x.fieldFunc())...)
	}
	out = append(out, e.Flush()...)
	return out, e
}

// summary is a one-line form of an alert for table tests.
func summary(a Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q %v..%v n=%d f=%d ids=%s", a.CorrelationID, a.Group,
		a.First.Sub(t0), a.Last.Sub(t0), a.Count, a.Firings, strings.Join(a.EventIDs, ","))
	if a.Dropped > 0 {
		fmt.Fprintf(&b, " dropped=%d", a.Dropped)
	}
	if len(a.Values) > 0 {
		fmt.Fprintf(&b, " vals=%q", a.Values)
	}
	if a.Type == BaselineCount {
		fmt.Fprintf(&b, " base=%d peak=%d", a.Baseline, a.Peak)
	}
	return b.String()
}

func summaries(as []Alert) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, summary(a))
	}
	return out
}
