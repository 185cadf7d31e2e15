package hunt

import (
	"context"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/signal"
)

// Evaluator evaluates in-memory events with the same stages as Run (rule tests and tools use
// it). It satisfies ruletest.Evaluator.
type Evaluator struct {
	Engine *detect.Engine
}

// Evaluate returns the signals the events produce, sorted, starting from empty state.
func (e Evaluator) Evaluate(ctx context.Context, events []*event.Event) ([]signal.Signal, error) {
	w := &worker{m: e.Engine.NewMatcher(), keep: 0}
	for _, ev := range events {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := w.Event(ev); err != nil {
			return nil, err
		}
	}
	sigs := dedupSignals(w.signals)
	signal.Sort(sigs)
	return sigs, nil
}
