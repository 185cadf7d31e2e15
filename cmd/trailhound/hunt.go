package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ocsf"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/internal/store"
)

// outputFlags select how signals are printed.
type outputFlags struct {
	format   string
	minLevel string
	width    int
}

func (f *outputFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.format, "format", "f", "", "output format: table, jsonl, csv or ocsf (OCSF 1.8 Detection Findings, one a line) (default: table on a terminal, jsonl otherwise)")
	cmd.Flags().StringVar(&f.minLevel, "min-level", "informational", "only print signals at or above this level (informational, low, medium, high, critical)")
	cmd.Flags().IntVar(&f.width, "width", 0, "table width in columns (default: the terminal's, or $COLUMNS, or 80)")
}

func (a *app) huntCmd() *cobra.Command {
	var (
		rf      ruleFlags
		of      outputFlags
		strict  bool
		workers int
		maxSize int
		all     bool
		rejects string
		state   string
		flush   bool
		late    time.Duration
		group   time.Duration
		geoip   []string
		maxM    int
		db      string
		segSize int

		allowUnreadable bool
		in              inputFlags
		emit            string
	)
	cmd := &cobra.Command{
		Use:   "hunt PATH...",
		Short: "Evaluate rules over CloudTrail logs and print signals",
		Long: `Evaluate Sigma rules over CloudTrail logs: files, folders (recursive), or - for stdin.
Gzip is recognised by its magic bytes; CloudTrail Records files, JSON Lines, JSON arrays
and single events are read; digest files are skipped. Every record read is either
evaluated or reported as rejected with its position; a summary goes to stderr.`,
		Example: `  trailhound hunt ./AWSLogs/
  trailhound hunt s3://my-trail-bucket/AWSLogs/ --since 2024-03-10 --until 2024-03-11 --region us-east-1
  trailhound hunt --rules ./my-rules --rules ../sigma/rules/cloud/aws/cloudtrail logs/ -f jsonl
  zcat x.json.gz | trailhound hunt -`,
		Args: args(1, -1, pathArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			min, err := signal.ParseLevel(of.minLevel)
			if err != nil {
				return fmt.Errorf("--min-level: %w", err)
			}
			format, err := a.resolveFormat(of.format)
			if err != nil {
				return err
			}
			set, enr, err := a.rulesAndEnricher(cmd, rf, geoip)
			if err != nil {
				return err
			}
			defer enr.Close()
			emitWhat, err := hunt.ParseEmit(emit)
			if err != nil {
				return &usageError{err: err, path: cmd.CommandPath()}
			}
			src, err := in.sourceOptions(cmd, source.Options{Stdin: a.stdin, AllFiles: all}, args)
			if err != nil {
				return err
			}
			cfg := hunt.Config{
				Workers:  workers,
				Decode:   decode.Options{MaxEventBytes: maxSize},
				Source:   src,
				Logger:   a.logger,
				Enricher: enr,

				StateFile:   state,
				Flush:       flush,
				Emit:        emitWhat,
				Lateness:    late,
				GroupWindow: group,
				MaxMatches:  maxM,
			}
			if group == 0 {
				cfg.GroupWindow = -1
			}
			crash := newCrashPoints(os.Getenv(crashEnv))
			var sink *storeSink
			if db == "" {
				defer tuneGCForHunt(os.Getenv)()
			} else {
				if state != "" {
					return fmt.Errorf("--state with --db: the store keeps the state itself, committed with the events and signals it describes (use --flush=false to keep windows open for the next run)")
				}
				if sink, err = openStoreSink(db, store.Options{Logger: a.logger, SegmentEvents: segSize, Fault: crash.at}); err != nil {
					return err
				}
				defer sink.close()
				cfg.OnEvent = sink.add
				if crash != nil {
					cfg.OnEvent = func(ev *event.Event) (bool, error) {
						crash.at("event")
						return sink.add(ev)
					}
				}
				cfg.Files = sink
				// The store keeps first-seen values and watermarks for the next run, but a
				// run over a folder reports every signal now: windows still open are closed
				// unless --flush=false.
				cfg.State, cfg.KeepState = sink.state, true
				if !cmd.Flags().Changed("flush") {
					cfg.Flush = true
				}
			}
			var stopProgress func()
			cfg.Progress, stopProgress = a.startProgress("hunt", "read")
			res, err := hunt.Run(cmd.Context(), cfg, set, args)
			stopProgress()
			if err != nil {
				return inputError(err)
			}
			// Signals go out before the store commits the run: a run that dies in between
			// leaves the store as it was, so the next run reads the same files and prints
			// the same signals again (an alert stream fed by hunt --db gets every signal at
			// least once). A run whose output fails commits nothing either.
			if err := a.writeSignals(format, of, min, res.Signals); err != nil {
				return fmt.Errorf("writing signals: %w (nothing was committed to the store: the next run reads the same files again)", err)
			}
			if sink != nil {
				crash.at("printed")
				if err := sink.commit(cmd.Context(), res.Signals, res.State); err != nil {
					return err
				}
			}
			if !a.quiet && sink != nil {
				fmt.Fprintln(a.stderr, sink.summary())
			}
			if !a.quiet {
				if sum := enr.Summary(); sum != "" {
					fmt.Fprintln(a.stderr, sum)
				}
				res.Stats.Elapsed = time.Since(a.start) // the whole run, not only its hunt
				if err := res.Stats.WriteSummary(a.stderr); err != nil {
					return err
				}
			}
			if rejects != "" {
				if err := writeFile(rejects, res.Stats.WriteRejections); err != nil {
					return err
				}
			}
			if err := checkInputs(res.Stats, allowUnreadable); err != nil {
				return err
			}
			if strict && res.Stats.Rejected > 0 {
				return &exitError{code: 3, msg: fmt.Sprintf("--strict: %d record(s) rejected", res.Stats.Rejected)}
			}
			return nil
		},
	}
	rf.add(cmd)
	of.add(cmd)
	in.add(cmd)
	cmd.Flags().BoolVar(&strict, "strict", false, "exit with status 3 when any record is rejected")
	cmd.Flags().IntVar(&workers, "workers", 0, "files decoded in parallel (default: number of CPUs)")
	cmd.Flags().IntVar(&maxSize, "max-event-bytes", decode.DefaultMaxEventBytes, "reject records larger than this")
	cmd.Flags().StringArrayVar(&geoip, "geoip", nil, "MaxMind DB (.mmdb) giving ASN or country for source IPs (repeatable; default $TRAILHOUND_GEOIP, ':'-separated)")
	cmd.Flags().StringVar(&db, "db", "", "keep events, signals and first-seen state in this embedded store (a folder); rerunning over the same files adds nothing twice")
	cmd.Flags().IntVar(&segSize, "db-segment-events", 0, "events per store segment (default 1048576)")
	cmd.Flags().MarkHidden("db-segment-events")
	cmd.Flags().IntVar(&maxM, "max-matches", 200_000, "rule matches held in memory before they are spilled, sorted, to temporary files (bounds memory on large inputs)")
	cmd.Flags().StringVar(&state, "state", "", "load stateful-rule state from FILE before the run and save it after (atomically), so consecutive runs act as one")
	cmd.Flags().BoolVar(&flush, "flush", false, "with --state: close every open window and signal at the end of this run (with --db the default is true; --flush=false keeps them open for the next run)")
	cmd.Flags().DurationVar(&late, "lateness", 15*time.Minute, "allowed lateness of events behind the latest event time (across runs with --state)")
	cmd.Flags().DurationVar(&group, "group-window", time.Hour, "group a rule's matches by one actor in one account within this window into one signal (0: one signal per event)")
	cmd.Flags().StringVar(&emit, "emit", "closed", "which revisions of signals to print: closed (each signal once, when it closes) or open (when it opens, each time it grows, when it closes; status and revision tell them apart)")
	cmd.Flags().StringVar(&rejects, "rejects", "", "write every rejected record's position and reason to this file (JSON Lines)")
	cmd.Flags().BoolVar(&allowUnreadable, "allow-unreadable", false, "exit 0 even when files inside folders could not be read (they are still listed in the summary)")
	cmd.Flags().BoolVar(&all, "all-files", false, "read every file in folders, not only .json/.jsonl/.gz names")
	return cmd
}

