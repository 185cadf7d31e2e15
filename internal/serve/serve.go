// Package serve is trailhound's live service: it watches trails in S3 (by listing, and from
// S3 event notifications on SQS or NATS), reads CloudTrail events EventBridge puts on an SQS
// queue, evaluates everything with the engine of hunt --db (hunt.Live: same rules,
// enrichment, state and store) batch after batch, and sends each signal's revisions — open,
// updated, closed — to its sinks.
//
// # One commit per batch
//
// A batch is what arrived while the previous one was processed (at most Batch.MaxObjects
// objects and event messages, gathered for at most Batch.MaxWait). It is read, evaluated
// and committed as one generation of the store: the events, the objects read whole (the
// ledger), the signal revisions, the detection state after them, the sources' checkpoints
// and every sink's outbox with the new revisions. Only then are the batch's messages
// acknowledged (SQS delete, NATS ack) and its revisions handed to the sinks' deliverers. A
// process killed at any moment restarts from the last commit: what was not committed is
// read again (from the listing checkpoint, the ledger and the redelivered messages) and
// evaluated once into the store; a revision delivered before the kill is delivered again
// only as the same (id, revision) — revisions reach sinks only after their commit.
//
// # Concurrency
//
// One goroutine owns the batch: the live hunt, the store writer, the checkpoints. Each
// listing, each queue and each sink has a goroutine of its own, owned by Run, stopped with
// its context. Nothing is global: every metric is registered in the service's own registry.
//
// # Partitions
//
// Checkpoints are kept per account and region folder of a trail, and the filter of the
// configuration (accounts, regions) selects what one process reads, so the accounts of an
// organization can be split across processes, each with its own store.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/sink"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/internal/store"
)

// Options are what the service needs from the program that runs it.
type Options struct {
	// Logger receives the service's logs; nil discards.
	Logger *slog.Logger
	// Rules are the compiled rules; Enricher adds the trailhound.* fields (nil: none).
	Rules    *ruleset.Set
	Enricher *enrich.Enricher
	// S3 reads the trails and the objects notifications name; SQS receives notifications
	// and events; both nil when the configuration uses none.
	S3  source.S3Client
	SQS source.SQSClient
	// ConnectNATS connects to a NATS server (nil: nats.Connect).
	ConnectNATS func(url string) (*nats.Conn, error)
	// Fault, when set, is called at the service's crash-test points (FaultPoints) and the
	// store's (store.FaultPoints).
	Fault func(point string)
	// Version is trailhound's (OCSF metadata).
	Version string
	// Stdout is where sinks without a path write (nil: os.Stdout).
	Stdout io.Writer
	// HTTPClient makes the sinks' requests (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
	// UI, when set, is served under / beside /metrics, /healthz and /readyz.
	UI http.Handler
	// Getenv reads sinks' secret_env (nil: os.Getenv).
	Getenv func(string) string
}

// FaultPoints are the service's crash-test points: a batch read, evaluated, just before its
// commit, committed, and its messages acknowledged.
var FaultPoints = []string{"serve:read", "serve:evaluated", "serve:commit", "serve:committed", "serve:acked"}

// Service is a configured live service. Run it once.
type Service struct {
	cfg    Config
	opts   Options
	log    *slog.Logger
	filter source.Filter

	st      *store.Store
	w       *store.Writer
	live    *hunt.Live
	boxes   []*sink.Outbox
	closers []sink.Closer
	m       *metrics

	work      chan item
	cp        *checkpoints
	trails    []*trail
	queues    []*queue
	mu        sync.Mutex
	ready     bool
	lastErr   error
	watermark time.Time
	acked     uint64 // sum of the outboxes' Acked at the last commit
	late      int64  // the live hunt's late matches counted so far
	// quietSince is the wall time of the last batch read (or of the start), and quietBase
	// the latest event time known then: a quiet trail's event time is taken to have
	// advanced from quietBase as the clock has since quietSince (see advanceQuiet).
	quietSince time.Time
	quietBase  time.Time
}

// item is one thing a batch reads: an object, or an event message; msg, when set, is the
// message to acknowledge once the batch is committed.
type item struct {
	obj    *source.S3Object
	event  []byte
	name   string // the input's name in positions and logs
	msg    *message
	trail  *trail // the listing that found the object (nil: a notification)
	folder string // the listing folder it was found in
	// since is when the item became readable (the object's time, the message's sending),
	// for the time to detect.
	since time.Time
}

