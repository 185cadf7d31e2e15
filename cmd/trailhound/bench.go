package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/internal/benchcorpus"
	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/source"
)

// The bench modes, cheapest first: each does the work of the one before and more.
const (
	benchGunzip = "gunzip" // decompress every file to io.Discard
	benchDecode = "decode" // decompress and decode every record, no rules
	benchHunt   = "hunt"   // a full hunt with the loaded rules
)

// benchFlags are the flags of trailhound bench.
type benchFlags struct {
	rules      ruleFlags
	workers    int
	modes      []string
	repeat     int
	cpuprofile string
	child      string
}

func (a *app) benchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:    "bench PATH...",
		Short:  "Measure throughput: gunzip only, decode only, full hunt",
		Hidden: true,
		Long: `Measure trailhound over the same inputs in up to three modes: gunzip (every file
decompressed to nowhere, the floor), decode (every record split and parsed, no rules) and
hunt (a full hunt with the loaded rules). Each mode runs in a fresh child process so that
its peak memory is its own; --workers files are read at once with GOMAXPROCS set to the
same number. One line per mode is printed, as key=value pairs:

  mode workers rules files events mb runs elapsed_s events_per_s mb_per_s cpu_s
  events_per_cpu_s maxrss_mb load_s signals matches

mb is decompressed megabytes (10^6); elapsed_s is the fastest of --repeat runs; cpu_s is
user+system time of the whole child process (start-up and rule loading included, load_s
is the latter's wall time); events_per_cpu_s is events×runs / (cpu_s − load_s); maxrss_mb
is the child's peak resident set (0 where the system does not report it); matches are rule
matches before grouping into signals.

trailhound bench corpus writes a synthetic corpus to measure on.`,
		Example: `  trailhound bench corpus --events 200000 /tmp/corpus
  trailhound bench --workers 1 --rules ../rules /tmp/corpus
  trailhound bench --workers 2 --mode hunt --no-builtin --rules ../rules /tmp/corpus`,
		Args: args(1, -1, pathArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.workers <= 0 {
				f.workers = runtime.NumCPU()
			}
			if f.repeat <= 0 {
				f.repeat = 1
			}
			if f.child != "" {
				return a.benchChild(cmd, f, args)
			}
			return a.benchParent(cmd.Context(), f, args)
		},
	}
	f.rules.add(cmd)
	cmd.Flags().IntVar(&f.workers, "workers", 0, "files read at once, and GOMAXPROCS (default: number of CPUs)")
	cmd.Flags().StringSliceVar(&f.modes, "mode", []string{benchGunzip, benchDecode, benchHunt}, "modes to run, in order: gunzip, decode, hunt")
	cmd.Flags().IntVar(&f.repeat, "repeat", 1, "runs per mode; the fastest is reported")
	cmd.Flags().StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of each mode to FILE.<mode>")
	cmd.Flags().StringVar(&f.child, "child", "", "run one mode in this process and print the measurement as JSON (internal)")
	_ = cmd.Flags().MarkHidden("child")
	cmd.AddCommand(a.benchCorpusCmd())
	return cmd
}

func (a *app) benchCorpusCmd() *cobra.Command {
	var (
		opts benchcorpus.Options
		from []string
	)
	cmd := &cobra.Command{
		Use:   "corpus DIR",
		Short: "Write a deterministic benchmark corpus of gzip'd CloudTrail files in the S3 layout",
		Long: `Write --events CloudTrail events into DIR as gzip'd {"Records":[...]} files of 100 to 1000
events each, in the S3 layout AWS delivers. The events are synthetic (IAM, STS, EC2, S3, console
sign-ins, ECS, KMS, …) and the same --seed gives the same files. With --from, copies of the
events read from those files or folders are written instead, each with a fresh eventID.`,
		Args: args(1, 1, "a DIR to write the corpus into"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(from) > 0 {
				evs, err := benchcorpus.ReadEvents(cmd.Context(), from)
				if err != nil {
					return err
				}
				opts.Templates = evs
			}
			st, err := benchcorpus.Write(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "dir=%s files=%d events=%d raw_mb=%.1f gzip_mb=%.1f\n",
				args[0], st.Files, st.Events, float64(st.RawBytes)/1e6, float64(st.GzipBytes)/1e6)
			return err
		},
	}
	cmd.Flags().IntVar(&opts.Events, "events", benchcorpus.DefaultEvents, "number of events")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 1, "seed of the generator")
	cmd.Flags().StringArrayVar(&from, "from", nil, "replicate the events of this file or folder (repeatable) instead of synthetic ones")
	return cmd
}

