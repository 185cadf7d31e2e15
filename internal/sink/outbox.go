package sink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/trailhound/trailhound/internal/signal"
)

// OutboxOptions tune an Outbox. The zero value is usable.
type OutboxOptions struct {
	// MaxBatch is how many revisions one Deliver call gets at most; 0 means 100.
	MaxBatch int
	// MinBackoff and MaxBackoff bound the wait after a failed delivery, which doubles with
	// each failure in a row (with ±20% jitter); 0 means 500 ms and 5 minutes.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives failures (at warn) and recoveries; nil discards.
	Logger *slog.Logger
	// OnDeliver, when set, is told the result of every delivery attempt: how many revisions
	// the sink acknowledged and its error.
	OnDeliver func(n int, err error)
}

// Outbox holds the revisions one sink has not acknowledged yet, and delivers them in order
// with retries. Add, Encode, Depth and Acked are safe to call while Run delivers.
type Outbox struct {
	name string
	sink Sink
	min  signal.Level
	opts OutboxOptions

	mu      sync.Mutex
	pending []signal.Signal
	acked   uint64 // revisions acknowledged since the outbox was made
	wake    chan struct{}
}

// NewOutbox returns an empty outbox delivering to s the revisions at or above min.
func NewOutbox(name string, s Sink, min signal.Level, opts OutboxOptions) *Outbox {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 100
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Outbox{name: name, sink: s, min: min, opts: opts, wake: make(chan struct{}, 1)}
}

// Name is the sink's name.
func (o *Outbox) Name() string { return o.name }

// BlobName is the name of the store blob that holds the outbox of the sink called name.
func BlobName(name string) string { return "outbox/" + name }

// Add appends the revisions at or above the sink's minimum level, and returns how many.
func (o *Outbox) Add(revs []signal.Signal) int {
	n := 0
	o.mu.Lock()
	for _, r := range revs {
		if r.Level >= o.min {
			o.pending = append(o.pending, r)
			n++
		}
	}
	o.mu.Unlock()
	if n > 0 {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	return n
}

// Depth is how many revisions wait for the sink.
func (o *Outbox) Depth() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending)
}

// Acked is how many revisions the sink acknowledged since the outbox was made: a caller
// that saw it change commits the outbox again, so that a restart does not resend them.
func (o *Outbox) Acked() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.acked
}

// Encode returns the revisions waiting, as JSON Lines (the outbox's blob in the store).
func (o *Outbox) Encode() []byte { return o.EncodeWith(nil) }

// EncodeWith returns what Encode would after Add(revs), without adding them: a service
// commits the outbox with a batch's revisions, and hands them to the deliverer only once
// the commit is durable.
func (o *Outbox) EncodeWith(revs []signal.Signal) []byte {
	o.mu.Lock()
	pending := o.pending
	o.mu.Unlock()
	var b bytes.Buffer
	for _, r := range revs {
		if r.Level >= o.min {
			pending = append(pending[:len(pending):len(pending)], r)
		}
	}
	for _, r := range pending {
		line, err := r.MarshalJSON()
		if err != nil {
			continue // MarshalJSON fails only on values a signal cannot hold
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Restore replaces what waits by the revisions of an encoded outbox (Encode).
func (o *Outbox) Restore(b []byte) error {
	var revs []signal.Signal
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		var s signal.Signal
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return fmt.Errorf("reading the outbox of %s: line %d: %w", o.name, n, err)
		}
		revs = append(revs, s)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the outbox of %s: %w", o.name, err)
	}
	o.mu.Lock()
	o.pending = revs
	o.mu.Unlock()
	return nil
}

// DeliverOnce sends the head of the outbox once and removes what the sink acknowledged. It
// returns how many revisions were acknowledged (0 with a nil error when none waited).
func (o *Outbox) DeliverOnce(ctx context.Context) (int, error) {
	o.mu.Lock()
	head := o.pending[:min(len(o.pending), o.opts.MaxBatch):min(len(o.pending), o.opts.MaxBatch)]
	o.mu.Unlock()
	if len(head) == 0 {
		return 0, nil
	}
	n, err := o.sink.Deliver(ctx, head)
	n = min(max(n, 0), len(head))
	if err == nil && n < len(head) {
		err = fmt.Errorf("the sink acknowledged %d of %d", n, len(head))
	}
	if o.opts.OnDeliver != nil {
		o.opts.OnDeliver(n, err)
	}
	if n > 0 {
		o.mu.Lock()
		// Only Run and DeliverOnce remove, from the head: the head delivered is still there.
		o.pending = append(o.pending[:0:0], o.pending[n:]...)
		o.acked += uint64(n)
		o.mu.Unlock()
	}
	if err != nil {
		return n, fmt.Errorf("delivering %d signal revision(s) to %s: %w", len(head)-n, o.name, err)
	}
	return n, nil
}

// Run delivers until ctx is done: whatever waits goes out at once, in batches; a failure is
// retried after a backoff that doubles with each failure in a row. It returns ctx's error.
func (o *Outbox) Run(ctx context.Context) error {
	failures := 0
	for {
		n, err := o.DeliverOnce(ctx)
		var wait time.Duration
		if n > 0 && err != nil {
			failures = 0 // progress: the next failure waits the shortest backoff
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			failures++
			wait = o.backoff(failures)
			o.opts.Logger.Warn("sink delivery failed; retrying", "sink", o.name, "failures", failures, "retry_in", wait.Round(time.Millisecond), "err", err)
		case n > 0 && err == nil:
			if failures > 0 {
				o.opts.Logger.Info("sink delivering again", "sink", o.name, "after_failures", failures)
			}
			failures = 0
			continue
		}
		if err := o.wait(ctx, wait); err != nil {
			return err
		}
	}
}

// wait returns when revisions were added, or after d when d > 0 (new revisions do not cut
// a backoff short), or when ctx is done.
func (o *Outbox) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-o.wake:
			return nil
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is the wait after the n-th failure in a row.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.opts.MinBackoff
	for i := 1; i < n && d < o.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.opts.MaxBackoff)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return d + jitter
}
