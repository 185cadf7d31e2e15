package hunt

import (
	"context"

	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
)

// Evaluator evaluates in-memory events with the same stages as Run (rule tests and tools use
// it). It satisfies ruletest.Evaluator.
type Evaluator struct {
	Rules *ruleset.Set
	// Config is applied as in Run (grouping, lateness); StateFile and Flush are ignored.
	Config Config
}

// Evaluate returns the signals the events produce, sorted, starting from empty state.
func (e Evaluator) Evaluate(ctx context.Context, events []*event.Event) ([]signal.Signal, error) {
	cfg := e.Config.withDefaults()
	cfg.StateFile, cfg.Flush = "", false
	st, err := newStateful(cfg, e.Rules, cfg.Emit == EmitOpen)
	if err != nil {
		return nil, err
	}
	w := &worker{m: e.Rules.Engine.NewMatcher(), st: st, maxMatches: cfg.MaxMatches, spillDir: cfg.SpillDir}
	// Rule tests see the same trailhound.* fields as a hunt; without databases that is the
	// actor, key type, IP kind and user-agent family.
	enr := cfg.Enricher
	if enr == nil {
		if enr, err = enrich.Open(enrich.Config{}); err != nil {
			return nil, err
		}
		defer enr.Close()
	}
	w.enr = enr.NewState()
	for _, ev := range events {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := w.Event(ev); err != nil {
			return nil, err
		}
	}
	firstT, _ := event.ParseTime([]byte(w.first))
	st.begin(firstT)
	sigs, _, err := st.run(ctx, append(w.runs, run{mem: w.matches}), e.Rules.Engine.Rules())
	if err != nil {
		return nil, err
	}
	signal.Sort(sigs)
	return sigs, nil
}

// WithGeoIP returns an Evaluator whose enrichment knows the given networks (rule test files
// declare them to test rules on ASN and country without a database).
func (e Evaluator) WithGeoIP(nets []enrich.StaticNetwork) (interface {
	Evaluate(ctx context.Context, events []*event.Event) ([]signal.Signal, error)
}, error) {
	enr, err := enrich.Open(enrich.Config{Static: nets})
	if err != nil {
		return nil, err
	}
	cfg := e.Config
	cfg.Enricher = enr
	return Evaluator{Rules: e.Rules, Config: cfg}, nil
}
