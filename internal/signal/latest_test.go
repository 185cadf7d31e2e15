package signal

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLatest: the last revision of each id wins, at the place of the id's first appearance,
// across chunks.
func TestLatest(t *testing.T) {
	r := func(id string, rev int) Signal { return Signal{ID: id, Revision: rev} }
	for _, tc := range []struct {
		name string
		in   [][]Signal
		want []Signal
	}{
		{"nothing", nil, nil},
		{"distinct ids keep their order", [][]Signal{{r("b", 1), r("a", 1)}}, []Signal{r("b", 1), r("a", 1)}},
		{"a later revision replaces in place", [][]Signal{{r("a", 1), r("b", 1), r("a", 2)}}, []Signal{r("a", 2), r("b", 1)}},
		{"across chunks", [][]Signal{{r("a", 1), r("b", 1)}, {r("c", 1), r("b", 3)}, {r("a", 2)}}, []Signal{r("a", 2), r("b", 3), r("c", 1)}},
	} {
		if got := Latest(tc.in...); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: %s", tc.name, cmp.Diff(tc.want, got))
		}
	}
}
