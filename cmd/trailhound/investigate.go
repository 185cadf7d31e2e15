package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/casefile"
	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/internal/store"
)

func (a *app) investigateCmd() *cobra.Command {
	var (
		rf       ruleFlags
		start    investigate.Start
		format   string
		planFile string
		dotFile  string
		prices   string
		geoip    []string
		limit    int
		db       string

		allowUnreadable bool
		width           int
		in              inputFlags
	)
	cmd := &cobra.Command{
		Use:   "investigate (PATH... | --db DIR) (--signal ID | --access-key KEY | --arn ARN | --user NAME | --ip ADDR)",
		Short: "Follow an attacker from one signal or identity to the whole incident",
		Long: `investigate hunts the logs (once, into a temporary store; or reads a store written by
hunt --db) and from the starting point computes the scope:
the starting identity plus every identity it created or obtained (IAM users and their console
sessions, access keys, roles created or assumed, session and federation tokens), across all
accounts and regions in the data. Every start that reaches the same incident (its signal, the
leaked key, the attacker's address, a user it created) gives the same scope. The calls of a
credential the attacker shares with its owner (a leaked key, a stolen role session) are
attributed to the attacker, the owner or nobody known, with the evidence. It reports the
timeline, the identity graph, the resources created or changed (the owner's apart) and whether
they were deleted, the data touched, the blind spots of the logs, the ATT&CK matrix, an
estimated hourly cost of the attacker's infrastructure and a reviewable remediation script
(never executed by trailhound) that acts only on what the logs tie to the attacker.`,
		Example: `  trailhound investigate ./AWSLogs --signal 3637daca04229f9f7238
  trailhound investigate ./AWSLogs --access-key AKIAEXAMPLE -f markdown --plan cleanup.sh > incident.md
  trailhound investigate ./AWSLogs --user aws_dev4821 --dot graph.dot
  trailhound investigate s3://my-trail-bucket/AWSLogs/ --since 7d --access-key AKIAEXAMPLE`,
		RunE: func(cmd *cobra.Command, paths []string) error {
			switch format {
			case "text", "", "json", "markdown", "md", "csv":
			default:
				return &usageError{err: fmt.Errorf("unknown format %q (want text, json, markdown or csv)", format), path: cmd.CommandPath()}
			}
			if (db == "") == (len(paths) == 0) {
				return &usageError{err: fmt.Errorf("investigate needs %s, or --db DIR with a store written by hunt --db (not both)", pathArg), path: cmd.CommandPath()}
			}
			n := 0
			for _, s := range []string{start.Signal, start.AccessKey, start.ARN, start.User, start.IP} {
				if s != "" {
					n++
				}
			}
			if n != 1 {
				return &usageError{err: fmt.Errorf("investigate needs exactly one starting point: --signal ID, --access-key KEY, --arn ARN, --user NAME or --ip ADDR"), path: cmd.CommandPath()}
			}
			if start.Signal != "" {
				if err := checkSignalIDSyntax(start.Signal); err != nil {
					return &usageError{err: err, path: cmd.CommandPath()}
				}
			}
			ctx := cmd.Context()
			// Over a store the signals are stored: no rules are needed, only enrichment.
			var set *ruleset.Set
			var enr *enrich.Enricher
			var err error
			if db != "" {
				enr, err = openEnricher(geoip)
			} else {
				set, enr, err = a.rulesAndEnricher(cmd, rf, geoip)
			}
			if err != nil {
				return err
			}
			defer enr.Close()
			src, err := in.sourceOptions(cmd, source.Options{Stdin: a.stdin}, paths)
			if err != nil {
				return err
			}
			st, signals, done, err := a.investigationStore(ctx, db, paths, src, set, enr, allowUnreadable)
			if err != nil {
				return err
			}
			defer done()
			if start.Signal != "" {
				// The signals are at hand: an unknown id is told before the store is read.
				where := "the store " + db
				if db == "" {
					where = "the logs given"
				}
				if start.Signal, err = findSignalID(signals, start.Signal, where); err != nil {
					return err
				}
			}
			if db != "" {
				paths = []string{db}
			}
			var pr *remediate.Prices
			if prices != "" {
				if pr, err = remediate.LoadPrices(prices); err != nil {
					return err
				}
			}
			c, err := casefile.Build(ctx, st, start, signals, casefile.BuildOptions{Enricher: enr, Prices: pr, Logger: a.logger,
				Title: "trailhound investigate " + strings.Join(paths, " ")})
			if errors.Is(err, investigate.ErrNotFound) {
				return &exitError{code: 1, msg: err.Error()}
			}
			if err != nil && db != "" && ctx.Err() == nil {
				// A store that cannot be read may be damaged: say how to know and what to do.
				return fmt.Errorf("%w; `trailhound db check %s` says whether the store is damaged, and `trailhound db repair %s` rebuilds it from what its files' own checksums allow", err, db, db)
			}
			if err != nil {
				return err
			}
			rep := c.Report
			if planFile != "" {
				if err := writeFile(planFile, c.Plan.WriteScript); err != nil {
					return err
				}
				c.PlanFile = planFile
			}
			if dotFile != "" {
				if err := writeFile(dotFile, rep.Graph.WriteDOT); err != nil {
					return err
				}
			}
			ro := casefile.Options{TimelineLimit: limit, Color: colorFor(a.stdout)}
			if _, ro.Width = isTerminal(a.stdout); width > 0 {
				ro.Width = width
			}
			if format == "csv" && !cmd.Flags().Changed("timeline-limit") {
				ro.TimelineLimit = -1 // a spreadsheet takes every event
			}
			switch format {
			case "json":
				return casefile.WriteJSON(a.stdout, c)
			case "markdown", "md":
				return casefile.WriteMarkdown(a.stdout, c, ro)
			case "csv":
				return casefile.WriteCSV(a.stdout, c, ro)
			case "text", "":
				return casefile.WriteText(a.stdout, c, ro)
			}
			return &usageError{err: fmt.Errorf("unknown format %q (want text, json, markdown or csv)", format), path: cmd.CommandPath()}
		},
	}
	rf.add(cmd)
	in.add(cmd)
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "investigate the store written by hunt --db instead of log paths")
	f.StringVar(&start.Signal, "signal", "", "start from a signal id (or a unique prefix), as printed by hunt")
	f.StringVar(&start.AccessKey, "access-key", "", "start from an access key id (AKIA…, ASIA…)")
	f.StringVar(&start.ARN, "arn", "", "start from a principal ARN (user, role, assumed-role session, root)")
	f.StringVar(&start.User, "user", "", "start from an IAM user name")
	f.StringVar(&start.IP, "ip", "", "start from every identity that called from this source IP (the scope never grows by IP)")
	f.StringVarP(&format, "format", "f", "text", "output: text, json (the whole scope), markdown (an incident report) or csv (its tables, for a spreadsheet)")
	f.StringVar(&planFile, "plan", "", "write the remediation script to FILE (review it; trailhound never runs it)")
	f.StringVar(&dotFile, "dot", "", "write the identity graph as Graphviz DOT to FILE")
	f.StringVar(&prices, "prices", "", "prices overriding the built-in ones: an AWS Price List bulk file of AmazonEC2 (index.json or index.csv) or a table in the built-in JSON format")
	f.StringArrayVar(&geoip, "geoip", nil, "MaxMind DB (.mmdb) for ASN/country (repeatable; default $TRAILHOUND_GEOIP)")
	f.BoolVar(&allowUnreadable, "allow-unreadable", false, "investigate even when files inside folders could not be read")
	f.IntVar(&width, "width", 0, "text report width in columns (default: the terminal's, or $COLUMNS, or 80)")
	f.IntVar(&limit, "timeline-limit", 200, "timeline rows in text and markdown, keeping the events signals mark and the first and last (-1: all; csv has all unless given)")
	return cmd
}

