// Package hunt runs trailhound over CloudTrail inputs: it walks the inputs, decodes them on a
// bounded pool of workers (one file per worker at a time), evaluates every event against the
// compiled rules, and gathers signals and run statistics. It is the one place where the
// stages (source → decode → detect → signals) are wired together, so the CLI, the rule tests
// and the benchmarks see the same behaviour.
package hunt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trailhound/trailhound/internal/correlate"
	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/progress"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/safetext"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/source"
)

// Config configures a hunt. The zero value is usable: defaults are applied by Run.
type Config struct {
	// Workers is the number of files decoded at once; 0 means GOMAXPROCS.
	Workers int
	// Decode configures the decoder (event size limit).
	Decode decode.Options
	// Source configures how folders are walked and what "-" reads.
	Source source.Options
	// KeepRejections is how many rejections are kept with their position for the report
	// (all are counted); 0 means 100000.
	KeepRejections int
	// Logger receives progress at debug level; nil discards.
	Logger *slog.Logger
	// OnEvent, when set, is called with every event before the rules see it (the store
	// keeps it); it may be called from several goroutines at once. It returns false for an
	// event that was already evaluated by an earlier run (the store has it): the rules skip
	// it, so a rerun over the same files changes nothing. An error stops the run.
	OnEvent func(*event.Event) (bool, error)
	// Files, when set, is the ledger of the files earlier runs stored whole (hunt --db): a
	// file it holds unchanged is not read again (Stats.UnchangedFiles counts it), and a file
	// read whole without a rejected record is recorded in it.
	Files FileLedger
	// Enricher adds the trailhound.* fields (actor, principal, IP kind and network, ASN,
	// country, key type, user-agent family) to every event before the rules see it. Nil
	// means one without databases: the fields trailhound hunt fills without --geoip, so
	// that every caller (demo, tests, efficacy) sees what a hunt sees.
	Enricher *enrich.Enricher

	// GroupWindow groups repeated matches of one detection rule by one actor in one account:
	// a match within GroupWindow of the previous one updates the same signal. 0 means 1h; a
	// negative value gives one signal per matching event.
	GroupWindow time.Duration
	// MaxSignalDuration bounds a grouped signal; a later match starts a new one. 0 means 24h.
	MaxSignalDuration time.Duration
	// MaxEventIDs caps the event ids listed in one signal (all are counted). 0 means 100.
	MaxEventIDs int
	// Lateness is how far behind the latest event time an event may arrive in a later run
	// (with StateFile) and still be evaluated in order. 0 means 15m.
	Lateness time.Duration
	// StateFile, when set, is loaded before the run and saved after it (atomically): learned
	// first-seen values, open windows and signals still being grouped carry over, so runs
	// over consecutive days give the signals of one run over all of them. Signals whose
	// window is still open stay in the state until a later run closes them, unless Flush.
	StateFile string
	// State, when not nil, is the state to start from instead of StateFile's (hunt --db
	// keeps it in the store, so that it is committed with the events and signals it
	// describes). KeepState returns the state after the run in Result.State; windows and
	// signals still open then stay in it, unless Flush.
	State     []byte
	KeepState bool
	// Flush closes every open window and signal at the end of the run even with StateFile
	// or KeepState.
	Flush bool
	// Emit says which revisions of signals a run reports: EmitClosed ("", the default)
	// reports each signal once, when it closes; EmitOpen every revision, in the order they
	// happen: when it opens, each time it gains evidence, when it closes.
	Emit Emit
	// OpenEarly (a live hunt, Live) opens the signal of a rule's matches when the match is
	// read rather than when the watermark evaluates it: the evaluation in event-time order
	// then continues that signal, or closes it superseded (signal.Signal.SupersededBy) when
	// an earlier match of the same actor arrived after it. Correlations still fire as the
	// watermark passes.
	OpenEarly bool
	// MaxMatches is how many rule matches are held in memory, over all workers, before a
	// worker spills its matches to a sorted temporary file (they must be ordered by event
	// time before the stateful stage). 0 means 200,000 (roughly 60 MB).
	MaxMatches int
	// SpillDir is where spilled matches go; "" means the system's temporary folder.
	SpillDir string
	// Progress, when set, counts the files, events and bytes read as the run goes, and
	// gets the run's total files and bytes once a walk of the inputs has summed them.
	Progress *progress.Counter
}

