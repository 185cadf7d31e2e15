package store

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/event"
)

// addBatch adds n events (ids from first) and commits them: one small segment.
func addBatch(t *testing.T, w *Writer, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		e := ev{id: fmt.Sprintf("e%04d", i), time: time.Date(2026, 1, 1, i%24, i%60, 0, 0, time.UTC).Format(time.RFC3339),
			acct: "111", region: []string{"us-east-1", "eu-west-1"}[i%2], arn: fmt.Sprintf("arn:aws:iam::111:user/u%d", i%7),
			key: fmt.Sprintf("AKIA%04d", i%5), ip: "1.1.1.1", srcid: []string{"", "alice"}[i%2]}
		ev := parseEvent(t, e.json())
		ev.Pos = event.Position{File: fmt.Sprintf("f%d.json", i/10), Record: i % 10}
		if _, err := w.Add(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// answers is what a store says: every event with its position, filtered lookups, activity.
func answers(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	var lines []string
	err := s.Events(ctx, Filter{}, func(r Record, e *event.Event) error {
		lines = append(lines, fmt.Sprintf("%s %s:%d", e.Str("eventID"), e.Pos.File, e.Pos.Record))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	b.WriteString(strings.Join(lines, "\n"))
	for _, f := range []Filter{{AccessKeys: []string{"AKIA0003"}}, {UserNames: []string{"u2"}}, {SourceIdentities: []string{"alice"}},
		{EventName: func(string) bool { return true }, Accounts: []string{"111"}}} {
		var ids []string
		if err := s.Scan(ctx, f, func(r Record) error { ids = append(ids, r.EventID); return nil }); err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		fmt.Fprintf(&b, "\n%v", ids)
	}
	act, err := s.Activity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "\n%+v", act)
	return b.String()
}

// TestCompact: many small commits are rewritten into full segments; the store's answers,
// the positions and dedup do not change; readers opened before keep working; the old files
// are gone.
func TestCompact(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentEvents: 100})
	w := writerT(t, s)
	for b := range CompactMin - 1 {
		addBatch(t, w, b*10, 10)
	}
	if st, err := w.Compact(ctx); err != nil || st.Merged != 0 {
		t.Fatalf("Compact with %d small segments: %+v, %v; want nothing done", CompactMin-1, st, err)
	}
	for b := CompactMin - 1; b < 25; b++ {
		addBatch(t, w, b*10, 10)
	}
	// A big segment in the middle stays as it is.
	for i := 250; i < 350; i++ {
		e := ev{id: fmt.Sprintf("e%04d", i), time: "2026-01-02T00:00:00Z", acct: "111", arn: "arn:aws:iam::111:user/big", key: "AKIABIG"}
		if _, err := w.Add(parseEvent(t, e.json())); err != nil {
			t.Fatal(err)
		}
	}
	addBatch(t, w, 350, 10)
	before := answers(t, s)
	reader, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	segsBefore := s.Stats().Segments
	st, err := w.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 26 small segments of 10 (260 events) into 3 segments; the big one (100) stays.
	if st.Merged != 26 || st.Written != 3 || st.Events != 260 {
		t.Errorf("Compact = %+v, want 26 merged into 3, 260 events", st)
	}
	if got := s.Stats().Segments; got != 4 || segsBefore != 27 {
		t.Errorf("segments %d -> %d, want 27 -> 4", segsBefore, got)
	}
	if diff := cmp.Diff(before, answers(t, s)); diff != "" {
		t.Errorf("answers changed by compaction (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(before, answers(t, reader)); diff != "" {
		t.Errorf("a reader opened before compaction answers differently (-before +reader):\n%s", diff)
	}
	fresh, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if diff := cmp.Diff(before, answers(t, fresh)); diff != "" {
		t.Errorf("a reader opened after compaction answers differently (-before +after):\n%s", diff)
	}
	ents, _ := os.ReadDir(dir)
	var files []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), segPrefix) {
			files = append(files, e.Name())
		}
	}
	if len(files) != 4 {
		t.Errorf("segment files on disk: %v, want the 4 listed", files)
	}
	// The writer goes on: duplicates are still recognised, new events land.
	addBatch(t, w, 0, 10)
	if ws := w.Stats(); ws.Duplicates != 10 {
		t.Errorf("re-adding compacted events: %d duplicates, want 10", ws.Duplicates)
	}
	addBatch(t, w, 1000, 10)
	if got := s.Stats().Events; got != 370 {
		t.Errorf("%d events, want 370", got)
	}
}
