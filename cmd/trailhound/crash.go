package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// crashEnv names the environment variable of the crash tests: "POINT" or "POINT#N" (the
// N-th time the point is reached), several separated by commas. A process that reaches
// one kills itself with SIGKILL, as an operator's kill -9 or a power cut would stop it, so
// that the tests, which run the real binary, can prove that a store survives a kill at each
// point. The points are the store's commit points (store.FaultPoints) and the hunt's own:
// "event" (an event handed to the store), "printed" (signals written, before the commit).
const crashEnv = "TRAILHOUND_TEST_CRASH"

// crashPoints counts the points a run reaches and kills the process at the chosen ones.
type crashPoints struct {
	mu   sync.Mutex
	want map[string]int
	seen map[string]int
}

// newCrashPoints parses spec; it returns nil (no crash points) for an empty one.
func newCrashPoints(spec string) *crashPoints {
	if spec == "" {
		return nil
	}
	c := &crashPoints{want: map[string]int{}, seen: map[string]int{}}
	for _, p := range strings.Split(spec, ",") {
		name, n, _ := strings.Cut(strings.TrimSpace(p), "#")
		k, err := strconv.Atoi(n)
		if err != nil || k < 1 {
			k = 1
		}
		c.want[name] = k
	}
	return c
}

// at is reached at a point; it does not return when the point is one to crash at.
func (c *crashPoints) at(point string) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	c.seen[point]++
	hit := c.want[point] == c.seen[point]
	c.mu.Unlock()
	if hit {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill() // SIGKILL: no deferred function, no clean-up runs
		}
		select {} // until the signal is delivered
	}
	return nil
}
