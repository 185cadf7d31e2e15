// Package correlate evaluates correlation rules (Sigma correlation v2 — event_count,
// value_count, temporal, temporal_ordered — and trailhound's new_value and baseline_count)
// over the hits of base
// rules, in event time, and emits grouped Alerts.
//
// The package does not know the Sigma parser: a caller builds a Config of typed Correlations
// (rule references resolved to ids, aliases keyed by rule id), then feeds every hit of a base
// rule to Engine.Observe with a FieldFunc that reads the event's fields. The Engine asks it,
// during the call, for the fields each correlation referencing the rule needs (its GroupBy
// names, resolved through Aliases for that rule, and its ValueFields). An Engine is not safe
// for concurrent use; its Config is validated once by New, all problems reported together.
//
// # Event time
//
// The watermark is the latest event time observed minus Config.Lateness (default 15 min).
// A hit at or after the watermark is buffered and evaluated once the watermark passes it, in
// the order (event time, EventID, rule): so for any set of hits none of which arrives behind
// the watermark — in particular every batch whose disorder stays within the lateness,
// followed by Flush — the alerts are the same whatever the arrival order. A hit behind the
// watermark is late: it is counted (Stats.Late), passed to Config.Late, and evaluated at once
// against the state still held — its own window and the windows of later held hits within
// timespan — so it can still fire and join an open alert. State is held back to about
// watermark − timespan, so the older part of a late hit's window may be gone. Late evaluation
// is the only order-dependent path.
//
// # Windows
//
// Windows slide; they are not fixed buckets. The condition is evaluated at every hit, over
// the hits of the group whose event time t satisfies last-timespan <= t <= last, where last
// is that hit's time: both ends are inclusive, so two hits exactly timespan apart are in one
// window and hits timespan+1ns apart are not. Hits with equal times are all in the window.
// An upper bound (lt, lte, eq, neq) is therefore checked against the count at each hit: with
// gte 5 and lt 10 the 5th to 9th hits of a window fire and the 10th does not.
//
//   - event_count: the number of hits in the window.
//   - value_count: the number of distinct value tuples (ValueFields) in the window.
//   - temporal: the number of distinct referenced rules with a hit in the window; the default
//     condition is all of them.
//   - temporal_ordered: the length of the longest prefix of Rules whose hits occur in that
//     order in the window (greedy, earliest first); hits at the same time count as in order
//     either way round, since CloudTrail times are to the second. The default condition is
//     all rules.
//   - new_value: fires when a group sees a value tuple it has not seen before, or not seen
//     for more than Forget (exactly Forget ago is still known). Nothing fires during
//     Learning, measured in event time from the first event of the data (Engine.Begin; the
//     first hit processed when the caller gives none) — one start for all correlations:
//     "learn on 7 days of data"; values are learned meanwhile. A correlation added since a
//     restored snapshot starts learning at the next hit. With
//     LearnFirst, a group's first value is learned and does not fire: the first value of a
//     new group, and of a group idle for longer than Forget (every value forgotten).
//   - baseline_count: the window is measured as event_count does, or as value_count does
//     when ValueFields are set; the measure n of the window ending at a hit at time t is
//     compared with the group's baseline: the highest measure any window of the group
//     reached in one of the Forget/Period periods before t's own (periods are Period long,
//     counted from the Unix epoch: UTC days by default; 0 when there is none). The
//     condition holds when t is past Learning (as for new_value), n satisfies Condition
//     (which has a floor: a gt or gte) and n > Factor × baseline. Every window measured,
//     firing or not, during learning or not, is then remembered as a measure of t's period.
//     The baseline never includes the current period, so a burst is compared with the
//     group's history alone and each of its windows fires, whatever it reached earlier in
//     the same period; the next period the burst is part of the baseline. A group with no
//     remembered period (one that never did it, or a new value of a group-by field such as a
//     network) has baseline 0 and fires at the floor.
//
// Group and value tuples: a field absent from the event is "". A hit whose value tuple is
// all "" has no value and is ignored by value_count and new_value; a group tuple may be all
// "" (the group of events without those fields).
//
// Duplicates: a hit with the same EventID, rule and event time as a hit held in the group's
// window is ignored (Stats.Duplicates); for event_count and value_count an event matched by
// two referenced rules also counts once. CloudTrail repeats an event with the same time, so
// a duplicate either meets the first delivery in the window or arrives late.
//
// # Alerts
//
// A firing in a group that has an open alert whose last firing is at most KeepAlive earlier
// (default: the timespan; 1h for new_value) and whose first event is at most MaxDuration
// earlier (default 24h) updates that alert: the hits of the firing window not yet in it are
// added (EventIDs up to MaxEventIDs, Dropped counting the rest; Headers of the first
// MaxHeaders hits). Otherwise the open alert is closed and a new one opened. A baseline_count
// alert also carries the baseline its first firing was compared with and the highest measure
// of its firings (Alert.Baseline, Alert.Peak). An alert is
// returned when it is closed: when the watermark shows no later firing can extend it, when
// its group is evicted, or by Flush. Each call returns its alerts sorted by first event time,
// correlation id, group and last time. A live caller sees an alert after KeepAlive plus the
// lateness.
//
// # Chaining
//
// A correlation may list another correlation's id in Rules. Every firing of the referenced
// correlation is then a hit of the referencing one, at the firing time (the time of the hit
// that completed the window), with that hit's EventID and Header; its fields are those of the
// firing's group (by GroupBy name) and value. Correlations are evaluated in topological
// order; a cycle is a configuration error.
//
// # Bounded state
//
// Per correlation at most MaxGroups groups are held; beyond, the least recently used group is
// evicted (Stats.EvictedGroups) and its open alert closed. A group's window holds at most
// MaxHitsPerGroup hits (the oldest are dropped, Stats.DroppedHits) and MaxValuesPerGroup
// distinct values (for value_count a hit bringing one more is dropped; for new_value the
// least recently seen value is forgotten; Stats.DroppedValues). Groups whose hits are all
// older than the window, whose values are all older than Forget and that have no open alert
// are dropped as the watermark advances. A baseline_count group remembers the peak measure
// of at most Forget/Period periods (at most MaxBaselinePeriods), is dropped once its last
// hit is more than Forget + Period old, and lets go of its window's hits once they are
// older than the watermark minus the timespan (checked at each hour of event time).
//
// # Cost
//
// A hit costs the same whatever the number of hits sharing its event time — a burst of a
// million copies of an event in one second costs what the same hits one second apart cost
// (BenchmarkSameTime). The duplicate check compares a hit with the held hits of its time one
// by one while they are few and through an index of the group's hits once a run of them is
// long; an alert finds the ids of its latest time by bisection (hits in order come in event
// id order); temporal_ordered computes its ordered prefix from each rule's hit times by
// bisection. In order, a hit costs O(log hits) plus the evidence it adds to an alert.
//
// A late hit costs the windows it changes: one per held hit within timespan after it, each
// measured in O(1) for event_count or when the window is all the group holds, else by a
// pass over the window (at most MaxHitsPerGroup hits). A late firing that opens an alert
// adds the whole window to it; that alert closes at once, its deadline being behind the
// watermark, so a late burst whose firings each open an alert costs a window per hit — the
// size of the evidence those alerts carry. A new_value group at MaxValuesPerGroup finds the
// value to forget with a pass over its values.
//
// # Durable state
//
// Snapshot and Restore write and read the whole state (a versioned JSON format: a
// baseline_count group's peaks are part of it); SaveFile
// writes it atomically. Running over two days in one go gives the same alerts as running
// day 1, saving, restoring into a new Engine and running day 2.
package correlate
