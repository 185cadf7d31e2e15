package sigma

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a rule file. Line and Col are 1-based; a zero Pos
// means the position is unknown (for example a key missing from a document).
type Pos struct {
	Line int
	Col  int
}

// String formats p as "line:col".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is one problem found in a rule file, with its position.
// The same type carries warnings, which are returned separately from errors
// (see File.Warnings and RuleSet.Warnings).
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

// Error formats e as "file:line:col: msg", the form editors and compilers
// use, or "file: msg" when the error has no position (an unreadable file).
func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Pos returns the position of e.
func (e *Error) Pos() Pos { return Pos{Line: e.Line, Col: e.Col} }

// ErrorList is every error found in one or more rule files. Parse and the
// loaders return it as their error; use errors.As to get at the entries.
type ErrorList []*Error

// Error joins the entries, one per line.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the entries, so errors.As can find an individual *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Sort orders the list by file, line, column and message, and drops exact
// duplicates.
func (l *ErrorList) Sort() {
	slices.SortStableFunc(*l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	*l = slices.CompactFunc(*l, func(a, b *Error) bool { return *a == *b })
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// diag collects errors and warnings for one file.
type diag struct {
	file     string
	errs     ErrorList
	warnings ErrorList
}

func (d *diag) errorf(p Pos, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}

func (d *diag) warnf(p Pos, format string, args ...any) {
	d.warnings = append(d.warnings, &Error{File: d.file, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}
