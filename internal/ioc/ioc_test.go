package ioc

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/valyala/fastjson"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, base, text string
		want             List
		wantErrs         []string
	}{
		{
			name: "values comments blanks duplicates",
			base: "names.txt",
			text: "# header\n\n a \nb # trailing\nc#d\n\ta\n",
			want: List{Name: "names", Sources: []string{"src"}, Values: []string{"a", "b", "c#d"}},
		},
		{
			name: "other extension",
			base: "names.list",
			text: "x\n",
			want: List{Name: "names", Sources: []string{"src"}, Values: []string{"x"}},
		},
		{
			name: "empty file",
			base: "empty.txt",
			want: List{Name: "empty", Sources: []string{"src"}},
		},
		{
			name: "cidrs checked",
			base: "bad_cidrs.txt",
			text: "10.0.0.0/8\n2001:db8::/32\n010.001.0.0/16\nnope\n1.2.3.4/33\n",
			want: List{Name: "bad_cidrs", Sources: []string{"src"}, Values: []string{"10.0.0.0/8", "2001:db8::/32", "010.001.0.0/16"}},
			wantErrs: []string{
				`src:4: list bad_cidrs holds networks: compiling cidr "nope": parsing address "nope": not an IP address`,
				`src:5: list bad_cidrs holds networks: compiling cidr "1.2.3.4/33": parsing prefix length "33": must be 0 to 32`,
			},
		},
		{
			name:     "asns normalised and checked",
			base:     "x_asns.txt",
			text:     "7713\nAS24203\nas7713\n-1\n4294967296\n",
			want:     List{Name: "x_asns", Sources: []string{"src"}, Values: []string{"7713", "24203"}},
			wantErrs: []string{`src:4: list x_asns holds AS numbers: "-1" is not one`, `src:5: list x_asns holds AS numbers: "4294967296" is not one`},
		},
		{
			name:     "bad name keeps values",
			base:     "Mining-Images.txt",
			text:     "a\n",
			want:     List{Sources: []string{"src"}, Values: []string{"a"}},
			wantErrs: []string{`src: list name "Mining-Images" (from the file name) must be lower-case letters, digits and _, starting with a letter`},
		},
		{
			name:     "control character and bad utf-8",
			base:     "l.txt",
			text:     "a\x01b\n\xff\nok\n",
			want:     List{Name: "l", Sources: []string{"src"}, Values: []string{"ok"}},
			wantErrs: []string{"src:1: control character U+0001 in value", "src:2: not valid UTF-8"},
		},
		{
			name:     "line too long",
			base:     "l.txt",
			text:     "a\n" + strings.Repeat("x", maxLine+1) + "\n",
			want:     List{Name: "l", Sources: []string{"src"}, Values: []string{"a"}},
			wantErrs: []string{"src:2: line longer than 65536 bytes"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.base, "src", strings.NewReader(tc.text))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse list (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantErrs, errStrings(t, err)); diff != "" {
				t.Errorf("Parse errors (-want +got):\n%s", diff)
			}
		})
	}
}

func errStrings(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var el ErrorList
	if !errors.As(err, &el) {
		t.Fatalf("error %v: got %T, want ErrorList", err, err)
	}
	var out []string
	for _, e := range el {
		out = append(out, e.Error())
	}
	return out
}

