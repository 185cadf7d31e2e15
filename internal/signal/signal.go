// Package signal defines what trailhound emits when a rule matches: the Signal (rule, ATT&CK
// mapping, the evidence's who, where and when, and a one-sentence summary for a responder),
// its stable id, its severity Level, the Accumulator that builds one signal from the events of
// a match, and the JSON Lines and terminal-table formats signals are written in.
//
// The package knows rules only through RuleInfo, so it does not depend on the Sigma parser.
// Strings in a signal come from CloudTrail records and may be chosen by an attacker (user
// names, session names, user agents); every writer here escapes control characters, bidi
// controls and terminal escape sequences in them.
package signal

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/safetext"
)

// RuleInfo is the metadata of the rule that produced a signal.
type RuleInfo struct {
	ID    string
	Title string
	Level Level
	// Tags are the rule's Sigma tags; ATT&CK ones are read with ParseAttackTags.
	Tags []string
}

// Signal is one detection: a rule and the evidence (CloudTrail events) that matched it.
//
// Its JSON form has exactly the keys below, in this order (superseded_by only when set); lists are [] when empty, never
// null; times are RFC 3339 in UTC, or null when no event had a valid time. Fields tagged "-"
// are not part of the JSON form.
type Signal struct {
	// ID identifies the signal through its revisions: for a signal a correlation or the
	// grouping of a rule's matches builds, LifecycleID (the correlation, its group and its
	// first event); for a signal of one event without a time, the Accumulator's id of its
	// evidence.
	ID     string `json:"id"`
	RuleID string `json:"rule_id"`
	Title  string `json:"title"`
	Level  Level  `json:"level"`
	// Techniques are ATT&CK technique ids ("T1078.004"), sorted.
	Techniques []string `json:"techniques"`
	// Tactics are ATT&CK tactic names ("privilege-escalation") in kill-chain order.
	Tactics   []string  `json:"tactics"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	AccountID string    `json:"account_id"`
	// Regions are the AWS regions of the events, sorted.
	Regions []string `json:"regions"`
	// Actor is the normalised principal (see event.Actor).
	Actor       string `json:"actor"`
	AccessKeyID string `json:"access_key_id"`
	// SourceIPs are the events' sourceIPAddress values (IPs or AWS service names), sorted.
	SourceIPs []string `json:"source_ips"`
	// EventIDs are the IDs of the evidence, earliest event first, at most the cap the
	// Accumulator was given.
	EventIDs []string `json:"event_ids"`
	// EventCount is the number of distinct events in the evidence, including those whose IDs
	// were dropped from EventIDs.
	EventCount int `json:"event_count"`
	// Summary is one sentence for a responder: who called which API, where, from where, and
	// whether it failed; for several events, how many, which APIs and over what period.
	Summary string `json:"summary"`

	// Status is where the signal is in its lifecycle: open when its first evidence is
	// evaluated, updated when later evidence or a correlation firing adds to it, closed when
	// nothing more can join it. "" is written as closed: what a batch run prints.
	Status Status `json:"status"`
	// Revision counts the emissions of the signal: 1 when it opens, one more at each update
	// and at its close. Consumers dedupe on (ID, Revision): the same pair always carries the
	// same content. 0 is written as 1.
	Revision int `json:"revision"`
	// SupersededBy is set only on the closing revision of a signal that a live service
	// opened early, on the arrival of its first event, when evaluating the events in
	// event-time order put that event into another signal (an earlier event of the same
	// actor arrived later): the id of that signal, which carries the evidence on. The JSON
	// form has the key only then; a store does not keep such a signal.
	SupersededBy string `json:"superseded_by,omitempty"`

	// DroppedEventIDs is the number of event IDs left out of EventIDs because of the cap.
	DroppedEventIDs int `json:"-"`
}

// Status is a signal's place in its lifecycle.
type Status string

// The statuses of a signal.
const (
	StatusOpen    Status = "open"
	StatusUpdated Status = "updated"
	StatusClosed  Status = "closed"
)

// ParseStatus reads a status as written in JSON.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusOpen, StatusUpdated, StatusClosed:
		return st, nil
	}
	return "", fmt.Errorf("unknown signal status %q (want open, updated or closed)", s)
}

// Lifecycle returns the status and revision as written: "" is closed, 0 is 1.
func (s Signal) Lifecycle() (Status, int) {
	st, rev := s.Status, s.Revision
	if st == "" {
		st = StatusClosed
	}
	return st, max(rev, 1)
}

// FromEvent returns the signal of a rule that matched a single event.
func FromEvent(rule RuleInfo, h event.Header) Signal {
	a := NewAccumulator(rule, 0)
	a.Add(&h)
	return a.Signal()
}

// Latest keeps the last revision of each signal of revs, read in order, at the place of
// its first appearance: a later revision (same id) replaces an earlier one.
func Latest(revs ...[]Signal) []Signal {
	at := map[string]int{}
	var out []Signal
	for _, c := range revs {
		for _, s := range c {
			if i, ok := at[s.ID]; ok {
				out[i] = s
				continue
			}
			at[s.ID] = len(out)
			out = append(out, s)
		}
	}
	return out
}

// Sort orders signals most severe first, then by first_seen (earliest first), rule_id and id,
// so that the order does not depend on the order signals were produced in.
func Sort(signals []Signal) {
	slices.SortStableFunc(signals, compare)
}

func compare(a, b Signal) int {
	if c := cmp.Compare(b.Level, a.Level); c != 0 {
		return c
	}
	if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
		return c
	}
	if c := cmp.Compare(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// wireSignal is the JSON form of a Signal; its field order is the key order.
type wireSignal struct {
	ID           string   `json:"id"`
	RuleID       string   `json:"rule_id"`
	Title        string   `json:"title"`
	Level        Level    `json:"level"`
	Techniques   []string `json:"techniques"`
	Tactics      []string `json:"tactics"`
	FirstSeen    *string  `json:"first_seen"`
	LastSeen     *string  `json:"last_seen"`
	AccountID    string   `json:"account_id"`
	Regions      []string `json:"regions"`
	Actor        string   `json:"actor"`
	AccessKeyID  string   `json:"access_key_id"`
	SourceIPs    []string `json:"source_ips"`
	EventIDs     []string `json:"event_ids"`
	EventCount   int      `json:"event_count"`
	Summary      string   `json:"summary"`
	Status       Status   `json:"status"`
	Revision     int      `json:"revision"`
	SupersededBy string   `json:"superseded_by,omitempty"`
}

// MarshalJSON encodes the signal with exactly the documented keys, in order. Besides the
// escaping encoding/json does, DEL, C1 controls and Unicode format characters (bidi
// overrides, zero-width characters) are written as \u escapes, so that the output is safe to
// print on a terminal.
func (s Signal) MarshalJSON() ([]byte, error) {
	nonNil := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	rfc3339 := func(t time.Time) *string {
		if t.IsZero() {
			return nil
		}
		v := t.UTC().Format(time.RFC3339Nano)
		return &v
	}
	w := wireSignal{
		ID:           s.ID,
		RuleID:       s.RuleID,
		Title:        s.Title,
		Level:        s.Level,
		Techniques:   nonNil(s.Techniques),
		Tactics:      nonNil(s.Tactics),
		FirstSeen:    rfc3339(s.FirstSeen),
		LastSeen:     rfc3339(s.LastSeen),
		AccountID:    s.AccountID,
		Regions:      nonNil(s.Regions),
		Actor:        s.Actor,
		AccessKeyID:  s.AccessKeyID,
		SourceIPs:    nonNil(s.SourceIPs),
		EventIDs:     nonNil(s.EventIDs),
		EventCount:   s.EventCount,
		Summary:      s.Summary,
		SupersededBy: s.SupersededBy,
	}
	w.Status, w.Revision = s.Lifecycle()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("encoding signal %s: %w", s.ID, err)
	}
	return safetext.JSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// LifecycleID is the id of a signal that a correlation (or the grouping of a rule's
// matches) builds over time: the first IDLength hex digits of SHA-256 over a version tag,
// the correlation's id, its group values and the id of the first event added to it. It is
// known when the signal opens and kept by every later revision, so that consumers can
// follow one signal from open to closed; the same events evaluated in the same event-time
// order give the same id on every run.
func LifecycleID(correlationID string, group []string, firstEventID string) string {
	h := sha256.New()
	h.Write([]byte("trailhound signal v2\x00"))
	h.Write([]byte(correlationID))
	for _, g := range group {
		h.Write([]byte{0})
		h.Write([]byte(g))
	}
	h.Write([]byte{0, 0})
	h.Write([]byte(firstEventID))
	return hex.EncodeToString(h.Sum(nil))[:IDLength]
}

// ClosedSignals checks a stream of revisions (CheckRevisions) and returns, by id, the
// signals it closed, leaving out those closed as superseded: what a batch run over the same
// events gives.
func ClosedSignals(revs []Signal) (map[string]Signal, error) {
	last, err := CheckRevisions(revs)
	if err != nil {
		return nil, err
	}
	closed := map[string]Signal{}
	for id, r := range last {
		if st, _ := r.Lifecycle(); st == StatusClosed && r.SupersededBy == "" {
			closed[id] = r
		}
	}
	return closed, nil
}

// CheckSuperseded checks the latest revisions of a complete stream (CheckRevisions): a
// signal closed as superseded names a signal of the stream that is not superseded itself.
func CheckSuperseded(last map[string]Signal) error {
	for id, s := range last {
		if s.SupersededBy == "" {
			continue
		}
		if st, _ := s.Lifecycle(); st != StatusClosed {
			return fmt.Errorf("signal %s: superseded_by on a %s revision", id, st)
		}
		by, ok := last[s.SupersededBy]
		switch {
		case !ok:
			return fmt.Errorf("signal %s: superseded by %s, which the stream does not hold", id, s.SupersededBy)
		case by.SupersededBy != "":
			return fmt.Errorf("signal %s: superseded by %s, which is superseded too", id, s.SupersededBy)
		}
	}
	return nil
}

// CheckRevisions checks a stream of signal revisions as a consumer receives it (a sink's
// output, in order): per signal, revisions only go up and nothing follows its close, and a
// revision received twice is a repeat of the same (id, revision) with the same content. It
// returns the latest revision of each signal, or the first violation.
func CheckRevisions(revs []Signal) (map[string]Signal, error) {
	last := map[string]Signal{}
	seen := map[string]Signal{}
	for _, r := range revs {
		status, rev := r.Lifecycle()
		k := r.ID + "#" + fmt.Sprint(rev)
		if prev, ok := seen[k]; ok {
			a, _ := prev.MarshalJSON()
			b, _ := r.MarshalJSON()
			if !bytes.Equal(a, b) {
				return nil, fmt.Errorf("(id, revision) %s received twice with different content:\n%s\n%s", k, a, b)
			}
			continue
		}
		seen[k] = r
		if p, ok := last[r.ID]; ok {
			pstatus, prev := p.Lifecycle()
			if rev <= prev || pstatus == StatusClosed {
				return nil, fmt.Errorf("signal %s: revision %d (%s) after %d (%s)", r.ID, rev, status, prev, pstatus)
			}
		}
		last[r.ID] = r
	}
	return last, nil
}
