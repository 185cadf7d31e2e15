package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ioc"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/rules"
)

func (a *app) demoCmd() *cobra.Command {
	var (
		dir   string
		clean bool
		seed  uint64
		days  int
		of    outputFlags
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Simulate two weeks of CloudTrail with two leaked-key attacks, then hunt it",
		Long: `demo writes two weeks of CloudTrail for two accounts in CloudTrail's S3 layout
(AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz, late and unordered deliveries):
developers, CI, admins and monitoring, plus the two published leaked-key attacks
(persistence with admin users and a console session; crypto-mining on ECS in 17 regions)
with fresh random names, in the second week: the first-seen rules (a region or an instance
type the account never used) learn from the first. It then hunts the folder with the built-in rules and prints the
signals, exactly as "trailhound hunt <dir>/AWSLogs" would. The answer key is written to
<dir>/ground-truth.json.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("seed") {
				seed = rand.Uint64() % 1_000_000
			}
			if dir == "" {
				dir = filepath.Join(os.TempDir(), fmt.Sprintf("trailhound-demo-%d", seed))
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
				if clean {
					defer os.RemoveAll(dir)
				}
			}
			counter, stopProgress := a.startProgress("demo: simulating", "written")
			gt, err := simulate.Generate(cmd.Context(), simulate.Options{Seed: seed, Days: days}, countingSink{simulate.NewDirSink(dir), counter})
			stopProgress()
			if err != nil {
				return fmt.Errorf("simulating: %w", err)
			}
			logs := filepath.Join(dir, "AWSLogs")
			a.warnf("simulated %d events (seed %d) in %s\n", gt.Stats.Events, seed, logs)
			format, err := a.resolveFormat(of.format)
			if err != nil {
				return err
			}
			min, err := signal.ParseLevel(of.minLevel)
			if err != nil {
				return fmt.Errorf("--min-level: %w", err)
			}
			lists, err := ioc.Load(true)
			if err != nil {
				return err
			}
			set, err := a.loadRules(cmd, ruleset.Options{Builtin: rules.FS, Placeholders: lists.Placeholders()})
			if err != nil {
				return err
			}
			// The enrichment trailhound hunt uses ($TRAILHOUND_GEOIP included), so the demo's
			// signals are what a hunt of the same logs prints.
			enr, err := openEnricher(nil)
			if err != nil {
				return err
			}
			defer enr.Close()
			for _, u := range enr.Unavailable(set.Engine.Fields()) {
				a.warnf("warning: rules reading %s are INACTIVE: %s\n", u.Field, u.Reason)
			}
			restoreGC := tuneGCForHunt(os.Getenv)
			cfg := hunt.Config{Logger: a.logger, Enricher: enr}
			cfg.Progress, stopProgress = a.startProgress("demo: hunting", "read")
			res, err := hunt.Run(cmd.Context(), cfg, set, []string{logs})
			stopProgress()
			restoreGC()
			if err != nil {
				return err
			}
			if err := a.writeSignals(format, of, min, res.Signals); err != nil {
				return err
			}
			hidden := 0
			for _, s := range res.Signals {
				if s.Level < min {
					hidden++
				}
			}
			if hidden > 0 {
				fmt.Fprintf(a.stderr, "%d lower-level signals not shown (--min-level low or informational shows them)\n", hidden)
			}
			res.Stats.Elapsed = time.Since(a.start)
			if a.quiet {
				return nil
			}
			if err := res.Stats.WriteSummary(a.stderr); err != nil {
				return err
			}
			if !clean && len(res.Signals) > 0 {
				fmt.Fprintf(a.stderr, "\nnext: follow the most severe signal to the whole incident:\n  trailhound investigate %s --signal %s\n(answer key: %s)\n",
					logs, res.Signals[0].ID, filepath.Join(dir, simulate.GroundTruthFile))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "write the data here (default: trailhound-demo-SEED in the temporary folder; kept for investigate)")
	cmd.Flags().BoolVar(&clean, "clean", false, "remove the data after the hunt")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "random seed (default: a new one each run; printed so a run can be repeated)")
	cmd.Flags().IntVar(&days, "days", 14, "days of activity to simulate")
	of.add(cmd)
	cmd.Flags().Lookup("min-level").DefValue = "medium"
	_ = cmd.Flags().Set("min-level", "medium")
	return cmd
}
