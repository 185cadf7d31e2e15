package store

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/trailhound/trailhound/internal/signal"
)

func triageRec(id string, st TriageStatus, note string, at int) TriageRecord {
	return TriageRecord{SignalID: id, Status: st, Note: note, By: "analyst", At: time.Date(2026, 12, 1, 0, 0, at, 0, time.UTC)}
}

func TestTriageLatestWins(t *testing.T) {
	dir := t.TempDir()
	lg := OpenTriage(dir)
	st, err := lg.Read()
	if err != nil || len(st.Latest) != 0 {
		t.Fatalf("empty log: %v, %v", st.Latest, err)
	}
	recs := []TriageRecord{
		triageRec("aaaa", StatusInvestigating, "looking", 1),
		triageRec("bbbb", StatusFalsePositive, "CI", 2),
		triageRec("aaaa", StatusTruePositive, "attacker\nsecond line <b>", 3),
	}
	for i, r := range recs {
		if err := lg.Append(r); err != nil {
			t.Fatal(err)
		}
		// Each read sees exactly what was appended, whether it reads the log whole (a new
		// TriageLog) or only the new lines.
		for _, l := range []*TriageLog{lg, OpenTriage(dir)} {
			st, err := l.Read()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]TriageRecord{}
			for _, r := range recs[:i+1] {
				want[r.SignalID] = r
			}
			if diff := cmp.Diff(want, st.Latest); diff != "" {
				t.Errorf("after %d appends: latest (-want +got):\n%s", i+1, diff)
			}
		}
	}
	st, _ = OpenTriage(dir).Read()
	if got := len(st.History["aaaa"]); got != 2 {
		t.Errorf("history of aaaa: got %d records, want 2", got)
	}
	if len(st.Damaged) != 0 {
		t.Errorf("damaged: %v", st.Damaged)
	}
}

func TestTriageRejectsInvalid(t *testing.T) {
	lg := OpenTriage(t.TempDir())
	for _, r := range []TriageRecord{
		{Status: StatusNew, At: time.Now()},
		triageRec("aaaa", "closed", "", 1),
		triageRec("aa aa", StatusNew, "", 1),
		triageRec("aaaa", StatusNew, strings.Repeat("x", MaxTriageNote+1), 1),
		triageRec("aaaa", StatusNew, "\xff", 1),
		{SignalID: "aaaa", Status: StatusNew},
	} {
		if err := lg.Append(r); err == nil {
			t.Errorf("Append(%+v): no error", r)
		}
	}
	if _, err := os.Stat(lg.Path()); err == nil {
		b, _ := os.ReadFile(lg.Path())
		if len(b) > 0 {
			t.Errorf("invalid records were written: %q", b)
		}
	}
}

// A damaged line — torn by a crash, flipped by the disk, edited by hand — is reported with
// its line number and skipped; the lines around it count, and the next append starts a line
// of its own.
func TestTriageDamagedLines(t *testing.T) {
	good := func(id string, at int) []byte {
		b, err := EncodeTriageLine(triageRec(id, StatusInvestigating, id, at))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	flipped := good("cccc", 3)
	flipped[20] ^= 0x01
	cases := []struct {
		name    string
		content []byte
		damaged []int // line numbers
		latest  []string
	}{
		{"torn tail", append(good("aaaa", 1), good("bbbb", 2)[:30]...), []int{2}, []string{"aaaa", "zzzz"}},
		{"flipped bit", bytes.Join([][]byte{good("aaaa", 1), flipped, good("bbbb", 2)}, nil), []int{2}, []string{"aaaa", "bbbb", "zzzz"}},
		{"no checksum", append([]byte("{\"signal_id\":\"x\"}\n"), good("aaaa", 1)...), []int{1}, []string{"aaaa", "zzzz"}},
		{"empty line", append([]byte("\n"), good("aaaa", 1)...), []int{1}, []string{"aaaa", "zzzz"}},
		{"long line", append(append(bytes.Repeat([]byte("x"), 200<<10), '\n'), good("aaaa", 1)...), []int{1}, []string{"aaaa", "zzzz"}},
		{"bad record under a good checksum", append(mustLine(t, `{"signal_id":"aaaa","status":"done","at":"2026-01-01T00:00:00Z"}`), good("bbbb", 1)...), []int{1}, []string{"bbbb", "zzzz"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, TriageLogName), c.content, 0o644); err != nil {
				t.Fatal(err)
			}
			lg := OpenTriage(dir)
			if err := lg.Append(triageRec("zzzz", StatusTruePositive, "after", 9)); err != nil {
				t.Fatal(err)
			}
			st, err := OpenTriage(dir).Read()
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for _, d := range st.Damaged {
				lines = append(lines, d.Line)
			}
			if diff := cmp.Diff(c.damaged, lines); diff != "" {
				t.Errorf("damaged lines (-want +got):\n%s", diff)
			}
			ids := slices.Sorted(maps.Keys(st.Latest))
			if diff := cmp.Diff(c.latest, ids); diff != "" {
				t.Errorf("signals with a status (-want +got):\n%s", diff)
			}
		})
	}
}

