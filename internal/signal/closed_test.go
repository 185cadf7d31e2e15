package signal

import (
	"slices"
	"testing"
)

// TestClosedSignals: the signals a stream closed, by id — not those still open, not those
// closed as superseded — and a stream whose revisions go back is an error; CheckSuperseded
// requires a superseded signal's successor in the stream, not superseded itself.
func TestClosedSignals(t *testing.T) {
	r := func(id string, st Status, rev int, by string) Signal {
		return Signal{ID: id, Status: st, Revision: rev, SupersededBy: by}
	}
	revs := []Signal{
		r("a", StatusOpen, 1, ""), r("b", StatusOpen, 1, ""), r("c", StatusOpen, 1, ""),
		r("a", StatusClosed, 2, ""), r("b", StatusClosed, 2, "d"), r("d", StatusOpen, 1, ""),
		r("e", "", 0, ""), // a batch run's line: closed, revision 1
	}
	closed, err := ClosedSignals(revs)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range closed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"a", "e"}) {
		t.Errorf("closed %v, want [a e]", ids)
	}
	if _, err := ClosedSignals(append(revs, r("a", StatusUpdated, 3, ""))); err == nil {
		t.Error("a revision after the close is not an error")
	}
	last, _ := CheckRevisions(revs)
	if err := CheckSuperseded(last); err != nil {
		t.Errorf("CheckSuperseded: %v", err)
	}
	last["d"] = r("d", StatusClosed, 2, "a")
	if err := CheckSuperseded(last); err == nil {
		t.Error("a successor superseded itself is not an error")
	}
	delete(last, "d")
	if err := CheckSuperseded(last); err == nil {
		t.Error("a successor missing from the stream is not an error")
	}
}
