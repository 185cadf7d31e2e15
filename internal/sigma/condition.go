package sigma

import (
	"fmt"
	"strings"
)

// Expr is a node of a condition expression: *Ident, *NotExpr, *AndExpr,
// *OrExpr or *OfExpr. Precedence, from loosest to tightest: or, and, not,
// "x of", parentheses. Parentheses leave no node of their own.
type Expr interface {
	// Offset is the byte offset of the node in Condition.Raw.
	Offset() int
	// String renders the node, fully parenthesised, for tests and messages.
	String() string
	isExpr()
}

// Ident is a reference to a search identifier.
type Ident struct {
	Name string
	Off  int
}

// NotExpr is the negation of X.
type NotExpr struct {
	X   Expr
	Off int
}

// AndExpr is the conjunction of two or more terms.
type AndExpr struct {
	Terms []Expr
}

// OrExpr is the disjunction of two or more terms.
type OrExpr struct {
	Terms []Expr
}

// OfExpr is "1 of pattern", "any of pattern", "all of pattern" or the same
// with "them".
type OfExpr struct {
	// All is true for "all of", false for "1 of" and "any of".
	All bool
	// Them is true for "x of them"; Pattern is then empty.
	Them bool
	// Pattern is the identifier pattern; * matches any run of characters.
	Pattern string
	// Names are the search identifiers the pattern (or "them") matches,
	// in document order. Parse fills them in; ParseCondition leaves them nil.
	// "them" leaves out identifiers that start with an underscore.
	Names []string
	Off   int
}

func (e *Ident) Offset() int   { return e.Off }
func (e *NotExpr) Offset() int { return e.Off }
func (e *AndExpr) Offset() int { return e.Terms[0].Offset() }
func (e *OrExpr) Offset() int  { return e.Terms[0].Offset() }
func (e *OfExpr) Offset() int  { return e.Off }

func (e *Ident) String() string   { return e.Name }
func (e *NotExpr) String() string { return "not " + e.X.String() }
func (e *AndExpr) String() string { return joinTerms(e.Terms, " and ") }
func (e *OrExpr) String() string  { return joinTerms(e.Terms, " or ") }
func (e *OfExpr) String() string {
	q := "1"
	if e.All {
		q = "all"
	}
	target := e.Pattern
	if e.Them {
		target = "them"
	}
	return q + " of " + target
}

func joinTerms(terms []Expr, sep string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

func (*Ident) isExpr()   {}
func (*NotExpr) isExpr() {}
func (*AndExpr) isExpr() {}
func (*OrExpr) isExpr()  {}
func (*OfExpr) isExpr()  {}

// ConditionError is a syntax or reference error in a condition expression.
type ConditionError struct {
	// Offset is the byte offset in the expression.
	Offset int
	Msg    string
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokNumber
	tokAnd
	tokOr
	tokNot
	tokOf
	tokAll
	tokAny
	tokThem
	tokLParen
	tokRParen
)

type token struct {
	kind tokenKind
	text string
	off  int
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of condition"
	case tokLParen, tokRParen:
		return fmt.Sprintf("%q", t.text)
	case tokIdent:
		return fmt.Sprintf("identifier %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

var keywords = map[string]tokenKind{
	"and":  tokAnd,
	"or":   tokOr,
	"not":  tokNot,
	"of":   tokOf,
	"all":  tokAll,
	"any":  tokAny,
	"them": tokThem,
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '*' || c == '-' || c == '.' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// lex splits a condition into tokens.
func lex(src string) ([]token, *ConditionError) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == '|':
			return nil, &ConditionError{i, "aggregation expressions (\"| count() by ...\") are not part of Sigma any more: write a correlation rule instead"}
		case isIdentByte(c):
			j := i
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			word := src[i:j]
			kind := tokIdent
			if k, ok := keywords[strings.ToLower(word)]; ok {
				kind = k
			} else if isDigits(word) {
				kind = tokNumber
			}
			toks = append(toks, token{kind, word, i})
			i = j
		default:
			r := []rune(src[i:])[0]
			return nil, &ConditionError{i, fmt.Sprintf("unexpected character %q", r)}
		}
	}
	return append(toks, token{tokEOF, "", len(src)}), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// ParseCondition parses a condition expression. It checks syntax only; the
// identifiers are not resolved (Parse does that against the detection).
func ParseCondition(src string) (Expr, error) {
	e, err := parseCondition(src)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func parseCondition(src string) (Expr, *ConditionError) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	if toks[0].kind == tokEOF {
		return nil, &ConditionError{0, "empty condition"}
	}
	p := &condParser{toks: toks}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokRParen {
			return nil, &ConditionError{t.off, `unbalanced ")"`}
		}
		return nil, &ConditionError{t.off, fmt.Sprintf("unexpected %s: expected \"and\", \"or\" or end of condition", t.describe())}
	}
	return e, nil
}

// condParser is a recursive-descent parser over the tokens of a condition.
type condParser struct {
	toks  []token
	pos   int
	depth int
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 200

func (p *condParser) peek() token { return p.toks[p.pos] }

func (p *condParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *condParser) parseOr() (Expr, *ConditionError) {
	x, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	terms := []Expr{x}
	for p.peek().kind == tokOr {
		p.next()
		y, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		terms = append(terms, y)
	}
	if len(terms) == 1 {
		return x, nil
	}
	return &OrExpr{Terms: terms}, nil
}

func (p *condParser) parseAnd() (Expr, *ConditionError) {
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	terms := []Expr{x}
	for p.peek().kind == tokAnd {
		p.next()
		y, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, y)
	}
	if len(terms) == 1 {
		return x, nil
	}
	return &AndExpr{Terms: terms}, nil
}

func (p *condParser) parseUnary() (Expr, *ConditionError) {
	if p.depth++; p.depth > maxDepth {
		return nil, &ConditionError{p.peek().off, "condition is nested too deeply"}
	}
	defer func() { p.depth-- }()
	if t := p.peek(); t.kind == tokNot {
		p.next()
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &NotExpr{X: x, Off: t.off}, nil
	}
	return p.parsePrimary()
}

func (p *condParser) parsePrimary() (Expr, *ConditionError) {
	t := p.next()
	switch t.kind {
	case tokLParen:
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, &ConditionError{c.off, fmt.Sprintf("expected \")\" to close the \"(\" at offset %d, found %s", t.off, c.describe())}
		}
		return x, nil
	case tokIdent:
		if strings.Contains(t.text, "*") {
			return nil, &ConditionError{t.off, fmt.Sprintf("wildcard pattern %q must follow \"1 of\" or \"all of\"", t.text)}
		}
		return &Ident{Name: t.text, Off: t.off}, nil
	case tokNumber, tokAll, tokAny:
		return p.parseOf(t)
	case tokEOF:
		return nil, &ConditionError{t.off, "unexpected end of condition: expected a search identifier, \"not\", \"(\" or \"x of\""}
	}
	return nil, &ConditionError{t.off, fmt.Sprintf("unexpected %s: expected a search identifier, \"not\", \"(\" or \"x of\"", t.describe())}
}