// benchRun is what a child measures of one mode.
type benchRun struct {
	Mode    string  `json:"mode"`
	Workers int     `json:"workers"`
	Rules   int     `json:"rules"`
	Files   int     `json:"files"`
	Events  int     `json:"events"` // -1: not counted (gunzip)
	Bytes   int64   `json:"bytes"`
	Runs    int     `json:"runs"`
	Elapsed float64 `json:"elapsed_s"` // fastest run
	Load    float64 `json:"load_s"`
	Signals int     `json:"signals"`
	Matches int     `json:"matches"`
}

// benchParent runs each mode in a child process and prints one line per mode.
func (a *app) benchParent(ctx context.Context, f benchFlags, paths []string) error {
	for _, m := range f.modes {
		if m != benchGunzip && m != benchDecode && m != benchHunt {
			return fmt.Errorf("--mode: unknown mode %q (want gunzip, decode or hunt)", m)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the trailhound executable: %w", err)
	}
	events := -1 // counted by decode or hunt, for the gunzip line
	var runs []benchRun
	var states []*os.ProcessState
	for _, m := range f.modes {
		args := []string{"bench", "--child", m, "--workers", strconv.Itoa(f.workers), "--repeat", strconv.Itoa(f.repeat)}
		if f.rules.noBuiltin {
			args = append(args, "--no-builtin")
		}
		for _, p := range f.rules.paths {
			args = append(args, "--rules", p)
		}
		if f.cpuprofile != "" {
			args = append(args, "--cpuprofile", f.cpuprofile+"."+m)
		}
		args = append(append(args, "--"), paths...)
		var out bytes.Buffer
		c := exec.CommandContext(ctx, exe, args...)
		c.Stdout, c.Stderr = &out, a.stderr
		if err := c.Run(); err != nil {
			return fmt.Errorf("running bench mode %s: %w", m, err)
		}
		var r benchRun
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			return fmt.Errorf("reading bench mode %s's measurement: %w", m, err)
		}
		if r.Events >= 0 {
			events = r.Events
		}
		runs, states = append(runs, r), append(states, c.ProcessState)
	}
	for i := range runs {
		if runs[i].Events < 0 {
			if events < 0 {
				n, err := countEvents(ctx, paths)
				if err != nil {
					return err
				}
				events = n
			}
			runs[i].Events = events
		}
		if err := a.printBench(runs[i], states[i]); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) printBench(r benchRun, ps *os.ProcessState) error {
	cpu := (ps.UserTime() + ps.SystemTime()).Seconds()
	perSec := func(n float64, secs float64) float64 {
		if secs <= 0 {
			return 0
		}
		return n / secs
	}
	mb := float64(r.Bytes) / 1e6
	_, err := fmt.Fprintf(a.stdout,
		"mode=%s workers=%d rules=%d files=%d events=%d mb=%.1f runs=%d elapsed_s=%.3f events_per_s=%.0f mb_per_s=%.1f cpu_s=%.3f events_per_cpu_s=%.0f maxrss_mb=%.1f load_s=%.3f signals=%d matches=%d\n",
		r.Mode, r.Workers, r.Rules, r.Files, r.Events, mb, r.Runs, r.Elapsed,
		perSec(float64(r.Events), r.Elapsed), perSec(mb, r.Elapsed), cpu,
		perSec(float64(r.Events)*float64(r.Runs), cpu-r.Load), float64(maxRSS(ps))/(1<<20), r.Load, r.Signals, r.Matches)
	return err
}

// maxRSS returns the peak resident set of an exited process in bytes, or 0 where the system
// does not report it. os.ProcessState.SysUsage is a *syscall.Rusage on Unix systems and
// something else elsewhere: reflection keeps this file building on every platform.
func maxRSS(ps *os.ProcessState) int64 {
	v := reflect.ValueOf(ps.SysUsage())
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return 0
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0
	}
	f := v.FieldByName("Maxrss")
	if !f.IsValid() || !f.CanInt() {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return f.Int() // bytes
	}
	return f.Int() << 10 // kilobytes on Linux and the BSDs
}

// countEvents decodes paths once to count their events (for a gunzip-only bench).
func countEvents(ctx context.Context, paths []string) (int, error) {
	r, err := benchFiles(ctx, 1, paths, newDecodeWorker)
	return r.Events, err
}

