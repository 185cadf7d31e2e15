package serve

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/sink"
)

// stopLogging is a CloudTrail StopLogging call by a leaked key at t: one event that a
// built-in rule (CloudTrail logging impaired) matches on its own.
func stopLogging(id string, t time.Time) []byte {
	return fmt.Appendf(nil, `{"eventVersion":"1.10","userIdentity":{"type":"IAMUser","principalId":"AIDADTACBRXERTXVRSEZQ","arn":"arn:aws:iam::111122223333:user/ses-mailer","accountId":"111122223333","accessKeyId":"AKIAVX3N7QK2WD5JHLPE","userName":"ses-mailer"},"eventTime":"%s","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"140.213.52.17","userAgent":"Boto3/1.35.66 md/Botocore#1.35.66","requestParameters":{"name":"arn:aws:cloudtrail:us-east-1:111122223333:trail/org"},"responseElements":null,"requestID":"%s","eventID":"%s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}`,
		t.UTC().Format(time.RFC3339), id, id)
}

// listingService makes (without running it) a service of cfg, with a store, a trail to
// list and a file sink of its own, that tests drive batch by batch (process, advanceQuiet).
func listingService(t *testing.T, cfg Config) *Service {
	t.Helper()
	cfg.DB = filepath.Join(t.TempDir(), "db")
	cfg.Trails = []TrailConfig{{URL: "s3://trail/AWSLogs/"}}
	cfg.Sinks = []sink.Config{{Type: "jsonl", Path: filepath.Join(t.TempDir(), "signals.jsonl")}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, Options{Rules: builtin(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// opened reports whether revs open a signal listing the event.
func opened(revs []signal.Signal, eventID string) bool {
	for _, r := range revs {
		if r.Status == signal.StatusOpen && slices.Contains(r.EventIDs, eventID) {
			return true
		}
	}
	return false
}

// TestQuietAdvance: the last event of a quiet trail is evaluated once the clock has run for
// the lateness past it (without it, its signal waits for whatever event comes next), not
// before; and an event delivered within the lateness after such an advance is still
// evaluated in order, while one delivered later than the lateness is late. The clock is
// passed in, so the test does not depend on how fast the machine is. Signals open as the
// watermark passes their first event here (open_early off): the watermark is under test.
func TestQuietAdvance(t *testing.T) {
	const lateness = 15 * time.Minute
	for _, tc := range []struct {
		name  string
		quiet time.Duration // QuietAdvance
		// opensAfter is the wall time after the batch at which the signal must open (0:
		// never, within the 2 hours tried).
		opensAfter time.Duration
	}{
		{"after a minute of quiet", time.Minute, lateness},
		{"after ten minutes of quiet", 10 * time.Minute, lateness},
		{"disabled", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, q, early := Duration(lateness), Duration(tc.quiet), false
			s := listingService(t, Config{Lateness: &l, QuietAdvance: &q, OpenEarly: &early})
			ctx := context.Background()
			at := time.Date(2026, 11, 20, 13, 47, 5, 0, time.UTC)
			if err := s.process(ctx, []item{{event: stopLogging("74bcd74f-0687-4584-a7d7-9b6189308f4e", at), name: "stop"}}); err != nil {
				t.Fatal(err)
			}
			since := s.quietSince
			var openedAt time.Duration
			for d := time.Duration(0); d <= 2*time.Hour; d += 30 * time.Second {
				revs := s.advanceQuiet(since.Add(d))
				if opened(revs, "74bcd74f-0687-4584-a7d7-9b6189308f4e") {
					openedAt = d
					break
				}
			}
			if tc.opensAfter == 0 {
				if openedAt != 0 {
					t.Fatalf("the signal opened %s after the batch with quiet_advance 0", openedAt)
				}
				return
			}
			// The hit opens once event time, advanced by the wall time since the batch, puts the
			// watermark past it: the lateness after the batch (to the 30 s step), not earlier.
			if openedAt < max(tc.opensAfter, tc.quiet) || openedAt > max(tc.opensAfter, tc.quiet)+30*time.Second {
				t.Fatalf("the signal opened %s after the batch, want about %s", openedAt, max(tc.opensAfter, tc.quiet))
			}
			// An event happening right after the last one read, delivered now with a delay of
			// just under the lateness: in order. One delivered with twice the lateness: late.
			now := at.Add(openedAt)
			before := s.live.Stats().State.Late
			if err := s.process(ctx, []item{{event: stopLogging("0d9f3f7e-1a6b-4c53-9d7e-4f1c2b7a9e01", now.Add(-lateness+time.Second)), name: "in-time"}}); err != nil {
				t.Fatal(err)
			}
			if late := s.live.Stats().State.Late - before; late != 0 {
				t.Errorf("an event delivered within the lateness after a quiet advance was late (%d)", late)
			}
			if err := s.process(ctx, []item{{event: stopLogging("5be0c1d2-8e3f-4a47-b6c5-2d9e8f7a6b03", now.Add(-2*lateness)), name: "too-late"}}); err != nil {
				t.Fatal(err)
			}
			if late := s.live.Stats().State.Late - before; late == 0 {
				t.Errorf("an event delivered twice the lateness late was not late")
			}
			if n := testutil.ToFloat64(s.m.lateHits); n == 0 {
				t.Errorf("the late match is not counted in trailhound_matches_late_total")
			}
		})
	}
}

// TestOpenEarly: with the defaults (lateness 15m, open_early), a rule's signal is committed
// open with the batch that reads its event, 15 minutes of event time before the watermark
// passes it; with open_early off it is not.
func TestOpenEarly(t *testing.T) {
	for _, early := range []bool{true, false} {
		t.Run(fmt.Sprint("open_early=", early), func(t *testing.T) {
			s := listingService(t, Config{OpenEarly: &early})
			at := time.Date(2026, 11, 20, 13, 47, 5, 0, time.UTC)
			const id = "74bcd74f-0687-4584-a7d7-9b6189308f4e"
			if err := s.process(context.Background(), []item{{event: stopLogging(id, at), name: "stop"}}); err != nil {
				t.Fatal(err)
			}
			sigs, err := s.st.Signals()
			if err != nil {
				t.Fatal(err)
			}
			got := opened(sigs, id)
			if got != early {
				t.Fatalf("after the batch: signal committed open %v, want %v (%d signals stored)", got, early, len(sigs))
			}
			if wm := s.live.Watermark(); !wm.Before(at) {
				t.Fatalf("the watermark %s passed the event: the test does not test opening early", wm)
			}
		})
	}
}