func (a *app) resolveFormat(f string) (string, error) {
	switch strings.ToLower(f) {
	case "":
		if tty, _ := isTerminal(a.stdout); tty {
			return "table", nil
		}
		return "jsonl", nil
	case "table", "jsonl", "csv", "ocsf":
		return strings.ToLower(f), nil
	}
	return "", &usageError{err: fmt.Errorf("unknown format %q (want table, jsonl, csv or ocsf)", f), path: "trailhound hunt"}
}

// loadRules loads rules for a run. An error in any rule stops the run before it starts
// (running the rules that loaded would read as a clean result for the ones that did not),
// with exit code 2 and a hint when it leaves a correlation unable to run (its rules would
// run without it), and so does a --rules path without a rule file; rules of other log
// sources are skipped with a notice.
func (a *app) loadRules(cmd *cobra.Command, opts ruleset.Options) (*ruleset.Set, error) {
	set, err := ruleset.Load(cmd.Context(), opts)
	var el sigma.ErrorList
	if err != nil && !errors.As(err, &el) {
		return nil, err
	}
	if len(el) > 0 {
		return nil, ruleLoadError(set, el)
	}
	for _, p := range opts.Paths {
		if !holdsRuleFile(set, p) {
			return nil, fmt.Errorf("--rules %s: no rule file in it (.yml or .yaml Sigma rules); give a rule file or a folder of them", p)
		}
	}
	if n := len(set.Skipped); n > 0 {
		a.warnf("notice: %d rule(s) skipped: not for AWS CloudTrail (trailhound rules list -v shows them)\n", n)
	}
	if len(set.Engine.Rules()) == 0 {
		return nil, fmt.Errorf("no CloudTrail rules to run: the rules given are for other log sources (trailhound rules list -v shows them)")
	}
	return set, nil
}

