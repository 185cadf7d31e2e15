package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/sample"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/rules"
)

func (a *app) demoCmd() *cobra.Command {
	var (
		dir  string
		keep bool
		of   outputFlags
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Write a sample CloudTrail bucket with a leaked-key attack, then hunt it",
		Long: `demo writes a day of CloudTrail for account 111122223333 in CloudTrail's S3 layout
(AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz): benign developers, CI and
admins, plus an attacker using a leaked access key. It then hunts the folder with the
built-in rules and prints the signals, exactly as "trailhound hunt <dir>" would.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				tmp, err := os.MkdirTemp("", "trailhound-demo-")
				if err != nil {
					return err
				}
				dir = tmp
				if !keep {
					defer os.RemoveAll(tmp)
				}
			}
			if err := os.CopyFS(dir, sample.FS()); err != nil {
				return fmt.Errorf("writing the sample to %s: %w", dir, err)
			}
			fmt.Fprintf(a.stderr, "sample CloudTrail written to %s\n", filepath.Join(dir, "AWSLogs"))
			format, err := a.resolveFormat(of.format)
			if err != nil {
				return err
			}
			min, err := signal.ParseLevel(of.minLevel)
			if err != nil {
				return fmt.Errorf("--min-level: %w", err)
			}
			set, err := a.loadRules(cmd, ruleset.Options{Builtin: rules.FS})
			if err != nil {
				return err
			}
			res, err := hunt.Run(cmd.Context(), hunt.Config{Logger: a.logger, Source: source.Options{}}, set, []string{dir})
			if err != nil {
				return err
			}
			if err := a.writeSignals(format, of, min, res.Signals); err != nil {
				return err
			}
			return res.Stats.WriteSummary(a.stderr)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "write the sample here (kept) instead of a temporary folder")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary folder")
	of.add(cmd)
	return cmd
}
