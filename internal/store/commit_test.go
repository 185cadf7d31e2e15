package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/signal"
)

// A history of commits like hunt --db makes over a live trail: each step adds events
// (the first crossing the segment size several times, the next ones small, so that a
// compaction follows), signals (some replacing earlier ones), the detection state, other
// blobs, and the files read; after each commit, Compact runs as hunt --db does.
type histStep struct {
	from, to int
	sigs     []signal.Signal
	blobs    map[string][]byte
	files    []string
}

const histSegmentEvents = 150

func history() []histStep {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var steps []histStep
	at := 0
	for i := range 11 {
		n := 20
		if i == 0 {
			n = 400 // three full segments and a partial one
		}
		st := histStep{from: at, to: at + n, blobs: map[string][]byte{StateBlob: []byte(fmt.Sprintf("state after step %d %s", i, strings.Repeat("x", i*37)))}}
		if i%3 == 1 {
			st.blobs["checkpoint"] = []byte(fmt.Sprintf("cp %d", i))
		}
		if i == 7 {
			st.blobs["checkpoint"] = nil // removed
		}
		for j := range 3 {
			id := fmt.Sprintf("sig-%d", (i*3+j)%17) // ids come back: later signals replace earlier
			st.sigs = append(st.sigs, signal.Signal{ID: id, RuleID: "r", Title: fmt.Sprintf("step %d #%d", i, j), Level: signal.Level(1 + j),
				FirstSeen: t0, LastSeen: t0.Add(time.Duration(i) * time.Hour), EventIDs: []string{fmt.Sprintf("e%05d", at)}, EventCount: i + 1,
				Techniques: []string{}, Tactics: []string{}, Regions: []string{}, SourceIPs: []string{}})
		}
		for j := range 2 {
			st.files = append(st.files, fmt.Sprintf("/logs/step%02d/file%d.json.gz", i, j))
		}
		steps = append(steps, st)
		at += n
	}
	return steps
}

func histEvent(t testing.TB, i int) *event.Event {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	e := parseEvent(t, ev{id: fmt.Sprintf("e%05d", i), time: t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
		arn: fmt.Sprintf("arn:aws:iam::1:user/u%d", i%7), ip: "10.0.0.1"}.json())
	e.Pos = event.Position{File: fmt.Sprintf("/logs/file-%d.json", i/50), Record: i % 50}
	return e
}

func stamp(path string) FileStamp {
	return FileStamp{Size: int64(len(path)), ModTime: 1_700_000_000_000_000_000}
}

// applyStep adds a step's events and commits it, calls committed, then compacts.
func applyStep(t testing.TB, w *Writer, st histStep, committed func()) error {
	for i := st.from; i < st.to; i++ {
		if _, err := w.Add(histEvent(t, i)); err != nil {
			return err
		}
	}
	for _, f := range st.files {
		w.FileRead(f, stamp(f))
	}
	if err := w.CommitBatch(Batch{Signals: st.sigs, Blobs: st.blobs}); err != nil {
		return err
	}
	if committed != nil {
		committed()
	}
	_, err := w.Compact(context.Background())
	return err
}

// storeView is what a store answers: what must be equal between a store that crashed and
// recovered and one that did not.
type storeView struct {
	Events  []string // id, position and raw JSON, sorted
	Signals []signal.Signal
	Blobs   map[string]string
	Files   []string // files recorded as read whole
}

func viewOf(t testing.TB, s *Store, steps []histStep) storeView {
	t.Helper()
	var v storeView
	err := s.Events(context.Background(), Filter{}, func(r Record, e *event.Event) error {
		v.Events = append(v.Events, fmt.Sprintf("%s %s:%d %s", r.EventID, e.Pos.File, e.Pos.Record, e.Raw))
		return nil
	})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	sort.Strings(v.Events)
	if v.Signals, err = s.Signals(); err != nil {
		t.Fatalf("Signals: %v", err)
	}
	v.Blobs = map[string]string{}
	for _, name := range []string{StateBlob, "checkpoint"} {
		b, ok, err := s.Blob(name)
		if err != nil {
			t.Fatalf("Blob(%s): %v", name, err)
		}
		if ok {
			v.Blobs[name] = string(b)
		}
	}
	if !s.opts.ReadOnly {
		w := writerT(t.(*testing.T), s)
		for _, st := range steps {
			for _, f := range st.files {
				ok, err := w.FileStored(f, stamp(f))
				if err != nil {
					t.Fatalf("FileStored: %v", err)
				}
				if ok {
					v.Files = append(v.Files, f)
				}
			}
		}
	}
	return v
}

// crashForTest leaves the store as a killed process would: files as they are (no
// temporary file removed, no pending segment discarded), the lock released. A crash fault
// (crashAt) panics out of the writer, which may still hold its mutex.
func (s *Store) crashForTest() {
	if w := s.writer; w != nil {
		if w.seg != nil {
			w.seg.wait()
			if w.seg.f != nil {
				w.seg.f.Close()
			}
		}
		w.err = errors.New("crashed")
	}
	for _, sg := range append(s.segs, s.retired...) {
		sg.close()
	}
	s.releaseLock()
	s.closed = true
}

// crash is the panic of a crash fault: it stops the writer where it is, running none of the
// clean-up a failed step runs (as a kill would), and is recovered by recoverCrash.
type crash struct{}