func TestLoadBuiltin(t *testing.T) {
	s, err := Load(true)
	if err != nil {
		t.Fatalf("Load(true): %v", err)
	}
	var names []string
	for _, l := range s.Lists() {
		names = append(names, l.Name)
		if diff := cmp.Diff([]string{BuiltinSource}, l.Sources); diff != "" {
			t.Errorf("list %s sources (-want +got):\n%s", l.Name, diff)
		}
	}
	if diff := cmp.Diff([]string{"attacker_asns", "attacker_cidrs", "attacker_user_names", "mining_images", "s3_bulk_readers"}, names); diff != "" {
		t.Errorf("built-in lists (-want +got):\n%s", diff)
	}
	p := s.Placeholders()
	if got := p["s3_bulk_readers"]; len(got) != 0 {
		t.Errorf("s3_bulk_readers: %q, want an empty allowlist", got)
	}
	if got := len(p["mining_images"]); got != 80 {
		t.Errorf("mining_images: got %d values, want 80 (40 images × 2 forms)", got)
	}
	for _, tc := range []struct {
		list string
		want []string
	}{
		{"attacker_asns", []string{"7713", "24203"}},
		{"attacker_cidrs", []string{"140.213.52.0/24"}},
		{"attacker_user_names", []string{"aws_dev*", "aws-cli*"}},
	} {
		if diff := cmp.Diff(tc.want, p[tc.list]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.list, diff)
		}
	}
	// Placeholders hands out copies.
	p["attacker_asns"][0] = "changed"
	if l, _ := s.List("attacker_asns"); l.Values[0] != "7713" {
		t.Errorf("Placeholders aliases the set: attacker_asns[0] = %q", l.Values[0])
	}
}

