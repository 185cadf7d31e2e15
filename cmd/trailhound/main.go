// Command trailhound hunts attacker behaviour in AWS CloudTrail logs with Sigma rules.
//
// This package only wires flags to the internal packages and turns results into exit codes:
//
//	0  the command ran (signals found or not)
//	1  the command failed (bad arguments, unreadable rules, I/O errors)
//	2  rule problems: lint found errors, or rule tests failed
//	3  --strict was given and some records were rejected
//	4  files inside folders could not be read (without --allow-unreadable)
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
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
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "trailhound:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "trailhound:", err)
	return 1
}
