package source

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// natsServer starts an embedded NATS server with JetStream in a temporary folder.
func natsServer(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// natsConn connects to an embedded NATS server of its own.
func natsConn(t *testing.T) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(natsServer(t).ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestNATS: what is published to the subject is kept by the stream until acknowledged,
// including what was published while no consumer ran; a message not acknowledged is
// delivered again after AckWait; acknowledged ones are not.
func TestNATS(t *testing.T) {
	nc := natsConn(t)
	ctx := context.Background()
	opts := NATSOptions{Subject: "s3.events", Wait: 300 * time.Millisecond, AckWait: 500 * time.Millisecond}
	src, err := NewNATS(ctx, nc, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := nc.Publish("s3.events", []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	nc.Flush()
	msgs, err := src.Receive(ctx, 3)
	if err != nil || len(msgs) != 3 || string(msgs[0].Body) != `{"n":0}` || msgs[0].Deliveries != 1 {
		t.Fatalf("Receive = %+v, %v", msgs, err)
	}
	if err := src.Ack(ctx, msgs[:2]); err != nil {
		t.Fatal(err)
	}
	// A new source (a restart) gets the unacknowledged third after AckWait, then the rest.
	src2, err := NewNATS(ctx, nc, opts)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	deadline := time.Now().Add(5 * time.Second)
	for len(bodies) < 3 && time.Now().Before(deadline) {
		ms, err := src2.Receive(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			bodies = append(bodies, string(m.Body))
		}
		if err := src2.Ack(ctx, ms); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{`{"n":2}`: true, `{"n":3}`: true, `{"n":4}`: true}
	if len(bodies) != 3 {
		t.Fatalf("after the restart: %v, want the three not acknowledged", bodies)
	}
	for _, b := range bodies {
		if !want[b] {
			t.Errorf("delivered %s again after it was acknowledged", b)
		}
	}
	if ms, _ := src2.Receive(ctx, 10); len(ms) != 0 {
		t.Errorf("messages left after every ack: %d", len(ms))
	}
}

// TestNATSExtend: a message extended (in progress) more often than AckWait is not
// delivered again while it is held, and once no longer extended it is.
func TestNATSExtend(t *testing.T) {
	nc := natsConn(t)
	ctx := context.Background()
	src, err := NewNATS(ctx, nc, NATSOptions{Subject: "s3.slow", Wait: 200 * time.Millisecond, AckWait: 600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if src.Hold() != 600*time.Millisecond {
		t.Fatalf("Hold = %s", src.Hold())
	}
	nc.Publish("s3.slow", []byte(`{"n":1}`))
	nc.Flush()
	msgs, err := src.Receive(ctx, 1)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %v, %v", msgs, err)
	}
	// Held for five AckWaits, extended every third of one: never delivered again.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		if err := src.Extend(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		if again, _ := src.Receive(ctx, 1); len(again) != 0 {
			t.Fatalf("delivered again while extended: %s", again[0].Body)
		}
	}
	// Not extended any more: it comes back.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if again, _ := src.Receive(ctx, 1); len(again) == 1 {
			if again[0].Deliveries != 2 {
				t.Errorf("redelivered with Deliveries %d, want 2", again[0].Deliveries)
			}
			return
		}
	}
	t.Fatal("the message did not come back once no longer extended")
}
