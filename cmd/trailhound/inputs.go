package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/source"
)

// exitUnreadable is the exit status of a run that went on without inputs it could not read.
const exitUnreadable = 4

// checkInputs turns what a run found in its inputs into the error it ends with: a path with
// no CloudTrail in it (exit 1: a mistyped folder must not read as a clean result), then
// inputs inside folders that could not be read (exit 4, unless allowUnreadable: the run is
// missing their events). Empty standard input is not an error: a pipe may have nothing.
// The messages quote paths as given: run escapes what it prints.
func checkInputs(st hunt.Stats, allowUnreadable bool) error {
	var none []string
	for _, p := range st.Paths {
		if p.CloudTrail > 0 || (p.Path == source.Stdin && p.Records == 0) {
			continue
		}
		name := p.Path
		if p.Path == source.Stdin {
			name = "standard input"
		}
		var why []string
		switch {
		case p.Files == 0:
			why = append(why, "no log file in it")
		case p.Records == p.Rejected && p.Records > 0:
			why = append(why, fmt.Sprintf("%d file(s) found, all %d records rejected (see the summary)", p.Files, p.Records))
		default:
			why = append(why, fmt.Sprintf("%d file(s) found, none holding a CloudTrail event", p.Files))
		}
		if p.Unreadable > 0 {
			why = append(why, fmt.Sprintf("%d could not be read", p.Unreadable))
		}
		if p.Skipped > 0 {
			why = append(why, fmt.Sprintf("%d other file(s) skipped by name (--all-files reads them)", p.Skipped))
		}
		if p.Digests > 0 {
			why = append(why, fmt.Sprintf("%d digest file(s), which hold hashes, not events", p.Digests))
		}
		none = append(none, fmt.Sprintf("no CloudTrail in %s: %s", name, strings.Join(why, "; ")))
	}
	if len(none) > 0 {
		return fmt.Errorf("%s\ngive the folder AWS delivers CloudTrail to (AWSLogs/, .json.gz Records files), or files of JSON Lines, arrays or single events", strings.Join(none, "\n"))
	}
	if n := len(st.Unreadable); n > 0 && !allowUnreadable {
		u := st.Unreadable[0]
		return &exitError{code: exitUnreadable, msg: fmt.Sprintf("%d input(s) could not be read, so this run is incomplete (first: %s: %s); "+
			"fix their permissions and run again, or give --allow-unreadable to accept the gap", n, u.Name, u.Reason)}
	}
	return nil
}

// inputError adds what to do to the error of a run whose arguments could not be read.
func inputError(err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w\ncheck the permissions of the paths given, or run as a user who can read them", err)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w\ncheck the paths given: a CloudTrail log file, a folder of them, or - for standard input", err)
	}
	return err
}
