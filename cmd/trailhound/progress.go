package main

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/trailhound/trailhound/internal/progress"
	"github.com/trailhound/trailhound/internal/simulate"
)

// startProgress returns the counter of a long run's inputs (or outputs) and the function
// that stops showing it. Progress is drawn on stderr only when stderr is a terminal and -q
// was not given, and only once the run has lasted progress.DefaultDelay. The counter is
// also what the one-line summary of an interrupted run is made of.
func (a *app) startProgress(label, verb string) (*progress.Counter, func()) {
	c := progress.NewCounter(verb)
	a.counter = c
	if tty, _ := isTerminal(a.stderr); !tty || a.quiet {
		return c, func() {}
	}
	return c, progress.Start(a.stderr, c, progress.Options{Label: label}).Stop
}

// interrupted is why a run's context was cancelled when the user interrupted it.
type interrupted struct{ sig os.Signal }

func (i interrupted) Error() string {
	switch i.sig {
	case os.Interrupt:
		return "interrupted (Ctrl-C)"
	case syscall.SIGTERM:
		return "terminated (SIGTERM)"
	}
	return "interrupted by " + i.sig.String()
}

// exitCode is the conventional status of a process ended by the signal: 128 + its number
// (130 for Ctrl-C, 143 for SIGTERM).
func (i interrupted) exitCode() int {
	if s, ok := i.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// interruptedLine is the one-line summary of an interrupted run: how long it ran and what
// it had done.
func (a *app) interruptedLine(i interrupted) string {
	took := time.Since(a.start).Round(100 * time.Millisecond)
	if a.counter == nil {
		return fmt.Sprintf("%s after %s, before reading any input", i, took)
	}
	return fmt.Sprintf("%s after %s, with %s: the run did not finish and its results are incomplete", i, took, a.counter.Snapshot())
}

// countingSink counts the files a simulation writes and their bytes.
type countingSink struct {
	simulate.Sink
	c *progress.Counter
}

func (s countingSink) WriteFile(name string, data []byte) error {
	if err := s.Sink.WriteFile(name, data); err != nil {
		return err
	}
	s.c.AddFile()
	s.c.AddBytes(int64(len(data)))
	return nil
}