// investigationStore returns the store an investigation reads and the signals of its
// events: the store at db (written by hunt --db), or a temporary one the logs at paths are
// hunted into in one pass, so that memory does not grow with the number of events (an
// index of every event would). done closes the store and removes a temporary one.
func (a *app) investigationStore(ctx context.Context, db string, paths []string, src source.Options, set *ruleset.Set, enr *enrich.Enricher, allowUnreadable bool) (st *store.Store, signals []signal.Signal, done func(), err error) {
	if db != "" {
		if st, err = store.Open(db, store.Options{ReadOnly: true}); err != nil {
			return nil, nil, nil, err
		}
		if signals, err = st.Signals(); err != nil {
			st.Close()
			return nil, nil, nil, err
		}
		return st, signals, func() { st.Close() }, nil
	}
	tmp, err := os.MkdirTemp("", "trailhound-investigate-")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating a temporary store: %w", err)
	}
	done = func() { os.RemoveAll(tmp) }
	if st, err = store.Open(tmp, store.Options{Logger: a.logger}); err != nil {
		done()
		return nil, nil, nil, err
	}
	done = func() { st.Close(); os.RemoveAll(tmp) }
	w, err := st.Writer()
	if err == nil {
		var res *hunt.Result
		cfg := hunt.Config{Logger: a.logger, Enricher: enr, Source: src, OnEvent: w.Add}
		var stopProgress func()
		cfg.Progress, stopProgress = a.startProgress("investigate: reading the logs", "read")
		res, err = hunt.Run(ctx, cfg, set, paths)
		stopProgress()
		if err != nil {
			err = inputError(err)
		} else if err = checkInputs(res.Stats, allowUnreadable); err == nil {
			signals = res.Signals
			err = w.CommitBatch(store.Batch{Signals: signals})
		}
	}
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return st, signals, done, nil
}
