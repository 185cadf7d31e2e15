package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestDedupKeysBounded: a writer that keeps at most DedupKeys eventID keys (letting go of
// the hours least recently written after each commit) still takes every copy of every
// stored event for a duplicate — of hours let go of, of hours never read, across a
// compaction and a reopen — and stores every new event, while the keys it holds stay
// within the bound plus the hours it is busy with.
func TestDedupKeysBounded(t *testing.T) {
	dir := t.TempDir()
	const hours, perHour, bound = 24, 40, 200
	opts := Options{DedupKeys: bound, SegmentEvents: 150}
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	event := func(h, i int) *ev {
		return &ev{id: fmt.Sprintf("h%02d-%03d", h, i), time: t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Second).Format(time.RFC3339),
			arn: "arn:aws:iam::111122223333:user/u", key: "AKIAEXAMPLE"}
	}
	s := openT(t, dir, opts)
	w := writerT(t, s)
	maxHeld := 0
	add := func(w *Writer, e *ev, want bool) {
		t.Helper()
		added, err := w.Add(parseEvent(t, e.json()))
		if err != nil {
			t.Fatal(err)
		}
		if added != want {
			t.Fatalf("Add(%s) = %v, want %v", e.id, added, want)
		}
	}
	commit := func(w *Writer) {
		t.Helper()
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		maxHeld = max(maxHeld, w.seen.n)
	}
	// Hours in time order, a commit every two hours.
	for h := range hours {
		for i := range perHour {
			add(w, event(h, i), true)
		}
		if h%2 == 1 {
			commit(w)
		}
	}
	if len(w.evicted) == 0 {
		t.Fatal("no hour was let go of: the test does not test the bound")
	}
	// Every copy again, hours in random order, with new events among them.
	r := rand.New(rand.NewPCG(4, 2))
	check := func(w *Writer, extra int) {
		for n, h := range r.Perm(hours) {
			for i := range perHour {
				add(w, event(h, i), false)
			}
			add(w, event(h, perHour+extra), true)
			if n%3 == 2 {
				commit(w)
			}
		}
		commit(w)
	}
	check(w, 0)
	if _, err := w.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	check(w, 1)
	// The bound after a commit: what is over it is the hours used since the last commit.
	if maxHeld > bound+3*perHour {
		t.Errorf("held %d keys after a commit, bound %d", maxHeld, bound)
	}
	s.Close()
	s2 := openT(t, dir, opts)
	w2 := writerT(t, s2)
	check(w2, 2)
	if got, want := s2.Stats().Events, hours*(perHour+3); got != want {
		t.Errorf("store holds %d events, want %d", got, want)
	}
}