func (p *condParser) parseOf(q token) (Expr, *ConditionError) {
	if q.kind == tokNumber && q.text != "1" {
		return nil, &ConditionError{q.off, fmt.Sprintf("%q of is not supported: use \"1 of\" or \"all of\"", q.text)}
	}
	if of := p.next(); of.kind != tokOf {
		return nil, &ConditionError{of.off, fmt.Sprintf("expected \"of\" after %q, found %s", q.text, of.describe())}
	}
	e := &OfExpr{All: q.kind == tokAll, Off: q.off}
	switch t := p.next(); t.kind {
	case tokThem:
		e.Them = true
	case tokIdent, tokNumber:
		e.Pattern = t.text
	default:
		return nil, &ConditionError{t.off, fmt.Sprintf("expected \"them\" or a search identifier pattern after \"of\", found %s", t.describe())}
	}
	return e, nil
}

// resolveCondition checks that every identifier and pattern of e names
// existing search identifiers and fills in OfExpr.Names.
func resolveCondition(e Expr, names []string) []*ConditionError {
	var errs []*ConditionError
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	var walk func(Expr)
	walk = func(e Expr) {
		switch e := e.(type) {
		case *Ident:
			if !known[e.Name] {
				errs = append(errs, &ConditionError{e.Off, fmt.Sprintf("unknown search identifier %q%s", e.Name, suggest(e.Name, names))})
			}
		case *NotExpr:
			walk(e.X)
		case *AndExpr:
			for _, t := range e.Terms {
				walk(t)
			}
		case *OrExpr:
			for _, t := range e.Terms {
				walk(t)
			}
		case *OfExpr:
			e.Names = nil
			for _, n := range names {
				if e.Them && !strings.HasPrefix(n, "_") || !e.Them && globMatch(e.Pattern, n) {
					e.Names = append(e.Names, n)
				}
			}
			if len(e.Names) == 0 {
				if e.Them {
					errs = append(errs, &ConditionError{e.Off, "\"them\" matches no search identifier"})
				} else {
					errs = append(errs, &ConditionError{e.Off, fmt.Sprintf("pattern %q matches no search identifier", e.Pattern)})
				}
			}
		}
	}
	walk(e)
	return errs
}

// suggest returns a hint naming a known identifier that differs from name
// only in case, or the empty string.
func suggest(name string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return fmt.Sprintf(" (did you mean %q? identifiers are case-sensitive)", n)
		}
	}
	return ""
}

// globMatch reports whether s matches pattern, where * matches any run of
// characters and everything else matches itself.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