// message is a received message, acknowledged after the commit of every item it gave.
// Only the batch loop changes it once its items are handed over.
type message struct {
	q       *queue
	m       source.Message
	pending int  // items not yet committed
	bad     bool // an item failed in a way worth retrying: leave it to be delivered again
}

// New opens the store and the sinks of cfg (Validate it first) and restores the state, the
// checkpoints and the outboxes the store holds.
func New(cfg Config, opts Options) (*Service, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Rules == nil {
		return nil, errors.New("serve: no rules")
	}
	filter, err := cfg.Filter(time.Now())
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, opts: opts, log: opts.Logger, filter: filter, work: make(chan item, cfg.Batch.MaxObjects), m: newMetrics()}
	fault := func(p string) error {
		if opts.Fault != nil {
			opts.Fault(p)
		}
		return nil
	}
	if s.st, err = store.Open(cfg.DB, store.Options{Logger: opts.Logger, Fault: fault}); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	if s.w, err = s.st.Writer(); err != nil {
		return nil, err
	}
	state, _, err := s.st.Blob(store.StateBlob)
	if err != nil {
		return nil, err
	}
	hc := hunt.Config{
		Workers: cfg.Workers, Logger: opts.Logger, Enricher: opts.Enricher,
		Source:   source.Options{S3: opts.S3, Filter: filter},
		OnEvent:  s.w.Add,
		Files:    ledger{s.w},
		State:    state,
		Lateness: huntLateness(cfg.Lateness), GroupWindow: time.Duration(cfg.GroupWindow),
		OpenEarly: cfg.openEarly(),
	}
	if s.live, err = hunt.NewLive(hc, opts.Rules); err != nil {
		return nil, err
	}
	s.late = s.live.Stats().State.Late // the state counts late matches across restarts
	s.markProgress(time.Now())
	for _, sc := range cfg.Sinks {
		sk, err := sink.New(sc, sink.Options{Stdout: opts.Stdout, Client: opts.HTTPClient, Getenv: opts.Getenv, Version: opts.Version})
		if err != nil {
			return nil, err
		}
		if c, ok := sk.(sink.Closer); ok {
			s.closers = append(s.closers, c)
		}
		name := sc.SinkName()
		box := sink.NewOutbox(name, sk, sc.Level(), sink.OutboxOptions{Logger: opts.Logger, OnDeliver: s.m.delivered(name)})
		blob, _, err := s.st.Blob(sink.BlobName(name))
		if err != nil {
			return nil, err
		}
		if err := box.Restore(blob); err != nil {
			return nil, err
		}
		s.boxes = append(s.boxes, box)
	}
	if s.cp, err = loadCheckpoints(s.st); err != nil {
		return nil, err
	}
	for _, tc := range cfg.Trails {
		u, _ := source.ParseS3URL(tc.URL)
		s.trails = append(s.trails, &trail{s: s, url: u, poll: time.Duration(tc.Poll), cursor: map[string]string{}})
	}
	s.m.register(s)
	ok = true
	return s, nil
}

// huntLateness is the lateness of the configuration as hunt.Config takes it (none is -1).
func huntLateness(d *Duration) time.Duration {
	if d == nil {
		return 0
	}
	if *d == 0 {
		return -1
	}
	return time.Duration(*d)
}

func (s *Service) close() {
	for _, c := range s.closers {
		c.Close()
	}
	if s.st != nil {
		s.st.Close()
	}
}

// ledger is the store's file ledger as hunt.FileLedger.
type ledger struct{ w *store.Writer }

func (l ledger) Unchanged(path string, fi fs.FileInfo) (bool, error) {
	return l.w.FileStored(path, store.StampOf(fi))
}
func (l ledger) Read(path string, fi fs.FileInfo) { l.w.FileRead(path, store.StampOf(fi)) }

// stored reports whether the ledger holds the object.
func (s *Service) stored(o source.S3Object) bool {
	ok, err := s.w.FileStored(o.URL(), store.StampOf(o.Info()))
	return err == nil && ok
}