// Emit says which revisions of signals are reported.
type Emit string

// The choices of Config.Emit.
const (
	EmitClosed Emit = "closed"
	EmitOpen   Emit = "open"
)

// ParseEmit reads --emit.
func ParseEmit(s string) (Emit, error) {
	switch e := Emit(s); e {
	case "", EmitClosed:
		return EmitClosed, nil
	case EmitOpen:
		return e, nil
	}
	return "", fmt.Errorf("unknown --emit %q (want open or closed)", s)
}

// FileLedger remembers the input files whose every event an earlier run stored.
type FileLedger interface {
	// Unchanged reports whether the file at path (absolute, or the s3:// URL of an object)
	// was stored whole when it was in the state fi (same size and modification time).
	Unchanged(path string, fi fs.FileInfo) (bool, error)
	// Read records that every event of the file at path, read in the state fi, was handed
	// to OnEvent.
	Read(path string, fi fs.FileInfo)
}

func (c Config) withDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.KeepRejections <= 0 {
		c.KeepRejections = 100000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.GroupWindow == 0 {
		c.GroupWindow = time.Hour
	}
	if c.MaxSignalDuration <= 0 {
		c.MaxSignalDuration = 24 * time.Hour
	}
	if c.MaxEventIDs <= 0 {
		c.MaxEventIDs = 100
	}
	if c.Lateness == 0 {
		c.Lateness = 15 * time.Minute
	}
	if c.MaxMatches <= 0 {
		c.MaxMatches = 200_000
	}
	return c
}

// Stats are the counts of a run. Read == Evaluated + Rejected + Filtered always holds.
type Stats struct {
	// Files is the number of inputs decoded (or attempted).
	Files int
	// DigestFiles is the number of CloudTrail digest files skipped.
	DigestFiles int
	// SkippedFiles is the number of folder entries not read (not log-like names).
	SkippedFiles int
	// UnchangedFiles is the number of files not read because Config.Files holds them
	// unchanged: their events were stored by an earlier run.
	UnchangedFiles int
	// Bytes is the decompressed bytes read.
	Bytes int64
	// Read is every record started; Evaluated went through the rules; Rejected did not;
	// Filtered are events Config.Source.Filter leaves out (account, region or time).
	Read, Evaluated, Rejected, Filtered int
	// FilteredPaths counts the folders and files of the CloudTrail layout not read because
	// the filter excludes every event they can hold.
	FilteredPaths int
	// RejectedBy counts rejections by reason.
	RejectedBy map[decode.Reason]int
	// TimedByTimestamp counts the evaluated events that had no eventTime and were timed by
	// their @timestamp; EventTimeRewritten those whose eventTime was in the SQL-export form
	// ("2006-01-02 15:04:05", read as UTC). See package decode.
	TimedByTimestamp, EventTimeRewritten int
	// Rejections are the first KeepRejections rejections, sorted by file and record.
	Rejections []decode.Rejection
	// Signals counts signals by level.
	Signals map[signal.Level]int
	// Elapsed is the run's wall-clock time.
	Elapsed time.Duration
	// State describes the stateful stage: groups held, hits behind the watermark (late),
	// windows and signals still open.
	State correlate.Stats
	// Learning lists the first-seen and baseline correlations still learning at the last
	// event of the run: they could signal nothing on this run's events.
	Learning []correlate.LearningStatus
	// StateFile is where the state was saved ("" when not kept).
	StateFile string
	// Matches counts rule matches (an event matched by three rules is three), before the
	// stateful stage groups them into signals.
	Matches int
	// SpilledRuns counts the sorted runs of matches written to disk to stay within
	// Config.MaxMatches.
	SpilledRuns int
	// Accounts counts, per account (recipientAccountId), the events read and the S3 data
	// events among them: an account with none has no S3 data events in its trail, so object
	// reads are invisible (the summary says so).
	Accounts map[string]AccountStats
	// Paths are the counts of each path the run was given, in the order given.
	Paths []PathStats
	// Unreadable are the inputs that could not be read — not opened, a folder not listed,
	// or an I/O error before their end — sorted by name: their events are missing from the
	// run. Each is also a read-error rejection.
	Unreadable []Unreadable
}

