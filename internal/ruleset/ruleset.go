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
	"maps"
	"slices"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/ioc"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/trailhound/trailhound/internal/signal"
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
	// Warnings are lint findings that did not reject a rule, and rules that compile but are
	// slow to match (detect.Engine.Warnings), sorted.
	Warnings sigma.ErrorList
	// Invalid are the errors that leave a correlation rule unable to run (sigma's
	// RuleSet.Invalid, a referenced rule that did not compile, what the correlation engine
	// rejects), sorted; each is also in the error Load returns. A run must refuse to start
	// with any (CheckCorrelations): the rules the correlation references would run without
	// it, each emitting signals of its own, and the correlation would be lost.
	Invalid sigma.ErrorList
}

// CheckCorrelations returns an *InvalidCorrelationsError when some correlation of the set
// cannot run, nil otherwise.
func (s *Set) CheckCorrelations() error {
	if len(s.Invalid) == 0 {
		return nil
	}
	return &InvalidCorrelationsError{Errors: s.Invalid}
}

// InvalidCorrelationsError says that correlation rules cannot run, and why.
type InvalidCorrelationsError struct {
	Errors sigma.ErrorList
}

// Error names the problem; the positioned errors are in Errors.
func (e *InvalidCorrelationsError) Error() string {
	return fmt.Sprintf("%d error(s) leave correlation rules unable to run", len(e.Errors))
}

// Hint tells a user what to do about invalid correlations.
const Hint = "hint: a correlation that cannot run would leave the rules it references running alone, " +
	"each with signals of its own, and its own signals lost: fix the errors above " +
	"(trailhound rules lint PATH lists them all), or remove the correlation together with the rules of its file"

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
	collect := func(err error) error {
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
	// Files only: the checks of a set (references above all) are made once, below, over
	// the built-in and the user's files together.
	if opts.Builtin != nil {
		parsed, ferrs, err := sigma.ParseFS(ctx, opts.Builtin, ".")
		if err != nil {
			return nil, fmt.Errorf("loading built-in rules: %w", err)
		}
		files, errs = append(files, parsed...), append(errs, ferrs...)
	}
	if len(opts.Paths) > 0 {
		parsed, ferrs, err := sigma.ParsePaths(ctx, opts.Paths...)
		if err != nil {
			return nil, fmt.Errorf("loading rules: %w", err)
		}
		files, errs = append(files, parsed...), append(errs, ferrs...)
	}
	// Build one set over all files so that correlations can reference rules across them
	// and duplicate ids between built-in and user rules are reported.
	all, err := sigma.NewRuleSet(files...)
	if err := collect(err); err != nil {
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
	if err := collect(err); err != nil {
		return nil, fmt.Errorf("compiling rules: %w", err)
	}
	s.Engine = eng
	s.Warnings = append(s.Warnings, eng.Warnings()...)
	s.Warnings.Sort()
	compiled := map[string]bool{}
	for _, r := range eng.Rules() {
		compiled[r.Info.ID] = true
	}
	corr, skipped, cerrs := correlations(all, compiled)
	s.Correlations = corr
	s.Skipped = append(s.Skipped, skipped...)
	errs = append(errs, cerrs...)
	errs.Sort()
	s.Invalid = append(slices.Clone(all.Invalid), cerrs...)
	s.Invalid.Sort()
	return s, errs.Err()
}

// Infos returns the metadata of every CloudTrail rule that runs: the detection rules, then
// the correlations whose base rules are loaded (not the detection rules that only feed a
// correlation). It is what the set covers (an ATT&CK
// coverage layer, a rule list).
func (s *Set) Infos() []signal.RuleInfo {
	var out []signal.RuleInfo
	if s.Engine != nil {
		for _, r := range s.Engine.Rules() {
			if !s.Correlations.Helpers[r.Info.ID] { // helpers signal only through their correlation
				out = append(out, r.Info)
			}
		}
	}
	ids := slices.Sorted(maps.Keys(s.Correlations.Info))
	for _, id := range ids {
		out = append(out, s.Correlations.Info[id])
	}
	return out
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
