package match

import (
	"testing"
)

func TestSet(t *testing.T) {
	values := []string{"ConsoleLogin", "GetObject", "straße", "Kelvin", `a\*b`, "", "DeleteTrail", "deletetrail"}
	fold, err := NewSet(Options{}, values...)
	if err != nil {
		t.Fatal(err)
	}
	cased, err := NewSet(Options{Cased: true}, values...)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fold.Len(), len(values)-1; got != want {
		t.Errorf("folded Len() = %d, want %d (DeleteTrail twice)", got, want)
	}
	if got, want := cased.Len(), len(values); got != want {
		t.Errorf("cased Len() = %d, want %d", got, want)
	}
	tests := []struct {
		value       string
		fold, case_ bool
	}{
		{"ConsoleLogin", true, true},
		{"consolelogin", true, false},
		{"CONSOLELOGIN", true, false},
		{"ConsoleLogin ", false, false},
		{"ConsoleLogi", false, false},
		{"GetObject", true, true},
		{"STRASSE", false, false},
		{"STRAßE", true, false},
		{"\u212aelvin", true, false},
		{"Kelvin", true, true},
		{"a*b", true, true},
		{`a\*b`, false, false},
		{"", true, true},
		{"deleteTRAIL", true, false},
		{"deletetrail", true, true},
		{"x", false, false},
		{"\xff", false, false},
	}
	for _, tt := range tests {
		if got := fold.Match([]byte(tt.value)); got != tt.fold {
			t.Errorf("folded set Match(%q) = %v, want %v", tt.value, got, tt.fold)
		}
		if got := cased.Match([]byte(tt.value)); got != tt.case_ {
			t.Errorf("cased set Match(%q) = %v, want %v", tt.value, got, tt.case_)
		}
	}
}

func TestSetErrors(t *testing.T) {
	if _, err := NewSet(Options{}, "a", "b*"); err == nil {
		t.Error("NewSet with a wildcard succeeded, want an error")
	}
	empty, err := NewSet(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Match(nil) || empty.Match([]byte("x")) {
		t.Error("empty set matched")
	}
}

// FuzzSet checks the set against String equality for the same values.
func FuzzSet(f *testing.F) {
	f.Add("ConsoleLogin", "consolelogin", "x", false)
	f.Add("\u212a", "k", "K", false)
	f.Add("ſ", "S", "\xff", true)
	f.Fuzz(func(t *testing.T, a, b, value string, cased bool) {
		pa, pb := Escape(a), Escape(b)
		s, err := NewSet(Options{Cased: cased}, pa, pb)
		if err != nil {
			t.Fatal(err)
		}
		ma, _ := CompileString(Equals, pa, Options{Cased: cased})
		mb, _ := CompileString(Equals, pb, Options{Cased: cased})
		v := []byte(value)
		if got, want := s.Match(v), ma.Match(v) || mb.Match(v); got != want {
			t.Errorf("set {%q, %q} (cased %v) Match(%q) = %v, String says %v", a, b, cased, value, got, want)
		}
	})
}
