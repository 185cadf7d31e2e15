// Package ruleset assembles the rules a run uses: the built-in rules embedded in the binary
// and the user's rule files or folders, parsed, filtered to AWS CloudTrail and compiled. The
// CLI's hunt, rules list, rules lint and rules test all load rules through it, so they agree
// on what is loaded and what is skipped.
package ruleset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/ioc"
	"github.com/trailhound/trailhound/internal/sigma"
)

// Options say which rules to load.
type Options struct {
	// Builtin, when not nil, is the file system of built-in rules (rules.FS), read from its root.
	Builtin fs.FS
	// Paths are the user's rule files and folders.
	Paths []string
	// Placeholders are the lists for |expand placeholders. Nil means the built-in IOC lists
	// (internal/ioc); an empty, non-nil map means none.
	Placeholders map[string][]string
}

// Skipped is a rule that loaded but does not apply to CloudTrail.
type Skipped struct {
	File, Title, Reason string
}

// Set is a loaded and compiled rule set.
type Set struct {
	// Rules are every parsed rule and correlation (CloudTrail or not).
	Rules *sigma.RuleSet
	// Engine holds the compiled CloudTrail detection rules.
	Engine *detect.Engine
	// Correlations are the correlation rules whose base rules are loaded.
	Correlations Correlations
	// Skipped are rules of other log sources (and correlations over them).
	Skipped []Skipped
	// Warnings are lint findings that did not reject a rule.
	Warnings sigma.ErrorList
}

// Load parses and compiles the rules. Errors in rule files are returned as one sorted
// sigma.ErrorList alongside a Set holding every rule that did load, so callers choose
// whether to go on (hunt warns) or stop (lint fails).
func Load(ctx context.Context, opts Options) (*Set, error) {
	if opts.Placeholders == nil {
		lists, err := ioc.Load(true)
		if err != nil {
			return nil, fmt.Errorf("loading built-in IOC lists: %w", err)
		}
		opts.Placeholders = lists.Placeholders()
	}
	var files []*sigma.File
	var errs sigma.ErrorList
	collect := func(rs *sigma.RuleSet, err error) error {
		if rs != nil {
			files = append(files, rs.Files...)
		}
		var el sigma.ErrorList
		switch {
		case err == nil:
		case errors.As(err, &el):
			errs = append(errs, el...)
		default:
			return err
		}
		return nil
	}
	if opts.Builtin != nil {
		rs, err := sigma.LoadFS(ctx, opts.Builtin, ".")
		if err := collect(rs, err); err != nil {
			return nil, fmt.Errorf("loading built-in rules: %w", err)
		}
	}
	if len(opts.Paths) > 0 {
		rs, err := sigma.LoadPaths(ctx, opts.Paths...)
		if err := collect(rs, err); err != nil {
			return nil, fmt.Errorf("loading rules: %w", err)
		}
	}
	// Build one set over all files so that correlations can reference rules across them
	// and duplicate ids between built-in and user rules are reported.
	all, err := sigma.NewRuleSet(files...)
	if err := collect(nil, err); err != nil {
		return nil, fmt.Errorf("checking rule set: %w", err)
	}
	s := &Set{Rules: all, Warnings: all.Warnings}
	var ct []*sigma.Rule
	for _, r := range all.Rules {
		if !r.IsCloudTrail() {
			s.Skipped = append(s.Skipped, Skipped{File: r.File, Title: r.Title,
				Reason: fmt.Sprintf("logsource product=%q service=%q is not aws/cloudtrail", r.LogSource.Product, r.LogSource.Service)})
			continue
		}
		ct = append(ct, r)
	}
	eng, err := detect.Compile(ct, detect.Options{Placeholders: opts.Placeholders})
	if err := collect(nil, err); err != nil {
		return nil, fmt.Errorf("compiling rules: %w", err)
	}
	s.Engine = eng
	compiled := map[string]bool{}
	for _, r := range eng.Rules() {
		compiled[r.Info.ID] = true
	}
	corr, skipped, cerrs := correlations(all, compiled)
	s.Correlations = corr
	s.Skipped = append(s.Skipped, skipped...)
	errs = append(errs, cerrs...)
	errs.Sort()
	return s, errs.Err()
}

// RuleFiles returns, for every loaded rule and correlation, its id (what signals carry as
// their rule id) and the file it came from (the name within the built-in file system, or
// the path of a user's file). The map is the caller's.
func (s *Set) RuleFiles() map[string]string {
	m := make(map[string]string, len(s.Rules.Rules)+len(s.Rules.Correlations))
	for _, r := range s.Rules.Rules {
		m[r.Ref()] = r.File
	}
	for _, c := range s.Rules.Correlations {
		m[c.Ref()] = c.File
	}
	return m
}
