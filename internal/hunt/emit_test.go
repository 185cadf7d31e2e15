package hunt

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
)

// simulated writes a simulated trail with both seed attacks and returns its folder.
func simulated(t testing.TB, seed uint64, days, perDay int) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := simulate.Generate(context.Background(), simulate.Options{Seed: seed, Days: days, EventsPerDay: perDay}, simulate.NewDirSink(dir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// contentOf is a signal without its place in the lifecycle.
func contentOf(s signal.Signal) signal.Signal {
	s.Status, s.Revision, s.DroppedEventIDs = "", 0, 0
	return s
}

// TestEmitOpen: --emit open reports every signal's revisions 1..n in order — open first,
// then updated, closed last — and each signal's last revision is exactly the signal
// --emit closed reports, with the same id; the signals still open at the end of a run
// that keeps its state carry their revision into the next run.
func TestEmitOpen(t *testing.T) {
	set := builtin(t)
	dir := simulated(t, 11, 3, 300)
	closed, err := Run(context.Background(), Config{}, set, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	open, err := Run(context.Background(), Config{Emit: EmitOpen}, set, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]signal.Signal{}
	updates := 0
	for _, s := range open.Signals {
		prev, seen := last[s.ID]
		switch {
		case !seen && s.Revision != 1:
			t.Fatalf("signal %s starts at revision %d", s.ID, s.Revision)
		case seen && s.Revision != prev.Revision+1:
			t.Fatalf("signal %s: revision %d after %d", s.ID, s.Revision, prev.Revision)
		case seen && prev.Status == signal.StatusClosed:
			t.Fatalf("signal %s: revision %d after it closed", s.ID, s.Revision)
		case s.Revision == 1 && s.Status == signal.StatusUpdated, s.Revision > 1 && s.Status == signal.StatusOpen:
			t.Fatalf("signal %s: revision %d is %s", s.ID, s.Revision, s.Status)
		}
		if s.Status == signal.StatusUpdated {
			updates++
		}
		last[s.ID] = s
	}
	if updates == 0 {
		t.Error("no signal was updated: the simulated attacks should grow some")
	}
	if len(last) != len(closed.Signals) {
		t.Fatalf("%d signals with --emit open, %d with --emit closed", len(last), len(closed.Signals))
	}
	for _, want := range closed.Signals {
		got, ok := last[want.ID]
		if !ok {
			t.Fatalf("signal %s (%s) of --emit closed never emitted with --emit open", want.ID, want.Title)
		}
		if got.Status != signal.StatusClosed {
			t.Errorf("signal %s ends %s", want.ID, got.Status)
		}
		if diff := cmp.Diff(contentOf(want), contentOf(got)); diff != "" {
			t.Errorf("signal %s: last revision differs from the closed signal (-closed +open):\n%s", want.ID, diff)
		}
	}
	if open.Stats.Signals[signal.LevelCritical] != closed.Stats.Signals[signal.LevelCritical] {
		t.Errorf("summary counts %v, want %v (each signal once)", open.Stats.Signals, closed.Stats.Signals)
	}

	// Kept state: a signal open at the end of the run goes on at the next revision.
	kept, err := Run(context.Background(), Config{Emit: EmitOpen, KeepState: true}, set, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	stillOpen := map[string]int{}
	for _, s := range kept.Signals {
		stillOpen[s.ID] = s.Revision
		if s.Status == signal.StatusClosed {
			delete(stillOpen, s.ID)
		}
	}
	if len(stillOpen) == 0 {
		t.Fatal("no signal still open at the end of a run that keeps its state")
	}
	flushed, err := Run(context.Background(), Config{Emit: EmitOpen, State: kept.State, KeepState: true, Flush: true}, set, []string{t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range flushed.Signals {
		if rev, ok := stillOpen[s.ID]; ok && (s.Revision != rev+1 || s.Status != signal.StatusClosed) {
			t.Errorf("signal %s: open at revision %d, closed by the next run at %d (%s)", s.ID, rev, s.Revision, s.Status)
		}
		delete(stillOpen, s.ID)
	}
	if len(stillOpen) > 0 {
		t.Errorf("signals never closed by the flushing run: %v", stillOpen)
	}
}
