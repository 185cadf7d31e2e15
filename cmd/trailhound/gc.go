package main

import "runtime/debug"

// Collector settings for a hunt without a store. Its live heap is bounded by design
// (matches spill to disk past --max-matches, correlation state is capped, signals are built
// as windows close): 100–200 MB whatever the input. Nearly everything it allocates dies
// within an event or a window, so at the default GOGC=100 the collector ran far more often
// than the memory target needs — 11–20% of a one-core hunt with the public rules. With
// GOGC=200 the heap may grow to three times the live heap, and the soft limit keeps it
// within the memory target when the live heap is large (docs: bench/PERFORMANCE.md).
const (
	huntGCPercent   = 200
	huntMemoryLimit = 200 << 20
)

// tuneGCForHunt applies the hunt's collector settings unless the user chose their own with
// GOGC or GOMEMLIMIT, and returns the function that restores the previous ones.
// Store-backed hunts keep the defaults: their eventID table grows with the store, and a
// live heap above the soft limit would keep the collector running.
func tuneGCForHunt(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	pct := debug.SetGCPercent(huntGCPercent)
	limit := debug.SetMemoryLimit(huntMemoryLimit)
	return func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	}
}
