// Package ioc loads lists of indicators of compromise (container images, user names,
// networks, AS numbers) from text files, so Sigma rules can name them as |expand
// placeholders (%mining_images%) instead of repeating the values.
//
// A list is a file with one Sigma pattern per line; the list's name is the file's name. The
// built-in lists are compiled into the binary (see data/README.md for the format and the
// lists); users add files with --ioc. A Set is immutable once loaded and safe for concurrent
// use.
package ioc

import (
	"bufio"
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trailhound/trailhound/internal/match"
)

//go:embed data/*.txt
var builtinFS embed.FS

// BuiltinSource is the Source of values that come from the lists compiled into the binary.
const BuiltinSource = "builtin"

// maxLine is the longest line a list file may have.
const maxLine = 64 << 10

// List is one named list of values.
type List struct {
	// Name is the placeholder name, without percent signs.
	Name string
	// Sources are where the values came from, in load order: BuiltinSource or a file path.
	Sources []string
	// About is what the list is for: the first comment line of the file that started it.
	About string
	// Values are Sigma patterns, each once, in the order first seen.
	Values []string
	// Remove are the values a file's "!value" lines take out of the list loaded before it
	// ("*" takes out all of them: the file then replaces the list). Parse fills it; the
	// lists of a Set have it applied and empty.
	Remove []string
}

// Set is the lists of one run, by name. It is immutable and safe for concurrent use.
type Set struct {
	lists map[string]*List
}

// Load reads the built-in lists (when builtin is true) and then each path: a list file, or a
// directory whose *.txt files are read in name order. A file whose list name is already
// known extends that list, after taking out the values its "!value" lines name ("!*": all
// of them, so that the file replaces the list). All errors are returned together as an ErrorList, sorted, with
// file and line; the Set is never nil and holds every list that loaded.
func Load(builtin bool, paths ...string) (*Set, error) {
	s := &Set{lists: map[string]*List{}}
	var errs ErrorList
	if builtin {
		entries, err := fs.ReadDir(builtinFS, "data")
		if err != nil {
			return s, fmt.Errorf("reading built-in IOC lists: %w", err)
		}
		for _, e := range entries {
			if path.Ext(e.Name()) != ".txt" {
				continue
			}
			data, err := builtinFS.ReadFile("data/" + e.Name())
			if err != nil {
				return s, fmt.Errorf("reading built-in IOC list %s: %w", e.Name(), err)
			}
			s.add(e.Name(), BuiltinSource, data, &errs)
		}
	}
	for _, p := range paths {
		s.loadPath(p, &errs)
	}
	errs.Sort()
	return s, errs.Err()
}

func (s *Set) loadPath(p string, errs *ErrorList) {
	fi, err := os.Stat(p)
	if err != nil {
		*errs = append(*errs, &Error{File: p, Msg: fmt.Sprintf("reading IOC file: %v", unwrapPath(err))})
		return
	}
	if !fi.IsDir() {
		data, err := os.ReadFile(p)
		if err != nil {
			*errs = append(*errs, &Error{File: p, Msg: fmt.Sprintf("reading IOC file: %v", unwrapPath(err))})
			return
		}
		s.add(filepath.Base(p), p, data, errs)
		return
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		*errs = append(*errs, &Error{File: p, Msg: fmt.Sprintf("reading IOC directory: %v", unwrapPath(err))})
		return
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".txt" {
			continue
		}
		s.loadPath(filepath.Join(p, e.Name()), errs)
	}
}

// unwrapPath drops the path an *fs.PathError repeats, since Error already names the file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// add parses one file and merges its list into s.
func (s *Set) add(base, source string, data []byte, errs *ErrorList) {
	l, err := Parse(base, source, bytes.NewReader(data))
	if err != nil {
		var el ErrorList
		if errors.As(err, &el) {
			*errs = append(*errs, el...)
		} else {
			*errs = append(*errs, &Error{File: source, Msg: err.Error()})
		}
		if l.Name == "" {
			return
		}
	}
	have, ok := s.lists[l.Name]
	if !ok {
		l.Remove = nil
		s.lists[l.Name] = &l
		return
	}
	have.Sources = append(have.Sources, source)
	for _, r := range l.Remove {
		if r == "*" {
			have.Values = nil
			continue
		}
		have.Values = slices.DeleteFunc(have.Values, func(v string) bool { return v == r })
	}
	for _, v := range l.Values {
		if !slices.Contains(have.Values, v) {
			have.Values = append(have.Values, v)
		}
	}
}