// benchChild runs one mode --repeat times in this process and prints the measurement.
func (a *app) benchChild(cmd *cobra.Command, f benchFlags, paths []string) error {
	ctx := cmd.Context()
	runtime.GOMAXPROCS(f.workers)
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return fmt.Errorf("creating the CPU profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("starting the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var (
		once func() (benchRun, error)
		load time.Duration
		nr   int
	)
	switch f.child {
	case benchGunzip:
		once = func() (benchRun, error) {
			return benchFiles(ctx, f.workers, paths, newGunzipWorker)
		}
	case benchDecode:
		once = func() (benchRun, error) {
			return benchFiles(ctx, f.workers, paths, newDecodeWorker)
		}
	case benchHunt:
		start := time.Now()
		opts, err := f.rules.options()
		if err != nil {
			return err
		}
		set, err := a.loadRules(cmd, opts)
		if err != nil {
			return err
		}
		// The same enrichment as hunt: rules reading trailhound.* fields see them.
		enr, err := openEnricher(nil)
		if err != nil {
			return err
		}
		defer enr.Close()
		load, nr = time.Since(start), len(set.Engine.Rules())
		defer tuneGCForHunt(os.Getenv)() // as hunt runs
		once = func() (benchRun, error) {
			start := time.Now()
			res, err := hunt.Run(ctx, hunt.Config{Workers: f.workers, Logger: a.logger, Enricher: enr}, set, paths)
			if err != nil {
				return benchRun{}, err
			}
			return benchRun{Files: res.Stats.Files, Events: res.Stats.Read, Bytes: res.Stats.Bytes,
				Elapsed: time.Since(start).Seconds(), Signals: len(res.Signals), Matches: res.Stats.Matches}, nil
		}
	default:
		return fmt.Errorf("--child: unknown mode %q", f.child)
	}
	var best benchRun
	for i := range f.repeat {
		r, err := once()
		if err != nil {
			return err
		}
		if i == 0 || r.Elapsed < best.Elapsed {
			best = r
		}
	}
	best.Mode, best.Workers, best.Rules, best.Runs, best.Load = f.child, f.workers, nr, f.repeat, load.Seconds()
	return json.NewEncoder(a.stdout).Encode(best)
}

// benchWorker reads one input to the end and says how many events (-1: not counted) and
// decompressed bytes it held. Each worker is owned by one goroutine.
type benchWorker func(ctx context.Context, name string, r io.Reader) (events int, n int64, err error)

// benchFiles reads every log input of paths with a pool of workers, as hunt.Run does.
func benchFiles(ctx context.Context, workers int, paths []string, newWorker func() benchWorker) (benchRun, error) {
	start := time.Now()
	var mu sync.Mutex
	var total benchRun
	err := source.Each(ctx, paths, source.Options{}, workers, nil, func(ctx context.Context, inputs <-chan source.Input) error {
		w := newWorker()
		var r benchRun
		for in := range inputs {
			rc, err := in.Open(ctx)
			if err != nil {
				return fmt.Errorf("benchmarking: %w", err)
			}
			events, n, err := w(ctx, in.Name, rc)
			rc.Close()
			if err != nil {
				return fmt.Errorf("benchmarking %s: %w", in.Name, err)
			}
			r.Files++
			r.Bytes += n
			r.Events = addEvents(r.Events, events)
		}
		mu.Lock()
		defer mu.Unlock()
		total.Files += r.Files
		total.Bytes += r.Bytes
		total.Events = addEvents(total.Events, r.Events)
		return nil
	})
	if err != nil {
		return benchRun{}, err
	}
	total.Elapsed = time.Since(start).Seconds()
	return total, nil
}

// addEvents adds event counts, -1 meaning "not counted".
func addEvents(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

// newGunzipWorker decompresses each input (or copies it, when not gzip) to io.Discard through
// a reused klauspost gzip reader, buffered as the decoder buffers its input.
func newGunzipWorker() benchWorker {
	br := bufio.NewReaderSize(nil, 64<<10)
	zr := new(gzip.Reader)
	return func(_ context.Context, _ string, r io.Reader) (int, int64, error) {
		br.Reset(r)
		if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
			if err := zr.Reset(br); err != nil {
				return -1, 0, fmt.Errorf("reading the gzip header: %w", err)
			}
			n, err := io.Copy(io.Discard, zr)
			return -1, n, err
		}
		n, err := io.Copy(io.Discard, br)
		return -1, n, err
	}
}

// newDecodeWorker decodes each input with a handler that only counts.
func newDecodeWorker() benchWorker {
	d := decode.New(decode.Options{})
	var h benchCounter
	return func(ctx context.Context, name string, r io.Reader) (int, int64, error) {
		st, err := d.Decode(ctx, name, r, &h)
		return st.Read, st.Bytes, err
	}
}

// benchCounter is a decode.Handler that does nothing: decode mode measures the decoder alone.
type benchCounter struct{}

func (*benchCounter) Event(*event.Event) error { return nil }
func (*benchCounter) Reject(decode.Rejection)  {}
