package casefile

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/signal"
)

// BuildOptions configures Build.
type BuildOptions struct {
	// Enricher adds ASN and country to source addresses; nil adds nothing.
	Enricher *enrich.Enricher
	// Prices are the cost estimate's prices; nil means remediate.DefaultPrices.
	Prices *remediate.Prices
	// Title heads the remediation script.
	Title string
	// Logger receives progress at debug level; nil discards.
	Logger *slog.Logger
}

// Build investigates start over a store and returns the case every output renders: the
// scope report, the cost estimate of what the attacker left running and the remediation
// plan. It is the one path from a starting point to a case, for the command line and the
// web investigator alike. An unknown starting point is an error wrapping
// investigate.ErrNotFound.
func Build(ctx context.Context, src investigate.StoreSource, start investigate.Start, signals []signal.Signal, opts BuildOptions) (Case, error) {
	idx, err := investigate.LoadStore(ctx, src, start, signals, investigate.LoadOptions{Enricher: opts.Enricher, Logger: opts.Logger})
	if err != nil {
		return Case{}, err
	}
	rep, err := investigate.Investigate(ctx, idx, start, signals, investigate.Options{})
	if err != nil {
		return Case{}, err
	}
	pr := opts.Prices
	if pr == nil {
		if pr, err = remediate.DefaultPrices(); err != nil {
			return Case{}, fmt.Errorf("reading the built-in prices: %w", err)
		}
	}
	return Case{
		Report: rep,
		Cost:   remediate.EstimateCost(rep.Resources, pr, rep.Summary.LastSeen),
		Plan: remediate.BuildPlan(rep.Resources, remediate.PlanOptions{Credentials: rep.Credentials, DataRead: rep.Data.Reads(),
			OwnerResources: len(rep.OwnerResources), Title: opts.Title}),
	}, nil
}
