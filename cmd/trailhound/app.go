package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trailhound/trailhound/internal/ioc"
	"github.com/trailhound/trailhound/internal/progress"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/rules"
)

// app holds what every command shares: the standard streams and the logger.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	verbose        bool
	quiet          bool
	cpuprofile     string
	memprofile     string
	stopProfile    func()
	logger         *slog.Logger
	// start is when the command started: the summary's elapsed time counts from it.
	start time.Time
	// counter counts the inputs of the run under way, for the summary of an interruption.
	counter *progress.Counter
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr}
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "trailhound",
		Short: "Threat detection and investigation for AWS CloudTrail",
		Long: `trailhound reads AWS CloudTrail logs as AWS delivers them (S3 folders of .json.gz
Records files, JSON Lines, arrays, single events, stdin), evaluates Sigma rules on every
event, and prints signals mapped to MITRE ATT&CK.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			a.start = time.Now()
			level := slog.LevelWarn
			switch {
			case a.verbose:
				level = slog.LevelDebug
			case a.quiet:
				level = slog.LevelError
			}
			a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
			if a.cpuprofile != "" {
				f, err := os.Create(a.cpuprofile)
				if err == nil && pprof.StartCPUProfile(f) == nil {
					a.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
				}
			}
		},
		PersistentPostRun: func(*cobra.Command, []string) {
			if a.stopProfile != nil {
				a.stopProfile()
			}
			if a.memprofile != "" {
				if f, err := os.Create(a.memprofile); err == nil {
					pprof.Lookup("allocs").WriteTo(f, 0)
					f.Close()
				}
			}
		},
	}
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "log progress to stderr")
	root.PersistentFlags().BoolVarP(&a.quiet, "quiet", "q", false, "print no summary, warning, notice or progress on stderr (errors still)")
	root.PersistentFlags().StringVar(&a.cpuprofile, "cpuprofile", "", "write a CPU profile of the command to FILE (for performance work)")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().StringVar(&a.memprofile, "memprofile", "", "write an allocation profile of the command to FILE (for performance work)")
	_ = root.PersistentFlags().MarkHidden("memprofile")
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.AddCommand(a.huntCmd(), a.investigateCmd(), a.rulesCmd(), a.iocCmd(), a.demoCmd(), a.versionCmd())
	root.AddCommand(a.dbCmd())
	root.AddCommand(a.benchCmd())
	root.AddCommand(a.simulateCmd())
	root.AddCommand(a.uiCmd())
	root.AddCommand(a.serveCmd())
	root.SetVersionTemplate("trailhound {{.Version}}\n")
	addUsageHints(root)
	return root
}

// ruleFlags are the flags of every command that loads rules.
type ruleFlags struct {
	paths     []string
	noBuiltin bool
	iocFlags
}

// iocFlags select the IOC lists behind |expand placeholders.
type iocFlags struct {
	iocs          []string
	noBuiltinIOCs bool
}

func (f *iocFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.iocs, "ioc", nil, "IOC list file, or folder of *.txt lists (repeatable); extends the built-in lists used by |expand placeholders")
	cmd.Flags().BoolVar(&f.noBuiltinIOCs, "no-builtin-iocs", false, "do not load the built-in IOC lists")
}

func (f *iocFlags) placeholders() (map[string][]string, error) {
	lists, err := ioc.Load(!f.noBuiltinIOCs, f.iocs...)
	if err != nil {
		return nil, fmt.Errorf("loading IOC lists: %w\ngive --ioc a list file (one value a line, # comments) or a folder of *.txt lists; trailhound ioc list --ioc PATH shows what loads", err)
	}
	return lists.Placeholders(), nil
}

func (f *ruleFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&f.paths, "rules", "r", nil, "Sigma rule file or folder (repeatable); added to the built-in rules")
	cmd.Flags().BoolVar(&f.noBuiltin, "no-builtin", false, "do not load the built-in rules")
	f.iocFlags.add(cmd)
}

func (f *ruleFlags) options() (ruleset.Options, error) {
	o := ruleset.Options{Paths: f.paths}
	if !f.noBuiltin {
		o.Builtin = rules.FS
	}
	var err error
	o.Placeholders, err = f.placeholders()
	return o, err
}

// isTerminal reports whether w is a terminal, and its width (80 when unknown).
func isTerminal(w io.Writer) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, widthFromEnv()
	}
	if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
		return true, width
	}
	return true, widthFromEnv()
}

func widthFromEnv() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return signal.DefaultTableWidth
}

// warnf writes a warning or a notice to stderr, unless -q: what a run can go on without,
// unlike an error.
func (a *app) warnf(format string, args ...any) {
	if !a.quiet {
		fmt.Fprintf(a.stderr, format, args...)
	}
}

func colorFor(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && signal.ColorEnabled(f)
}
