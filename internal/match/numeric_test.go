package match

import (
	"strconv"
	"testing"
)

func TestNumeric(t *testing.T) {
	tests := []struct {
		op      NumOp
		literal string
		value   string
		want    bool
	}{
		{NumEq, "25", "25", true},
		{NumEq, "25", "025", true},
		{NumEq, "25", "25.0", true},
		{NumEq, "25", "2.5e1", true},
		{NumEq, "25", "26", false},
		{NumEq, "25", "", false},
		{NumEq, "25", "twenty-five", false},
		{NumEq, "25", " 25", false},
		{NumEq, "25", "25 ", false},
		{NumEq, "25", "+25", false},
		{NumEq, "25", "25.", false},
		{NumEq, "25", ".5", false},
		{NumEq, "25", "-", false},
		{NumEq, "25", "1e", false},
		{NumEq, "0", "-0", true},
		{NumEq, "0", "0.000", true},
		{NumEq, "2.5", "2.5", true},
		{NumEq, "2.5", "2.50", true},
		// Integers compare exactly even where float64 cannot tell them apart.
		{NumEq, "9007199254740993", "9007199254740992", false},
		{NumEq, "9007199254740993", "9007199254740993", true},
		{NumGt, "9007199254740992", "9007199254740993", true},
		{NumEq, "-9223372036854775808", "-9223372036854775808", true},
		{NumLt, "9223372036854775807", "9223372036854775808", false},
		{NumGt, "9223372036854775807", "99999999999999999999", true},
		{NumLt, "0", "-99999999999999999999", true},
		{NumGt, "10", "11", true},
		{NumGt, "10", "10", false},
		{NumGte, "10", "10", true},
		{NumGte, "10", "9.999", false},
		{NumLt, "10", "9.999", true},
		{NumLt, "10", "10", false},
		{NumLte, "10", "10", true},
		{NumLte, "10", "10.001", false},
		{NumLt, "1.5", "1", true},
		{NumGt, "-1", "-0.5", true},
		{NumGt, "1e300", "1e309", true},   // +Inf
		{NumLt, "-1e300", "-1e999", true}, // -Inf
		{NumGt, "0", "1e-400", false},     // underflows to 0
		{NumGt, "0", "0.0000000000000000000000000000000000001", true},
		{NumGt, "1e308", "0.00000000000000000001e330", true},
	}
	for _, tt := range tests {
		n, err := CompileNumeric(tt.op, tt.literal)
		if err != nil {
			t.Fatalf("CompileNumeric(%v, %q): %v", tt.op, tt.literal, err)
		}
		if got := n.Match([]byte(tt.value)); got != tt.want {
			t.Errorf("%q %v %q = %v, want %v", tt.value, tt.op, tt.literal, got, tt.want)
		}
	}
	for _, bad := range []string{"", "x", "1.2.3", "0x10", "NaN", "Inf"} {
		if _, err := CompileNumeric(NumEq, bad); err == nil {
			t.Errorf("CompileNumeric(%q) succeeded, want an error", bad)
		}
	}
	if _, err := CompileNumeric(NumOp(9), "1"); err == nil {
		t.Error("CompileNumeric(NumOp(9)) succeeded, want an error")
	}
}

// FuzzParseNumber checks the number parser against strconv for what both accept.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-1", "1.5", "1e3", "9223372036854775808", "1e309", "-0.0", "007", "1e-400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseNumber([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if !ok {
			return
		}
		if err != nil && !isRangeErr(err) {
			t.Fatalf("parseNumber(%q) accepted what strconv rejects: %v", s, err)
		}
		if n.isInt {
			if i, err := strconv.ParseInt(s, 10, 64); err != nil || i != n.i {
				t.Errorf("parseNumber(%q) = int %d, strconv says %d, %v", s, n.i, i, err)
			}
			return
		}
		if n.f != want {
			t.Errorf("parseNumber(%q) = %v, strconv says %v", s, n.f, want)
		}
	})
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
