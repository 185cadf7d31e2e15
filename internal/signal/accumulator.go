package signal

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/event"
)

// IDLength is the number of hex digits in a signal id (80 bits).
const IDLength = 20

// Accumulator builds one signal from the events of a match, in any order.
//
// Events are identified by their eventID (an event without one, which CloudTrail does not
// deliver, is identified by its input position instead and is not listed in EventIDs). An
// event whose ID was already added is a duplicate delivery and is ignored, so every count
// is of distinct events; events with the same ID are assumed to be identical.
//
// The signal depends only on the set of events added, not on their order:
//   - the id is the first IDLength hex digits of SHA-256 over a version tag, the rule id and an
//     order-independent digest of every distinct event ID added: the sum modulo 2^256 of the
//     SHA-256 of each ID. It identifies the evidence for deduplication; it is not meant to
//     resist an adversary who can choose event IDs;
//   - first_seen and last_seen are the earliest and latest event times;
//   - actor, account and access key are those of the earliest event that has one;
//   - EventIDs keeps the IDs of the earliest events (by time, then ID) up to the cap, and
//     Signal.DroppedEventIDs counts the others; regions and source IPs keep at most the cap
//     smallest values. The id and EventCount always cover all events.
//
// Memory grows by a 16-byte key per distinct event (to recognise duplicates) and is otherwise
// bounded by the cap. An Accumulator is not safe for concurrent use.
type Accumulator struct {
	rule       RuleInfo
	techniques []string
	tactics    []string
	limit      int

	seen   map[[16]byte]struct{}
	digest [4]uint64 // little-endian limbs of a 256-bit sum
	count  int
	withID int

	first, last time.Time
	ids         []evidence
	regions     sortedSet
	ips         sortedSet

	actor, account, accessKey, userAgent earliest

	apis   map[api]int    // events per API
	errors map[string]int // error code -> events
	failed int

	buf []byte // scratch for hashing
}

// evidence is one event, as ordered in EventIDs.
type evidence struct {
	t  time.Time
	id string
}