// addCounts adds a worker's counts of inputs, records and matches to s.
func (s *Stats) addCounts(o *Stats) {
	s.Files += o.Files
	s.UnchangedFiles += o.UnchangedFiles
	s.Bytes += o.Bytes
	s.Read += o.Read
	s.Evaluated += o.Evaluated
	s.Rejected += o.Rejected
	s.TimedByTimestamp += o.TimedByTimestamp
	s.EventTimeRewritten += o.EventTimeRewritten
	s.Filtered += o.Filtered
	s.Matches += o.Matches
	for r, n := range o.RejectedBy {
		s.RejectedBy[r] += n
	}
}

// PathStats are the counts of one path a run was given (a file, a folder, or "-").
type PathStats struct {
	Path string
	// Files counts the inputs found there that are read as logs, including those not read
	// again because an earlier run stored them (Config.Files) and those that could not be
	// read; Skipped and Digests count the other entries of folders.
	Files, Skipped, Digests int
	// CloudTrail counts the files that held CloudTrail: a Records delivery document, at
	// least one event, or events an earlier run stored.
	CloudTrail int
	// Unreadable counts the inputs that could not be read (see Stats.Unreadable).
	Unreadable int
	// Records and Rejected count the records read there and the rejected ones among them.
	Records, Rejected int
	// Filtered counts the folders and files not read because Config.Source.Filter excludes
	// them, and FilteredEvents the events it left out of those read.
	Filtered, FilteredEvents int
}

func (p *PathStats) add(o PathStats) {
	p.Files += o.Files
	p.Skipped += o.Skipped
	p.Digests += o.Digests
	p.CloudTrail += o.CloudTrail
	p.Unreadable += o.Unreadable
	p.Records += o.Records
	p.Rejected += o.Rejected
	p.Filtered += o.Filtered
	p.FilteredEvents += o.FilteredEvents
}

// Unreadable is an input that could not be read, and why.
type Unreadable struct {
	Name, Reason string
}

// AccountStats are the per-account counts of a run.
type AccountStats struct {
	Events, S3DataEvents int
}

