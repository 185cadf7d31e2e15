package source

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSOptions configures a NATS source.
type NATSOptions struct {
	// Subject is what S3-compatible servers publish their S3 events to (VersityGW's
	// --event-nats-topic).
	Subject string
	// Stream is the JetStream stream that keeps the subject's messages until they are
	// acknowledged; it is created (file storage, work-queue retention) when missing.
	// "" means "trailhound-" and the subject with dots and wildcards replaced.
	Stream string
	// Durable names the consumer, whose position the server keeps across restarts; ""
	// means "trailhound".
	Durable string
	// Wait is how long one receive waits for a message; 0 means 5 s.
	Wait time.Duration
	// AckWait is how long a delivered message may stay unacknowledged before it is
	// delivered again; 0 means 5 minutes. It must cover a batch's read, evaluation and commit.
	AckWait time.Duration
}

// NATS receives messages from a subject through a JetStream durable consumer: a plain NATS
// publish is delivered at most once, to whoever listens at that moment, so a service that
// restarts would miss what was published meanwhile; the stream keeps every message until
// the consumer acknowledges it after the durable commit. It is safe for concurrent use.
type NATS struct {
	cons    jetstream.Consumer
	name    string
	wait    time.Duration
	ackWait time.Duration
}

// NewNATS attaches to (creating when missing) the stream and durable consumer of opts.
func NewNATS(ctx context.Context, nc *nats.Conn, opts NATSOptions) (*NATS, error) {
	if opts.Subject == "" {
		return nil, errors.New("NATS: no subject to read")
	}
	if opts.Stream == "" {
		b := []byte("trailhound-" + opts.Subject)
		for i, c := range b {
			if c == '.' || c == '*' || c == '>' || c == ' ' {
				b[i] = '_'
			}
		}
		opts.Stream = string(b)
	}
	if opts.Durable == "" {
		opts.Durable = "trailhound"
	}
	if opts.Wait <= 0 {
		opts.Wait = 5 * time.Second
	}
	if opts.AckWait <= 0 {
		opts.AckWait = 5 * time.Minute
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("NATS JetStream: %w", err)
	}
	st, err := js.Stream(ctx, opts.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: opts.Stream, Subjects: []string{opts.Subject},
			Storage: jetstream.FileStorage, Retention: jetstream.WorkQueuePolicy})
	}
	if err != nil {
		return nil, fmt.Errorf("NATS stream %s for %s: %w", opts.Stream, opts.Subject, err)
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: opts.Durable, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: opts.AckWait, FilterSubject: opts.Subject})
	if err != nil {
		return nil, fmt.Errorf("NATS consumer %s on %s: %w", opts.Durable, opts.Stream, err)
	}
	return &NATS{cons: cons, name: "nats:" + opts.Stream + "/" + opts.Durable, wait: opts.Wait, ackWait: opts.AckWait}, nil
}

// Name says which stream and consumer the source reads.
func (n *NATS) Name() string { return n.name }

// Receive waits up to the wait time for messages, and returns at most max.
func (n *NATS) Receive(ctx context.Context, max int) ([]Message, error) {
	wctx, cancel := context.WithTimeout(ctx, n.wait)
	defer cancel()
	batch, err := n.cons.Fetch(max, jetstream.FetchContext(wctx))
	if err != nil {
		return nil, fmt.Errorf("receiving from %s: %w", n.name, err)
	}
	var out []Message
	for m := range batch.Messages() {
		msg := Message{Body: m.Data(), ack: m}
		if md, err := m.Metadata(); err == nil {
			msg.ID = strconv.FormatUint(md.Sequence.Stream, 10)
			msg.Sent = md.Timestamp.UTC()
			msg.Deliveries = int(md.NumDelivered)
		}
		out = append(out, msg)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
		return out, fmt.Errorf("receiving from %s: %w", n.name, err)
	}
	return out, ctx.Err()
}

// Hold is how long a delivered or extended message may stay unacknowledged (AckWait).
func (n *NATS) Hold() time.Duration { return n.ackWait }

// Extend tells the server that messages this source received are still being worked on
// (an in-progress acknowledgement), which restarts their AckWait.
func (n *NATS) Extend(ctx context.Context, msgs []Message) error {
	var errs []error
	for _, m := range msgs {
		if jm, ok := m.ack.(jetstream.Msg); ok {
			if err := jm.InProgress(); err != nil {
				errs = append(errs, fmt.Errorf("message %s: %w", m.ID, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("extending the ack wait of messages of %s: %w", n.name, err)
	}
	return nil
}

// Ack acknowledges messages this source received, waiting for the server to confirm each:
// an acknowledgement lost on the way would otherwise redeliver silently.
func (n *NATS) Ack(ctx context.Context, msgs []Message) error {
	var errs []error
	for _, m := range msgs {
		jm, ok := m.ack.(jetstream.Msg)
		if !ok {
			continue
		}
		if err := jm.DoubleAck(ctx); err != nil {
			errs = append(errs, fmt.Errorf("message %s: %w", m.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("acknowledging on %s: %w", n.name, err)
	}
	return nil
}
