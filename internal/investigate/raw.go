package investigate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/source"
)

// Raw returns the JSON text of the events with the given ids, read again from the files
// they came from (the index keeps only their position): a report's evidence in full, without
// holding every event in memory. Ids not in the index are left out. Events read from
// standard input cannot be read again and are left out too.
func (x *Index) Raw(ctx context.Context, eventIDs []string) (map[string]json.RawMessage, error) {
	want := map[sym]map[int32]string{} // file -> record -> event id
	for _, id := range eventIDs {
		v, ok := x.lookup(id)
		if !ok {
			continue
		}
		e, ok := x.byID[v]
		if !ok {
			continue
		}
		r := &x.recs[e]
		if x.str(r.file) == source.Stdin {
			continue
		}
		if want[r.file] == nil {
			want[r.file] = map[int32]string{}
		}
		want[r.file][r.pos] = id
	}
	files := make([]sym, 0, len(want))
	for f := range want {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b sym) int { return strings.Compare(x.str(a), x.str(b)) })
	out := make(map[string]json.RawMessage, len(eventIDs))
	dec := decode.New(x.opts.Decode)
	for _, f := range files {
		name := x.str(f)
		fh, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("reading events again: %w", err)
		}
		recs := want[f]
		_, err = dec.Decode(ctx, name, fh, decode.HandlerFuncs{EventFunc: func(ev *event.Event) error {
			if id, ok := recs[int32(ev.Pos.Record)]; ok {
				out[id] = append(json.RawMessage(nil), ev.Raw...)
			}
			return nil
		}})
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("reading events again from %s: %w", name, err)
		}
	}
	return out, nil
}
