package source

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Message is one message of a queue (SQS) or stream (NATS JetStream): an S3 event
// notification, or a CloudTrail event from EventBridge. It is acknowledged (deleted from the
// queue, acked on the stream) by the source that received it, only once what it carries is
// durably committed: until then, a process that dies leaves it to be delivered again.
type Message struct {
	// ID identifies the message in its queue (the SQS message id, the stream sequence).
	ID string
	// Body is the message's content.
	Body []byte
	// Sent is when the queue or stream received it (zero when not known).
	Sent time.Time
	// Deliveries counts the times it was delivered, this one included (0 when not known).
	Deliveries int

	ack any // the receipt handle (SQS) or the message (NATS), for the source's Ack
}

// SQSClient is the part of the SQS API trailhound calls (*sqs.Client has it).
type SQSClient interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// SQSOptions configures an SQS source.
type SQSOptions struct {
	// Wait is the long-polling time of one receive (at most 20 s); 0 means 10 s.
	Wait time.Duration
	// Visibility is how long a received message stays hidden from other receivers before
	// it is delivered again unless deleted; 0 keeps the queue's own setting. It must cover
	// a batch's read, evaluation and commit.
	Visibility time.Duration
}

// SQS receives messages from an Amazon SQS queue. It is safe for concurrent use.
type SQS struct {
	c    SQSClient
	url  string
	opts SQSOptions
}

// NewSQS returns the source of the queue at queueURL.
func NewSQS(c SQSClient, queueURL string, opts SQSOptions) *SQS {
	if opts.Wait <= 0 {
		opts.Wait = 10 * time.Second
	}
	opts.Wait = min(opts.Wait, 20*time.Second)
	return &SQS{c: c, url: queueURL, opts: opts}
}

// Name is the queue's URL.
func (q *SQS) Name() string { return q.url }

// Receive waits up to the long-polling time for messages, and returns at most n (at most
// 10, the SQS limit).
func (q *SQS) Receive(ctx context.Context, n int) ([]Message, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.url),
		MaxNumberOfMessages:         int32(min(max(n, 1), 10)),
		WaitTimeSeconds:             int32(q.opts.Wait / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp, types.MessageSystemAttributeNameApproximateReceiveCount},
	}
	if q.opts.Visibility > 0 {
		in.VisibilityTimeout = int32(q.opts.Visibility / time.Second)
	}
	out, err := q.c.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("receiving from %s: %w", q.url, err)
	}
	msgs := make([]Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msg := Message{ID: aws.ToString(m.MessageId), Body: []byte(aws.ToString(m.Body)), ack: aws.ToString(m.ReceiptHandle)}
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			msg.Sent = time.UnixMilli(ms).UTC()
		}
		msg.Deliveries, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// Hold is how long a received or extended message stays hidden: Visibility, or 30 s (the
// SQS default) when the queue's own setting is kept.
func (q *SQS) Hold() time.Duration {
	if q.opts.Visibility > 0 {
		return q.opts.Visibility
	}
	return 30 * time.Second
}

// Extend hides messages this source received for Hold again from now
// (ChangeMessageVisibilityBatch, ten at a time), so that a batch that takes longer than the
// visibility timeout is not delivered to another receiver meanwhile.
func (q *SQS) Extend(ctx context.Context, msgs []Message) error {
	secs := int32(max(q.Hold()/time.Second, 1))
	err := inTens(msgs, func(chunk []Message) ([]types.BatchResultErrorEntry, error) {
		in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(q.url)}
		for j, m := range chunk {
			h, _ := m.ack.(string)
			in.Entries = append(in.Entries, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(j)),
				ReceiptHandle: aws.String(h), VisibilityTimeout: secs})
		}
		out, err := q.c.ChangeMessageVisibilityBatch(ctx, in)
		if err != nil {
			return nil, err
		}
		return out.Failed, nil
	})
	if err != nil {
		return fmt.Errorf("extending the visibility of messages of %s: %w", q.url, err)
	}
	return nil
}

// Ack deletes messages this source received, ten at a time. A message that could not be
// deleted is delivered again later (and found already committed): the error names how many.
func (q *SQS) Ack(ctx context.Context, msgs []Message) error {
	err := inTens(msgs, func(chunk []Message) ([]types.BatchResultErrorEntry, error) {
		in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.url)}
		for j, m := range chunk {
			h, _ := m.ack.(string)
			in.Entries = append(in.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), ReceiptHandle: aws.String(h)})
		}
		out, err := q.c.DeleteMessageBatch(ctx, in)
		if err != nil {
			return nil, err
		}
		return out.Failed, nil
	})
	if err != nil {
		return fmt.Errorf("deleting messages from %s: %w", q.url, err)
	}
	return nil
}

// inTens calls do with the messages ten at a time (the SQS batch limit), entry ids being
// the positions in the chunk, and joins the errors of the calls and of the failed entries.
func inTens(msgs []Message, do func(chunk []Message) ([]types.BatchResultErrorEntry, error)) error {
	var errs []error
	for i := 0; i < len(msgs); i += 10 {
		chunk := msgs[i:min(i+10, len(msgs))]
		failed, err := do(chunk)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range failed {
			errs = append(errs, fmt.Errorf("message %s: %s: %s", chunk[atoiOr(aws.ToString(f.Id))].ID, aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return errors.Join(errs...)
}

func atoiOr(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
