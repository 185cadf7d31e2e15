package ioc

import (
	"errors"
	"os"
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
			want: List{Name: "names", About: "header", Sources: []string{"src"}, Values: []string{"a", "b", "c#d"}},
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
			name: "removals apart from values, normalised like them",
			base: "x_asns.txt",
			text: "!AS7713\n! 24203 \n!7713\n!*\n64500\n",
			want: List{Name: "x_asns", Sources: []string{"src"}, Values: []string{"64500"}, Remove: []string{"7713", "24203", "*"}},
		},
		{
			name:     "empty or bad removal",
			base:     "x_cidrs.txt",
			text:     "!\n!nope\n! # only a comment\n10.0.0.0/8\n",
			want:     List{Name: "x_cidrs", Sources: []string{"src"}, Values: []string{"10.0.0.0/8"}},
			wantErrs: []string{`src:1: "!" removes the value after it from the list; "!*" empties it`, `src:2: list x_cidrs holds networks: compiling cidr "nope": parsing address "nope": not an IP address`, `src:3: "!" removes the value after it from the list; "!*" empties it`},
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
	if diff := cmp.Diff([]string{"attacker_asns", "attacker_cidrs", "attacker_user_names", "aws_asns", "aws_service_principals", "aws_service_roles",
		"mining_images", "s3_bulk_readers", "security_scanner_roles", "security_scanner_user_agents"}, names); diff != "" {
		t.Errorf("built-in lists (-want +got):\n%s", diff)
	}
	for _, l := range s.Lists() {
		if l.About == "" {
			t.Errorf("built-in list %s: its file does not start with a comment saying what it is for", l.Name)
		}
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
		{"aws_service_principals", []string{"*.amazonaws.com", "*.amazonaws.com.cn", "AWS Internal"}},
		{"aws_service_roles", []string{"arn:aws*:iam::*:role/aws-service-role/*"}},
		{"security_scanner_user_agents", []string{"*Scout Suite/*", "*APN_1826889*"}},
		{"security_scanner_roles", []string{"arn:aws*:iam::*:role/WizAccess-Role", "arn:aws*:iam::*:role/WizScannerRole",
			"arn:aws*:iam::*:role/WizScanner-Role", "arn:aws*:iam::*:role/OrcaSecurityRole", "arn:aws*:sts::*:assumed-role/*/ProwlerAssessmentSession"}},
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

// TestLoadOverride: a user file takes values out of a built-in list with "!value", or
// replaces it with "!*", without turning the other built-in lists off.
func TestLoadOverride(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	drop := write("attacker_asns.txt", "!AS24203\n!65000 # not in the list: nothing to take out\n64512\n")
	repl := write("attacker_user_names.txt", "!*\nevil-*\n")
	s, err := Load(true, drop, repl)
	if err != nil {
		t.Fatal(err)
	}
	p := s.Placeholders()
	if diff := cmp.Diff([]string{"7713", "64512"}, p["attacker_asns"]); diff != "" {
		t.Errorf("attacker_asns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"evil-*"}, p["attacker_user_names"]); diff != "" {
		t.Errorf("attacker_user_names (-want +got):\n%s", diff)
	}
	if got := len(p["mining_images"]); got != 80 {
		t.Errorf("mining_images has %d values; the other lists must stay", got)
	}
	l, _ := s.List("attacker_user_names")
	if diff := cmp.Diff([]string{BuiltinSource, repl}, l.Sources); diff != "" || l.Remove != nil {
		t.Errorf("sources (-want +got):\n%s; Remove = %q", diff, l.Remove)
	}
	// A removal in the first file of a list (no earlier values) removes nothing.
	s, err = Load(false, write("fresh.txt", "!*\na\n"))
	if l, _ := s.List("fresh"); err != nil || !slices.Equal(l.Values, []string{"a"}) {
		t.Errorf("fresh: %q, %v", l.Values, err)
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
		"ua":    "detection:\n  sel:\n    userAgent|expand: '%security_scanner_user_agents%'\n  condition: sel\n",
		"role":  "detection:\n  sel:\n    userIdentity.sessionContext.sessionIssuer.arn|expand: '%security_scanner_roles%'\n  sess:\n    userIdentity.arn|expand: '%security_scanner_roles%'\n  condition: sel or sess\n",
		"svc":   "detection:\n  sel:\n    sourceIPAddress|expand: '%aws_service_principals%'\n  condition: sel\n",
		"slr":   "detection:\n  sel:\n    userIdentity.sessionContext.sessionIssuer.arn|expand: '%aws_service_roles%'\n  condition: sel\n",
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
		// The allowlists match the forms the tools and AWS really write.
		{"ua", `{"userAgent":"Scout-Suite/5.14.0 md/Botocore#1.35.75 ua/2.0 os/linux#6.10.11 lang/python#3.12.6 Scout Suite/5.14.0 (https://github.com/nccgroup/ScoutSuite)"}`, "", true},
		{"ua", `{"userAgent":"Boto3/1.34.1 md/Botocore#1.34.1 ua/2.0 os/linux#6.5 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.1 APN_1826889"}`, "", true},
		{"ua", `{"userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64 prompt/off command/ec2.describe-instances"}`, "", false},
		{"role", `{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/WizAccess-Role/WizSession","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/WizAccess-Role"}}}}`, "", true},
		{"role", `{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/SecurityAudit/ProwlerAssessmentSession","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/SecurityAudit"}}}}`, "", true},
		{"role", `{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/WizAccess-Role-copy/x","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/WizAccess-Role-copy"}}}}`, "", false},
		{"role", `{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/OrcaSecurityRole"}}`, "", false},
		{"svc", `{"sourceIPAddress":"ecs.amazonaws.com"}`, "", true},
		{"svc", `{"sourceIPAddress":"AWS Internal"}`, "", true},
		{"svc", `{"sourceIPAddress":"203.0.113.7"}`, "", false},
		{"slr", `{"userIdentity":{"sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"}}}}`, "", true},
		{"slr", `{"userIdentity":{"sessionContext":{"sessionIssuer":{"arn":"arn:aws-cn:iam::111122223333:role/aws-service-role/securityhub.amazonaws.com/AWSServiceRoleForSecurityHub"}}}}`, "", true},
		{"slr", `{"userIdentity":{"sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/AWSServiceRoleForConfig"}}}}`, "", false},
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
	for _, s := range []string{"a\nb # c\n", "10.0.0.0/8\n", "AS1\n", "\xff", "#\n\n", "a\x00", "!*\n!AS1\n! x\n!\n"} {
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
		for _, r := range l.Remove {
			if r == "" || r != strings.TrimSpace(r) || strings.ContainsAny(r, "\n\r") {
				t.Fatalf("bad removal %q in %q", r, l.Remove)
			}
		}
	})
}
