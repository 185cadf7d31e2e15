package hunt

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trailhound/trailhound/internal/correlate"
	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/source"
)

// Live is the hunt of a long-running service: the same stages as Run (decode, enrich,
// rules, the stateful stage with its watermark, grouping and correlations), fed batch after
// batch as inputs arrive instead of once over everything. Read decodes a batch of inputs;
// Evaluate gives its matches to the stateful stage in event-time order and returns the
// revisions of the signals that opened, grew or closed; State is then the detection state to
// commit with the batch's events. There is no sort of all matches: within a batch they are
// ordered by event time, and across batches the watermark (Config.Lateness) orders them as a
// batch run would, for every event that arrives within the lateness.
//
// A Live is used by one goroutine at a time (Read, Evaluate and State in turn); Read
// decodes its inputs on Config.Workers goroutines of its own.
type Live struct {
	cfg     Config
	set     *ruleset.Set
	st      *stateful
	workers []*worker
	stats   Stats
	// lastEvent is the latest event time read since the Live was made.
	lastEvent time.Time
}

// InputResult is what reading one input of a batch gave.
type InputResult struct {
	Name string
	// Unchanged is set when the ledger (Config.Files) holds the input: it was not read.
	Unchanged bool
	// Read, Rejected and Filtered count its records as Stats does.
	Read, Rejected, Filtered int
	// Rejections are the first few rejected records, with their positions and reasons.
	Rejections []decode.Rejection
	// Unreadable says why it could not be read to its end ("" when it could).
	Unreadable string
	// CloudTrail is set when it held CloudTrail (a Records document or an event).
	CloudTrail bool
}

// NewLive returns a live hunt starting from Config.State (nil: empty). KeepState and Flush
// are ignored: the state is handed out by State.
func NewLive(cfg Config, set *ruleset.Set) (*Live, error) {
	cfg = cfg.withDefaults()
	cfg.StateFile, cfg.Flush, cfg.KeepState = "", false, true
	if cfg.Enricher == nil {
		// As Run: the trailhound.* fields a hunt without databases has (an enricher without
		// databases holds nothing to close).
		enr, err := enrich.Open(enrich.Config{})
		if err != nil {
			return nil, fmt.Errorf("opening enrichment: %w", err)
		}
		cfg.Enricher = enr
	}
	st, err := newStateful(cfg, set, true)
	if err != nil {
		return nil, err
	}
	l := &Live{cfg: cfg, set: set, st: st, stats: Stats{RejectedBy: map[decode.Reason]int{}, Signals: map[signal.Level]int{}}}
	for range cfg.Workers {
		w := &worker{dec: decode.New(cfg.Decode), m: set.Engine.NewMatcher(), filter: cfg.Source.Filter, keep: 10, st: st,
			onEvent: cfg.OnEvent, files: cfg.Files, maxMatches: max(1, cfg.MaxMatches/cfg.Workers), spillDir: cfg.SpillDir,
			paths: make([]PathStats, 1)}
		if cfg.Enricher != nil && needsEnrichment(set, st) {
			w.enr = cfg.Enricher.NewState()
		}
		l.workers = append(l.workers, w)
	}
	return l, nil
}

