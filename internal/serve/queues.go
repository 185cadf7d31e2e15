package serve

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"

	"github.com/trailhound/trailhound/internal/source"
)

// receiver is a queue or stream of messages, acknowledged after the commit (source.SQS,
// source.NATS).
type receiver interface {
	Name() string
	Receive(ctx context.Context, n int) ([]source.Message, error)
	Ack(ctx context.Context, msgs []source.Message) error
}

// extender is a receiver whose messages stay hidden from other receivers for Hold after
// they are received or extended (SQS visibility timeout, JetStream AckWait).
type extender interface {
	Hold() time.Duration
	Extend(ctx context.Context, msgs []source.Message) error
}

// queue reads one receiver: S3 event notifications (objects to read) or CloudTrail events
// from EventBridge.
type queue struct {
	s      *Service
	name   string
	src    receiver
	events bool

	// held are the messages received and not yet done with (acknowledged, or left to come
	// back), with when they were last received or extended.
	mu   sync.Mutex
	held map[*message]time.Time
}

// hold tracks a received message until release.
func (q *queue) hold(m *message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.held == nil {
		q.held = map[*message]time.Time{}
	}
	q.held[m] = time.Now()
}

// release stops tracking a message: it was acknowledged, or it is to be delivered again.
func (q *queue) release(m *message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.held, m)
}

// extend keeps the held messages hidden while the batches that hold them are read,
// evaluated and committed: a batch slower than the visibility timeout (a long backlog, a
// slow store) would otherwise see its messages delivered again meanwhile, and their
// objects read twice. Every hold/3 it extends the messages held for a third of it or more.
func (q *queue) extend(ctx context.Context, ex extender) {
	every := max(ex.Hold()/3, 100*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			q.mu.Lock()
			var due []*message
			for m, at := range q.held {
				if now.Sub(at) >= every {
					due = append(due, m)
				}
			}
			q.mu.Unlock()
			if len(due) == 0 {
				continue
			}
			msgs := make([]source.Message, len(due))
			for i, m := range due {
				msgs[i] = m.m
			}
			if err := ex.Extend(ctx, msgs); err != nil {
				if ctx.Err() != nil {
					return
				}
				q.s.m.notifications.WithLabelValues(q.name, "extend_failed").Add(float64(len(msgs)))
				q.s.log.Warn("extending the visibility of messages failed; they may be delivered again (and found stored)", "queue", q.name, "err", err)
				continue
			}
			q.s.m.notifications.WithLabelValues(q.name, "extended").Add(float64(len(msgs)))
			q.mu.Lock()
			for _, m := range due {
				if _, ok := q.held[m]; ok {
					q.held[m] = now
				}
			}
			q.mu.Unlock()
		}
	}
}

// startQueues connects the notification and event queues and runs each on g.
func (s *Service) startQueues(ctx context.Context, g *errgroup.Group) error {
	for _, q := range s.cfg.Notifications.SQS {
		if s.opts.SQS == nil {
			return errors.New("notifications.sqs: no SQS client")
		}
		s.queues = append(s.queues, &queue{s: s, name: q.URL, src: source.NewSQS(s.opts.SQS, q.URL, source.SQSOptions{Visibility: time.Duration(q.Visibility)})})
	}
	for _, q := range s.cfg.Events {
		if s.opts.SQS == nil {
			return errors.New("events: no SQS client")
		}
		s.queues = append(s.queues, &queue{s: s, name: q.URL, events: true, src: source.NewSQS(s.opts.SQS, q.URL, source.SQSOptions{Visibility: time.Duration(q.Visibility)})})
	}
	for _, n := range s.cfg.Notifications.NATS {
		connect := s.opts.ConnectNATS
		if connect == nil {
			connect = func(url string) (*nats.Conn, error) { return nats.Connect(url, nats.MaxReconnects(-1)) }
		}
		nc, err := connect(n.URL)
		if err != nil {
			return fmt.Errorf("connecting to NATS %s: %w", n.URL, err)
		}
		src, err := source.NewNATS(ctx, nc, source.NATSOptions{Subject: n.Subject, Stream: n.Stream, Durable: n.Durable})
		if err != nil {
			nc.Close()
			return err
		}
		go func() { <-ctx.Done(); nc.Drain() }()
		s.queues = append(s.queues, &queue{s: s, name: src.Name(), src: src})
	}
	for _, q := range s.queues {
		g.Go(func() error { return q.run(ctx) })
		if ex, ok := q.src.(extender); ok {
			g.Go(func() error { q.extend(ctx, ex); return nil })
		}
	}
	return nil
}

