package sigma

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trailhound/trailhound/internal/shareddata"
)

// FuzzParse checks that Parse never panics, that it always returns a File,
// and that every error it reports has a position in the file.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yml"))
	shared, _ := shareddata.Path(f, "rules")
	for _, pattern := range []string{
		"sigmahq-cloudtrail/aws_update_login_profile.yml",
		"sigmahq-cloudtrail/aws_sts_assumerole_misuse.yml",
		"suzaku-cloudtrail/aws_cloudtrail_many_recon_events.yml",
		"suzaku-cloudtrail/aws_cloudtrail_iam_persistence_chain.yml",
	} {
		seeds = append(seeds, filepath.Join(shared, pattern)) // absent files are skipped below
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("detection: {s: [x], condition: 'not (s and (s or not s))'}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yml", data)
		if file == nil {
			t.Fatal("Parse returned a nil File")
		}
		if err != nil {
			l, ok := err.(ErrorList)
			if !ok || len(l) == 0 {
				t.Fatalf("Parse error %v (%T) is not a non-empty ErrorList", err, err)
			}
			for _, e := range l {
				if e.Line < 1 || e.Col < 1 {
					t.Errorf("error without a position: %v", e)
				}
			}
		}
		for _, r := range file.Rules {
			for _, c := range r.Detection.Conditions {
				if c.Expr == nil {
					t.Errorf("rule %q has a condition without expression", r.Title)
				}
			}
		}
		if _, err := NewRuleSet(file); err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("NewRuleSet error %T is not an ErrorList", err)
			}
		}
	})
}

// FuzzParseCondition checks the condition parser never panics and that an
// accepted condition prints to an expression that parses the same way.
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"a and not (b or c)", "1 of sel* or all of them", "any of x", "((a)", "a | count() > 2", "not not not a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseCondition(src)
		if err != nil {
			ce, ok := err.(*ConditionError)
			if !ok || ce.Offset < 0 || ce.Offset > len(src) {
				t.Fatalf("ParseCondition(%q) error %v: bad offset or type", src, err)
			}
			return
		}
		again, err := ParseCondition(e.String())
		if err != nil {
			t.Fatalf("reparsing %q (from %q): %v", e.String(), src, err)
		}
		if again.String() != e.String() {
			t.Fatalf("round trip of %q: %q != %q", src, again.String(), e.String())
		}
	})
}
