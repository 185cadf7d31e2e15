package hunt

import (
	"bufio"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
)

// TestSpillRoundTrip: every field of a match survives a run file, matches of one event come
// back sharing one header, and a truncated file is an error, not a shorter run.
func TestSpillRoundTrip(t *testing.T) {
	rules := []*detect.Rule{{Index: 0}, {Index: 1}, {Index: 2}}
	east := time.FixedZone("x", 2*3600)
	h1 := &event.Header{EventID: "e1", EventTime: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), EventSource: "iam.amazonaws.com",
		EventName: "CreateUser", AccountID: "111122223333", Region: "us-east-1", SourceIP: "198.51.100.7",
		UserAgent: "aws-cli/2", AccessKeyID: "AKIAEXAMPLE", ErrorCode: "AccessDenied", Actor: "arn:aws:iam::111122223333:user/a",
		Pos: event.Position{File: "f.json.gz", Record: 7, Line: 3}}
	h2 := &event.Header{EventID: "e2", EventTime: time.Date(2026, 1, 2, 5, 0, 0, 0, east), Pos: event.Position{File: "ü.json"}}
	h3 := &event.Header{EventID: "e3"} // no time
	in := []match{
		{rule: rules[2], hdr: h1, fields: map[string]string{"requestParameters.userName": "aws_dev1", "empty": ""}},
		{rule: rules[0], hdr: h1},
		{rule: rules[1], hdr: h2},
		{rule: rules[1], hdr: h3, fields: map[string]string{"x": "a,b"}},
	}
	r, err := spill(t.TempDir(), in) // sorts in place
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(r.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &cursor{rules: rules, r: bufio.NewReader(f), file: f}
	var got []match
	for {
		ok, err := c.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, c.cur)
	}
	if len(got) != len(in) {
		t.Fatalf("read %d matches, wrote %d", len(got), len(in))
	}
	for i := range in {
		w, g := in[i], got[i]
		if w.rule != g.rule || !w.hdr.EventTime.Equal(g.hdr.EventTime) || w.hdr.EventTime.Format(time.RFC3339Nano) != g.hdr.EventTime.Format(time.RFC3339Nano) {
			t.Errorf("match %d: rule %d time %v, want rule %d time %v", i, g.rule.Index, g.hdr.EventTime, w.rule.Index, w.hdr.EventTime)
		}
		wh, gh := *w.hdr, *g.hdr
		wh.EventTime, gh.EventTime = time.Time{}, time.Time{}
		if diff := cmp.Diff(wh, gh); diff != "" {
			t.Errorf("match %d header (-wrote +read):\n%s", i, diff)
		}
		if diff := cmp.Diff(w.fields, g.fields); diff != "" {
			t.Errorf("match %d fields (-wrote +read):\n%s", i, diff)
		}
	}
	if got[2].hdr.EventID != "e1" || got[2].hdr != got[3].hdr {
		t.Error("the two matches of e1 do not share their header after reading")
	}

	// Every truncation of the file is an error (or, at a record boundary, fewer records).
	data, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	for cut := 1; cut < len(data); cut++ {
		p := t.TempDir() + "/cut"
		if err := os.WriteFile(p, data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		cf, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		c := &cursor{rules: rules, r: bufio.NewReader(cf), file: cf}
		n := 0
		var rerr error
		for {
			ok, err := c.next()
			if err != nil {
				rerr = err
				break
			}
			if !ok {
				break
			}
			n++
		}
		cf.Close()
		if rerr == nil && n >= len(in) {
			t.Errorf("cut at %d of %d bytes: read all %d matches without an error", cut, len(data), n)
		}
	}
}
