package sigma

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// RuleSet is a set of rule files checked together: ids and names are
// unique across the set and every correlation reference is resolved.
type RuleSet struct {
	// Files are the parsed files, sorted by name.
	Files []*File
	// Rules are the detection rules of all files, by file then document.
	Rules []*Rule
	// Correlations are the correlation rules, by file then document.
	Correlations []*Correlation
	// Warnings are the lint findings of all files, sorted.
	Warnings ErrorList
	// Invalid are the errors that left a correlation rule out of the set, sorted: its own
	// (or a YAML error that lost the documents after it, a correlation among them), a
	// reference that does not resolve, to a rule or correlation left out for errors, or in
	// a cycle, a duplicate id or name. Each is also in the error the loaders and NewRuleSet
	// return. A run must not start with any: the rules the correlation references would run
	// without it, each emitting signals of its own while the correlation is lost.
	Invalid ErrorList

	byID    map[string]target
	byName  map[string]target
	byTitle map[string][]target
}

// target is a rule or a correlation.
type target struct {
	rule *Rule
	corr *Correlation
}

func (t target) meta() *Meta {
	if t.rule != nil {
		return &t.rule.Meta
	}
	return &t.corr.Meta
}

func (t target) where() string {
	if t.rule != nil {
		return fmt.Sprintf("%s:%s", t.rule.File, t.rule.Pos)
	}
	return fmt.Sprintf("%s:%s", t.corr.File, t.corr.Pos)
}

// Lookup finds a rule or correlation by id, else by name. At most one of
// the results is non-nil.
func (s *RuleSet) Lookup(ref string) (*Rule, *Correlation) {
	t, ok := s.byID[ref]
	if !ok {
		t = s.byName[ref]
	}
	return t.rule, t.corr
}

// IsRuleFile reports whether a file name is a rule file for the loaders:
// it ends in .yml or .yaml and is not a rule test file (*_test.yml,
// *_test.yaml), which lives beside the rule it tests.
func IsRuleFile(name string) bool {
	ext := path.Ext(name)
	if ext != ".yml" && ext != ".yaml" {
		return false
	}
	return !strings.HasSuffix(strings.TrimSuffix(name, ext), "_test")
}

// LoadFS loads every rule file under roots in fsys. A root may be a file or
// a directory, walked recursively (directories whose names start with a dot
// are skipped). Files are parsed in lexical order, so the result does not
// depend on the file system.
//
// LoadFS returns the valid rules even when some are rejected; the error is
// then an ErrorList with every problem of the set, sorted.
func LoadFS(ctx context.Context, fsys fs.FS, roots ...string) (*RuleSet, error) {
	files, errs, err := ParseFS(ctx, fsys, roots...)
	if err != nil {
		return nil, err
	}
	return load(files, errs)
}

// LoadPaths is LoadFS for operating-system paths: each path is a rule file
// or a directory walked recursively. Errors name files by their OS path.
func LoadPaths(ctx context.Context, paths ...string) (*RuleSet, error) {
	files, errs, err := ParsePaths(ctx, paths...)
	if err != nil {
		return nil, err
	}
	return load(files, errs)
}

// ParseFS parses the rule files LoadFS would load, without the checks of a set: for a
// caller that puts files from several places into one set (NewRuleSet), where a reference
// from one place to another resolves. errs are the problems of the files themselves; err
// is the context's.
func ParseFS(ctx context.Context, fsys fs.FS, roots ...string) (files []*File, errs ErrorList, err error) {
	names, errs := ruleFiles(roots, func(root string, fn fs.WalkDirFunc) error { return fs.WalkDir(fsys, root, fn) })
	return parseFiles(ctx, names, errs, func(name string) ([]byte, error) { return fs.ReadFile(fsys, name) })
}

// ParsePaths is ParseFS for operating-system paths.
func ParsePaths(ctx context.Context, paths ...string) (files []*File, errs ErrorList, err error) {
	names, errs := ruleFiles(paths, filepath.WalkDir)
	return parseFiles(ctx, names, errs, os.ReadFile)
}