// Parse reads one list file. base is the file's name, from which the list name comes
// (mining_images.txt → mining_images); source is how errors and List.Sources name the file.
// Errors are an ErrorList with line numbers; the List then holds the lines that were valid
// (and no name when the file name is not a valid list name).
func Parse(base, source string, r io.Reader) (List, error) {
	var errs ErrorList
	name := strings.TrimSuffix(base, filepath.Ext(base))
	l := List{Sources: []string{source}}
	if err := checkName(name); err != nil {
		errs = append(errs, &Error{File: source, Msg: err.Error()})
	} else {
		l.Name = name
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	line := 0
	for sc.Scan() {
		line++
		if about, ok := strings.CutPrefix(sc.Text(), "#"); ok && line == 1 && utf8.ValidString(about) {
			l.About = strings.TrimSpace(about)
		}
		v, remove, err := parseLine(sc.Text(), name)
		if err != nil {
			errs = append(errs, &Error{File: source, Line: line, Msg: err.Error()})
			continue
		}
		if remove {
			if !slices.Contains(l.Remove, v) {
				l.Remove = append(l.Remove, v)
			}
			continue
		}
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		l.Values = append(l.Values, v)
	}
	if err := sc.Err(); err != nil {
		msg := fmt.Sprintf("reading: %v", err)
		if errors.Is(err, bufio.ErrTooLong) {
			msg = fmt.Sprintf("line longer than %d bytes", maxLine)
		}
		errs = append(errs, &Error{File: source, Line: line + 1, Msg: msg})
	}
	return l, errs.Err()
}

// checkName accepts a lower-case letter followed by lower-case letters, digits and '_'.
func checkName(name string) error {
	ok := name != "" && 'a' <= name[0] && name[0] <= 'z'
	for _, c := range []byte(name) {
		ok = ok && ('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_')
	}
	if !ok {
		return fmt.Errorf("list name %q (from the file name) must be lower-case letters, digits and _, starting with a letter", name)
	}
	return nil
}

// parseLine returns the value on a line ("" for none), checked against the list's kind, and
// whether the line removes it ("!value").
func parseLine(text, list string) (string, bool, error) {
	if !utf8.ValidString(text) {
		return "", false, errors.New("not valid UTF-8")
	}
	for i := 0; i < len(text); i++ {
		if text[i] == '#' && (i == 0 || text[i-1] == ' ' || text[i-1] == '\t') {
			text = text[:i]
			break
		}
	}
	v := strings.TrimSpace(text)
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "", false, fmt.Errorf("control character %U in value", r)
		}
	}
	v, remove := strings.CutPrefix(v, "!")
	if remove {
		if v = strings.TrimSpace(v); v == "" {
			return "", false, errors.New(`"!" removes the value after it from the list; "!*" empties it`)
		}
		if v == "*" {
			return v, true, nil
		}
	}
	if v == "" {
		return "", false, nil
	}
	switch {
	case strings.HasSuffix(list, "_cidrs"):
		if _, err := match.CompileCIDR(v); err != nil {
			return "", false, fmt.Errorf("list %s holds networks: %w", list, err)
		}
	case strings.HasSuffix(list, "_asns"):
		n := v
		if len(n) > 2 && strings.EqualFold(n[:2], "AS") {
			n = n[2:]
		}
		asn, err := strconv.ParseUint(n, 10, 32)
		if err != nil {
			return "", false, fmt.Errorf("list %s holds AS numbers: %q is not one", list, v)
		}
		v = strconv.FormatUint(asn, 10)
	}
	return v, remove, nil
}

// Placeholders returns the lists as detect.Options.Placeholders wants them: values by list
// name. The map and slices are the caller's.
func (s *Set) Placeholders() map[string][]string {
	out := make(map[string][]string, len(s.lists))
	for name, l := range s.lists {
		out[name] = slices.Clone(l.Values)
	}
	return out
}

// Lists returns every list, sorted by name, for display (trailhound ioc list). The result is
// the caller's.
func (s *Set) Lists() []List {
	out := make([]List, 0, len(s.lists))
	for _, l := range s.lists {
		out = append(out, List{Name: l.Name, About: l.About, Sources: slices.Clone(l.Sources), Values: slices.Clone(l.Values)})
	}
	slices.SortFunc(out, func(a, b List) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// List returns the named list.
func (s *Set) List(name string) (List, bool) {
	l, ok := s.lists[name]
	if !ok {
		return List{}, false
	}
	return List{Name: l.Name, About: l.About, Sources: slices.Clone(l.Sources), Values: slices.Clone(l.Values)}, true
}
