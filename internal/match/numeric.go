package match

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
)

// NumOp is a numeric comparison.
type NumOp uint8

// The numeric comparisons: equality (a Sigma number value) and the lt, lte, gt and gte
// modifiers. Each compares the event value (left) with the rule's literal (right).
const (
	NumEq NumOp = iota
	NumLt
	NumLte
	NumGt
	NumGte
)

// String returns the Sigma name of the comparison.
func (o NumOp) String() string {
	switch o {
	case NumEq:
		return "eq"
	case NumLt:
		return "lt"
	case NumLte:
		return "lte"
	case NumGt:
		return "gt"
	case NumGte:
		return "gte"
	}
	return fmt.Sprintf("NumOp(%d)", uint8(o))
}

// number is a parsed decimal: an int64 when the text is an integer that fits, else a float.
type number struct {
	isInt bool
	i     int64
	f     float64
}

// Numeric compares numeric values with a literal. It is immutable and safe for concurrent
// use.
type Numeric struct {
	op  NumOp
	lit number
}

// CompileNumeric compiles the comparison "value op literal". The literal is a decimal number
// in JSON syntax ("25", "-3", "2.5", "1e3").
func CompileNumeric(op NumOp, literal string) (*Numeric, error) {
	if op > NumGte {
		return nil, fmt.Errorf("compiling numeric comparison with %q: unknown operation %d", literal, op)
	}
	n, ok := parseNumber([]byte(literal))
	if !ok {
		return nil, fmt.Errorf("compiling numeric comparison %s %q: not a number", op, literal)
	}
	return &Numeric{op: op, lit: n}, nil
}

// Match reports whether b, the text of a JSON number or the contents of a JSON string holding
// one, compares with the literal as the operation says. Integers that fit in an int64 compare
// exactly; anything else compares as float64. Text that is not a number never matches. It
// does not allocate (except on numbers longer than 32 bytes that are not integers).
func (n *Numeric) Match(b []byte) bool {
	v, ok := parseNumber(b)
	if !ok {
		return false
	}
	var c int
	if v.isInt && n.lit.isInt {
		c = cmp.Compare(v.i, n.lit.i)
	} else {
		c = cmp.Compare(v.float(), n.lit.float()) // parsed JSON numbers are never NaN
	}
	switch n.op {
	case NumEq:
		return c == 0
	case NumLt:
		return c < 0
	case NumLte:
		return c <= 0
	case NumGt:
		return c > 0
	default:
		return c >= 0
	}
}

func (v number) float() float64 {
	if v.isInt {
		return float64(v.i)
	}
	return v.f
}

// parseNumber parses JSON number syntax, except that leading zeros are allowed.
func parseNumber(b []byte) (number, bool) {
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	// Integer part. Track the magnitude: the position of the first significant digit
	// relative to the decimal point, to avoid strconv's range error (which allocates).
	intStart := i
	var acc uint64
	overflow := false
	firstSig := -1 // index in b of the first non-zero digit
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		d := uint64(b[i] - '0')
		if firstSig < 0 && d != 0 {
			firstSig = i
		}
		if acc > (math.MaxUint64-d)/10 {
			overflow = true
		} else {
			acc = acc*10 + d
		}
		i++
	}
	intEnd := i
	if intEnd == intStart {
		return number{}, false
	}
	if i == len(b) && !overflow {
		if !neg && acc <= math.MaxInt64 {
			return number{isInt: true, i: int64(acc)}, true
		}
		if neg && acc <= 1<<63 {
			return number{isInt: true, i: int64(-acc)}, true
		}
	}
	mag := 0 // decimal exponent of the first significant digit, roughly
	if firstSig >= 0 {
		mag = intEnd - firstSig
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			if firstSig < 0 && b[i] != '0' {
				firstSig = i
				mag = start - i
			}
			i++
		}
		if i == start {
			return number{}, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		start := i
		e := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			if e < 100000 {
				e = e*10 + int(b[i]-'0')
			}
			i++
		}
		if i == start {
			return number{}, false
		}
		if eneg {
			e = -e
		}
		mag += e
	}
	if i != len(b) {
		return number{}, false
	}
	if firstSig < 0 {
		return number{f: 0}, true
	}
	if mag > 309 { // at least 1e309, beyond float64
		if neg {
			return number{f: math.Inf(-1)}, true
		}
		return number{f: math.Inf(1)}, true
	}
	// The syntax is valid, so the only error is a range error (for magnitudes just above
	// the largest float64), with f the signed infinity.
	f, _ := strconv.ParseFloat(string(b), 64)
	return number{f: f}, true
}