// blindS3 lists the accounts with enough events to judge and no S3 data event, sorted.
func (s Stats) blindS3() []string {
	var out []string
	for a, st := range s.Accounts {
		if a != "" && st.Events >= 100 && st.S3DataEvents == 0 {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// Result is what a hunt found.
type Result struct {
	// Signals are sorted most severe first (signal.Sort).
	Signals []signal.Signal
	Stats   Stats
	// State is the state after the run (Config.KeepState).
	State []byte
}

// Run hunts paths (files, folders, or "-") with the engine's rules. It returns an error
// only when the hunt could not run (a missing argument, a cancelled context, a failing
// handler); bad records and unreadable files are counted and reported in Stats.
func Run(ctx context.Context, cfg Config, set *ruleset.Set, paths []string) (*Result, error) {
	cfg = cfg.withDefaults()
	if cfg.Enricher == nil {
		enr, err := enrich.Open(enrich.Config{})
		if err != nil {
			return nil, fmt.Errorf("opening enrichment: %w", err)
		}
		defer enr.Close()
		cfg.Enricher = enr
	}
	start := time.Now()
	st, err := newStateful(cfg, set, cfg.Emit == EmitOpen)
	if err != nil {
		return nil, err
	}
	eng := set.Engine
	var mu sync.Mutex
	total := Stats{RejectedBy: map[decode.Reason]int{}, Signals: map[signal.Level]int{}, Accounts: map[string]AccountStats{},
		Paths: make([]PathStats, len(paths))}
	for i, p := range paths {
		total.Paths[i].Path = p
	}
	var runs []run
	var first, last string // eventTime text of the earliest and latest events evaluated
	if cfg.Progress != nil {
		// Sum the inputs' sizes beside the run, so the progress display can tell how far
		// along it is; the walk lists folders only, and ends with the run at the latest.
		sizeCtx, stopSizing := context.WithCancel(ctx)
		sized := make(chan struct{})
		go func() {
			defer close(sized)
			if files, bytes, known, err := source.Size(sizeCtx, paths, cfg.Source); err == nil && known {
				cfg.Progress.SetTotal(files, bytes)
			}
		}()
		defer func() { stopSizing(); <-sized }()
	}

	other := func(in source.Input) {
		mu.Lock()
		defer mu.Unlock()
		switch in.Kind {
		case source.KindDigest:
			total.DigestFiles++
			total.Paths[in.Arg].Digests++
		case source.KindSkipped:
			cfg.Logger.Debug("skipping input", "path", in.Name, "why", in.Why)
			total.SkippedFiles++
			total.Paths[in.Arg].Skipped++
		case source.KindFiltered:
			total.FilteredPaths++
			total.Paths[in.Arg].Filtered++
		}
	}
	err = source.Each(ctx, paths, cfg.Source, cfg.Workers, other, func(ctx context.Context, inputs <-chan source.Input) error {
		w := &worker{dec: decode.New(cfg.Decode), m: eng.NewMatcher(), filter: cfg.Source.Filter, keep: cfg.KeepRejections, st: st, onEvent: cfg.OnEvent, progress: cfg.Progress,
			files: cfg.Files, maxMatches: max(1, cfg.MaxMatches/cfg.Workers), spillDir: cfg.SpillDir, paths: make([]PathStats, len(paths))}
		if cfg.Enricher != nil && needsEnrichment(set, st) {
			w.enr = cfg.Enricher.NewState()
		}
		var err error
		for in := range inputs {
			if err = w.run(ctx, in); err != nil {
				break
			}
		}
		// Each worker sorts what it holds, in parallel, before the merge.
		sortMatches(w.matches)
		mu.Lock()
		defer mu.Unlock()
		// Spilled runs are kept even on error, so the cleanup below removes every file.
		runs = append(runs, w.runs...)
		if err != nil {
			return err
		}
		total.addCounts(&w.stats)
		if w.first != "" && (first == "" || w.first < first) {
			first = w.first
		}
		last = max(last, w.last)
		total.Rejections = append(total.Rejections, w.stats.Rejections...)
		for a, st := range w.accounts {
			t := total.Accounts[a]
			t.Events += st.Events
			t.S3DataEvents += st.S3DataEvents
			total.Accounts[a] = t
		}
		for i := range w.paths {
			total.Paths[i].add(w.paths[i])
		}
		total.Unreadable = append(total.Unreadable, w.stats.Unreadable...)
		total.SpilledRuns += len(w.runs)
		runs = append(runs, run{mem: w.matches, sorted: true})
		return nil
	})
	if err == nil {
		// A cancelled read (standard input) may end an input early without an error of
		// its own: an interrupted run must not pass for a complete one.
		err = ctx.Err()
	}
	if err != nil {
		removeRuns(runs)
		return nil, err
	}
	sort.Slice(total.Rejections, func(i, j int) bool {
		a, b := total.Rejections[i].Pos, total.Rejections[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Record < b.Record
	})
	sort.Slice(total.Unreadable, func(i, j int) bool { return total.Unreadable[i].Name < total.Unreadable[j].Name })
	if len(total.Rejections) > cfg.KeepRejections {
		total.Rejections = total.Rejections[:cfg.KeepRejections]
	}
	read := time.Since(start)
	cfg.Logger.Debug("files read", "elapsed", read, "matches", total.Matches, "spilled_runs", total.SpilledRuns)
	// Learning periods start at the first event of the data, matched by a rule or not.
	firstT, _ := event.ParseTime([]byte(first))
	lastT, _ := event.ParseTime([]byte(last))
	st.begin(firstT)
	sigs, state, err := st.run(ctx, runs, eng.Rules())
	if err != nil {
		return nil, err
	}
	cfg.Logger.Debug("stateful stage done", "elapsed", time.Since(start)-read, "signals", len(sigs))
	sortRevisions(sigs)
	total.State = st.stats()
	total.Learning = st.learning(lastT)
	total.StateFile = cfg.StateFile
	counted := map[string]bool{}
	for _, s := range sigs {
		if !counted[s.ID] {
			counted[s.ID] = true
			total.Signals[s.Level]++
		}
	}
	total.Elapsed = time.Since(start)
	cfg.Logger.Debug("hunt done", "files", total.Files, "events", total.Read, "signals", len(sigs))
	return &Result{Signals: sigs, Stats: total, State: state}, nil
}

// sortRevisions orders signals most severe first (signal.Sort), keeping every revision of
// one signal together, in revision order, where its first revision sorts.
func sortRevisions(sigs []signal.Signal) {
	firstAt := map[string]signal.Signal{}
	for _, s := range sigs {
		if f, ok := firstAt[s.ID]; !ok || s.Revision < f.Revision {
			firstAt[s.ID] = s
		}
	}
	if len(firstAt) == len(sigs) {
		signal.Sort(sigs)
		return
	}
	keys := make([]signal.Signal, 0, len(firstAt))
	for _, s := range firstAt {
		keys = append(keys, s)
	}
	signal.Sort(keys)
	rank := make(map[string]int, len(keys))
	for i, k := range keys {
		rank[k.ID] = i
	}
	sort.SliceStable(sigs, func(i, j int) bool {
		if ri, rj := rank[sigs[i].ID], rank[sigs[j].ID]; ri != rj {
			return ri < rj
		}
		return sigs[i].Revision < sigs[j].Revision
	})
}

// needsEnrichment reports whether any rule or correlation reads a trailhound.* field:
// enrichment costs a few hundred nanoseconds an event, which rules that never look at it
// need not pay.
func needsEnrichment(set *ruleset.Set, st *stateful) bool {
	prefix := event.EnrichmentKey + "."
	for _, f := range set.Engine.Fields() {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	for _, fs := range st.fields {
		for _, f := range fs {
			if strings.HasPrefix(f, prefix) {
				return true
			}
		}
	}
	return false
}

// worker decodes and evaluates one input at a time; it is owned by one goroutine.
type worker struct {
	dec      *decode.Decoder
	m        *detect.Matcher
	keep     int
	stats    Stats
	st       *stateful
	matches  []match
	ev       *event.Event
	hdr      *event.Header // ev's header, made at its first match
	intern   interner
	enr      *enrich.State
	accounts map[string]*AccountStats
	filter   source.Filter
	// filtered counts the events of the current input the filter left out.
	filtered int

	onEvent    func(*event.Event) (bool, error)
	files      FileLedger
	maxMatches int
	spillDir   string
	runs       []run // matches already spilled to disk, each sorted
	paths      []PathStats
	readErr    string // why the current input could not be read to its end ("" if it could)
	progress   *progress.Counter
	pending    int // records not yet added to progress
	// first and last are the earliest and latest eventTime of the events evaluated (the
	// text: CloudTrail's RFC 3339 UTC times sort as text).
	first, last string
}

// progressEvery is how many records a worker counts before adding them to Config.Progress.
const progressEvery = 4096

// counted counts one record for the progress display.
func (w *worker) counted() {
	if w.progress == nil {
		return
	}
	if w.pending++; w.pending == progressEvery {
		w.progress.AddRecords(w.pending)
		w.pending = 0
	}
}

// spillIfFull writes the worker's matches to a sorted run file once they pass its share of
// the memory budget.
func (w *worker) spillIfFull() error {
	if len(w.matches) < w.maxMatches {
		return nil
	}
	r, err := spill(w.spillDir, w.matches)
	if err != nil {
		return err
	}
	w.runs = append(w.runs, r)
	w.matches = nil
	return nil
}

// count keeps the per-account counts; it does not allocate once an account is known.
func (w *worker) count(ev *event.Event) {
	acct := ev.Str("recipientAccountId")
	st := w.accounts[string(acct)]
	if st == nil {
		if w.accounts == nil {
			w.accounts = map[string]*AccountStats{}
		}
		st = &AccountStats{}
		w.accounts[string(acct)] = st
	}
	st.Events++
	if string(ev.Str("eventSource")) == "s3.amazonaws.com" && (string(ev.Str("eventCategory")) == "Data" || s3DataEvents[string(ev.Str("eventName"))]) {
		st.S3DataEvents++
	}
}

// s3DataEvents are the object-level S3 calls CloudTrail logs only as data events (old
// records have no eventCategory).
var s3DataEvents = map[string]bool{
	"GetObject": true, "PutObject": true, "HeadObject": true, "DeleteObject": true, "DeleteObjects": true,
	"CopyObject": true, "ListObjects": true, "ListObjectsV2": true, "GetObjectAcl": true, "UploadPart": true,
	"CreateMultipartUpload": true, "CompleteMultipartUpload": true, "RestoreObject": true, "SelectObjectContent": true,
}

func (w *worker) run(ctx context.Context, in source.Input) error {
	ledgerPath, fi, err := w.ledgerEntry(in)
	if err != nil {
		return err
	}
	ps := &w.paths[in.Arg]
	ps.Files++
	if ledgerPath != "" {
		unchanged, err := w.files.Unchanged(ledgerPath, fi)
		if err != nil {
			return fmt.Errorf("hunting %s: %w", in.Name, err)
		}
		if unchanged {
			w.stats.UnchangedFiles++
			ps.CloudTrail++
			return nil
		}
	}
	w.stats.Files++
	if w.stats.RejectedBy == nil {
		w.stats.RejectedBy = map[decode.Reason]int{}
	}
	w.readErr = ""
	w.filtered = 0
	defer func() {
		w.progress.AddRecords(w.pending)
		w.pending = 0
		w.progress.AddFile()
		if w.readErr != "" {
			ps.Unreadable++
			w.stats.Unreadable = append(w.stats.Unreadable, Unreadable{Name: in.Name, Reason: w.readErr})
		}
	}()
	rc, err := in.Open(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		// The input could not be read at all: one rejection, so it is never silently lost.
		w.stats.Read++
		ps.Records++
		ps.Rejected++
		w.Reject(decode.Rejection{Pos: event.Position{File: in.Name}, Reason: decode.ReasonRead, Detail: err.Error()})
		return nil
	}
	defer rc.Close()
	st, err := w.dec.Decode(ctx, in.Name, w.progress.Reader(rc), w)
	w.stats.Bytes += st.Bytes
	w.stats.Read += st.Read
	w.stats.TimedByTimestamp += st.TimedByTimestamp
	w.stats.EventTimeRewritten += st.EventTimeRewritten
	ps.Records += st.Read
	ps.Rejected += st.Rejected
	ps.FilteredEvents += w.filtered
	if st.Format == decode.FormatRecords || st.Events > 0 {
		ps.CloudTrail++
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("hunting %s: %w", in.Name, err)
	}
	if ledgerPath != "" && st.Rejected == 0 && w.filtered == 0 {
		// A file with a rejected record is read again next time: its problem stays in view.
		// A file some of whose events the filter left out was not stored whole.
		w.files.Read(ledgerPath, fi)
	}
	return nil
}

// ledgerEntry returns the absolute path and the state of a regular file for the file
// ledger, or "" when there is no ledger or the input is not a regular file (standard
// input, a pipe). The state is taken before the file is read: a file that grows while it
// is read is recorded as it was, so the next run reads it again.
func (w *worker) ledgerEntry(in source.Input) (string, fs.FileInfo, error) {
	if w.files == nil || in.Name == source.Stdin || in.Err != nil {
		return "", nil, nil
	}
	if in.Info != nil {
		return in.Name, in.Info, nil // an S3 object: its URL and its listed size and time
	}
	fi, err := os.Stat(in.Name)
	if err != nil || !fi.Mode().IsRegular() {
		return "", nil, nil // Open reports what is wrong with it
	}
	abs, err := filepath.Abs(in.Name)
	if err != nil {
		return "", nil, fmt.Errorf("hunting %s: %w", in.Name, err)
	}
	return abs, fi, nil
}

// Event evaluates one event (decode.Handler).
func (w *worker) Event(ev *event.Event) error {
	w.counted()
	if !w.filter.IsZero() && !w.kept(ev) {
		w.stats.Filtered++
		w.filtered++
		return nil
	}
	w.stats.Evaluated++
	w.count(ev)
	if w.onEvent != nil {
		fresh, err := w.onEvent(ev)
		if err != nil || !fresh {
			return err
		}
	}
	if t := ev.Str("eventTime"); len(t) > 0 {
		if w.first == "" || string(t) < w.first {
			w.first = string(t)
		}
		if string(t) > w.last {
			w.last = string(t)
		}
	}
	if w.enr != nil {
		w.enr.Enrich(ev)
	}
	w.ev, w.hdr = ev, nil
	w.m.Match(ev, w.emit)
	return w.spillIfFull()
}

// kept reports whether the filter keeps the event.
func (w *worker) kept(ev *event.Event) bool {
	t, _ := event.ParseTime(ev.Str("eventTime"))
	return w.filter.Event(string(ev.Str("recipientAccountId")), string(ev.Str("awsRegion")), t)
}

func (w *worker) emit(r *detect.Rule) {
	w.stats.Matches++
	if w.hdr == nil {
		w.hdr = eventHeader(w.ev, &w.intern)
	}
	w.matches = append(w.matches, w.st.capture(r, w.ev, w.hdr, &w.intern))
}

// Reject records a rejected record (decode.Handler).
func (w *worker) Reject(r decode.Rejection) {
	if r.Reason == decode.ReasonRead && w.readErr == "" {
		w.readErr = r.Detail
	}
	w.stats.Rejected++
	w.counted()
	w.stats.RejectedBy[r.Reason]++
	if len(w.stats.Rejections) < w.keep {
		w.stats.Rejections = append(w.stats.Rejections, r)
	}
}

// summaryRejections is how many rejections the summary lists; --rejects writes them all.
const summaryRejections = 10

// WriteRejections writes the kept rejections as JSON Lines (file, record, line, reason, detail).
func (s Stats) WriteRejections(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, r := range s.Rejections {
		rec := struct {
			File   string        `json:"file"`
			Record int           `json:"record"`
			Line   int           `json:"line,omitempty"`
			Reason decode.Reason `json:"reason"`
			Detail string        `json:"detail"`
		}{r.Pos.File, r.Pos.Record, r.Pos.Line, r.Reason, r.Detail}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return nil
}

// WriteSummary writes the end-of-run summary for humans (the CLI sends it to stderr).
func (s Stats) WriteSummary(w io.Writer) error {
	secs := s.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(s.Read) / secs
	}
	nsig := 0
	for _, n := range s.Signals {
		nsig += n
	}
	bw := &errWriter{w: w}
	bw.printf("files: %d read", s.Files)
	if s.DigestFiles > 0 {
		bw.printf(", %d digest files skipped", s.DigestFiles)
	}
	if s.SkippedFiles > 0 {
		bw.printf(", %d other files skipped", s.SkippedFiles)
	}
	if s.UnchangedFiles > 0 {
		bw.printf(", %d unchanged since an earlier run stored them (not read again)", s.UnchangedFiles)
	}
	if n := len(s.Unreadable); n > 0 {
		bw.printf(", %d unreadable", n)
	}
	if s.FilteredPaths > 0 {
		bw.printf(", %d folders and files outside the filter (not listed or read)", s.FilteredPaths)
	}
	bw.printf("\nevents: %d read, %d evaluated, %d rejected", s.Read, s.Evaluated, s.Rejected)
	if s.Filtered > 0 {
		bw.printf(", %d outside the filter", s.Filtered)
	}
	bw.printf("\n")
	if s.TimedByTimestamp > 0 || s.EventTimeRewritten > 0 {
		bw.printf("event time:")
		sep := " "
		if n := s.TimedByTimestamp; n > 0 {
			bw.printf("%s%d events without eventTime timed by their @timestamp", sep, n)
			sep = ", "
		}
		if n := s.EventTimeRewritten; n > 0 {
			bw.printf("%s%d eventTime values in the SQL-export form (2006-01-02 15:04:05) read as UTC", sep, n)
		}
		bw.printf("\n")
	}
	if n := len(s.Unreadable); n > 0 {
		bw.printf("unreadable: %d input(s) could not be read; their events are missing from this run:\n", n)
		for i, u := range s.Unreadable {
			if i == summaryRejections {
				bw.printf("  … and %d more\n", n-i)
				break
			}
			bw.printf("  %s: %s\n", sanitize(u.Name), sanitize(u.Reason))
		}
	}
	if s.Rejected > 0 {
		bw.printf("rejected by reason:")
		sep := " "
		for _, r := range decode.Reasons() {
			if n := s.RejectedBy[r]; n > 0 {
				bw.printf("%s%s %d", sep, r, n)
				sep = ", "
			}
		}
		bw.printf("\n")
		shown := s.Rejections
		if len(shown) > summaryRejections {
			shown = shown[:summaryRejections]
		}
		for _, r := range shown {
			bw.printf("  %s: %s\n", positionString(r.Pos), sanitize(string(r.Reason)+": "+r.Detail))
		}
		if len(shown) < s.Rejected {
			bw.printf("  … and %d more (--rejects FILE writes them all)\n", s.Rejected-len(shown))
		}
	}
	bw.printf("signals: %d", nsig)
	if nsig > 0 {
		sep := " ("
		for l := signal.LevelCritical; ; l-- {
			if n := s.Signals[l]; n > 0 {
				bw.printf("%s%d %s", sep, n, l)
				sep = ", "
			}
			if l == signal.LevelInformational {
				break
			}
		}
		bw.printf(")")
	}
	if st := s.State; st.Late > 0 || st.OpenAlerts > 0 || st.Buffered > 0 || s.StateFile != "" {
		bw.printf("\nstate: %d groups", st.Groups)
		if st.Late > 0 {
			bw.printf(", %d late events (behind the watermark, evaluated against the state still held)", st.Late)
		}
		if st.Buffered > 0 || st.OpenAlerts > 0 {
			bw.printf(", %d events and %d signals still open (reported when their window closes, or with --flush)", st.Buffered, st.OpenAlerts)
		}
		if s.StateFile != "" {
			bw.printf(", saved to %s", sanitize(s.StateFile))
		}
	}
	if n := len(s.Learning); n > 0 {
		var from, to time.Time
		for _, l := range s.Learning {
			if from.IsZero() || l.Until.Before(from) {
				from = l.Until
			}
			if l.Until.After(to) {
				to = l.Until
			}
		}
		span := "until " + from.Format("2006-01-02 15:04Z")
		if to.After(from) {
			span = "until " + from.Format("2006-01-02 15:04Z") + " to " + to.Format("2006-01-02 15:04Z")
		}
		bw.printf("\nlearning: %d first-seen or baseline rule(s) were still learning at the last event (%s; learning starts at the first event): they signal nothing before then; keep what they learn across runs with --state FILE or hunt --db", n, span)
	}
	if blind := s.blindS3(); len(blind) > 0 {
		bw.printf("\nblind spot: no S3 data events in the logs of account(s) %s: object reads and writes are invisible to rules and investigations (enable S3 data events on the trail)", strings.Join(blind, ", "))
	}
	bw.printf("\nelapsed: %s, %.0f events/s\n", s.Elapsed.Round(time.Millisecond), rate)
	return bw.err
}

func positionString(p event.Position) string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s:%d (record %d)", sanitize(p.File), p.Line, p.Record)
	default:
		return fmt.Sprintf("%s record %d", sanitize(p.File), p.Record)
	}
}

// sanitize keeps file names and details (which can hold attacker-controlled bytes) from
// writing control sequences to the terminal.
func sanitize(s string) string { return safetext.Printable(s) }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