// Read decodes inputs, on up to Config.Workers goroutines: every event goes to
// Config.OnEvent and the rules; matches wait for Evaluate. An error (of OnEvent, or ctx
// done) ends the batch: the caller commits nothing of it.
func (l *Live) Read(ctx context.Context, inputs []source.Input) ([]InputResult, error) {
	results := make([]InputResult, len(inputs))
	inputs = slices.Clone(inputs)
	jobs := make(chan int)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobs)
		for i := range inputs {
			select {
			case jobs <- i:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	// Fetchers read remote objects ahead of the decoders, which take them as they are
	// fetched: a GET mostly waits for the network, and a decoder waiting on one would leave
	// its core idle. At most fetchers objects are in flight and as many wait fetched.
	fetchers := max(prefetchers, 2*len(l.workers))
	ready := make(chan int, fetchers)
	var fetching sync.WaitGroup
	for range fetchers {
		fetching.Go(func() {
			for i := range jobs {
				inputs[i] = source.Prefetch(gctx, inputs[i], prefetchMax)
				select {
				case ready <- i:
				case <-gctx.Done():
					return
				}
			}
		})
	}
	go func() { fetching.Wait(); close(ready) }()
	for _, w := range l.workers {
		g.Go(func() error {
			for i := range ready {
				in := inputs[i]
				in.Arg = 0
				before := w.stats
				nUnreadable, nRejections := len(w.stats.Unreadable), len(w.stats.Rejections)
				w.paths[0] = PathStats{}
				if err := w.run(gctx, in); err != nil {
					return err
				}
				r := InputResult{Name: in.Name, Unchanged: w.stats.UnchangedFiles > before.UnchangedFiles,
					Read: w.stats.Read - before.Read, Rejected: w.stats.Rejected - before.Rejected, Filtered: w.stats.Filtered - before.Filtered,
					CloudTrail: w.paths[0].CloudTrail > 0}
				if len(w.stats.Unreadable) > nUnreadable {
					r.Unreadable = w.stats.Unreadable[nUnreadable].Reason
				}
				r.Rejections = append(r.Rejections, w.stats.Rejections[nRejections:]...)
				// Rejections are kept per input only: the service reports them as they come.
				w.stats.Rejections, w.stats.Unreadable = w.stats.Rejections[:0], w.stats.Unreadable[:0]
				results[i] = r
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}

// prefetchers is the least number of objects Read fetches ahead at once, and prefetchMax
// the size past which an object is streamed by its decoder instead (CloudTrail writes files
// of a few megabytes at most).
const (
	prefetchers = 8
	prefetchMax = 16 << 20
)

// Evaluate gives the matches read since the last call to the stateful stage, in event-time
// order, and returns the revisions of the signals that opened, grew or closed meanwhile:
// each signal once, at its latest revision (closed after open in one batch is closed,
// revision 1).
func (l *Live) Evaluate(ctx context.Context) ([]signal.Signal, error) {
	var runs []run
	// Learning periods start at the first event the service reads (Run starts them at the
	// first event of its data); later batches do not move them.
	first := ""
	for _, w := range l.workers {
		if w.first != "" && (first == "" || w.first < first) {
			first = w.first
		}
		if t, err := event.ParseTime([]byte(w.last)); err == nil && w.last != "" && t.After(l.lastEvent) {
			l.lastEvent = t
		}
		w.first, w.last = "", ""
	}
	if t, err := event.ParseTime([]byte(first)); err == nil && first != "" {
		l.st.begin(t)
	}
	for _, w := range l.workers {
		sortMatches(w.matches)
		runs = append(runs, w.runs...)
		runs = append(runs, run{mem: w.matches, sorted: true})
		w.matches, w.runs = nil, nil
	}
	sigs, err := l.st.evaluate(ctx, runs, l.set.Engine.Rules(), false, false)
	if err != nil {
		removeRuns(runs)
		return nil, err
	}
	if l.cfg.Lateness < 0 {
		// No lateness: the hits at the latest time seen are evaluated now too, not when a
		// later one arrives.
		if wm := l.Watermark(); !wm.IsZero() {
			sigs = append(sigs, l.advance(wm.Add(time.Nanosecond))...)
		}
	}
	return l.latest(sigs), nil
}

// Advance tells the stateful stage that event time has reached t although no event says so
// (a quiet trail), so that windows and signals whose time has passed close; it returns
// their revisions.
func (l *Live) Advance(t time.Time) []signal.Signal { return l.latest(l.advance(t)) }

func (l *Live) advance(t time.Time) []signal.Signal {
	var sigs []signal.Signal
	for i, eng := range l.st.shards {
		if eng == nil {
			continue
		}
		for _, a := range eng.Advance(t) {
			sigs = l.st.closed(sigs, i, a)
		}
		sigs = append(sigs, l.st.changed(i)...)
	}
	return sigs
}

// latest keeps the last revision of each signal, in the order of first appearance, and
// counts the signals that opened (less those superseded: their successors count).
func (l *Live) latest(sigs []signal.Signal) []signal.Signal {
	out := signal.Latest(sigs)
	for _, s := range out {
		switch {
		case s.SupersededBy != "":
			l.stats.Signals[s.Level]--
		case s.Revision == 1:
			l.stats.Signals[s.Level]++
		}
	}
	return out
}

// State is the detection state after the batches evaluated so far, to commit with them.
func (l *Live) State() ([]byte, error) {
	b, err := encodeState(l.st.shards, l.st.revs)
	if err != nil {
		return nil, fmt.Errorf("saving state: %w", err)
	}
	return b, nil
}

// Stats are the counts since the Live was made: inputs and records read (of every worker),
// signals opened by level, and the stateful stage's state.
func (l *Live) Stats() Stats {
	t := Stats{RejectedBy: map[decode.Reason]int{}, Signals: map[signal.Level]int{}}
	for _, w := range l.workers {
		t.addCounts(&w.stats)
	}
	for lv, n := range l.stats.Signals {
		t.Signals[lv] = n
	}
	t.State = l.st.stats()
	return t
}

// Latest is the latest event time of the events read and evaluated since the Live was
// made (zero before any).
func (l *Live) Latest() time.Time { return l.lastEvent }

// Watermark is the stateful stage's event time before which hits are late.
func (l *Live) Watermark() time.Time {
	var s correlate.Stats
	for _, eng := range l.st.shards {
		if eng != nil {
			s.Add(eng.Stats())
		}
	}
	return s.Watermark
}

// Flush closes every open window and signal, as a batch run ends, and returns their
// revisions (tools and tests; a service keeps them open across restarts).
func (l *Live) Flush() []signal.Signal {
	var sigs []signal.Signal
	for i, eng := range l.st.shards {
		if eng == nil {
			continue
		}
		for _, a := range eng.Flush() {
			sigs = l.st.closed(sigs, i, a)
		}
	}
	return l.latest(sigs)
}
