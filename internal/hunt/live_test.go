package hunt

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/source"
)

// deliveryOrder lists the log files of a simulated trail in the order CloudTrail delivered
// them: by the time in their names, then name.
func deliveryOrder(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") && !strings.Contains(p, "Digest") {
			files = append(files, p)
		}
		return nil
	})
	stamp := func(p string) string {
		parts := strings.Split(filepath.Base(p), "_")
		if len(parts) > 3 {
			return parts[3]
		}
		return ""
	}
	slices.SortStableFunc(files, func(a, b string) int {
		if c := strings.Compare(stamp(a), stamp(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return files
}

// TestLiveEqualsBatch: a simulated week fed to Live in delivery order, in batches of random
// sizes, with a restart from the committed state at random batches, gives the signals of one
// batch run over all the files, with the default lateness; every signal's revisions go up
// from open to closed. Without lateness (hits evaluated as they arrive) some signals differ:
// the order matters on this trail, so the equality is not an accident of the data.
func TestLiveEqualsBatch(t *testing.T) {
	set := builtin(t)
	dir := simulated(t, 5, 7, 3000)
	cfg := Config{}
	batchCfg := cfg
	batchCfg.KeepState, batchCfg.Flush = true, true
	want, err := Run(context.Background(), batchCfg, set, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	files := deliveryOrder(t, dir)
	differ := func(live map[string]signal.Signal) int {
		n := 0
		for _, w := range want.Signals {
			if g, ok := live[w.ID]; !ok || cmp.Diff(contentOf(w), contentOf(g)) != "" {
				n++
			}
		}
		return n
	}
	eager, err := NewLive(Config{Lateness: -1}, set)
	if err != nil {
		t.Fatal(err)
	}
	eagerLast := map[string]signal.Signal{}
	for i := 0; i < len(files); i += 3 {
		var ins []source.Input
		for _, f := range files[i:min(i+3, len(files))] {
			ins = append(ins, source.FileInput(f))
		}
		if _, err := eager.Read(context.Background(), ins); err != nil {
			t.Fatal(err)
		}
		revs, err := eager.Evaluate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range revs {
			eagerLast[s.ID] = s
		}
	}
	for _, s := range eager.Flush() {
		eagerLast[s.ID] = s
	}
	if differ(eagerLast) == 0 {
		t.Fatal("without lateness the live run equals the batch run: the trail does not test ordering")
	}
	// Each seed runs with and without OpenEarly over the same batches and restarts: the
	// signals are the same, and opening early announces every signal no later — for most
	// rule signals batches earlier — than the watermark does.
	for _, seed := range []uint64{1, 2} {
		late, lateAnnounce := runLive(t, set, files, seed, false)
		early, earlyAnnounce := runLive(t, set, files, seed, true)
		sooner := 0
		for _, last := range []map[string]signal.Signal{late, early} {
			if len(last) != len(want.Signals) {
				t.Errorf("seed %d: %d signals live, %d in one batch run", seed, len(last), len(want.Signals))
			}
			for _, w := range want.Signals {
				got, ok := last[w.ID]
				if !ok {
					t.Errorf("seed %d: signal %s (%s) missing from the live run", seed, w.ID, w.Title)
					continue
				}
				if got.Status != signal.StatusClosed {
					t.Errorf("signal %s ends %s", w.ID, got.Status)
				}
				if diff := cmp.Diff(contentOf(w), contentOf(got)); diff != "" {
					t.Errorf("seed %d: signal %s differs (-batch +live):\n%s", seed, w.ID, diff)
				}
			}
		}
		for _, w := range want.Signals {
			if earlyAnnounce[w.ID] > lateAnnounce[w.ID] {
				t.Errorf("seed %d: signal %s announced at batch %d opening early, %d without", seed, w.ID, earlyAnnounce[w.ID], lateAnnounce[w.ID])
			}
			if earlyAnnounce[w.ID] < lateAnnounce[w.ID] {
				sooner++
			}
		}
		t.Logf("seed %d: %d of %d signals announced sooner opening early", seed, sooner, len(want.Signals))
		if sooner < len(want.Signals)/2 {
			t.Errorf("seed %d: only %d of %d signals announced sooner opening early", seed, sooner, len(want.Signals))
		}
	}
}

// runLive feeds files to a Live in batches of random sizes (seed), restarting it from its
// state at random batches, and returns the last revision of each signal that is not
// superseded, and the batch at which each was announced: its own first revision, or that of
// an early signal it superseded.
func runLive(t *testing.T, set *ruleset.Set, files []string, seed uint64, early bool) (map[string]signal.Signal, map[string]int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	cfg := Config{OpenEarly: early}
	live, err := NewLive(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	var all []signal.Signal
	first := map[string]int{}
	batch := 0
	check := func(revs []signal.Signal) {
		for _, s := range revs {
			if _, ok := first[s.ID]; !ok {
				first[s.ID] = batch
			}
		}
		all = append(all, revs...)
		if _, err := signal.CheckRevisions(all); err != nil {
			t.Fatal(err)
		}
	}
	restarts := 0
	for i := 0; i < len(files); batch++ {
		n := 1 + r.IntN(20)
		var ins []source.Input
		for _, f := range files[i:min(i+n, len(files))] {
			ins = append(ins, source.FileInput(f))
		}
		i += n
		if _, err := live.Read(context.Background(), ins); err != nil {
			t.Fatal(err)
		}
		revs, err := live.Evaluate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		check(revs)
		if r.IntN(10) == 0 {
			state, err := live.State()
			if err != nil {
				t.Fatal(err)
			}
			c := cfg
			c.State = state
			if live, err = NewLive(c, set); err != nil {
				t.Fatal(err)
			}
			restarts++
		}
	}
	check(live.Flush())
	if restarts == 0 {
		t.Fatal("no restart: the test does not test the state")
	}
	last, _ := signal.CheckRevisions(all)
	if err := signal.CheckSuperseded(last); err != nil {
		t.Fatal(err)
	}
	superseded := 0
	for id, s := range last {
		if s.SupersededBy != "" {
			if first[id] < first[s.SupersededBy] {
				first[s.SupersededBy] = first[id]
			}
			delete(last, id)
			superseded++
		}
	}
	if !early && superseded > 0 {
		t.Fatalf("%d signals superseded without OpenEarly", superseded)
	}
	t.Logf("seed %d, open early %v: %d signals superseded", seed, early, superseded)
	return last, first
}