// ruleFiles lists the rule files under roots with walk (fs.WalkDir or filepath.WalkDir): a
// root that is a file is taken as is; in directories, hidden subdirectories are skipped and
// only IsRuleFile names are taken.
func ruleFiles(roots []string, walk func(root string, fn fs.WalkDirFunc) error) ([]string, ErrorList) {
	var names []string
	var errs ErrorList
	for _, root := range roots {
		err := walk(root, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name != root && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if name == root || IsRuleFile(name) {
				names = append(names, name)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, &Error{File: root, Msg: fmt.Sprintf("walking rule directory: %v", err)})
		}
	}
	return names, errs
}

func parseFiles(ctx context.Context, names []string, errs ErrorList, read func(string) ([]byte, error)) ([]*File, ErrorList, error) {
	slices.Sort(names)
	names = slices.Compact(names)
	files := make([]*File, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("loading rules: %w", err)
		}
		data, err := read(name)
		if err != nil {
			errs = append(errs, &Error{File: name, Msg: fmt.Sprintf("reading rule file: %v", err)})
			continue
		}
		f, err := Parse(name, data)
		if l, ok := err.(ErrorList); ok {
			errs = append(errs, l...)
		}
		files = append(files, f)
	}
	return files, errs, nil
}

func load(files []*File, errs ErrorList) (*RuleSet, error) {
	set, err := NewRuleSet(files...)
	if l, ok := err.(ErrorList); ok {
		errs = append(errs, l...)
	}
	errs.Sort()
	return set, errs.Err()
}

// NewRuleSet checks parsed files as one set: duplicate ids and names,
// correlation references (by id, then name, then title as a fallback,
// which is reported as a warning) and reference cycles. It resolves every
// RuleRef it can. Correlations with unresolved references are dropped from
// the set; the error is an ErrorList, sorted.
func NewRuleSet(files ...*File) (*RuleSet, error) {
	s := &RuleSet{
		Files:   slices.Clone(files),
		byID:    map[string]target{},
		byName:  map[string]target{},
		byTitle: map[string][]target{},
	}
	slices.SortStableFunc(s.Files, func(a, b *File) int { return strings.Compare(a.Name, b.Name) })
	d := &diag{}
	rejected := map[string]bool{}
	var all []target
	for _, f := range s.Files {
		s.Warnings = append(s.Warnings, f.Warnings...)
		s.Invalid = append(s.Invalid, f.invalid...)
		for k := range f.rejected {
			rejected[k] = true
		}
		for _, r := range f.Rules {
			all = append(all, target{rule: r})
		}
		for _, c := range f.Correlations {
			all = append(all, target{corr: c})
		}
	}
	// Documents in file order, so "first defined" is deterministic.
	slices.SortStableFunc(all, func(a, b target) int {
		fa, da := a.fileDoc()
		fb, db := b.fileDoc()
		if c := strings.Compare(fa, fb); c != 0 {
			return c
		}
		return da - db
	})
	dup := map[*Meta]bool{}
	kept := all[:0]
	for _, t := range all {
		m := t.meta()
		file, _ := t.fileDoc()
		d.file = file
		duplicate := func(format string, args ...any) {
			d.errorf(t.pos(), format, args...)
			dup[m] = true
			if t.corr != nil {
				s.Invalid = append(s.Invalid, d.errs[len(d.errs)-1])
			}
		}
		if m.ID != "" {
			if prev, ok := s.byID[m.ID]; ok {
				if prev.digest() == t.digest() && prev.digest() != [32]byte{} {
					// The same rule copied into several files (Suzaku ships a
					// correlation's rules both alone and inside the correlation file).
					d.warnf(t.pos(), "rule %q is an exact copy of the rule at %s: the copy is ignored", m.ID, prev.where())
					continue
				}
				duplicate("duplicate rule id %q (also used at %s)", m.ID, prev.where())
			} else {
				s.byID[m.ID] = t
			}
		}
		if m.Name != "" {
			if prev, ok := s.byName[m.Name]; ok {
				duplicate("duplicate rule name %q (also used at %s)", m.Name, prev.where())
			} else {
				s.byName[m.Name] = t
			}
		}
		s.byTitle[m.Title] = append(s.byTitle[m.Title], t)
		kept = append(kept, t)
	}
	all = kept
	// Every error from here on is a correlation's.
	fromCorrelations := len(d.errs)
	bad := map[*Correlation]bool{}
	for _, t := range all {
		if t.corr == nil {
			continue
		}
		c := t.corr
		d.file = c.File
		for _, ref := range c.Rules {
			if !s.resolve(d, c, ref, rejected) {
				bad[c] = true
			}
		}
	}
	s.checkCycles(d, all, bad)
	// A correlation built on a rejected correlation cannot run either.
	for changed := true; changed; {
		changed = false
		for _, t := range all {
			if t.corr == nil || bad[t.corr] {
				continue
			}
			for _, ref := range t.corr.Rules {
				if ref.Correlation != nil && bad[ref.Correlation] {
					d.file = t.corr.File
					d.errorf(ref.Pos, "correlation references %q, which is rejected", ref.Ref)
					bad[t.corr], changed = true, true
					break
				}
			}
		}
	}
	s.Invalid = append(s.Invalid, d.errs[fromCorrelations:]...)
	s.Invalid.Sort()
	for _, t := range all {
		switch {
		case dup[t.meta()]:
		case t.rule != nil:
			s.Rules = append(s.Rules, t.rule)
		case !bad[t.corr]:
			s.Correlations = append(s.Correlations, t.corr)
		}
	}
	s.Warnings = append(s.Warnings, d.warnings...)
	s.Warnings.Sort()
	d.errs.Sort()
	return s, d.errs.Err()
}

