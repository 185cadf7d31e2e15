package source

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailhound/trailhound/internal/sqsfake"
)

func newSQSClient(url string) *sqs.Client {
	return sqs.New(sqs.Options{BaseEndpoint: aws.String(url), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxBackoff = 20 * time.Millisecond
			o.RateLimiter = ratelimit.None
		})})
}

// TestSQS: messages are received through the real SDK client, stay in the queue until
// acknowledged, come back after the visibility timeout when not acknowledged, and are gone
// for good once deleted; more than ten are deleted in batches.
func TestSQS(t *testing.T) {
	fake := sqsfake.New()
	defer fake.Close()
	url := fake.CreateQueue("trail", time.Second)
	for i := range 13 {
		fake.Send("trail", fmt.Sprintf(`{"n":%d}`, i))
	}
	q := NewSQS(newSQSClient(fake.URL), url, SQSOptions{Wait: time.Second, Visibility: time.Second})
	ctx := context.Background()
	var got []Message
	for len(got) < 13 {
		msgs, err := q.Receive(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			t.Fatalf("received %d of 13", len(got))
		}
		got = append(got, msgs...)
	}
	if got[0].Sent.IsZero() || got[0].Deliveries != 1 || string(got[0].Body) != `{"n":0}` {
		t.Errorf("first message %+v", got[0])
	}
	// Not acknowledged: delivered again after the visibility timeout.
	again, err := q.Receive(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) == 0 || again[0].Deliveries != 2 {
		t.Fatalf("after the visibility timeout: %d messages (%+v), want them delivered again", len(again), again)
	}
	if all, _ := fake.Depth("trail"); all != 13 {
		t.Fatalf("queue holds %d messages before any ack, want 13", all)
	}
	// Ack the redelivered ones, then receive and ack the rest.
	if err := q.Ack(ctx, again); err != nil {
		t.Fatal(err)
	}
	// A receipt handle of an earlier delivery no longer deletes (SQS's rule): reported.
	if err := q.Ack(ctx, got[:1]); err == nil {
		t.Error("Ack with a stale receipt handle reported no error")
	}
	for {
		msgs, err := q.Receive(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		if err := q.Ack(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	if all, _ := fake.Depth("trail"); all != 0 {
		t.Errorf("queue holds %d messages after every ack", all)
	}
	// Errors reach the caller; throttling is retried by the client.
	fake.Fail(func(action string) (int, string) { return http.StatusBadRequest, "AccessDenied" })
	if _, err := q.Receive(ctx, 1); err == nil {
		t.Error("Receive on a denied queue reported no error")
	}
	fake.Fail(nil)
}
