// Command trailhound hunts attacker behaviour in AWS CloudTrail logs with Sigma rules.
//
// This package only wires flags to the internal packages and turns results into exit codes:
//
//	0  the command ran (signals found or not)
//	1  the command failed (bad arguments, unreadable rules, I/O errors)
//	2  rule problems: lint found errors, rule tests failed, or a correlation rule cannot run
//	3  --strict was given and some records were rejected
//	4  files inside folders could not be read (without --allow-unreadable)
//	130 interrupted (Ctrl-C; 143 for SIGTERM), after a one-line summary of what was done
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/trailhound/trailhound/internal/safetext"
)

func main() {
	ctx, stop := interruptible(context.Background())
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// interruptible returns a context cancelled, with an interrupted cause, by the first Ctrl-C
// or SIGTERM. The handler is then removed, so a second Ctrl-C ends the process at once if
// the clean-up hangs. stop releases the handler.
func interruptible(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			cancel(interrupted{s})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// exitError carries an exit code other than 1 up to main.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func run(ctx context.Context, args []string) int {
	app := newApp(os.Stdin, os.Stdout, os.Stderr)
	cmd := app.root()
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var intr interrupted
	if errors.As(context.Cause(ctx), &intr) {
		fmt.Fprintln(os.Stderr, "trailhound:", app.interruptedLine(intr))
		return intr.exitCode()
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "trailhound:", printable(ee.msg))
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "trailhound:", printable(err.Error()))
	return 1
}

// printable makes an error message safe for the terminal line by line: it may quote what
// the user typed or what the logs hold (safetext.Printable), and keeps its own line breaks.
func printable(msg string) string {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = safetext.Printable(l)
	}
	return strings.Join(lines, "\n")
}
