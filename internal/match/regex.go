package match

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
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
	// lit is a literal every match contains (case-insensitively when fold): values without
	// it are rejected without running the expression. Empty when there is none to rely on.
	lit   []byte
	fold  bool
	shape RegexShape
}

// RegexShape is what the syntax of an expression says about its cost (rules lint reports
// expressions likely to be slow). Go's engine (RE2) never backtracks exponentially: the
// cost of a search grows with the size of the program times the length of the value.
type RegexShape struct {
	// Insts is the number of instructions of the compiled program.
	Insts int
	// Anchored: the expression only matches at the start of the value (^ or \A), so a
	// search tries one position instead of every one.
	Anchored bool
	// Literal is the literal every match contains, which rejects values without it before
	// the expression runs ("" when there is none to use).
	Literal string
	// Alternatives is the largest number of plain-literal alternatives of one alternation.
	Alternatives int
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
	r := &Regex{expr: expr, re: re, shape: regexShape(prefix + expr)}
	if lit, fold := requiredLiteral(prefix + expr); lit != "" {
		r.shape.Literal = lit
		if fold {
			lit = strings.ToLower(lit) // indexFoldASCII wants it lower-case
		}
		r.lit, r.fold = []byte(lit), fold
	}
	return r, nil
}

// requiredLiteral returns the longest literal that any match of expr contains, and whether
// it is matched case-insensitively; "" when the syntax tree shows none. Only literals of a
// top-level concatenation (or inside a capture or a repetition of at least one) count. Of a
// case-insensitive literal only the ASCII pieces without k or s are used: their Unicode case
// folds (the Kelvin sign, the long s) are what an ASCII comparison would miss.
func requiredLiteral(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	best, bestFold := "", false
	var walk func(r *syntax.Regexp)
	consider := func(r *syntax.Regexp) {
		lit := string(r.Rune)
		fold := r.Flags&syntax.FoldCase != 0
		pieces := []string{lit}
		if fold {
			// Any piece of a required literal is required too: keep the safe ones.
			pieces = strings.FieldsFunc(lit, func(c rune) bool { return c >= utf8.RuneSelf || foldsOutsideASCII(c) })
		}
		for _, p := range pieces {
			if len(p) > len(best) {
				best, bestFold = p, fold
			}
		}
	}
	walk = func(r *syntax.Regexp) {
		switch r.Op {
		case syntax.OpLiteral:
			consider(r)
		case syntax.OpConcat:
			for _, sub := range r.Sub {
				walk(sub)
			}
		case syntax.OpCapture, syntax.OpPlus:
			walk(r.Sub[0])
		case syntax.OpRepeat:
			if r.Min >= 1 {
				walk(r.Sub[0])
			}
		}
	}
	walk(re)
	return best, bestFold
}

// regexShape measures an expression that compiles.
func regexShape(expr string) RegexShape {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return RegexShape{}
	}
	re = re.Simplify()
	var sh RegexShape
	if prog, err := syntax.Compile(re); err == nil {
		sh.Insts = len(prog.Inst)
		sh.Anchored = prog.StartCond()&syntax.EmptyBeginText != 0
	}
	sh.Alternatives = literalBranches(expr)
	return sh
}

// literalBranches returns the largest number of branches of one alternation (one group
// level of '|') that are plain literals, read from the expression's text: the parser
// factors common prefixes out of alternations, so its tree no longer shows them.
func literalBranches(expr string) int {
	type level struct {
		plain bool // the branch read so far is a plain literal
		n     int  // plain branches of the level
	}
	best := 0
	stack := []level{{plain: true}}
	end := func(l *level) {
		if l.plain {
			l.n++
		}
		l.plain = true
	}
	for i := 0; i < len(expr); i++ {
		top := &stack[len(stack)-1]
		switch c := expr[i]; c {
		case '\\':
			i++ // an escaped character is a literal one
		case '[':
			top.plain = false
			for i++; i < len(expr) && expr[i] != ']'; i++ {
				if expr[i] == '\\' {
					i++
				}
			}
		case '(':
			if strings.HasPrefix(expr[i:], "(?") {
				j := strings.IndexAny(expr[i+1:], ":)")
				if j < 0 {
					return best
				}
				if i += j + 1; expr[i] == ')' {
					continue // flags only, as in (?i): no group
				}
			}
			stack = append(stack, level{plain: true})
		case ')':
			end(top)
			best = max(best, top.n)
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			stack[len(stack)-1].plain = false
		case '|':
			end(top)
		case '.', '*', '+', '?', '{', '^', '$':
			top.plain = false
		}
	}
	end(&stack[0])
	return max(best, stack[0].n)
}

// Shape returns what the syntax of the expression says about its cost.
func (r *Regex) Shape() RegexShape { return r.shape }

// Expr returns the expression the matcher was compiled from, without flags.
func (r *Regex) Expr() string { return r.expr }

// Match reports whether the expression matches somewhere in b.
func (r *Regex) Match(b []byte) bool {
	if r.lit != nil {
		if r.fold && indexFoldASCII(b, r.lit) < 0 || !r.fold && !bytes.Contains(b, r.lit) {
			return false
		}
	}
	return r.re.Match(b)
}
