package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestHashSet: add reports new and repeated hashes as a map would, through every growth and
// for the zero hash (kept as 1).
func TestHashSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := newHashSet(0)
	seen := map[uint64]bool{}
	for i := range 200_000 {
		h := r.Uint64N(150_000) // many repeats
		if i%1000 == 0 {
			h = 0
		}
		key := h
		if key == 0 {
			key = 1
		}
		if got, want := s.add(h), !seen[key]; got != want {
			t.Fatalf("add(%d) #%d = %v, want %v", h, i, got, want)
		}
		seen[key] = true
		if s.n*4 > len(s.slots)*3 {
			t.Fatalf("%d hashes in %d slots: more than three quarters full", s.n, len(s.slots))
		}
	}
	if s.n != len(seen) {
		t.Errorf("%d hashes held, want %d", s.n, len(seen))
	}
}

// TestWriterDedupAcrossRuns: over several runs (each a reopened store and a new writer),
// with commits of random sizes and compactions between them, Add reports an event new
// exactly when no event with its eventID and eventTime was added before — as a map of every
// (id, time) added says. Ids are reused with other times (kept: different events), events
// come back in any order and from any earlier run, some have no time or no id.
func TestWriterDedupAcrossRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	dir := t.TempDir()
	type key struct{ id, time string }
	stored := map[key]bool{}
	var pool []ev // everything added so far, to add again
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	next, compactedUnread := 0, 0
	for run := range 6 {
		s, err := Open(dir, Options{SegmentEvents: 64})
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.Writer()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 400 {
			var e ev
			switch p := r.IntN(10); {
			case p < 3 && len(pool) > 0: // a copy of an earlier event
				e = pool[r.IntN(len(pool))]
			case p < 4 && len(pool) > 0: // an earlier id at another time
				e = pool[r.IntN(len(pool))]
				e.time = base.Add(time.Duration(r.IntN(30*24)) * time.Hour).Format(time.RFC3339)
			default: // a new event: mostly in time order, as a live trail delivers them
				at := base.Add(time.Duration(run*400+i)*15*time.Minute + time.Duration(r.IntN(3600))*time.Second)
				if r.IntN(8) == 0 { // late, from any earlier hour
					at = base.Add(time.Duration(r.IntN((run*400+i)/4+1))*time.Hour + time.Duration(r.IntN(3600))*time.Second)
				}
				e = ev{id: fmt.Sprintf("id-%d", next), time: at.Format(time.RFC3339)}
				next++
				if r.IntN(50) == 0 {
					e.time = ""
				}
				if r.IntN(50) == 0 {
					e.id = ""
					e.ip = fmt.Sprintf("10.0.0.%d", next%250) // no id: the text tells events apart
				}
			}
			e.arn = "arn:aws:iam::111:user/u"
			k := key{e.id, e.time}
			if e.id == "" {
				k = key{e.json(), ""}
			}
			got, err := w.Add(parseEvent(t, e.json()))
			if err != nil {
				t.Fatal(err)
			}
			if want := !stored[k]; got != want {
				t.Fatalf("run %d, add %d (%s at %q): added = %v, want %v", run, i, e.id, e.time, got, want)
			}
			stored[k] = true
			pool = append(pool, e)
			if r.IntN(8) == 0 {
				if err := w.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			if r.IntN(100) == 0 {
				st, err := w.Compact(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if st.Merged > 0 && len(w.unloaded) > 0 {
					compactedUnread++
				}
			}
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if compactedUnread == 0 {
		t.Error("no compaction ran while stored segments were still unread: the case is not tested")
	}
	s := openT(t, dir, Options{ReadOnly: true})
	if got := s.Stats().Events; got != len(stored) {
		t.Errorf("store holds %d events, want %d", got, len(stored))
	}
}

// TestWriterReadsOnlyTheHoursItMeets: a writer reads no stored eventID until an event comes;
// an event of a new hour reads none; an event of an old hour reads the segments whose time
// range holds that hour, and no other.
func TestWriterReadsOnlyTheHoursItMeets(t *testing.T) {
	dir := t.TempDir()
	day := func(d, i int) ev {
		return ev{id: fmt.Sprintf("d%d-%d", d, i), time: time.Date(2026, 1, d, i%24, 30, 0, 0, time.UTC).Format(time.RFC3339), arn: "arn:aws:iam::1:user/u"}
	}
	s := openT(t, dir, Options{})
	w := writerT(t, s)
	add := func(e ev) {
		if _, err := w.Add(parseEvent(t, e.json())); err != nil {
			t.Fatal(err)
		}
	}
	for d := 1; d <= 3; d++ { // one segment per day, 48 events each
		for i := range 48 {
			add(day(d, i))
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for _, half := range [][2]int{{0, 12}, {12, 24}} { // day 5 in two segments of 12 hours
		for i := half[0]; i < half[1]; i++ {
			add(day(5, i))
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	s = openT(t, dir, Options{})
	w = writerT(t, s)
	steps := []struct {
		e          ev
		added      bool
		loadedNow  int
		unloadedBy int
	}{
		{day(9, 0), true, 0, 5},    // a new day: nothing to read
		{day(9, 0), false, 0, 5},   // a duplicate within the run
		{day(2, 0), false, 48, 4},  // day 2's segment only, which starts within this hour
		{day(2, 30), false, 48, 4}, // day 2 again: read already
		{day(3, 7), false, 96, 3},
		{day(4, 0), true, 96, 3},    // a day without a segment
		{day(5, 11), false, 108, 2}, // the first half of day 5
		{day(5, 12), false, 120, 1}, // the next hour is in the other half
		{ev{id: "d1-new", time: "2026-01-01T10:30:00Z", arn: "arn:aws:iam::1:user/u"}, true, 168, 0},
	}
	for i, st := range steps {
		got, err := w.Add(parseEvent(t, st.e.json()))
		if err != nil {
			t.Fatal(err)
		}
		if got != st.added || w.hashesLoaded != st.loadedNow || len(w.unloaded) != st.unloadedBy {
			t.Errorf("step %d (%s at %s): added %v, %d hashes read, %d segments unread; want %v, %d, %d",
				i, st.e.id, st.e.time, got, w.hashesLoaded, len(w.unloaded), st.added, st.loadedNow, st.unloadedBy)
		}
	}
}

func TestHourOf(t *testing.T) {
	h := int64(time.Hour)
	for _, c := range []struct{ t, want int64 }{
		{0, 0}, {1, 0}, {h - 1, 0}, {h, 1}, {-1, -1}, {-h, -1}, {-h - 1, -2},
	} {
		if got := hourOf(c.t); got != c.want {
			t.Errorf("hourOf(%d) = %d, want %d", c.t, got, c.want)
		}
	}
}
