package signal

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/trailhound/trailhound/internal/event"
)

var testRule = RuleInfo{
	ID:    "aws-iam-policy-attached",
	Title: "IAM policy attached to a user",
	Level: LevelHigh,
	Tags:  []string{"attack.persistence", "attack.t1098", "attack.privilege_escalation", "attack.t1078.004"},
}

var t0 = time.Date(2024, 3, 5, 14, 0, 0, 0, time.UTC)

// header returns an event of alice in account 111122223333 at t0 + minutes.
func header(id string, minutes int) event.Header {
	return event.Header{
		EventID:     id,
		EventTime:   t0.Add(time.Duration(minutes) * time.Minute),
		EventSource: "iam.amazonaws.com",
		EventName:   "AttachUserPolicy",
		AccountID:   "111122223333",
		Region:      "us-east-1",
		SourceIP:    "203.0.113.7",
		UserAgent:   "aws-cli/2.15.0",
		AccessKeyID: "AKIAEXAMPLE",
		Actor:       "arn:aws:iam::111122223333:user/alice",
	}
}

func accumulate(rule RuleInfo, limit int, hs []event.Header) Signal {
	a := NewAccumulator(rule, limit)
	for _, h := range hs {
		a.Add(&h)
	}
	return a.Signal()
}

func variedHeaders(n int) []event.Header {
	var hs []event.Header
	for i := range n {
		h := header(fmt.Sprintf("ev-%03d", i), (i*7)%13)
		h.Region = []string{"us-east-1", "eu-west-1", "us-west-2"}[i%3]
		h.SourceIP = fmt.Sprintf("198.51.100.%d", i%5)
		if i%4 == 0 {
			h.EventName, h.ErrorCode = "CreateUser", "AccessDenied"
		}
		if i%6 == 5 {
			h.Actor = "arn:aws:iam::111122223333:user/bob"
		}
		hs = append(hs, h)
	}
	return hs
}

func TestSignalIndependentOfOrder(t *testing.T) {
	hs := variedHeaders(20)
	// Duplicates of some events, as CloudTrail sometimes delivers.
	hs = append(hs, hs[3], hs[17], hs[3])
	for _, limit := range []int{0, 1, 5, 100} {
		want := accumulate(testRule, limit, hs)
		r := rand.New(rand.NewPCG(1, uint64(limit)))
		for range 20 {
			shuffled := append([]event.Header(nil), hs...)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got := accumulate(testRule, limit, shuffled)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("limit %d: signal depends on order (-first +shuffled):\n%s", limit, diff)
			}
		}
	}
}

func TestSignalID(t *testing.T) {
	hs := variedHeaders(10)
	base := accumulate(testRule, 0, hs)
	if !regexp.MustCompile(`^[0-9a-f]{20}$`).MatchString(base.ID) {
		t.Fatalf("id %q is not %d hex digits", base.ID, IDLength)
	}
	otherRule := testRule
	otherRule.ID = "aws-other"
	retitled := testRule
	retitled.Title, retitled.Level, retitled.Tags = "Renamed", LevelLow, nil
	moved := append([]event.Header(nil), hs...)
	for i := range moved {
		moved[i].EventTime = moved[i].EventTime.Add(time.Hour)
		moved[i].Region = "ap-south-1"
	}
	tests := []struct {
		name string
		got  Signal
		same bool
	}{
		{"same evidence, capped", accumulate(testRule, 3, hs), true},
		{"same evidence, duplicates", accumulate(testRule, 0, append(hs, hs...)), true},
		{"same ids, other details", accumulate(testRule, 0, moved), true},
		{"same rule id, other metadata", accumulate(retitled, 0, hs), true},
		{"one event fewer", accumulate(testRule, 0, hs[1:]), false},
		{"one event more", accumulate(testRule, 0, append(hs, header("ev-extra", 0))), false},
		{"other rule", accumulate(otherRule, 0, hs), false},
		{"single event", FromEvent(testRule, hs[0]), false},
		{"no events", accumulate(testRule, 0, nil), false},
	}
	for _, tt := range tests {
		if same := tt.got.ID == base.ID; same != tt.same {
			t.Errorf("%s: id %s, base %s: same = %v, want %v", tt.name, tt.got.ID, base.ID, same, tt.same)
		}
	}
	// Two evidence sets whose ids are swapped between rule and event must differ.
	a := FromEvent(RuleInfo{ID: "r1"}, event.Header{EventID: "e1"})
	b := FromEvent(RuleInfo{ID: "r1e1"}, event.Header{EventID: ""})
	if a.ID == b.ID {
		t.Errorf("ids collide: %s", a.ID)
	}
	// A single event's id does not change between calls or accumulators.
	if x, y := FromEvent(testRule, hs[0]), FromEvent(testRule, hs[0]); x.ID != y.ID {
		t.Errorf("FromEvent ids differ: %s, %s", x.ID, y.ID)
	}
}

// TestSignalIDGolden pins the id scheme (values computed independently, in Python, as
// sha256("trailhound signal v1\x00" + rule id + "\x00" + sum of sha256(event id) as 256-bit
// little-endian integers)): changing it changes the id of every stored signal.
func TestSignalIDGolden(t *testing.T) {
	tests := []struct {
		rule string
		ids  []string
		want string
	}{
		{"rule-1", []string{"11111111-2222-3333-4444-555555555555"}, "8d580d8fcba60f5aaa56"},
		{"r", []string{"e1", "e2"}, "95e2bed715e27c70d955"},
		{"r", []string{"e2", "e1"}, "95e2bed715e27c70d955"},
	}
	for _, tt := range tests {
		a := NewAccumulator(RuleInfo{ID: tt.rule}, 0)
		for _, id := range tt.ids {
			a.Add(&event.Header{EventID: id})
		}
		if got := a.Signal().ID; got != tt.want {
			t.Errorf("id of %s %q = %s, want %s (change the scheme only on purpose, with a new version tag)", tt.rule, tt.ids, got, tt.want)
		}
	}
}

