package benchcorpus

import (
	"bytes"
	"context"
	"fmt"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/source"
)

// ReadEvents reads every event of the given files and folders (as trailhound hunt reads
// them) and returns copies of their JSON text, in walk order, to use as Options.Templates.
// Records that are not events are left out.
func ReadEvents(ctx context.Context, paths []string) ([][]byte, error) {
	var evs [][]byte
	d := decode.New(decode.Options{})
	h := decode.HandlerFuncs{EventFunc: func(e *event.Event) error {
		evs = append(evs, bytes.Clone(e.Raw))
		return nil
	}}
	err := source.Walk(ctx, paths, source.Options{}, func(in source.Input) error {
		if in.Kind != source.KindLog {
			return nil
		}
		rc, err := in.Open(ctx)
		if err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		defer rc.Close()
		if _, err := d.Decode(ctx, in.Name, rc, h); err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("reading events: no events found in %v", paths)
	}
	return evs, nil
}
