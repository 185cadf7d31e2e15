package investigate

import (
	"context"
	"testing"

	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/internal/store"
)

// TestLoadStore checks that an index built from a store equals one built from the logs.
func TestLoadStore(t *testing.T) {
	ctx := context.Background()
	logs := t.TempDir()
	if _, err := simulate.Generate(ctx, simulate.Options{Seed: 3, Days: 2, EventsPerDay: 2000}, simulate.NewDirSink(logs)); err != nil {
		t.Fatal(err)
	}
	want, err := Load(ctx, []string{logs}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(t.TempDir(), store.Options{SegmentEvents: 1500})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.Writer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddPaths(ctx, []string{logs}, store.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := LoadStore(ctx, s, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != want.Len() || len(got.links) != len(want.links) || len(got.raws) != len(want.raws) {
		t.Fatalf("LoadStore: %d events, %d links, %d raws; Load: %d, %d, %d",
			got.Len(), len(got.links), len(got.raws), want.Len(), len(want.links), len(want.raws))
	}
	for i := range want.recs {
		a, b := want.recs[i], got.recs[i]
		// The position may differ for events delivered twice: the store keeps the first
		// delivery it was given, Load the first by file name.
		if want.str(a.id) != got.str(b.id) || want.str(a.actor) != got.str(b.actor) || a.t != b.t ||
			a.link >= 0 != (b.link >= 0) || want.str(a.key) != got.str(b.key) {
			t.Fatalf("record %d: Load %s %s, LoadStore %s %s", i, want.str(a.id), want.str(a.actor), got.str(b.id), got.str(b.actor))
		}
	}
}