// run receives until ctx is done. Errors are logged and counted; it tries again after a
// pause that grows to a minute.
func (q *queue) run(ctx context.Context) error {
	pause := time.Second
	for ctx.Err() == nil {
		msgs, err := q.src.Receive(ctx, 10)
		if err != nil && ctx.Err() == nil {
			q.s.m.notifications.WithLabelValues(q.name, "receive_error").Inc()
			q.s.log.Warn("receiving failed; trying again", "queue", q.name, "in", pause, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
			pause = min(2*pause, time.Minute)
			continue
		}
		pause = time.Second
		for _, m := range msgs {
			if err := q.handle(ctx, m); err != nil {
				return nil // ctx done: the message comes back
			}
		}
	}
	return nil
}

// handle turns one message into batch items, or acknowledges it at once when it holds
// nothing to read (a test event, a removal, an object already stored, a message that is not
// a notification at all: logged and counted, and the listing still finds the objects).
func (q *queue) handle(ctx context.Context, m source.Message) error {
	s := q.s
	msg := &message{q: q, m: m}
	since := m.Sent
	if q.events {
		msg.pending = 1
		q.hold(msg)
		s.m.notifications.WithLabelValues(q.name, "event").Inc()
		return s.offer(ctx, item{event: m.Body, name: "sqs://" + path.Base(q.name) + "#" + m.ID, msg: msg, since: since})
	}
	refs, err := source.ParseNotification(m.Body)
	if err != nil {
		s.m.notifications.WithLabelValues(q.name, "invalid").Inc()
		s.log.Warn("message is not an S3 event notification: dropped", "queue", q.name, "message", m.ID, "err", err)
		return q.ackNow(ctx, m)
	}
	var items []item
	for _, r := range refs {
		o := source.S3Object{Bucket: r.Bucket, Key: r.Key, Size: r.Size, ETag: r.ETag, ModTime: r.Time}
		if s.filter.NameExcluded(o.Key) || s.filter.PathExcluded(path.Dir(o.Key)+"/") || source.S3Input(nil, o).Kind != source.KindLog {
			continue
		}
		if s.stored(o) {
			s.m.notifications.WithLabelValues(q.name, "already_stored").Inc()
			continue
		}
		at := since
		if !r.Time.IsZero() {
			at = r.Time
		}
		items = append(items, item{obj: &o, name: o.URL(), msg: msg, since: at})
	}
	if len(items) == 0 {
		s.m.notifications.WithLabelValues(q.name, "nothing_to_read").Inc()
		return q.ackNow(ctx, m)
	}
	s.m.notifications.WithLabelValues(q.name, "objects").Inc()
	msg.pending = len(items)
	q.hold(msg)
	for _, it := range items {
		if err := s.offer(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

func (q *queue) ackNow(ctx context.Context, m source.Message) error {
	if err := q.src.Ack(ctx, []source.Message{m}); err != nil && ctx.Err() == nil {
		q.s.log.Warn("acknowledging a message failed", "queue", q.name, "err", err)
	}
	return nil
}

// offer hands an item to the batch loop.
func (s *Service) offer(ctx context.Context, it item) error {
	select {
	case s.work <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
