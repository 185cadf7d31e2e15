package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"

	"github.com/trailhound/trailhound/internal/signal"
)

// buildHistory commits the first n steps of history() into dir and returns the view after
// each generation.
func buildHistory(t *testing.T, dir string, n int, fault func(string) error) map[uint64]storeView {
	t.Helper()
	steps := history()
	opts := Options{SegmentEvents: histSegmentEvents, BlockSize: 2 << 10, Fault: fault}
	s := openT(t, dir, opts)
	w := writerT(t, s)
	views := map[uint64]storeView{}
	for _, st := range steps[:n] {
		if err := recoverCrash(func() error {
			return applyStep(t, w, st, func() { views[s.Generation()] = viewOf(t, s, steps) })
		}); err != nil {
			s.crashForTest()
			return views
		}
		views[s.Generation()] = viewOf(t, s, steps)
	}
	s.Close()
	return views
}

func repairT(t *testing.T, dir string) RepairReport {
	t.Helper()
	rep, err := Repair(context.Background(), dir, Options{SegmentEvents: histSegmentEvents})
	if err != nil {
		t.Fatalf("Repair: %v", err)
	}
	if c, err := Check(context.Background(), dir); err != nil || !c.OK() {
		t.Fatalf("Check after Repair: %+v, %v", c, err)
	}
	return rep
}

// filesIn lists the files of a folder, by name.
func filesIn(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() || e.Name() == lockName {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// TestNoManifestChangesNothing: a store whose MANIFEST is gone or damaged is an error for
// readers and writers, which leave every file as it is.
func TestNoManifestChangesNothing(t *testing.T) {
	for _, damage := range []string{"removed", "flipped", "cut"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			buildHistory(t, dir, 4, nil)
			mp := filepath.Join(dir, manifestName)
			b, _ := os.ReadFile(mp)
			switch damage {
			case "removed":
				os.Remove(mp)
			case "flipped":
				b[len(b)/2] ^= 4
				os.WriteFile(mp, b, 0o644)
			case "cut":
				os.WriteFile(mp, b[:len(b)-9], 0o644)
			}
			before := filesIn(t, dir)
			for _, ro := range []bool{true, false} {
				_, err := Open(dir, Options{ReadOnly: ro})
				if err == nil || !strings.Contains(err.Error(), "db repair") {
					t.Errorf("Open(read-only %v) of a store with its MANIFEST %s: %v, want an error pointing to db repair", ro, damage, err)
				}
				if damage == "removed" && !errors.Is(err, ErrNoManifest) {
					t.Errorf("err = %v, want ErrNoManifest", err)
				}
			}
			if diff := cmp.Diff(before, filesIn(t, dir)); diff != "" {
				t.Errorf("opening changed the store's files:\n%s", diff)
			}
		})
	}
}

// TestRepairRebuildsManifest: without its manifest, a store is rebuilt from its files as it
// was at its last generation, ready for the next commit.
func TestRepairRebuildsManifest(t *testing.T) {
	dir := t.TempDir()
	views := buildHistory(t, dir, 11, nil)
	var last uint64
	for g := range views {
		last = max(last, g)
	}
	if err := os.Remove(filepath.Join(dir, manifestName)); err != nil {
		t.Fatal(err)
	}
	rep := repairT(t, dir)
	if !rep.Rebuilt || rep.LostEvents != 0 || rep.LostSignals != 0 || rep.LedgerDropped {
		t.Errorf("report: %+v", rep)
	}
	s := openT(t, dir, Options{SegmentEvents: histSegmentEvents})
	if diff := cmp.Diff(views[last], viewOf(t, s, history())); diff != "" {
		t.Errorf("rebuilt store differs from the last generation (-want +got):\n%s", diff)
	}
	if s.Generation() <= last {
		t.Errorf("rebuilt generation %d, want after %d", s.Generation(), last)
	}
}

// TestRepairStopsAtLastCompleteGeneration: a writer that died during a commit left some files
// of its generation; without a manifest, Repair cannot tell them from committed ones but for
// the detection state, written last: it takes the generation before, and sets the later files
// aside (in the quarantine, not deleted), so that their logs are read again.
func TestRepairStopsAtLastCompleteGeneration(t *testing.T) {
	for _, point := range []string{"renamed:segment", "renamed:signals", "renamed:ledger", "sync:blob"} {
		t.Run(point, func(t *testing.T) {
			dir := t.TempDir()
			// Let the first two steps commit, then crash at the point in the third.
			calls := map[string]int{}
			commits := 0
			views := buildHistory(t, dir, 3, func(p string) error {
				if p == "published" {
					commits++
				}
				if commits >= 2 {
					calls[p]++
					if p == point {
						panic(crash{})
					}
				}
				return nil
			})
			var last uint64
			for g := range views {
				last = max(last, g)
			}
			left := filesIn(t, dir)
			os.Remove(filepath.Join(dir, manifestName))
			rep := repairT(t, dir)
			s := openT(t, dir, Options{SegmentEvents: histSegmentEvents})
			if diff := cmp.Diff(views[last], viewOf(t, s, history())); diff != "" {
				t.Errorf("repaired store differs from generation %d (-want +got):\n%s", last, diff)
			}
			if len(rep.Quarantined) == 0 {
				t.Fatalf("nothing set aside: %+v", rep)
			}
			for _, n := range rep.Quarantined {
				b, err := os.ReadFile(filepath.Join(rep.Quarantine, n))
				if err != nil || !bytes.Equal(b, left[n]) {
					t.Errorf("%s set aside: %v, content changed %v", n, err, !bytes.Equal(b, left[n]))
				}
			}
		})
	}
}

