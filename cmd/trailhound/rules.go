package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/ruletest"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/rules"
)

func (a *app) rulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, lint and test Sigma rules",
	}
	cmd.AddCommand(a.rulesListCmd(), a.rulesLintCmd(), a.rulesTestCmd())
	return cmd
}

func (a *app) rulesListCmd() *cobra.Command {
	var (
		rf     ruleFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List loaded rules: id, title, level, ATT&CK, source file",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := rf.options()
			if err != nil {
				return err
			}
			set, err := ruleset.Load(cmd.Context(), opts)
			var el sigma.ErrorList
			if err != nil && !errors.As(err, &el) {
				return err
			}
			for _, e := range el {
				fmt.Fprintf(a.stderr, "warning: rule not loaded: %s\n", e)
			}
			type row struct {
				ID         string   `json:"id"`
				Title      string   `json:"title"`
				Level      string   `json:"level"`
				Type       string   `json:"type"`
				Techniques []string `json:"techniques"`
				Tactics    []string `json:"tactics"`
				File       string   `json:"file"`
			}
			var rows []row
			for _, r := range set.Engine.Rules() {
				tech, tac := signal.ParseAttackTags(r.Info.Tags)
				rows = append(rows, row{r.Info.ID, r.Info.Title, r.Info.Level.String(), "detection", tech, tac, displayFile(r.Sigma.File)})
			}
			for _, c := range set.Rules.Correlations {
				tech, tac := signal.ParseAttackTags(c.Tags)
				lvl := c.Level
				if lvl == "" {
					lvl = "-"
				}
				rows = append(rows, row{c.Ref(), c.Title, lvl, "correlation:" + string(c.Type), tech, tac, displayFile(c.File)})
			}
			if a.verbose {
				for _, s := range set.Skipped {
					fmt.Fprintf(a.stderr, "skipped: %s (%s): %s\n", s.Title, s.File, s.Reason)
				}
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				for _, r := range rows {
					if r.Techniques == nil {
						r.Techniques = []string{}
					}
					if r.Tactics == nil {
						r.Tactics = []string{}
					}
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tLEVEL\tTITLE\tATT&CK\tFILE")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Level, r.Title, strings.Join(r.Techniques, ","), r.File)
			}
			return tw.Flush()
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table or json (one object per line)")
	return cmd
}

// displayFile names built-in rule files so users can tell them from their own.
func displayFile(f string) string {
	if strings.Contains(f, string(os.PathSeparator)) || strings.HasPrefix(f, ".") {
		return f
	}
	return "builtin:" + f
}

func (a *app) rulesLintCmd() *cobra.Command {
	var iocs iocFlags
	cmd := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Report every error of every rule, with file:line:col (built-in rules when no path)",
		Long: `lint loads the rules as hunt does (built-in rules when no path is given) and prints every
problem with its file:line:col, sorted. The exit code is 2 when there are errors, 0 otherwise:
warnings never fail lint.

Errors leave a rule out of a run. An error that leaves a correlation rule unable to run also
makes hunt, investigate and rules test refuse the whole rule set (exit 2).

Warnings, marked "(warning)", are lint findings (tag and date formats, unused searches) and
rules that make matching slow, with an estimate of their cost per value (thresholds measured
on this engine: BenchmarkRuleCost, bench/PERFORMANCE.md "Rule cost"):
  - more than 142 values of one field matched one at a time (values with '?' or a star inside,
    |all): about 35 ns each, 5 µs in all; plain |contains, |startswith, |endswith values are
    matched together by one automaton, however many;
  - a regular expression without a literal of 3 characters or more that every match contains
    (the prefilter skips values without it), estimated at 5 µs or more per 100-byte value:
    about 70 ns per instruction of its program when tried at every position, 2 ns when
    anchored at the start; a large alternation of literals is better written as a list of
    values; several such expressions of one field, together;
  - in a rule whose condition names no eventName (it meets every event): a keyword search, or
    a substring search of a whole object (requestParameters, responseElements, ...).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ph, err := iocs.placeholders()
			if err != nil {
				return err
			}
			opts := ruleset.Options{Paths: args, Placeholders: ph}
			if len(args) == 0 {
				opts.Builtin = rules.FS
			}
			set, err := ruleset.Load(cmd.Context(), opts)
			var el sigma.ErrorList
			if err != nil && !errors.As(err, &el) {
				return err
			}
			for _, w := range set.Warnings {
				fmt.Fprintf(a.stdout, "%s (warning)\n", w)
			}
			for _, e := range el {
				fmt.Fprintln(a.stdout, e)
			}
			n := len(set.Rules.Rules) + len(set.Rules.Correlations)
			fmt.Fprintf(a.stderr, "%d file(s), %d rule(s) loaded, %d error(s), %d warning(s), %d rule(s) not for CloudTrail\n",
				len(set.Rules.Files), n, len(el), len(set.Warnings), len(set.Skipped))
			if len(set.Invalid) > 0 {
				fmt.Fprintf(a.stderr, "%d error(s) leave correlation rules unable to run: hunt, rules test and investigate refuse this rule set\n%s\n",
					len(set.Invalid), ruleset.Hint)
			}
			if len(el) > 0 {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	iocs.add(cmd)
	return cmd
}

func (a *app) rulesTestCmd() *cobra.Command {
	var iocs iocFlags
	cmd := &cobra.Command{
		Use:   "test [PATH...]",
		Short: "Run the *_test.yml files beside rules (built-in rules when no path)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var (
				set   *ruleset.Set
				files []*ruletest.File
				err   error
			)
			ph, err := iocs.placeholders()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				set, err = ruleset.Load(ctx, ruleset.Options{Builtin: rules.FS, Placeholders: ph})
				if err != nil {
					return ruleLoadError(set, err)
				}
				files, err = ruletest.Load(rules.FS, ".")
			} else {
				paths := make([]string, len(args)) // a test file stands for its rule
				for i, p := range args {
					paths[i] = ruletest.RulePath(p)
				}
				set, err = ruleset.Load(ctx, ruleset.Options{Paths: paths, Placeholders: ph})
				if err != nil {
					return ruleLoadError(set, err)
				}
				for _, p := range args {
					fs, err := ruletest.LoadPath(p)
					if err != nil {
						return err
					}
					files = append(files, fs...)
				}
			}
			if err != nil {
				return err
			}
			results, err := ruletest.Run(ctx, files, set.Rules, hunt.Evaluator{Rules: set})
			if err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if r.Passed() {
					if a.verbose {
						fmt.Fprintf(a.stdout, "ok    %s: %s\n", r.File, r.Case)
					}
					continue
				}
				failed++
				fmt.Fprintf(a.stdout, "FAIL  %s:%d: %s: %s\n", r.File, r.Line, r.Case, r.Failure)
			}
			fmt.Fprintf(a.stdout, "%d passed, %d failed\n", len(results)-failed, failed)
			if failed > 0 {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	iocs.add(cmd)
	return cmd
}
