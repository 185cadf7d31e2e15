package match

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBase64(t *testing.T) {
	tests := []struct {
		pattern, want string
	}{
		{"cmd", "Y21k"},
		{"/bin/bash", "L2Jpbi9iYXNo"},
		{"", ""},
		{`a\*`, "YSo="},       // an escaped star is a literal star
		{`C:\\x`, "QzpceA=="}, // C:\x
	}
	for _, tt := range tests {
		got, err := Base64(tt.pattern)
		if err != nil || got != tt.want {
			t.Errorf("Base64(%q) = %q, %v; want %q", tt.pattern, got, err, tt.want)
		}
	}
	if _, err := Base64("a*"); err == nil {
		t.Error(`Base64("a*") succeeded, want an error`)
	}
}

func TestBase64Offset(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		// Values as pySigma produces them.
		{"/bin/bash", []string{"L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"}},
		{"/bin/sh", []string{"L2Jpbi9za", "9iaW4vc2", "vYmluL3No"}},
		{"foobar", []string{"Zm9vYmFy", "Zvb2Jhc", "mb29iYX"}},
		{"", []string{"", "", ""}},
	}
	for _, tt := range tests {
		got, err := Base64Offset(tt.pattern)
		if err != nil {
			t.Fatalf("Base64Offset(%q): %v", tt.pattern, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Base64Offset(%q) (-want +got):\n%s", tt.pattern, diff)
		}
	}
	if _, err := Base64Offset("a?"); err == nil {
		t.Error(`Base64Offset("a?") succeeded, want an error`)
	}
}

// TestBase64OffsetFindsValue checks the property the modifier exists for: the value, at any
// position in any data, shows up in the encoding as one of the three variants.
func TestBase64OffsetFindsValue(t *testing.T) {
	for _, value := range []string{"a", "ab", "abc", "/bin/bash", "powershell -enc"} {
		variants, err := Base64Offset(Escape(value))
		if err != nil {
			t.Fatal(err)
		}
		for pre := range 4 {
			for post := range 4 {
				data := strings.Repeat("x", pre) + value + strings.Repeat("y", post)
				enc := base64.StdEncoding.EncodeToString([]byte(data))
				found := false
				for _, v := range variants {
					found = found || strings.Contains(enc, v)
				}
				if !found {
					t.Errorf("none of %q in base64(%q) = %q", variants, data, enc)
				}
			}
		}
	}
}

func TestUTF16(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"utf16le", UTF16LE("cmd"), "c\x00m\x00d\x00"},
		{"utf16be", UTF16BE("cmd"), "\x00c\x00m\x00d"},
		{"utf16", UTF16("cmd"), "\xff\xfec\x00m\x00d\x00"},
		{"wide", Wide("cmd"), "c\x00m\x00d\x00"},
		{"wildcards kept", UTF16LE("a*b?"), "a\x00*b\x00?"},
		{"escapes kept", UTF16LE(`a\*`), "a\x00\\*\x00"},
		{"backslash", UTF16LE(`C:\x`), "C\x00:\x00\\\\\x00x\x00"},
		{"non-ascii", UTF16LE("é"), "\xe9\x00"},
		{"surrogates", UTF16BE("😀"), "\xd8\x3d\xde\x00"},
		{"encoded byte is a star", UTF16BE("\u2a00"), `\*` + "\x00"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	// Chained with base64, as in |wide|base64: the known encoding of "cmd" in UTF-16LE.
	if got, _ := Base64(Wide("cmd")); got != "YwBtAGQA" {
		t.Errorf(`Base64(Wide("cmd")) = %q, want "YwBtAGQA"`, got)
	}
	if got, _ := Base64(UTF16("cmd")); got != "//5jAG0AZAA=" {
		t.Errorf(`Base64(UTF16("cmd")) = %q, want "//5jAG0AZAA="`, got)
	}
	// A wide pattern with a wildcard still matches wide data.
	m, err := CompileString(Contains, UTF16LE("c*d"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Match([]byte("x\x00C\x00m\x00D\x00")) {
		t.Error("wide pattern c*d does not match wide CmD")
	}
}

func TestWindash(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{" -foo", []string{" -foo", " /foo", " –foo", " —foo", " ―foo"}},
		{"-foo", []string{"-foo", "/foo", "–foo", "—foo", "―foo"}},
		{"/foo", []string{"-foo", "/foo", "–foo", "—foo", "―foo"}},
		{" -param-name", []string{" -param-name", " /param-name", " –param-name", " —param-name", " ―param-name"}},
		{"a-b", []string{"a-b"}},     // not at an option start
		{"a -", []string{"a -"}},     // nothing follows
		{"a - b", []string{"a - b"}}, // not followed by a word character
		{"--foo", []string{"--foo", "-/foo", "-–foo", "-—foo", "-―foo"}},
		{"*-e*", []string{"*-e*", "*/e*", "*–e*", "*—e*", "*―e*"}},
		{"x", []string{"x"}},
		{"", []string{""}},
		{"-a -b", []string{
			"-a -b", "-a /b", "-a –b", "-a —b", "-a ―b",
			"/a -b", "/a /b", "/a –b", "/a —b", "/a ―b",
			"–a -b", "–a /b", "–a –b", "–a —b", "–a ―b",
			"—a -b", "—a /b", "—a –b", "—a —b", "—a ―b",
			"―a -b", "―a /b", "―a –b", "―a —b", "―a ―b",
		}},
		{" -é", []string{" -é", " /é", " –é", " —é", " ―é"}},
		{" -_x", []string{" -_x", " /_x", " –_x", " —_x", " ―_x"}},
		{" –foo", []string{" –foo"}}, // only '-' and '/' vary, as in pySigma
	}
	for _, tt := range tests {
		got, err := Windash(tt.pattern)
		if err != nil {
			t.Fatalf("Windash(%q): %v", tt.pattern, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Windash(%q) (-want +got):\n%s", tt.pattern, diff)
		}
	}
	if got, err := Windash(strings.Repeat(" -a", 6)); err != nil || len(got) != 15625 {
		t.Errorf("Windash with 6 dashes = %d variants, %v; want 15625", len(got), err)
	}
	if _, err := Windash(strings.Repeat(" -a", 7)); err == nil {
		t.Error("Windash with 7 dashes succeeded, want an error")
	}
}
