package match

import (
	"fmt"
	"regexp"
)

// RegexFlags are the sub-modifiers of Sigma's "re" modifier.
type RegexFlags uint8

// The regular expression flags.
const (
	RegexI RegexFlags = 1 << iota // |re|i: case-insensitive
	RegexM                        // |re|m: multi-line, ^ and $ match at line breaks
	RegexS                        // |re|s: single-line, . matches a newline
)

// Regex is a compiled Sigma regular expression, matched unanchored against the value as
// Sigma specifies (use ^ and $ to anchor). It is case-sensitive unless compiled with RegexI.
// It is immutable and safe for concurrent use.
type Regex struct {
	expr string
	re   *regexp.Regexp
}

// CompileRegex compiles a Sigma regular expression with Go's RE2 syntax, which accepts the
// PCRE subset the Sigma specification allows (and rejects back-references and look-around).
func CompileRegex(expr string, flags RegexFlags) (*Regex, error) {
	prefix := ""
	if flags&(RegexI|RegexM|RegexS) != 0 {
		prefix = "(?"
		if flags&RegexI != 0 {
			prefix += "i"
		}
		if flags&RegexM != 0 {
			prefix += "m"
		}
		if flags&RegexS != 0 {
			prefix += "s"
		}
		prefix += ")"
	}
	re, err := regexp.Compile(prefix + expr)
	if err != nil {
		return nil, fmt.Errorf("compiling regular expression %q: %w", expr, err)
	}
	return &Regex{expr: expr, re: re}, nil
}

// Expr returns the expression the matcher was compiled from, without flags.
func (r *Regex) Expr() string { return r.expr }

// Match reports whether the expression matches somewhere in b.
func (r *Regex) Match(b []byte) bool { return r.re.Match(b) }
