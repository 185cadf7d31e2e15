package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/simulate"
)

func (a *app) simulateCmd() *cobra.Command {
	var (
		out     string
		opts    simulate.Options
		attacks string
		regions []string
		noDig   bool
	)
	cmd := &cobra.Command{
		Use:   "simulate --out DIR",
		Short: "Write a simulated multi-account CloudTrail history with the seed attacks",
		Long: `simulate writes days of CloudTrail for several accounts in CloudTrail's S3 layout
(DIR/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz, plus CloudTrail-Digest/):
benign CI, console users, admins, monitoring and data events, with seed attacks 1 (leaked
key: admin users, console, S3, metal instances) and 2 (leaked key: ECS miners in 17
regions) woven in, and on request attack 3 (an instance profile's credentials stolen and used
from outside: bucket listings and reads). --busy-owners gives the leaked keys to busy CI
users whose pipelines keep running with them; --ci-users adds such users as benign traffic,
--s3-readers heavy S3 batch readers and --scanners a CSPM scanner; --unlisted-infra moves
most attacker addresses and images out of the built-in IOC lists. Files are delivered late
and unordered, a few events twice.

The answer key goes to DIR/` + simulate.GroundTruthFile + `, outside AWSLogs: hunt DIR/AWSLogs, not DIR.
The same --seed always writes the same bytes.`,
		Example: `  trailhound simulate --out /tmp/ct
  trailhound simulate --out /tmp/ct --seed 42 --days 3 --events-per-day 1000000 --attacks 2
  trailhound hunt /tmp/ct/AWSLogs`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out: a folder is required")
			}
			opts.Regions = regions
			opts.Digests = !noDig
			switch strings.TrimSpace(attacks) {
			case "none", "":
				opts.NoAttacks = true
			default:
				for _, s := range strings.Split(attacks, ",") {
					n, err := strconv.Atoi(strings.TrimSpace(s))
					if err != nil {
						return fmt.Errorf("--attacks: %q is not a number", s)
					}
					opts.Attacks = append(opts.Attacks, simulate.Attack(n))
				}
			}
			start := time.Now()
			counter, stopProgress := a.startProgress("simulate", "written")
			gt, err := simulate.Generate(cmd.Context(), opts, countingSink{simulate.NewDirSink(out), counter})
			stopProgress()
			if err != nil {
				return err
			}
			took := time.Since(start)
			s := gt.Stats
			w := a.stdout
			fmt.Fprintf(w, "wrote %d events (%d late, %d duplicated) in %d files and %d digest files to %s in %.1fs (%.0f events/s)\n",
				s.Events, s.Late, s.Duplicates, s.Files, s.DigestFiles, filepath.Join(out, "AWSLogs"), took.Seconds(), float64(s.Events)/took.Seconds())
			fmt.Fprintf(w, "history %s to %s, org %s, accounts", gt.Start.Format(time.RFC3339), gt.End.Format(time.RFC3339), gt.Org)
			for _, acc := range gt.Accounts {
				fmt.Fprintf(w, " %s (%s)", acc.ID, acc.Name)
			}
			fmt.Fprintln(w)
			for _, at := range gt.Attacks {
				fmt.Fprintf(w, "attack %d: %s to %s, %d events, %d resources, account %s: %s\n", at.Attack,
					at.Start.Format(time.RFC3339), at.End.Format(time.RFC3339), len(at.Steps), len(at.Resources), at.Identities[0].Account, at.Name)
			}
			fmt.Fprintf(w, "ground truth: %s\n", filepath.Join(out, simulate.GroundTruthFile))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "folder to write into (created if missing)")
	f.Uint64Var(&opts.Seed, "seed", 1, "random seed; the same seed writes the same bytes")
	f.IntVar(&opts.Days, "days", simulate.DefaultDays, "days of history")
	f.IntVar(&opts.EventsPerDay, "events-per-day", simulate.DefaultEventsPerDay, "background events per day over all accounts")
	f.IntVar(&opts.Accounts, "accounts", simulate.DefaultAccounts, "number of AWS accounts (prod, dev, staging, ...)")
	f.StringVar(&attacks, "attacks", "1,2", `attacks to include: seed attacks "1" and "2", "3" (stolen instance-profile credentials), a list ("1,2,3") or "none"`)
	f.BoolVar(&opts.BusyOwners, "busy-owners", false, "the keys that leak in attacks 1 and 2 belong to busy CI users whose pipelines keep running")
	f.IntVar(&opts.CIUsers, "ci-users", 0, "benign busy CI users per account (Terraform and the AWS CLI with a long-term key, all day)")
	f.IntVar(&opts.S3Readers, "s3-readers", 0, "heavy S3 readers per account (batch task roles reading thousands of objects a day, at most 4)")
	f.BoolVar(&opts.Scanners, "scanners", false, "a CSPM scanner in every account (a vendor-assumed role describing everything hourly)")
	f.BoolVar(&opts.UnlistedInfra, "unlisted-infra", false, "attack addresses and mining images mostly outside the built-in IOC lists")
	f.IntVar(&opts.CIRunsPerDay, "ci-runs-per-day", simulate.DefaultCIRunsPerDay, "pipeline runs of each CI user on a weekday (a quarter on weekends)")
	f.StringSliceVar(&regions, "regions", nil, "regions the organisation uses (default us-east-1,eu-west-1,us-east-2)")
	f.TimeVar(&opts.Start, "start", time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), []string{time.RFC3339, time.DateOnly}, "start of the history (UTC)")
	f.BoolVar(&noDig, "no-digests", false, "do not write CloudTrail-Digest files")
	return cmd
}