// TestRepairSalvagesSegment: a damaged segment is replaced by one with every event its
// intact blocks still give, in their original positions when the position columns are
// intact; the others are counted lost, and the ledger is dropped so that the next run
// reads the logs again.
func TestRepairSalvagesSegment(t *testing.T) {
	for _, damage := range []string{"block", "footer"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			views := buildHistory(t, dir, 1, nil)
			want := views[1]
			m, err := readManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			name := m.Segments[0].Name
			p := filepath.Join(dir, name)
			b, _ := os.ReadFile(p)
			switch damage {
			case "block":
				// A byte of the second block: its events are lost, the others kept.
				sg := openSegmentT(t, dir, m.Segments[0])
				if len(sg.blocks) < 3 {
					t.Fatalf("%d blocks: want several", len(sg.blocks))
				}
				b[sg.blocks[1].off+sg.blocks[1].clen/2] ^= 0x55
			case "footer":
				b = b[:len(b)-40]
			}
			os.WriteFile(p, b, 0o644)
			rep := repairT(t, dir)
			if rep.Rebuilt || rep.SalvagedEvents == 0 || !rep.LedgerDropped || !slices.Contains(rep.Quarantined, name) {
				t.Errorf("report: %+v", rep)
			}
			s := openT(t, dir, Options{})
			got := viewOf(t, s, nil)
			if len(got.Events)+max(rep.LostEvents, 0) != len(want.Events) && rep.LostEvents >= 0 {
				t.Errorf("%d events kept, %d reported lost, %d stored before", len(got.Events), rep.LostEvents, len(want.Events))
			}
			placed := 0
			for _, e := range got.Events {
				switch {
				case slices.Contains(want.Events, e):
					placed++
				case strings.Contains(e, " salvaged from "+name):
				default:
					t.Errorf("event not in the original store: %.120s", e)
				}
			}
			switch damage {
			case "block":
				if rep.LostEvents <= 0 || placed != len(got.Events) {
					t.Errorf("block damage: %d lost, %d of %d events in their original positions", rep.LostEvents, placed, len(got.Events))
				}
			case "footer":
				if rep.LostEvents != -1 {
					t.Errorf("footer damage: %d lost, want unknown (-1)", rep.LostEvents)
				}
			}
		})
	}
}

func openSegmentT(t *testing.T, dir string, meta segmentMeta) *segment {
	t.Helper()
	sg, err := openSegment(filepath.Join(dir, meta.Name), meta)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sg.close() })
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	if err := sg.load(dec); err != nil {
		t.Fatal(err)
	}
	return sg
}

// TestRepairSalvagesSignals: a damaged chunk of signals keeps its intact lines (each has
// its own checksum); the one damaged line is counted lost.
func TestRepairSalvagesSignals(t *testing.T) {
	dir := t.TempDir()
	views := buildHistory(t, dir, 2, nil)
	path := fileOfKind(t, dir, kindSignals)
	b, _ := os.ReadFile(path)
	i := bytes.Index(b, []byte(`"title":"step 1 #1"`))
	if i < 0 {
		t.Fatal("no signal to damage")
	}
	b[i+10] ^= 1
	os.WriteFile(path, b, 0o644)
	rep := repairT(t, dir)
	if rep.LostSignals != 1 {
		t.Errorf("lost signals %d, want 1: %+v", rep.LostSignals, rep)
	}
	s := openT(t, dir, Options{})
	got, err := s.Signals()
	if err != nil {
		t.Fatal(err)
	}
	want := slices.DeleteFunc(slices.Clone(views[2].Signals), func(s signal.Signal) bool { return s.Title == "step 1 #1" })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("signals after repair (-want +got):\n%s", diff)
	}
}

// TestVersion1Store: a store written by an older trailhound (a plain JSON manifest,
// signals.jsonl, files.ledger and state.json without checksums) is read as it is, and its
// first commit rewrites those files in the framed form, keeping their content.
func TestVersion1Store(t *testing.T) {
	dir := t.TempDir()
	views := buildHistory(t, dir, 2, nil)
	want := views[2]
	s := openT(t, dir, Options{})
	ledger, err := readLedger(dir, s.man)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	writeV1Manifest(t, dir)
	var sigs bytes.Buffer
	if err := signal.WriteJSONL(&sigs, want.Signals); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, legacySignalsName), sigs.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, legacyLedgerName), encodeFiles(ledger), 0o644)
	os.WriteFile(filepath.Join(dir, legacyStateName), []byte(want.Blobs[StateBlob]), 0o644)

	old := want
	delete(old.Blobs, "checkpoint") // version 1 stores had no other blobs
	ro := openT(t, dir, Options{ReadOnly: true})
	if diff := cmp.Diff(old, viewOf(t, ro, nil), cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Files" }, cmp.Ignore())); diff != "" {
		t.Errorf("version 1 store read (-want +got):\n%s", diff)
	}
	ro.Close()
	s = openT(t, dir, Options{})
	w := writerT(t, s)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{legacySignalsName, legacyLedgerName, legacyStateName} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s left after the first commit", n)
		}
	}
	if diff := cmp.Diff(old, viewOf(t, s, history()[:2])); diff != "" {
		t.Errorf("version 1 store after its first commit (-want +got):\n%s", diff)
	}
	if c, err := Check(context.Background(), dir); err != nil || !c.OK() {
		t.Errorf("Check: %+v %v", c, err)
	}
}