func TestLoadUserFiles(t *testing.T) {
	user := filepath.Join("testdata", "mining_images.txt")
	s, err := Load(true, user, filepath.Join("testdata", "dir"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	l, ok := s.List("mining_images")
	if !ok {
		t.Fatal("mining_images missing")
	}
	if diff := cmp.Diff([]string{BuiltinSource, user}, l.Sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	// Built-in values first, then the file's new ones; the repeated one is kept once.
	if got, want := len(l.Values), 82; got != want {
		t.Errorf("mining_images: got %d values, want %d", got, want)
	}
	if got := l.Values[80:]; !slices.Equal(got, []string{"evil/miner:latest", "*/evil/miner:latest"}) {
		t.Errorf("appended values: got %q", got)
	}
	if l, _ := s.List("extra_names"); !slices.Equal(l.Values, []string{"good_*"}) {
		t.Errorf("extra_names from directory: got %q", l.Values)
	}
	if _, ok := s.List("notes"); ok {
		t.Error("directory load read a non-.txt file")
	}

	// Without the built-in lists only the user's remain.
	s, err = Load(false, user)
	if err != nil {
		t.Fatalf("Load(false): %v", err)
	}
	if got := len(s.Lists()); got != 1 {
		t.Errorf("Load(false, one file): got %d lists, want 1", got)
	}
}

func TestLoadErrors(t *testing.T) {
	bad := filepath.Join("testdata", "bad")
	missing := filepath.Join("testdata", "missing.txt")
	s, err := Load(false, missing, bad)
	want := []string{
		filepath.Join(bad, "Bad-Name.txt") + `: list name "Bad-Name" (from the file name) must be lower-case letters, digits and _, starting with a letter`,
		filepath.Join(bad, "my_asns.txt") + `:2: list my_asns holds AS numbers: "12x" is not one`,
		filepath.Join(bad, "my_cidrs.txt") + `:2: list my_cidrs holds networks: compiling cidr "not-a-net": parsing address "not-a-net": not an IP address`,
		missing + ": reading IOC file: no such file or directory",
	}
	if diff := cmp.Diff(want, errStrings(t, err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// What was valid still loaded.
	if l, _ := s.List("my_asns"); !slices.Equal(l.Values, []string{"7713"}) {
		t.Errorf("my_asns: got %q, want [7713]", l.Values)
	}
}

// TestPlaceholdersInRules compiles Sigma rules against the built-in lists and checks they
// catch the forms the campaigns use. (attacker_cidrs is left out: the rule parser does not yet
// accept |expand|cidr.)
func TestPlaceholdersInRules(t *testing.T) {
	s, err := Load(true)
	if err != nil {
		t.Fatal(err)
	}
	const header = "title: t\nid: 00000000-0000-0000-0000-000000000001\nlogsource:\n  product: aws\n  service: cloudtrail\n"
	rules := map[string]string{
		"image": "detection:\n  sel:\n    requestParameters.containerDefinitions.image|expand: '%mining_images%'\n  condition: sel\n",
		"user":  "detection:\n  sel:\n    requestParameters.userName|expand: '%attacker_user_names%'\n  condition: sel\n",
		"asn":   "detection:\n  sel:\n    trailhound.src_asn|expand: '%attacker_asns%'\n  condition: sel\n",
	}
	engines := map[string]*detect.Engine{}
	for name, body := range rules {
		f, err := sigma.Parse(name+".yml", []byte(header+body))
		if err != nil {
			t.Fatalf("parsing %s: %v", name, err)
		}
		e, err := detect.Compile(f.Rules, detect.Options{Placeholders: s.Placeholders()})
		if err != nil {
			t.Fatalf("compiling %s: %v", name, err)
		}
		engines[name] = e
	}
	cases := []struct {
		rule, event, enrichment string
		want                    bool
	}{
		{"image", `{"requestParameters":{"containerDefinitions":[{"image":"yzsqbe/ka:si"}]}}`, "", true},
		{"image", `{"requestParameters":{"containerDefinitions":[{"image":"nginx"},{"image":"docker.io/yzsqbe/ka:si"}]}}`, "", true},
		{"image", `{"requestParameters":{"containerDefinitions":[{"image":"index.docker.io/zsztqa/ak:ha"}]}}`, "", true},
		{"image", `{"requestParameters":{"containerDefinitions":[{"image":"registry-1.docker.io/ahnoyp/ak:ma"}]}}`, "", true},
		{"image", `{"requestParameters":{"containerDefinitions":[{"image":"YZSQBE/KA:SI"}]}}`, "", true},
		{"image", `{"requestParameters":{"containerDefinitions":[{"image":"yzsqbe/ka:sim"}]}}`, "", false},
		{"image", `{"requestParameters":{"containerDefinitions":[{"image":"xyzsqbe/ka:si"}]}}`, "", false},
		{"image", `{"requestParameters":{"containerDefinitions":[{"image":"nginx:latest"}]}}`, "", false},
		{"user", `{"requestParameters":{"userName":"aws_dev123"}}`, "", true},
		{"user", `{"requestParameters":{"userName":"aws-cliXk2p"}}`, "", true},
		{"user", `{"requestParameters":{"userName":"alice"}}`, "", false},
		{"asn", `{}`, `{"src_asn":24203}`, true},
		{"asn", `{}`, `{"src_asn":7713}`, true},
		{"asn", `{}`, `{"src_asn":16509}`, false},
		{"asn", `{}`, "", false},
	}
	for _, tc := range cases {
		ev := &event.Event{Value: fastjson.MustParse(tc.event)}
		if tc.enrichment != "" {
			ev.Enrichment = fastjson.MustParse(tc.enrichment)
		}
		got := false
		engines[tc.rule].NewMatcher().Match(ev, func(*detect.Rule) { got = true })
		if got != tc.want {
			t.Errorf("rule %s on %s %s: got %v, want %v", tc.rule, tc.event, tc.enrichment, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a\nb # c\n", "10.0.0.0/8\n", "AS1\n", "\xff", "#\n\n", "a\x00"} {
		f.Add("x_cidrs.txt", s)
		f.Add("list_asns.txt", s)
		f.Add("plain.txt", s)
	}
	f.Fuzz(func(t *testing.T, base, text string) {
		l, err := Parse(base, "src", strings.NewReader(text))
		if err != nil {
			var el ErrorList
			if !errors.As(err, &el) || len(el) == 0 {
				t.Fatalf("error %v is not a non-empty ErrorList", err)
			}
		}
		seen := map[string]bool{}
		for _, v := range l.Values {
			if v == "" || v != strings.TrimSpace(v) || seen[v] || strings.ContainsAny(v, "\n\r") {
				t.Fatalf("bad value %q in %q", v, l.Values)
			}
			seen[v] = true
		}
	})
}
