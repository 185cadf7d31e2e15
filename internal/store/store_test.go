package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/signal"
)

func openT(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func writerT(t *testing.T, s *Store) *Writer {
	t.Helper()
	w, err := s.Writer()
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	return w
}

// allRaw reads every stored event back through Events.
func allRaw(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.Events(context.Background(), Filter{}, func(_ Record, e *event.Event) error {
		id := string(e.Str("eventID"))
		if _, dup := out[id]; dup {
			t.Errorf("event %s stored twice", id)
		}
		out[id] = string(e.Raw)
		if e.Pos.File == "" {
			t.Errorf("event %s: no original position", id)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	return out
}

func TestRoundTripAndDedup(t *testing.T) {
	logs := simulated(t, 2, 3000)
	want, read := decodeAll(t, logs)
	if read == len(want) {
		t.Logf("the corpus has no duplicate deliveries (%d events)", read)
	}
	dir := t.TempDir()
	ctx := context.Background()
	// Small blocks and segments so that several of each are crossed.
	opts := Options{BlockSize: 16 << 10, SegmentEvents: 2500}
	s := openT(t, dir, opts)
	st, err := writerT(t, s).AddPaths(ctx, []string{logs}, IngestOptions{})
	if err != nil {
		t.Fatalf("AddPaths: %v", err)
	}
	if st.Added != len(want) || st.Added+st.Duplicates != read {
		t.Errorf("AddPaths: added %d, duplicates %d; want %d added of %d read", st.Added, st.Duplicates, len(want), read)
	}
	if diff := cmp.Diff(want, allRaw(t, s)); diff != "" {
		t.Errorf("stored events differ from the logs (-want +got):\n%s", diff)
	}
	if got := s.Stats(); got.Events != len(want) || got.Segments < 2 {
		t.Errorf("Stats = %+v, want %d events in several segments", got, len(want))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Re-running over the same files adds nothing.
	s = openT(t, dir, opts)
	before := s.Stats()
	st, err = writerT(t, s).AddPaths(ctx, []string{logs}, IngestOptions{Workers: 1})
	if err != nil {
		t.Fatalf("AddPaths again: %v", err)
	}
	if st.Added != 0 || st.Duplicates != read {
		t.Errorf("AddPaths again: added %d, duplicates %d; want 0 and %d", st.Added, st.Duplicates, read)
	}
	if after := s.Stats(); after.Events != before.Events || after.Segments != before.Segments {
		t.Errorf("Stats after re-run = %+v, want %+v", after, before)
	}
}

func TestDedupWithinRunAndWithoutID(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	w := writerT(t, s)
	a := ev{id: "a", time: "2026-01-01T00:00:00Z", arn: "arn:aws:iam::1:user/u"}.json()
	noID := ev{time: "2026-01-01T00:00:01Z", arn: "arn:aws:iam::1:user/u"}.json()
	for _, c := range []struct {
		raw  string
		want bool
	}{{a, true}, {a, false}, {noID, true}, {noID, false}} {
		got, err := w.Add(parseEvent(t, c.raw))
		if err != nil || got != c.want {
			t.Errorf("Add(%.40s) = %v, %v; want %v", c.raw, got, err, c.want)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Events; got != 2 {
		t.Errorf("Events = %d, want 2", got)
	}
}

func TestFilters(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir(), Options{SegmentEvents: 3})
	w := writerT(t, s)
	evs := []ev{
		{id: "1", time: "2026-01-01T00:00:00Z", acct: "111", arn: "arn:aws:iam::111:user/alice", key: "AKIAALICE", ip: "1.1.1.1"},
		{id: "2", time: "2026-01-01T01:00:00Z", acct: "111", arn: "arn:aws:iam::111:user/dev/bob", key: "AKIABOB", ip: "2.2.2.2", name: "GetObject"},
		{id: "3", time: "2026-01-02T00:00:00Z", acct: "222", typ: "AssumedRole", arn: "arn:aws:sts::222:assumed-role/Admin/s1", key: "ASIAS1", ip: "1.1.1.1"},
		{id: "4", time: "2026-01-02T01:00:00Z", acct: "222", typ: "AssumedRole", arn: "arn:aws:sts::222:assumed-role/Admin/s2", key: "ASIAS2", ip: "3.3.3.3", srcid: "alice@corp"},
		{id: "5", time: "2026-01-03T00:00:00Z", acct: "222", arn: "arn:aws:iam::222:user/alice", key: "AKIAALICE2", ip: "3.3.3.3", err: "AccessDenied"},
		{id: "6", time: "2026-01-03T01:00:00Z", acct: "111", arn: "arn:aws:iam::111:user/alice", key: "AKIAALICE", ip: "4.4.4.4"},
	}
	for _, e := range evs {
		if _, err := w.Add(parseEvent(t, e.json())); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"1", "2", "3", "4", "5", "6"}},
		{"actor", Filter{Actors: []string{"arn:aws:iam::111:user/alice"}}, []string{"1", "6"}},
		{"role matches its sessions", Filter{Actors: []string{"arn:aws:iam::222:role/Admin"}}, []string{"3", "4"}},
		{"one session", Filter{Actors: []string{"arn:aws:iam::222:role/Admin#s2"}}, []string{"4"}},
		{"user name in any account and path", Filter{UserNames: []string{"alice", "bob"}}, []string{"1", "2", "5", "6"}},
		{"access key", Filter{AccessKeys: []string{"ASIAS1", "AKIABOB"}}, []string{"2", "3"}},
		{"ip", Filter{SourceIPs: []string{"3.3.3.3"}}, []string{"4", "5"}},
		{"who is a union", Filter{AccessKeys: []string{"AKIABOB"}, SourceIPs: []string{"4.4.4.4"}}, []string{"2", "6"}},
		{"account", Filter{Accounts: []string{"222"}}, []string{"3", "4", "5"}},
		{"ip and account", Filter{SourceIPs: []string{"1.1.1.1"}, Accounts: []string{"111"}}, []string{"1"}},
		{"time", Filter{Since: day(2), Until: day(3)}, []string{"3", "4"}},
		{"time and user", Filter{UserNames: []string{"alice"}, Since: day(3)}, []string{"5", "6"}},
		{"actor suffix", Filter{ActorSuffixes: []string{"/Admin#s1", "/bob"}}, []string{"2", "3"}},
		{"source identity", Filter{SourceIdentities: []string{"alice@corp"}}, []string{"4"}},
		{"source identity or key", Filter{SourceIdentities: []string{"alice@corp"}, AccessKeys: []string{"AKIABOB"}}, []string{"2", "4"}},
		{"event name", Filter{EventName: func(n string) bool { return n == "GetObject" }}, []string{"2"}},
		{"event name and account", Filter{EventName: func(n string) bool { return n == "ListBuckets" }, Accounts: []string{"111"}}, []string{"1", "6"}},
		{"unknown event name", Filter{EventName: func(n string) bool { return n == "DeleteUser" }}, nil},
		{"unknown key", Filter{AccessKeys: []string{"AKIANONE"}}, nil},
		{"unknown account", Filter{Accounts: []string{"999"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := s.Scan(ctx, tt.f, func(r Record) error { got = append(got, r.EventID); return nil })
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Scan(%+v) (-want +got):\n%s", tt.f, diff)
			}
			var gotEv []string
			err = s.Events(ctx, tt.f, func(r Record, e *event.Event) error {
				if id := string(e.Str("eventID")); id != r.EventID {
					t.Errorf("Events: record %s has the raw JSON of %s", r.EventID, id)
				}
				gotEv = append(gotEv, r.EventID)
				return nil
			})
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			if diff := cmp.Diff(tt.want, gotEv); diff != "" {
				t.Errorf("Events(%+v) (-want +got):\n%s", tt.f, diff)
			}
		})
	}
	// The record carries the header fields.
	var got []Record
	s.Scan(ctx, Filter{AccessKeys: []string{"AKIAALICE2"}}, func(r Record) error { got = append(got, r); return nil })
	want := event.Header{EventID: "5", EventTime: day(3), EventSource: "s3.amazonaws.com", EventName: "ListBuckets",
		AccountID: "222", Region: "us-east-1", SourceIP: "3.3.3.3", UserAgent: "aws-cli/2.0", AccessKeyID: "AKIAALICE2",
		ErrorCode: "AccessDenied", Actor: "arn:aws:iam::222:user/alice", Pos: event.Position{File: "hand.json"}}
	if len(got) != 1 {
		t.Fatalf("Scan by key: %d records, want 1", len(got))
	}
	if diff := cmp.Diff(want, got[0].Header); diff != "" {
		t.Errorf("record header (-want +got):\n%s", diff)
	}
	var raw string
	if err := s.Events(ctx, Filter{AccessKeys: []string{"AKIAALICE2"}}, func(_ Record, e *event.Event) error { raw = string(e.Raw); return nil }); err != nil {
		t.Fatalf("Events: %v", err)
	}
	if raw != evs[4].json() {
		t.Errorf("raw JSON = %s, want %s", raw, evs[4].json())
	}
}

// TestActivity: counts and hours per account and region, counts per API, over segments.
func TestActivity(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SegmentEvents: 2})
	w := writerT(t, s)
	for _, e := range []ev{
		{id: "1", time: "2026-01-01T00:10:00Z", acct: "111", region: "us-east-1"},
		{id: "2", time: "2026-01-01T00:50:00Z", acct: "111", region: "us-east-1", name: "GetObject"},
		{id: "3", time: "2026-01-01T03:00:00Z", acct: "111", region: "us-east-1"},
		{id: "4", time: "2026-01-01T01:00:00Z", acct: "111", region: "eu-west-1"},
		{id: "5", time: "2026-01-01T01:00:00Z", acct: "222", region: "us-east-1"},
		{id: "5", time: "2026-01-01T01:00:00Z", acct: "222", region: "us-east-1"}, // duplicate
	} {
		if _, err := w.Add(parseEvent(t, e.json())); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Activity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := func(hh int) int64 { return time.Date(2026, 1, 1, hh, 0, 0, 0, time.UTC).Unix() / 3600 }
	want := Activity{
		Regions: []RegionActivity{
			{Account: "111", Region: "eu-west-1", Events: 1, Hours: []int64{h(1)}},
			{Account: "111", Region: "us-east-1", Events: 3, Hours: []int64{h(0), h(3)}},
			{Account: "222", Region: "us-east-1", Events: 1, Hours: []int64{h(1)}},
		},
		APIs: []APIActivity{
			{Account: "111", Source: "s3.amazonaws.com", Name: "GetObject", Events: 1},
			{Account: "111", Source: "s3.amazonaws.com", Name: "ListBuckets", Events: 3},
			{Account: "222", Source: "s3.amazonaws.com", Name: "ListBuckets", Events: 1},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Activity (-want +got):\n%s", diff)
	}
	// The section written with each segment equals what its columns give (the path of
	// segments written before the section existed), and survives encoding.
	for _, sg := range s.snapshot() {
		sec, err := s.segmentActivity(sg)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := s.columnActivity(sg)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(cols, sec, cmp.AllowUnexported(segActivity{}, segRegion{}, segAPI{})); diff != "" {
			t.Errorf("segment %s: section differs from the columns (-columns +section):\n%s", sg.name, diff)
		}
	}
}

// FuzzDecodeActivity: any bytes decode to an error or to an activity that encodes back to
// the same bytes, with codes inside the dictionary.
func FuzzDecodeActivity(f *testing.F) {
	f.Add(segActivity{
		regions: []segRegion{{acct: 1, region: 2, events: 3, hours: []int64{490000, 490003}}},
		apis:    []segAPI{{acct: 1, source: 3, name: 4, events: 3}},
	}.encode(), 5)
	f.Add([]byte{0, 0}, 1)
	f.Add([]byte{1, 0, 0, 1, 255}, 1)
	f.Fuzz(func(t *testing.T, b []byte, dictN int) {
		if dictN < 0 || dictN > 1<<20 {
			return
		}
		a, err := decodeActivity(b, dictN)
		if err != nil {
			return
		}
		for _, r := range a.regions {
			if int(r.acct) >= dictN || int(r.region) >= dictN {
				t.Fatalf("code out of the dictionary: %+v", r)
			}
		}
		if got := a.encode(); string(got) != string(b) && len(a.regions)+len(a.apis) > 0 {
			// Varints have one canonical form only when minimal; accept re-decoding equal.
			again, err := decodeActivity(got, dictN)
			if err != nil || !cmp.Equal(a, again, cmp.AllowUnexported(segActivity{}, segRegion{}, segAPI{})) {
				t.Fatalf("decode(encode(a)) != a: %v", err)
			}
		}
	})
}

// TestCrashHelper is the writer process TestCrashSafety kills.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("TRAILHOUND_STORE_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestCrashSafety")
	}
	s, err := Open(dir, Options{BlockSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Writer()
	if err != nil {
		t.Fatal(err)
	}
	add := func(from, to int) {
		for i := from; i < to; i++ {
			e := ev{id: fmt.Sprintf("ev-%05d", i), time: "2026-01-01T00:00:00Z", arn: "arn:aws:iam::1:user/u", ip: "1.1.1.1"}
			if _, err := w.Add(parseEvent(t, e.json())); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(0, 1000)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	add(1000, 3000) // several blocks reach the temporary segment file
	w.seg.wait()
	os.Exit(3) // killed: no Commit, no Close
}

func TestCrashSafety(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), "TRAILHOUND_STORE_CRASH_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("writer process: %v\n%s", err, out)
	}
	// A truncated segment that never made it into the manifest, as a crash mid-rename leaves.
	if err := os.WriteFile(filepath.Join(dir, "seg-000777.ths"), []byte(segMagic+"garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	tmp := 0
	for _, e := range ents {
		if isTmp(e.Name()) {
			tmp++
		}
	}
	if tmp == 0 {
		t.Errorf("the killed writer left no temporary segment; the test does not test anything")
	}

	ro := openT(t, dir, Options{ReadOnly: true})
	if got := ro.Stats().Events; got != 1000 {
		t.Errorf("read-only after crash: %d events, want the 1000 committed", got)
	}
	if n := len(allRaw(t, ro)); n != 1000 {
		t.Errorf("read-only after crash: read %d events, want 1000", n)
	}

	s := openT(t, dir, Options{})
	ents, _ = os.ReadDir(dir)
	for _, e := range ents {
		if isTmp(e.Name()) || e.Name() == "seg-000777.ths" {
			t.Errorf("orphan %s not removed by the next writer", e.Name())
		}
	}
	w := writerT(t, s)
	added := 0
	for i := range 3000 {
		e := ev{id: fmt.Sprintf("ev-%05d", i), time: "2026-01-01T00:00:00Z", arn: "arn:aws:iam::1:user/u"}
		ok, err := w.Add(parseEvent(t, e.json()))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			added++
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if added != 2000 || s.Stats().Events != 3000 {
		t.Errorf("re-adding after crash: added %d (want 2000), store holds %d (want 3000)", added, s.Stats().Events)
	}
}

func TestCorruptCommittedSegment(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	w := writerT(t, s)
	w.Add(parseEvent(t, ev{id: "1", time: "2026-01-01T00:00:00Z"}.json()))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := filepath.Join(dir, "seg-000001.ths")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, fi.Size()-3); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{ReadOnly: true}); err == nil {
		t.Error("Open of a store whose committed segment is truncated: no error")
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	openT(t, dir, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second writer: err = %v, want ErrLocked", err)
	}
	ro := openT(t, dir, Options{ReadOnly: true})
	if _, err := ro.Writer(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Writer of a read-only store: err = %v, want ErrReadOnly", err)
	}
	if _, err := Open(filepath.Join(dir, "missing"), Options{ReadOnly: true}); err == nil {
		t.Error("read-only Open of a missing store: no error")
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir(), Options{BlockSize: 4 << 10})
	w := writerT(t, s)
	const writers, perWriter = 4, 1500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				e := ev{id: fmt.Sprintf("w%d-%d", g, i), time: "2026-01-01T00:00:00Z", arn: fmt.Sprintf("arn:aws:iam::1:user/u%d", g), ip: "1.1.1.1"}
				if _, err := w.Add(parseEvent(t, e.json())); err != nil {
					t.Error(err)
					return
				}
				if i%500 == 499 {
					if err := w.Commit(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for range 20 {
				n := 0
				err := s.Events(ctx, Filter{UserNames: []string{"u1"}}, func(r Record, e *event.Event) error {
					if r.Actor != "arn:aws:iam::1:user/u1" {
						t.Errorf("record of %s", r.Actor)
					}
					n++
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if n < last {
					t.Errorf("a reader saw %d events after %d", n, last)
				}
				last = n
			}
		}()
	}
	wg.Wait()
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Events; got != writers*perWriter {
		t.Errorf("Events = %d, want %d", got, writers*perWriter)
	}
}

// TestSignals: signals committed in batches read back merged, a later signal replacing an
// earlier one with its id, in signal.Sort order, also after the chunks are merged into one
// and after reopening; a batch with nothing in it makes no generation.
func TestSignals(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	w := writerT(t, s)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sig := func(id string, lvl signal.Level, count int) signal.Signal {
		return signal.Signal{ID: id, RuleID: "r1", Title: "T " + id, Level: lvl, FirstSeen: t0, LastSeen: t0, EventIDs: []string{"1"}, EventCount: count,
			Techniques: []string{}, Tactics: []string{}, Regions: []string{}, SourceIPs: []string{}}
	}
	want := map[string]signal.Signal{}
	for round := range 2 * maxSignalChunks {
		var batch []signal.Signal
		for i := range 3 {
			// ids repeat across rounds: later ones replace earlier ones
			g := sig(fmt.Sprintf("s%02d", (round*2+i)%13), signal.Level(i+1), round*10+i)
			batch = append(batch, g)
			want[g.ID] = g
			if i == 2 && round%3 == 1 {
				// A signal opened early and superseded: not kept, whatever it was before.
				g.Status, g.SupersededBy = signal.StatusClosed, batch[0].ID
				batch[len(batch)-1] = g
				delete(want, g.ID)
			}
		}
		gen := s.Generation()
		if err := w.CommitBatch(Batch{Signals: batch}); err != nil {
			t.Fatal(err)
		}
		if got := s.Generation(); got != gen+1 {
			t.Fatalf("round %d: generation %d after a commit from %d", round, got, gen)
		}
		if n := len(s.man.files(kindSignals)); n > maxSignalChunks {
			t.Fatalf("round %d: %d signal chunks, want at most %d", round, n, maxSignalChunks)
		}
	}
	gen := s.Generation()
	if err := w.CommitBatch(Batch{}); err != nil || s.Generation() != gen {
		t.Errorf("an empty commit: %v, generation %d -> %d", err, gen, s.Generation())
	}
	wantList := slices.Collect(maps.Values(want))
	for i := range wantList {
		wantList[i].Status, wantList[i].Revision = wantList[i].Lifecycle() // stored as written
	}
	signal.Sort(wantList)
	for _, st := range []*Store{s, func() *Store { s.Close(); return openT(t, dir, Options{ReadOnly: true}) }()} {
		got, err := st.Signals()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantList, got); diff != "" {
			t.Errorf("Signals (-want +got):\n%s", diff)
		}
	}
}

func TestRowGroups(t *testing.T) {
	s := openT(t, t.TempDir(), Options{BlockSize: 8 << 10})
	w := writerT(t, s)
	const n = 2*groupRows + 100
	for i := range n {
		key := "AKIABULK"
		if i%groupRows == 7 {
			key = "AKIARARE"
		}
		e := ev{id: fmt.Sprintf("id-%06d", i), time: "2026-01-01T00:00:00Z", arn: "arn:aws:iam::1:user/u", key: key}
		if _, err := w.Add(parseEvent(t, e.json())); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	got := eventIDs(t, s, Filter{AccessKeys: []string{"AKIARARE"}})
	want := []string{"id-000007", fmt.Sprintf("id-%06d", groupRows+7), fmt.Sprintf("id-%06d", 2*groupRows+7)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Events across row groups (-want +got):\n%s", diff)
	}
}