// Run serves until ctx is done, then finishes the batch under way, commits it, and returns
// nil; it returns an error when the service cannot go on (the store fails a commit).
func (s *Service) Run(ctx context.Context) error {
	defer s.close()
	g, gctx := errgroup.WithContext(ctx)
	// Sources stop with ctx; the batch loop and the sinks run until the last commit.
	loopCtx, stopLoop := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLoop()
	sinkCtx, stopSinks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSinks()
	var sinks sync.WaitGroup
	for _, b := range s.boxes {
		sinks.Add(1)
		go func() { defer sinks.Done(); b.Run(sinkCtx) }()
	}
	srcCtx, stopSources := context.WithCancel(gctx)
	defer stopSources()
	srcs, srcCtx := errgroup.WithContext(srcCtx)
	for _, t := range s.trails {
		srcs.Go(func() error { return t.run(srcCtx) })
	}
	if err := s.startQueues(srcCtx, srcs); err != nil {
		stopSources()
		srcs.Wait()
		return err
	}
	s.setReady(nil)
	loopDone := make(chan error, 1)
	go func() { loopDone <- s.loop(loopCtx, gctx) }()
	g.Go(func() error {
		err := srcs.Wait()
		if err != nil && gctx.Err() == nil {
			return err
		}
		return nil
	})
	err := <-loopDone
	g.Wait()
	if err == nil {
		// Give the sinks a few seconds to deliver what the last batches committed, and
		// commit what they acknowledged; what they could not deliver waits in the outboxes
		// for the next start.
		deadline := time.Now().Add(s.cfg.DrainTimeout())
		for time.Now().Before(deadline) && s.pending() > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		err = s.idle(loopCtx)
	}
	stopSinks()
	sinks.Wait()
	return err
}

// pending is how many revisions wait in the outboxes.
func (s *Service) pending() int {
	n := 0
	for _, b := range s.boxes {
		n += b.Depth()
	}
	return n
}

// size is the bytes an item reads: the object's size as stored, or the message's.
func (it *item) size() int64 {
	if it.obj != nil {
		return it.obj.Size
	}
	return int64(len(it.event))
}

// backlogGap is the pause in arrivals that ends a batch grown past Batch.MaxObjects.
const backlogGap = 100 * time.Millisecond

// loop gathers batches until stop is done, then processes what it holds and returns.
func (s *Service) loop(ctx, stop context.Context) error {
	every := 5 * time.Second
	if q := s.cfg.quietAdvance(); q > 0 {
		every = min(every, max(q/2, 10*time.Millisecond))
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		var batch []item
		select {
		case it := <-s.work:
			batch = append(batch, it)
		case <-tick.C:
			if err := s.idle(ctx); err != nil {
				return err
			}
			continue
		case <-stop.Done():
			return s.drain(ctx)
		}
		batch = gather(batch, s.work, stop.Done(), s.cfg.Batch)
		if err := s.process(ctx, batch); err != nil {
			return err
		}
	}
}

// gather completes a batch started with its first item: up to MaxObjects arriving within
// MaxWait and, on a backlog (MaxObjects reached), more while they keep coming without a
// pause of backlogGap, up to BacklogObjects and BacklogBytes.
func gather(batch []item, work <-chan item, stop <-chan struct{}, b BatchConfig) []item {
	wait := time.NewTimer(time.Duration(b.MaxWait))
	defer wait.Stop()
first:
	for len(batch) < b.MaxObjects {
		select {
		case it := <-work:
			batch = append(batch, it)
		case <-wait.C:
			break first
		case <-stop:
			break first
		}
	}
	if len(batch) < b.MaxObjects {
		return batch
	}
	gap := time.NewTimer(backlogGap)
	defer gap.Stop()
	var bytes int64
	for _, it := range batch {
		bytes += it.size()
	}
	for len(batch) < b.BacklogObjects && bytes < b.BacklogBytes {
		select {
		case it := <-work:
			batch = append(batch, it)
			bytes += it.size()
			gap.Reset(backlogGap)
		case <-gap.C:
			return batch
		case <-stop:
			return batch
		}
	}
	return batch
}