func compareEvidence(a, b evidence) int {
	if c := a.t.Compare(b.t); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// NewAccumulator returns an empty accumulator for a rule. maxEventIDs caps EventIDs, Regions
// and SourceIPs of the signal; zero or less means no cap.
func NewAccumulator(rule RuleInfo, maxEventIDs int) *Accumulator {
	techniques, tactics := ParseAttackTags(rule.Tags)
	limit := max(maxEventIDs, 0)
	return &Accumulator{
		rule:       rule,
		techniques: techniques,
		tactics:    tactics,
		limit:      limit,
		seen:       make(map[[16]byte]struct{}),
		regions:    sortedSet{limit: limit},
		ips:        sortedSet{limit: limit},
		apis:       make(map[api]int),
		errors:     make(map[string]int),
	}
}

// Add adds an event to the evidence and reports whether it was new (false for a duplicate).
func (a *Accumulator) Add(h *event.Header) bool {
	key := h.EventID
	if key == "" {
		key = "\x00pos\x00" + h.Pos.File + "\x00" + strconv.Itoa(h.Pos.Record)
	}
	a.buf = append(a.buf[:0], key...) // []byte(key) would allocate on every call
	sum := sha256.Sum256(a.buf)
	var short [16]byte
	copy(short[:], sum[:16])
	if _, dup := a.seen[short]; dup {
		return false
	}
	a.seen[short] = struct{}{}
	var carry uint64
	for i := range a.digest {
		a.digest[i], carry = bits.Add64(a.digest[i], binary.LittleEndian.Uint64(sum[8*i:]), carry)
	}
	a.count++

	t := h.EventTime
	if !t.IsZero() {
		t = t.UTC()
		if a.first.IsZero() || t.Before(a.first) {
			a.first = t
		}
		if t.After(a.last) {
			a.last = t
		}
	}
	if h.EventID != "" {
		a.withID++
		a.addID(evidence{t: t, id: h.EventID})
	}
	a.regions.add(h.Region)
	a.ips.add(h.SourceIP)
	at := evidence{t: t, id: key}
	a.actor.add(h.Actor, at)
	a.account.add(h.AccountID, at)
	a.accessKey.add(h.AccessKeyID, at)
	a.userAgent.add(h.UserAgent, at)
	a.apis[api{h.EventSource, h.EventName}]++
	if h.ErrorCode != "" {
		a.failed++
		a.errors[h.ErrorCode]++
	}
	return true
}

// addID inserts e into the sorted ids, keeping the earliest a.limit.
func (a *Accumulator) addID(e evidence) {
	i, _ := slices.BinarySearchFunc(a.ids, e, compareEvidence)
	if a.limit > 0 && len(a.ids) >= a.limit {
		if i >= len(a.ids) {
			return
		}
		a.ids = a.ids[:len(a.ids)-1]
	}
	a.ids = slices.Insert(a.ids, i, e)
}

// Len returns the number of distinct events added.
func (a *Accumulator) Len() int { return a.count }

// Signal returns the signal of the events added so far. The result shares no memory with the
// accumulator, which can go on accumulating.
func (a *Accumulator) Signal() Signal {
	ids := make([]string, len(a.ids))
	for i, e := range a.ids {
		ids[i] = e.id
	}
	s := Signal{
		ID:              a.id(),
		RuleID:          a.rule.ID,
		Title:           a.rule.Title,
		Level:           a.rule.Level,
		Techniques:      slices.Clone(a.techniques),
		Tactics:         slices.Clone(a.tactics),
		FirstSeen:       a.first,
		LastSeen:        a.last,
		AccountID:       a.account.val,
		Regions:         slices.Clone(a.regions.vals),
		Actor:           a.actor.val,
		AccessKeyID:     a.accessKey.val,
		SourceIPs:       slices.Clone(a.ips.vals),
		EventIDs:        ids,
		EventCount:      a.count,
		DroppedEventIDs: a.withID - len(ids),
	}
	if s.Regions == nil {
		s.Regions = []string{}
	}
	if s.SourceIPs == nil {
		s.SourceIPs = []string{}
	}
	s.Summary = a.summary()
	return s
}

// id hashes the rule id and the digest of the event IDs.
func (a *Accumulator) id() string {
	h := sha256.New()
	h.Write([]byte("trailhound signal v1\x00"))
	h.Write([]byte(a.rule.ID))
	h.Write([]byte{0})
	var b [8]byte
	for _, limb := range a.digest {
		binary.LittleEndian.PutUint64(b[:], limb)
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:IDLength]
}

// apiName returns "iam:AttachUserPolicy" for iam.amazonaws.com and AttachUserPolicy.
// api is an eventSource and eventName, named by apiName only when a summary is written
// (Add runs for every event of a signal).
type api struct{ source, name string }

// apiNames returns the events per API name ("iam:AttachUserPolicy").
func apiNames(apis map[api]int) map[string]int {
	out := make(map[string]int, len(apis))
	for k, n := range apis {
		out[apiName(k.source, k.name)] += n
	}
	return out
}

func apiName(source, name string) string {
	service, _, _ := strings.Cut(source, ".")
	if name == "" {
		name = "(unknown API)"
	}
	if service == "" {
		return name
	}
	return service + ":" + name
}

// sortedSet keeps the smallest limit distinct non-empty values added (all when limit is 0),
// sorted, and whether any value was left out.
type sortedSet struct {
	vals      []string
	limit     int
	truncated bool
}

func (s *sortedSet) add(v string) {
	if v == "" {
		return
	}
	i, found := slices.BinarySearch(s.vals, v)
	if found {
		return
	}
	if s.limit > 0 && len(s.vals) >= s.limit {
		s.truncated = true
		if i >= len(s.vals) {
			return
		}
		s.vals = s.vals[:len(s.vals)-1]
	}
	s.vals = slices.Insert(s.vals, i, v)
}

// earliest keeps the non-empty value of the earliest event that has one, and whether the
// events had different non-empty values.
type earliest struct {
	val   string
	at    evidence
	mixed bool
}

func (e *earliest) add(v string, at evidence) {
	if v == "" {
		return
	}
	if e.val == "" {
		e.val, e.at = v, at
		return
	}
	if v != e.val {
		e.mixed = true
	}
	if compareEvidence(at, e.at) < 0 {
		e.val, e.at = v, at
	}
}
