package investigate

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/store"
)

// countingSource counts the events LoadStore reads.
type countingSource struct {
	*store.Store
	read int
}

func (c *countingSource) Events(ctx context.Context, f store.Filter, fn func(store.Record, *event.Event) error) error {
	return c.Store.Events(ctx, f, func(r store.Record, e *event.Event) error { c.read++; return fn(r, e) })
}

// TestLoadStoreSameReports: for every signal of the simulated week and for starting points of
// every kind (leaked key, attacker-made users, an assumed-role session, a role, a source
// address, an unknown key), an investigation over the store gives exactly the report of one
// over the logs, while reading a small part of the store.
func TestLoadStoreSameReports(t *testing.T) {
	sim := loadSimulated(t)
	ctx := context.Background()
	s, err := store.Open(t.TempDir(), store.Options{SegmentEvents: 4000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.Writer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddPaths(ctx, []string{sim.dir}, store.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	var starts []Start
	for _, sig := range sim.signals {
		starts = append(starts, Start{Signal: sig.ID})
	}
	// Other kinds of starting point, taken from the data: the first key, user, session, role
	// and address of each attack's steps, and some benign ones.
	seen := map[Start]bool{}
	addStart := func(st Start) {
		if !seen[st] {
			seen[st] = true
			starts = append(starts, st)
		}
	}
	for i := range sim.x.recs {
		r := &sim.x.recs[i]
		actor, key, ip := sim.x.str(r.actor), sim.x.str(r.key), sim.x.str(r.ip)
		if i%997 != 0 && r.link < 0 {
			continue
		}
		if key != "" {
			addStart(Start{AccessKey: key})
		}
		if ip != "" && i%3 == 0 {
			addStart(Start{IP: ip})
		}
		if role := sim.x.str(r.role); role != "" {
			addStart(Start{ARN: role})
		}
		if actor != "" && r.role == 0 {
			addStart(Start{ARN: actor})
		}
	}
	addStart(Start{AccessKey: "AKIANOSUCHKEY0000000"})
	addStart(Start{User: "nobody-here"})
	for _, at := range sim.truth.Attacks {
		for _, id := range at.Identities {
			if id.UserName != "" {
				addStart(Start{User: id.UserName})
			}
			if id.AccessKeyID != "" {
				addStart(Start{AccessKey: id.AccessKeyID})
			}
		}
		for _, ip := range at.SourceIPs {
			addStart(Start{IP: ip})
		}
	}
	if len(starts) < 40 {
		t.Fatalf("only %d starting points", len(starts))
	}
	total := s.Stats().Events
	for _, st := range starts {
		want, wantErr := Investigate(ctx, sim.x, st, sim.signals, Options{})
		src := &countingSource{Store: s}
		x, err := LoadStore(ctx, src, st, sim.signals, LoadOptions{})
		if err != nil {
			t.Fatalf("%s: LoadStore: %v", st, err)
		}
		got, gotErr := Investigate(ctx, x, st, sim.signals, Options{})
		if (wantErr == nil) != (gotErr == nil) || wantErr != nil && errors.Is(wantErr, ErrNotFound) != errors.Is(gotErr, ErrNotFound) {
			t.Fatalf("%s: error over the logs %v, over the store %v", st, wantErr, gotErr)
		}
		if wantErr != nil {
			continue
		}
		if diff := cmp.Diff(reportJSON(t, want), reportJSON(t, got)); diff != "" {
			t.Fatalf("%s: report over the store differs from the one over the logs (-logs +store):\n%s", st, diff)
		}
		// An address can be shared by everyone (a NAT): it starts from every identity behind it.
		if src.read > total/2 && st.IP == "" {
			t.Errorf("%s: read %d of %d stored events", st, src.read, total)
		}
	}
	t.Logf("%d starting points, %d stored events", len(starts), total)
}