func mustLine(t *testing.T, js string) []byte {
	return []byte(fmt.Sprintf("%08x %s\n", crc32.Checksum([]byte(js), crcTable), js))
}

// Appends from many writers at once (goroutines here; processes take the same flock) all
// land, each on a line of its own.
func TestTriageConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lg := OpenTriage(dir) // one log each, as separate processes would have
			for i := range each {
				errs <- lg.Append(triageRec(fmt.Sprintf("w%d-%d", w, i), StatusInvestigating, strings.Repeat("n", 3000), i))
			}
		}()
	}
	reader := OpenTriage(dir)
	done := make(chan struct{})
	go func() { // a reader reading while they write never sees a damaged line
		defer close(done)
		for range 50 {
			st, err := reader.Read()
			if err != nil || len(st.Damaged) > 0 {
				t.Errorf("read during appends: %v, damaged %v", err, st.Damaged)
				return
			}
		}
	}()
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := reader.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Latest) != writers*each || len(st.Damaged) != 0 {
		t.Errorf("got %d signals and %d damaged lines, want %d and 0", len(st.Latest), len(st.Damaged), writers*each)
	}
}

// The triage files are not store files: a writer's commit, which removes every store file
// its manifest does not list, leaves them, and Check does not call them strays.
func TestTriageSurvivesCommits(t *testing.T) {
	if storeFile(TriageLogName) || storeFile(triageLockName) {
		t.Fatalf("storeFile(%q) or storeFile(%q) is true: a store writer would remove triage", TriageLogName, triageLockName)
	}
	dir := t.TempDir()
	lg := OpenTriage(dir)
	if err := lg.Append(triageRec("aaaa", StatusTruePositive, "keep me", 1)); err != nil {
		t.Fatal(err)
	}
	s := openT(t, dir, Options{})
	w := writerT(t, s)
	for i := range 3 {
		if _, err := w.Add(parseEvent(t, ev{id: fmt.Sprintf("e%d", i), time: "2026-12-01T00:00:00Z"}.json())); err != nil {
			t.Fatal(err)
		}
		if err := w.CommitBatch(Batch{Signals: []signal.Signal{{ID: fmt.Sprintf("sig%d", i), Level: signal.LevelHigh}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Compact(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	st, err := OpenTriage(dir).Read()
	if err != nil {
		t.Fatal(err)
	}
	if st.Latest["aaaa"].Note != "keep me" {
		t.Errorf("triage after commits: %+v", st.Latest)
	}
}

func FuzzParseTriageLine(f *testing.F) {
	for _, r := range []TriageRecord{triageRec("aaaa", StatusInvestigating, "n", 1), triageRec("b", StatusFalsePositive, "\u202e<svg onload=x>", 2)} {
		b, _ := EncodeTriageLine(r)
		f.Add(b[:len(b)-1])
	}
	f.Add([]byte("00000000 {}"))
	f.Add([]byte("zzzzzzzz {\"signal_id\":\"a\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseTriageLine(b)
		if err != nil {
			return
		}
		// What parses is a valid record, and encodes back to a line that parses to it.
		if err := r.Validate(); err != nil {
			t.Fatalf("parsed an invalid record %+v: %v", r, err)
		}
		line, err := EncodeTriageLine(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseTriageLine(line[:len(line)-1])
		if err != nil || !r2.At.Equal(r.At) || r2.SignalID != r.SignalID || r2.Status != r.Status || r2.Note != r.Note || r2.By != r.By {
			t.Fatalf("round trip of %+v: %+v, %v", r, r2, err)
		}
		// A log of that line, read whole, holds the record.
		var st = emptyTriage()
		n, lines := st.parse(bytes.NewReader(line), 0)
		if n != int64(len(line)) || lines != 1 || st.Latest[r.SignalID].Status != r.Status {
			t.Fatalf("parse of %q: %d bytes, %d lines, %+v", line, n, lines, st)
		}
	})
}
