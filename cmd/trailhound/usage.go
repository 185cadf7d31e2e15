package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// usageError is a mistake on the command line (an unknown flag or command, a missing
// argument): the message says what was expected and where the help is.
type usageError struct {
	err  error
	path string // the command's path, "trailhound hunt"
}

func (e *usageError) Error() string {
	return fmt.Sprintf("%v\nRun '%s --help' for usage.", e.err, e.path)
}

func (e *usageError) Unwrap() error { return e.err }

// args returns a positional-argument check: at least min and at most max arguments (max < 0:
// no limit), with an error that names what is expected, for example "a PATH (a CloudTrail
// file, a folder of them, or - for standard input)".
func args(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		name := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
		switch {
		case len(args) < min:
			return fmt.Errorf("%s needs %s", name, what)
		case max == 0 && len(args) > 0:
			return fmt.Errorf("%s takes no arguments, got %q", name, strings.Join(args, " "))
		case max > 0 && len(args) > max:
			return fmt.Errorf("%s takes %s, got %d arguments: %q", name, what, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// noArgs is args(0, 0, "").
var noArgs = args(0, 0, "")

// addUsageHints makes every command-line mistake below root point to --help: unknown flags,
// unknown commands, and wrong positional arguments.
func addUsageHints(root *cobra.Command) {
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{err: err, path: cmd.CommandPath()}
	})
	// A root that runs is what makes cobra check its arguments: "trailhound huntt" is then
	// an unknown command, not the help and exit status 0.
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.SuggestionsMinimumDistance = 2
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q", args[0])
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
		}
		return errors.New(msg)
	}
	var wrap func(c *cobra.Command)
	wrap = func(c *cobra.Command) {
		if check := c.Args; check != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					return &usageError{err: err, path: cmd.CommandPath()}
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			wrap(sub)
		}
	}
	wrap(root)
}

// pathArg names what hunt and investigate read.
const pathArg = "a PATH: a CloudTrail log file, a folder of them (read recursively), s3://bucket/prefix, or - for standard input"