// recoverCrash runs fn and turns a crash fault into errInjected.
func recoverCrash(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crash); !ok {
				panic(r)
			}
			err = errInjected
		}
	}()
	return fn()
}

var errInjected = errors.New("injected fault")

// TestCommitCrashPoints: for every point of every commit of a history at which the commit
// protocol calls its fault hook, a writer that crashes there (files left as they are) or
// fails there (an I/O error) leaves a store that opens at a whole generation — the one
// before the interrupted commit, or the interrupted one if it was published — equal to the
// store a clean run had at that generation, that `Check` finds intact, and that, once the
// rest of the history is committed, equals the store of a clean run.
func TestCommitCrashPoints(t *testing.T) {
	steps := history()
	opts := Options{SegmentEvents: histSegmentEvents, BlockSize: 2 << 10}

	// The clean run: its view at every generation, and the fault points it passes.
	var points []string
	cleanOpts := opts
	cleanOpts.Fault = func(p string) error { points = append(points, p); return nil }
	clean := openT(t, t.TempDir(), cleanOpts)
	cw := writerT(t, clean)
	views := map[uint64]storeView{0: viewOf(t, clean, steps)}
	stepAt := map[uint64]int{0: 0} // generation -> steps done
	for i, st := range steps {
		record := func() {
			views[clean.Generation()] = viewOf(t, clean, steps)
			stepAt[clean.Generation()] = i + 1
		}
		if err := applyStep(t, cw, st, record); err != nil {
			t.Fatal(err)
		}
		record()
	}
	final := views[clean.Generation()]
	if clean.Generation() == uint64(len(steps)) {
		t.Fatalf("the history made %d generations in %d steps: it never compacts, so it does not test compaction", clean.Generation(), len(steps))
	}
	seen := map[string]bool{}
	for _, p := range points {
		seen[p] = true
	}
	for _, p := range FaultPoints {
		if !seen[p] {
			t.Errorf("the history never reaches fault point %s", p)
		}
	}

	for _, mode := range []string{"crash", "fail"} {
		for k := range points {
			name := fmt.Sprintf("%s/%03d-%s", mode, k, points[k])
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				calls := 0
				o := opts
				o.Fault = func(string) error {
					calls++
					if calls == k+1 {
						if mode == "crash" {
							panic(crash{})
						}
						return errInjected
					}
					return nil
				}
				var genBefore uint64
				var s *Store
				err := recoverCrash(func() (err error) { s, err = Open(dir, o); return err })
				atCreation := err != nil
				if err != nil {
					// The fault hit the creation of the store (its first, empty manifest).
					if !errors.Is(err, errInjected) {
						t.Fatal(err)
					}
					s = openT(t, dir, opts)
					if s.Generation() != 0 || len(s.snapshot()) != 0 {
						t.Fatalf("a store whose creation failed opens at generation %d", s.Generation())
					}
					s.Close()
					s = openT(t, dir, o)
				}
				t.Cleanup(func() { s.Close() })
				w := writerT(t, s)
				for _, st := range steps {
					genBefore = s.Generation()
					if err = recoverCrash(func() error { return applyStep(t, w, st, nil) }); err != nil {
						break
					}
				}
				if err == nil {
					// A fault after publishing (published, removed) is not an error.
					if p := points[k]; p != "published" && p != "removed" && !atCreation {
						t.Fatalf("fault at %s: no error", p)
					}
				} else if !errors.Is(err, errInjected) {
					t.Fatalf("fault at %s: error %v, want the injected one", points[k], err)
				}
				if mode == "crash" {
					s.crashForTest()
				} else {
					s.Close()
				}
				rep, cerr := Check(context.Background(), dir)
				if cerr != nil || !rep.OK() {
					t.Fatalf("after the %s at %s: Check = %+v, %v", mode, points[k], rep, cerr)
				}

				s2 := openT(t, dir, opts)
				g := s2.Generation()
				if err != nil && g != genBefore && g != genBefore+1 && g != genBefore+2 {
					t.Fatalf("after the %s at %s: generation %d, want %d or the next", mode, points[k], g, genBefore)
				}
				want, ok := views[g]
				if !ok {
					t.Fatalf("after the %s at %s: generation %d is not one of the clean run's", mode, points[k], g)
				}
				if diff := cmp.Diff(want, viewOf(t, s2, steps)); diff != "" {
					t.Fatalf("after the %s at %s: generation %d differs from the clean run's (-clean +got):\n%s", mode, points[k], g, diff)
				}
				// The next writer left nothing unreferenced behind.
				rep, _ = Check(context.Background(), dir)
				for _, f := range rep.Files {
					if f.Status != StatusOK {
						t.Errorf("after reopening: %s is %s", f.Name, f.Status)
					}
				}
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if strings.HasSuffix(e.Name(), tmpSuffix) {
						t.Errorf("after reopening: temporary file %s left", e.Name())
					}
				}
				// The rest of the history, then the clean run's store.
				w2 := writerT(t, s2)
				for _, st := range steps[stepAt[g]:] {
					if err := applyStep(t, w2, st, nil); err != nil {
						t.Fatal(err)
					}
				}
				if diff := cmp.Diff(final, viewOf(t, s2, steps)); diff != "" {
					t.Fatalf("after the %s at %s and the rest of the history: differs from the clean run (-clean +got):\n%s", mode, points[k], diff)
				}
			})
		}
	}
}