// maxRuleErrors is how many rule errors a failed run lists; rules lint lists them all.
const maxRuleErrors = 20

// ruleErrors is the error of a run whose rules do not all load: every error (up to
// maxRuleErrors) with its file:line:col, and what to do.
func ruleErrors(el sigma.ErrorList) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d error(s) in the rules; nothing was hunted:", len(el))
	for i, e := range el {
		if i == maxRuleErrors {
			fmt.Fprintf(&b, "\n  … and %d more", len(el)-i)
			break
		}
		fmt.Fprintf(&b, "\n  %s", e)
	}
	b.WriteString("\nfix them (trailhound rules lint PATH lists every error), or leave those files out of --rules")
	return errors.New(b.String())
}

// holdsRuleFile reports whether a rule file of set was read from path (the file itself, or
// one inside the folder).
func holdsRuleFile(set *ruleset.Set, path string) bool {
	clean := filepath.Clean(path)
	for _, f := range set.Rules.Files {
		name := filepath.Clean(f.Name)
		if name == clean || strings.HasPrefix(name, clean+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// ruleLoadError is the error of a command whose rules do not all load: invalidCorrelations
// when a correlation cannot run, else ruleErrors. An error that is not about rules is
// returned as it is.
func ruleLoadError(set *ruleset.Set, err error) error {
	var el sigma.ErrorList
	if !errors.As(err, &el) {
		return err
	}
	if set.CheckCorrelations() != nil {
		return invalidCorrelations(set, el)
	}
	return ruleErrors(el)
}

// invalidCorrelations is the error of a run whose rules leave a correlation unable to run:
// exit code 2, the errors that do first (then the others, as ruleErrors lists them), and
// what to do.
func invalidCorrelations(set *ruleset.Set, el sigma.ErrorList) error {
	all := slices.Clone(set.Invalid)
	for _, e := range el {
		if !slices.ContainsFunc(set.Invalid, func(x *sigma.Error) bool { return *x == *e }) {
			all = append(all, e)
		}
	}
	return &exitError{code: 2, msg: fmt.Sprintf("%d error(s) leave correlation rules unable to run; %s\n%s",
		len(set.Invalid), ruleErrors(all), ruleset.Hint)}
}

func (a *app) writeSignals(format string, of outputFlags, min signal.Level, sigs []signal.Signal) error {
	shown := sigs[:0:0]
	for _, s := range sigs {
		if s.Level >= min {
			shown = append(shown, s)
		}
	}
	switch format {
	case "jsonl":
		return signal.WriteJSONL(a.stdout, shown)
	case "csv":
		return signal.WriteCSV(a.stdout, shown)
	case "ocsf":
		return ocsf.WriteJSONL(a.stdout, shown, version())
	default:
		_, width := isTerminal(a.stdout)
		if of.width > 0 {
			width = of.width
		}
		if len(shown) == 0 {
			_, err := io.WriteString(a.stdout, "no signals\n")
			return err
		}
		return signal.WriteTable(a.stdout, shown, signal.TableOptions{Width: width, Color: colorFor(a.stdout)})
	}
}

// writeFile creates path and fills it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// openEnricher opens the GeoIP databases of --geoip, else of $TRAILHOUND_GEOIP.
func openEnricher(geoip []string) (*enrich.Enricher, error) {
	enr, err := enrich.Open(enrich.Config{GeoIP: enrich.GeoIPPaths(geoip, os.Getenv(enrich.EnvGeoIP))})
	if err != nil {
		from := "--geoip"
		if len(geoip) == 0 {
			from = "$" + enrich.EnvGeoIP
		}
		return nil, fmt.Errorf("%w\n%s: give MaxMind DB files (.mmdb) with ASN or country records, such as GeoLite2-ASN.mmdb or the ip-location-db packages (README: Enrichment)", err, from)
	}
	return enr, nil
}

// rulesAndEnricher loads the rules and opens the enrichment databases a run needs, warning
// about rules whose enrichment fields no database provides. The caller closes the enricher.
func (a *app) rulesAndEnricher(cmd *cobra.Command, rf ruleFlags, geoip []string) (*ruleset.Set, *enrich.Enricher, error) {
	opts, err := rf.options()
	if err != nil {
		return nil, nil, err
	}
	set, err := a.loadRules(cmd, opts)
	if err != nil {
		return nil, nil, err
	}
	enr, err := openEnricher(geoip)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range enr.Unavailable(set.Engine.Fields()) {
		a.warnf("warning: rules reading %s are INACTIVE: %s\n", u.Field, u.Reason)
	}
	return set, enr, nil
}