// drain processes what the sources handed over before they stopped.
func (s *Service) drain(ctx context.Context) error {
	var batch []item
	for {
		select {
		case it := <-s.work:
			batch = append(batch, it)
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return s.idle(ctx)
	}
	return s.process(ctx, batch)
}

// idle moves a quiet trail's event time on with the clock (advanceQuiet) and commits when
// that changed signals or when sinks acknowledged revisions since the last commit, so that
// a restart does not send them again.
func (s *Service) idle(ctx context.Context) error {
	revs := s.advanceQuiet(time.Now())
	var acked uint64
	for _, b := range s.boxes {
		acked += b.Acked()
	}
	s.m.observeOutboxes(s.boxes)
	if acked == s.acked && len(revs) == 0 {
		return nil
	}
	return s.commit(ctx, nil, revs)
}

// markProgress records that the events read up to now were evaluated: the base from which
// a quiet trail's event time advances with the clock.
func (s *Service) markProgress(now time.Time) {
	base := s.live.Latest()
	if wm := s.live.Watermark(); !wm.IsZero() {
		if l := huntLateness(s.cfg.Lateness); l > 0 {
			wm = wm.Add(l)
		}
		if wm.After(base) {
			base = wm
		}
	}
	s.quietSince, s.quietBase = now, base
}

// advanceQuiet lets event time advance with the clock once no batch has been read for
// QuietAdvance: without it the watermark moves only when later events arrive, so on a
// quiet trail the attacker's last calls would wait, unevaluated and without a signal, for
// whatever event comes next. The event time taken is the latest one known at the last batch
// plus the wall time since: an event delivered later within the lateness is never behind
// the watermark this gives (its time is at least now − lateness, and the latest event time
// read was not ahead of the clock), so batches evaluate it in order as before. It returns
// the revisions of the signals that opened, grew or closed.
func (s *Service) advanceQuiet(now time.Time) []signal.Signal {
	q := s.cfg.quietAdvance()
	quiet := now.Sub(s.quietSince)
	if q <= 0 || quiet < q || s.quietBase.IsZero() || len(s.work) > 0 {
		return nil
	}
	return s.live.Advance(s.quietBase.Add(quiet))
}

func (s *Service) fault(p string) {
	if s.opts.Fault != nil {
		s.opts.Fault(p)
	}
}

// process reads, evaluates and commits one batch, then acknowledges its messages.
func (s *Service) process(ctx context.Context, batch []item) error {
	start := time.Now()
	inputs, owners := s.inputs(batch)
	results, err := s.live.Read(ctx, inputs)
	if err != nil {
		return s.failed(fmt.Errorf("reading a batch: %w", err))
	}
	s.fault("serve:read")
	for i, r := range results {
		s.account(owners[i], r)
	}
	revs, err := s.live.Evaluate(ctx)
	if err != nil {
		return s.failed(fmt.Errorf("evaluating a batch: %w", err))
	}
	if late := s.live.Stats().State.Late; late > s.late {
		s.m.lateHits.Add(float64(late - s.late))
		s.log.Warn("rule matches arrived behind the watermark: evaluated against the state held, not in event-time order (a lateness longer than the trail's delivery delays avoids it)",
			"matches", late-s.late, "watermark", s.live.Watermark())
		s.late = late
	}
	s.markProgress(time.Now())
	s.fault("serve:evaluated")
	if err := s.commit(ctx, batch, revs); err != nil {
		return err
	}
	s.ack(ctx, batch)
	s.fault("serve:acked")
	s.m.batch(s, batch, revs, results, time.Since(start))
	return nil
}

// inputs turns a batch into the inputs to read: each object once (a listing and a
// notification may both name it), each event message; owners[i] are the items of input i.
func (s *Service) inputs(batch []item) ([]source.Input, [][]*item) {
	var inputs []source.Input
	var owners [][]*item
	at := map[string]int{}
	for i := range batch {
		it := &batch[i]
		if it.obj != nil {
			if j, ok := at[it.name]; ok {
				owners[j] = append(owners[j], it)
				continue
			}
			if max := s.cfg.MaxObjectBytes; it.obj.Size > max {
				s.m.objectFailed("too_large")
				s.log.Warn("object too large: not read", "object", it.name, "bytes", it.obj.Size, "limit", max)
				s.cp.done(it)
				continue
			}
			at[it.name] = len(inputs)
			inputs = append(inputs, source.S3Input(s.opts.S3, *it.obj))
		} else {
			inputs = append(inputs, source.BytesInput(it.name, source.UnwrapSNS(it.event)))
		}
		owners = append(owners, []*item{it})
	}
	return inputs, owners
}

// account records the outcome of one input: a missing object is done (deleted between the
// announcement and the read: nothing to read), an object that could not be read for another
// reason (denied, throttled, a network error) is retried later, rejected records are
// counted and logged with their position.
func (s *Service) account(items []*item, r hunt.InputResult) {
	for _, rj := range r.Rejections {
		s.log.Warn("record rejected", "input", r.Name, "record", rj.Pos.Record, "line", rj.Pos.Line, "reason", rj.Reason, "detail", rj.Detail)
	}
	for _, it := range items {
		switch {
		case r.Unreadable != "" && (strings.Contains(r.Unreadable, "NoSuchKey") || strings.Contains(r.Unreadable, "not exist") || strings.Contains(r.Unreadable, "NotFound")):
			s.m.objectFailed("missing")
			s.log.Warn("object missing: not read (deleted after it was announced?)", "object", r.Name, "err", r.Unreadable)
			s.cp.done(it)
		case r.Unreadable != "":
			reason := "read_error"
			if strings.Contains(r.Unreadable, "AccessDenied") || strings.Contains(r.Unreadable, "Forbidden") {
				reason = "denied"
			} else if strings.Contains(r.Unreadable, "SlowDown") || strings.Contains(r.Unreadable, "503") {
				reason = "throttled"
			}
			s.m.objectFailed(reason)
			s.log.Warn("object could not be read: it will be retried", "object", r.Name, "reason", reason, "err", r.Unreadable)
			s.cp.retry(it)
			if it.msg != nil {
				it.msg.bad = true
			}
		default:
			s.cp.done(it)
		}
	}
	s.m.input(r)
}

// commit makes the batch durable: events, ledger, revisions, state, checkpoints, outboxes.
func (s *Service) commit(ctx context.Context, batch []item, revs []signal.Signal) error {
	start := time.Now()
	state, err := s.live.State()
	if err != nil {
		return s.failed(err)
	}
	blobs := map[string][]byte{store.StateBlob: state, checkpointBlob: s.cp.encode()}
	var acked uint64
	for _, b := range s.boxes {
		blobs[sink.BlobName(b.Name())] = b.EncodeWith(revs)
		acked += b.Acked()
	}
	s.fault("serve:commit")
	if err := s.w.CommitBatch(store.Batch{Signals: revs, Blobs: blobs}); err != nil {
		return s.failed(fmt.Errorf("committing a batch: %w", err))
	}
	s.fault("serve:committed")
	s.acked = acked
	s.cp.committed()
	for _, b := range s.boxes {
		b.Add(revs)
	}
	if _, err := s.w.Compact(ctx); err != nil {
		return s.failed(fmt.Errorf("compacting the store: %w", err))
	}
	s.m.commitSeconds.Observe(time.Since(start).Seconds())
	s.setReady(nil)
	return nil
}

// ack acknowledges the messages whose every item was committed or is done for good.
func (s *Service) ack(ctx context.Context, batch []item) {
	byQueue := map[*queue][]source.Message{}
	for _, it := range batch {
		if it.msg == nil {
			continue
		}
		if it.msg.pending--; it.msg.pending == 0 {
			it.msg.q.release(it.msg)
			if !it.msg.bad {
				byQueue[it.msg.q] = append(byQueue[it.msg.q], it.msg.m)
			}
		}
	}
	for q, msgs := range byQueue {
		if err := q.src.Ack(ctx, msgs); err != nil {
			// The messages come back and find their objects stored: nothing is lost.
			s.log.Warn("acknowledging messages failed; they will be delivered again", "queue", q.name, "err", err)
			s.m.notifications.WithLabelValues(q.name, "ack_failed").Add(float64(len(msgs)))
			continue
		}
		s.m.notifications.WithLabelValues(q.name, "acked").Add(float64(len(msgs)))
	}
}

func (s *Service) failed(err error) error {
	s.setReady(err)
	return err
}

func (s *Service) setReady(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready = err == nil
	s.lastErr = err
}

// Handler serves /metrics, /healthz, /readyz, and the UI under / when one is given.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.m.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ready, err := s.ready, s.lastErr
		s.mu.Unlock()
		if !ready {
			msg := "starting"
			if err != nil {
				msg = err.Error()
			}
			http.Error(w, "not ready: "+msg, http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	if s.opts.UI != nil {
		mux.Handle("/", s.opts.UI)
	}
	return mux
}

// Store is the store the service commits to: readers (the web investigator) may use it
// while the service writes (store.Store is safe for concurrent use).
func (s *Service) Store() *store.Store { return s.st }

// SetUI mounts an investigator under / of Handler; call it before Handler.
func (s *Service) SetUI(h http.Handler) { s.opts.UI = h }

// Registry is the service's metrics registry (its own: nothing is global).
func (s *Service) Registry() *prometheus.Registry { return s.m.reg }
