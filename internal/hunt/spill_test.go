package hunt

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
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
	c := &cursor{rules: rules, r: bufio.NewReader(f), file: f, in: &interner{}}
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
		c := &cursor{rules: rules, r: bufio.NewReader(cf), file: cf, in: &interner{}}
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

// TestMergeFanIn: merging many runs a few at a time (through intermediate run files) gives
// the same matches, in the same order and deduplicated, as merging them all at once, and
// leaves no file behind.
func TestMergeFanIn(t *testing.T) {
	rules := []*detect.Rule{{Index: 0}, {Index: 1}, {Index: 2}}
	r := rand.New(rand.NewPCG(3, 4))
	var all [][]match
	for range 23 {
		var ms []match
		for range 1 + r.IntN(40) {
			h := &event.Header{EventID: fmt.Sprintf("e%03d", r.IntN(300)), EventTime: time.Unix(int64(r.IntN(1000)), 0).UTC(),
				Actor: fmt.Sprintf("arn:aws:iam::1:user/u%d", r.IntN(5))}
			for k := range 1 + r.IntN(2) {
				ms = append(ms, match{rule: rules[(k+r.IntN(3))%3], hdr: h, fields: map[string]string{"f": h.Actor}})
			}
		}
		all = append(all, ms)
	}
	read := func(fanIn int) ([]string, string) {
		dir := t.TempDir()
		var runs []run
		for i, ms := range all {
			if i%5 == 0 {
				runs = append(runs, run{mem: slices.Clone(ms)})
				continue
			}
			rr, err := spill(dir, slices.Clone(ms))
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, rr)
		}
		var got []string
		err := mergeFanIn(runs, rules, dir, fanIn, func(m *match) error {
			got = append(got, fmt.Sprintf("%s %s %d %s", m.hdr.EventTime.Format(time.RFC3339), m.hdr.EventID, m.rule.Index, m.fields["f"]))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, dir
	}
	want, _ := read(100)
	for _, fanIn := range []int{2, 3, 7} {
		got, dir := read(fanIn)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("fan-in %d (-all at once +staged):\n%s", fanIn, diff)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("fan-in %d: %d files left", fanIn, len(left))
		}
	}
	for i := 1; i < len(want); i++ {
		if want[i] == want[i-1] {
			t.Fatalf("duplicate match %q", want[i])
		}
	}
}

// FuzzRunFile: a damaged run file (a full disk, a stray write) gives an error or matches,
// never a panic or an endless read.
func FuzzRunFile(f *testing.F) {
	rules := []*detect.Rule{{Index: 0}, {Index: 1}}
	h := &event.Header{EventID: "e1", EventTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: "arn:aws:iam::1:user/a"}
	var buf bytes.Buffer
	rw := runWriter{w: bufio.NewWriter(&buf)}
	for _, m := range []match{{rule: rules[0], hdr: h, fields: map[string]string{"f": "v"}}, {rule: rules[1], hdr: h}} {
		if err := rw.write(&m); err != nil {
			f.Fatal(err)
		}
	}
	rw.w.Flush()
	f.Add(buf.Bytes())
	f.Add([]byte{0, 1})
	f.Add([]byte{5})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &cursor{rules: rules, r: bufio.NewReader(bytes.NewReader(data)), in: &interner{}}
		for n := 0; ; n++ {
			ok, err := c.next()
			if err != nil || !ok {
				return
			}
			if c.cur.rule == nil || c.cur.hdr == nil {
				t.Fatalf("record %d: match without rule or header", n)
			}
			if n > len(data) {
				t.Fatalf("more records (%d) than bytes (%d)", n, len(data))
			}
		}
	})
}

// TestCompareMatch: the short-circuiting comparison orders matches exactly like the plain
// key-by-key one (time, eventID, rule, file, record, line), with headers shared by the
// matches of one event and equal copies of one event read from several places.
func TestCompareMatch(t *testing.T) {
	want := func(a, b *match) int {
		ha, hb := a.hdr, b.hdr
		for _, c := range []int{ha.EventTime.Compare(hb.EventTime), strings.Compare(ha.EventID, hb.EventID), a.rule.Index - b.rule.Index,
			strings.Compare(ha.Pos.File, hb.Pos.File), ha.Pos.Record - hb.Pos.Record, ha.Pos.Line - hb.Pos.Line} {
			if c != 0 {
				return sign(c)
			}
		}
		return 0
	}
	r := rand.New(rand.NewPCG(1, 2))
	rules := []*detect.Rule{{Index: 0}, {Index: 1}, {Index: 2}}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var hdrs []*event.Header
	for range 40 {
		hdrs = append(hdrs, &event.Header{
			EventTime: t0.Add(time.Duration(r.IntN(3)) * time.Second),
			EventID:   fmt.Sprint("e", r.IntN(3)),
			Pos:       event.Position{File: fmt.Sprint("f", r.IntN(2)), Record: r.IntN(3), Line: r.IntN(2)},
		})
	}
	var ms []match
	for range 200 {
		ms = append(ms, match{rule: rules[r.IntN(len(rules))], hdr: hdrs[r.IntN(len(hdrs))]})
	}
	for i := range ms {
		for j := range ms {
			if got, w := sign(compareMatch(&ms[i], &ms[j])), want(&ms[i], &ms[j]); got != w {
				t.Fatalf("compareMatch(%+v %+v, %+v %+v) = %d, want %d", *ms[i].hdr, ms[i].rule.Index, *ms[j].hdr, ms[j].rule.Index, got, w)
			}
		}
	}
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}