func (t target) fileDoc() (string, int) {
	if t.rule != nil {
		return t.rule.File, t.rule.Doc
	}
	return t.corr.File, t.corr.Doc
}

func (t target) digest() [32]byte {
	if t.rule != nil {
		return t.rule.digest
	}
	return t.corr.digest
}

func (t target) pos() Pos {
	if t.rule != nil {
		return t.rule.Pos
	}
	return t.corr.Pos
}

// resolve resolves one reference of c, reporting failures to d.
func (s *RuleSet) resolve(d *diag, c *Correlation, ref *RuleRef, rejected map[string]bool) bool {
	t, ok := s.byID[ref.Ref]
	by := "id"
	if !ok {
		t, ok = s.byName[ref.Ref]
		by = "name"
	}
	if !ok {
		cands := s.byTitle[ref.Ref]
		// Prefer a rule of the same file when titles repeat across files.
		var local []target
		for _, x := range cands {
			if f, _ := x.fileDoc(); f == c.File {
				local = append(local, x)
			}
		}
		if len(local) > 0 {
			cands = local
		}
		switch {
		case len(cands) == 1:
			t, ok, by = cands[0], true, "title"
			d.warnf(ref.Pos, "rule %q is referenced by its title: Sigma references rules by id or name", ref.Ref)
		case len(cands) > 1:
			d.errorf(ref.Pos, "rule reference %q is ambiguous: %d rules have this title (reference them by id or name)", ref.Ref, len(cands))
			return false
		}
	}
	if !ok {
		if rejected[ref.Ref] {
			d.errorf(ref.Pos, "correlation references %q, which has errors of its own: the correlation cannot run", ref.Ref)
			return false
		}
		d.errorf(ref.Pos, "correlation references unknown rule %q (no rule has this id or name)", ref.Ref)
		return false
	}
	if t.corr == c {
		d.errorf(ref.Pos, "correlation references itself")
		return false
	}
	ref.Rule, ref.Correlation, ref.By = t.rule, t.corr, by
	return true
}

// checkCycles reports correlations that reference themselves through
// other correlations.
func (s *RuleSet) checkCycles(d *diag, all []target, bad map[*Correlation]bool) {
	const (
		unvisited = iota
		active
		done
	)
	state := map[*Correlation]int{}
	var visit func(c *Correlation) bool
	visit = func(c *Correlation) bool {
		switch state[c] {
		case active:
			return true
		case done:
			return false
		}
		state[c] = active
		defer func() { state[c] = done }()
		for _, ref := range c.Rules {
			if ref.Correlation != nil && visit(ref.Correlation) {
				return true
			}
		}
		return false
	}
	for _, t := range all {
		if t.corr != nil && state[t.corr] == unvisited && visit(t.corr) {
			d.file = t.corr.File
			d.errorf(t.corr.Pos, "correlation %q is part of a reference cycle", t.corr.Title)
			bad[t.corr] = true
		}
	}
}