func TestAccumulator(t *testing.T) {
	a := NewAccumulator(testRule, 3)
	adds := []struct {
		h    event.Header
		want bool
	}{
		{header("e5", 50), true},
		{header("e1", 10), true},
		{header("e4", 40), true},
		{header("e1", 10), false}, // duplicate
		{header("e2", 20), true},
		{header("e3", 30), true},
		{header("e5", 50), false},
	}
	adds[2].h.Region, adds[2].h.SourceIP = "eu-west-1", "198.51.100.9"
	adds[4].h.ErrorCode = "AccessDenied"
	for i, add := range adds {
		if got := a.Add(&add.h); got != add.want {
			t.Errorf("Add #%d (%s) = %v, want %v", i, add.h.EventID, got, add.want)
		}
	}
	if a.Len() != 5 {
		t.Errorf("Len() = %d, want 5", a.Len())
	}
	got := a.Signal()
	want := Signal{
		ID:              got.ID,
		RuleID:          testRule.ID,
		Title:           testRule.Title,
		Level:           LevelHigh,
		Techniques:      []string{"T1078.004", "T1098"},
		Tactics:         []string{"persistence", "privilege-escalation"},
		FirstSeen:       t0.Add(10 * time.Minute),
		LastSeen:        t0.Add(50 * time.Minute),
		AccountID:       "111122223333",
		Regions:         []string{"eu-west-1", "us-east-1"},
		Actor:           "arn:aws:iam::111122223333:user/alice",
		AccessKeyID:     "AKIAEXAMPLE",
		SourceIPs:       []string{"198.51.100.9", "203.0.113.7"},
		EventIDs:        []string{"e1", "e2", "e3"},
		EventCount:      5,
		DroppedEventIDs: 2,
		Summary: "user/alice made 5 calls (1 failed with AccessDenied) to iam:AttachUserPolicy in account " +
			"111122223333 (eu-west-1, us-east-1) from 198.51.100.9 and 1 other source IP between " +
			"2024-03-05T14:10:00Z and 2024-03-05T14:50:00Z (40m) using \"aws-cli/2.15.0\".",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Signal() (-want +got):\n%s", diff)
	}

	// The signal is a snapshot: adding more does not change it, and the accumulator goes on.
	got.EventIDs[0] = "mutated"
	a.Add(ptr(header("e0", 0)))
	next := a.Signal()
	if diff := cmp.Diff([]string{"e0", "e1", "e2"}, next.EventIDs); diff != "" {
		t.Errorf("EventIDs after adding an earlier event (-want +got):\n%s", diff)
	}
	if next.EventCount != 6 || next.DroppedEventIDs != 3 || !next.FirstSeen.Equal(t0) {
		t.Errorf("after Add: count %d dropped %d first %v, want 6, 3, %v", next.EventCount, next.DroppedEventIDs, next.FirstSeen, t0)
	}
}

func TestAccumulatorEdgeCases(t *testing.T) {
	t.Run("events without ids or times", func(t *testing.T) {
		a := NewAccumulator(testRule, 0)
		h := event.Header{Pos: event.Position{File: "a.json", Record: 1}}
		if !a.Add(&h) || a.Add(&h) {
			t.Errorf("an event without id is identified by its position")
		}
		h.Pos.Record = 2
		if !a.Add(&h) {
			t.Errorf("another position is another event")
		}
		s := a.Signal()
		if s.EventCount != 2 || len(s.EventIDs) != 0 || s.DroppedEventIDs != 0 {
			t.Errorf("count %d ids %q dropped %d, want 2, none, 0", s.EventCount, s.EventIDs, s.DroppedEventIDs)
		}
		if !s.FirstSeen.IsZero() || !s.LastSeen.IsZero() {
			t.Errorf("times %v %v, want zero", s.FirstSeen, s.LastSeen)
		}
		if s.Regions == nil || s.SourceIPs == nil || s.EventIDs == nil {
			t.Errorf("nil lists in %+v", s)
		}
	})
	t.Run("earliest actor wins", func(t *testing.T) {
		late, early := header("b", 10), header("a", 5)
		late.Actor, late.AccountID = "arn:aws:iam::111122223333:user/zed", "999988887777"
		for _, order := range [][]event.Header{{late, early}, {early, late}} {
			s := accumulate(testRule, 0, order)
			if s.Actor != early.Actor || s.AccountID != early.AccountID {
				t.Errorf("actor %q account %q, want %q %q", s.Actor, s.AccountID, early.Actor, early.AccountID)
			}
		}
	})
	t.Run("capped source ips keep the smallest", func(t *testing.T) {
		var hs []event.Header
		for i := range 9 {
			h := header(fmt.Sprint(i), i)
			h.SourceIP = fmt.Sprintf("10.0.0.%d", 9-i)
			hs = append(hs, h)
		}
		s := accumulate(testRule, 2, hs)
		if diff := cmp.Diff([]string{"10.0.0.1", "10.0.0.2"}, s.SourceIPs); diff != "" {
			t.Errorf("SourceIPs (-want +got):\n%s", diff)
		}
	})
}

func BenchmarkAccumulatorAdd(b *testing.B) {
	hs := variedHeaders(1000)
	b.ReportAllocs()
	for b.Loop() {
		a := NewAccumulator(testRule, 100)
		for _, h := range hs {
			a.Add(&h)
		}
	}
}

func ptr[T any](v T) *T { return &v }
