package safetext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice", "alice"},
		{"=HYPERLINK(\"http://x\",\"y\")", `'=HYPERLINK("http://x","y")`},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", `\x09=1`}, // Printable first: the tab is escaped, nothing to run
		{"a=1", "a=1"},
		{"\x1b[2J=1", `\x1b[2J=1`},
		{"", ""},
	} {
		if got := Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzCell(f *testing.F) {
	for _, s := range []string{"=1", "+", "-", "@", "\t=", "\r=", "\x1b", "\u202e="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Cell(s)
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
			t.Errorf("Cell(%q) = %q starts a formula", s, got)
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\n\r\t\x1b") {
			t.Errorf("Cell(%q) = %q holds a control character", s, got)
		}
	})
}

// FuzzJSON: the escaped document decodes to the same value as the original, and holds no
// rune a terminal would act on.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{"plain", "\u009b31m", "\u202eevil", "\x7f", "😀", "\u2028", "bad\xff", "\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := json.MarshalIndent(map[string]string{"k": s, "l": "x"}, "", "  ")
		if err != nil {
			t.Skip()
		}
		got := JSON(b)
		if lines := strings.Count(string(got), "\n"); lines != 3 {
			t.Errorf("JSON(%q) = %q: %d lines, want the 3 of the indented layout", b, got, lines)
		}
		var before, after map[string]string
		if err := json.Unmarshal(b, &before); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &after); err != nil {
			t.Fatalf("JSON(%q) = %q does not decode: %v", b, got, err)
		}
		if before["k"] != after["k"] {
			t.Errorf("JSON changed the value: %q, want %q", after["k"], before["k"])
		}
		for _, r := range string(got) {
			if unsafeInJSON(r) {
				t.Errorf("JSON(%q) = %q holds %U", b, got, r)
			}
		}
	})
}

func TestJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":"plain ユーザー"}`, `{"a":"plain ユーザー"}`},
		{"{\"a\":\"c1\u009b del\x7f\"}", `{"a":"c1\u009b del\u007f"}`},
		{"{\"a\":\"bidi\u202e zw\u200b\"}", `{"a":"bidi\u202e zw\u200b"}`},
		{"{\"a\":\"tag\U000E0041\"}", `{"a":"tag\udb40\udc41"}`},
	}
	for _, tt := range tests {
		if got := string(JSON([]byte(tt.in))); got != tt.want {
			t.Errorf("JSON(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if strings.Contains(string(JSON([]byte("\u009b"))), "\u009b") {
		t.Error("C1 control left raw")
	}
}
