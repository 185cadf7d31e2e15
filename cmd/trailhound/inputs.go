package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/spf13/cobra"

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
		case p.Files == 0 && p.Filtered > 0:
			why = append(why, fmt.Sprintf("no log file kept: %d folder(s) and file(s) outside --since/--until/--account/--region", p.Filtered))
		case p.Files == 0:
			why = append(why, "no log file in it")
		case p.FilteredEvents > 0 && p.Records == p.FilteredEvents+p.Rejected:
			why = append(why, fmt.Sprintf("%d file(s) read, all %d events outside --since/--until/--account/--region", p.Files, p.FilteredEvents))
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

// inputFlags say which events to read and how to reach S3: the filters that prune the
// listing and the events (--since, --until, --account, --region) and the AWS client's
// profile, region and addressing. hunt, investigate and serve take them.
type inputFlags struct {
	since, until       string
	accounts, regions  []string
	profile, awsRegion string
	pathStyle          bool
}

func (f *inputFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", "", "only events at or after this time: 2024-03-10, 2024-03-10T12:00:00Z, or back from now (24h, 7d); prunes the listing of AWSLogs/ folders")
	fl.StringVar(&f.until, "until", "", "only events before this time (same forms as --since)")
	fl.StringSliceVar(&f.accounts, "account", nil, "only events of these recipient accounts (repeatable, or comma-separated); prunes AWSLogs/<account>/ folders")
	fl.StringSliceVar(&f.regions, "region", nil, "only events of these regions (repeatable, or comma-separated); prunes CloudTrail/<region>/ folders")
	fl.StringVar(&f.profile, "profile", "", "AWS profile for s3:// paths (default: $AWS_PROFILE or the default credential chain)")
	fl.StringVar(&f.awsRegion, "aws-region", "", "AWS region of the S3 client (default: $AWS_REGION or the profile's)")
	fl.BoolVar(&f.pathStyle, "s3-path-style", false, "address buckets as paths, for S3-compatible servers (default: on when $AWS_ENDPOINT_URL or $AWS_ENDPOINT_URL_S3 is set)")
}

// filter is the source filter the flags give.
func (f *inputFlags) filter(now time.Time) (source.Filter, error) {
	var flt source.Filter
	var err error
	if f.since != "" {
		if flt.Since, err = source.ParseTime(f.since, now); err != nil {
			return flt, &usageError{err: fmt.Errorf("--since: %w", err)}
		}
	}
	if f.until != "" {
		if flt.Until, err = source.ParseTime(f.until, now); err != nil {
			return flt, &usageError{err: fmt.Errorf("--until: %w", err)}
		}
	}
	flt.Accounts, flt.Regions = f.accounts, f.regions
	if err := flt.Validate(); err != nil {
		return flt, &usageError{err: err}
	}
	return flt, nil
}

// s3Config is the S3 client configuration the flags give.
func (f *inputFlags) s3Config(cmd *cobra.Command) source.S3Config {
	c := source.S3Config{Profile: f.profile, Region: f.awsRegion}
	if cmd.Flags().Changed("s3-path-style") {
		c.PathStyle = &f.pathStyle
	}
	return c
}

// sourceOptions fills the filter of opts, and its S3 client when a path is an s3:// URL.
func (f *inputFlags) sourceOptions(cmd *cobra.Command, opts source.Options, paths []string) (source.Options, error) {
	var err error
	if opts.Filter, err = f.filter(time.Now()); err != nil {
		return opts, err
	}
	for _, p := range paths {
		if source.IsS3(p) {
			if opts.S3, err = source.NewS3Client(cmd.Context(), f.s3Config(cmd)); err != nil {
				return opts, err
			}
			break
		}
	}
	return opts, nil
}
