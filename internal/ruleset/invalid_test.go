package ruleset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/shareddata"
	"github.com/trailhound/trailhound/internal/sigma"
)

const helperYAML = `title: Created
name: created
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventName: CreateUser}
    condition: sel
`

// correlationYAML is a correlation over rules, in the form the cases below vary.
func correlationYAML(name, typ string, rules ...string) string {
	return "title: " + name + "\nname: " + name + "\ncorrelation:\n    type: " + typ +
		"\n    rules: [" + strings.Join(rules, ", ") + "]\n    group-by: [userIdentity.arn]\n    timespan: 10m\n" +
		map[bool]string{true: "    condition: {gte: 3}\n", false: ""}[typ == "event_count"]
}

// TestInvalidCorrelations: every way a correlation can fail to run is reported in
// Set.Invalid (and among Load's errors), with its position; a correlation over rules of
// another log source is skipped, not invalid; and the set keeps no correlation that cannot
// run.
func TestInvalidCorrelations(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // Invalid, as file:line:col: msg prefixes
		runs  []string // names of the correlations that load
	}{
		{
			name:  "valid",
			files: map[string]string{"a.yml": helperYAML + "---\n" + correlationYAML("many", "event_count", "created")},
			runs:  []string{"many"},
		},
		{
			name:  "unknown rule",
			files: map[string]string{"a.yml": helperYAML + "---\n" + correlationYAML("many", "event_count", "created", "nosuch")},
			want:  []string{`a.yml:12:22: correlation references unknown rule "nosuch"`},
		},
		{
			name: "its own error",
			files: map[string]string{"a.yml": helperYAML + "---\n" +
				strings.Replace(correlationYAML("many", "event_count", "created"), "10m", "ten minutes", 1)},
			want: []string{`a.yml:14:15: timespan: invalid duration "ten minutes"`},
		},
		{
			name: "a referenced rule that does not parse",
			files: map[string]string{"a.yml": strings.Replace(helperYAML, "eventName:", "eventName|nosuch:", 1) + "---\n" +
				correlationYAML("many", "event_count", "created")},
			want: []string{`a.yml:12:13: correlation references "created", which has errors of its own`},
		},
		{
			name: "a referenced rule that does not compile",
			files: map[string]string{"a.yml": strings.Replace(helperYAML, "eventName: CreateUser", "eventName|expand: '%nolist%'", 1) + "---\n" +
				correlationYAML("many", "event_count", "created")},
			want: []string{`a.yml:12:13: correlation references "created", which did not compile`},
		},
		{
			name: "chained over an invalid correlation",
			files: map[string]string{"a.yml": helperYAML + "---\n" + correlationYAML("many", "event_count", "created", "nosuch") +
				"---\n" + correlationYAML("chain", "temporal", "many", "created")},
			want: []string{
				`a.yml:12:22: correlation references unknown rule "nosuch"`,
				`a.yml:21:13: correlation references "many", which is rejected`,
			},
		},
		{
			name:  "a correlation whose name another rule has",
			files: map[string]string{"a.yml": helperYAML + "---\n" + correlationYAML("created", "event_count", "created")},
			want:  []string{`a.yml:8:1: duplicate rule name "created"`},
		},
		{
			name: "lost after a YAML error",
			files: map[string]string{"a.yml": helperYAML + "---\ntitle: [broken\n---\n" +
				correlationYAML("many", "event_count", "created")},
			want: []string{`a.yml:7:1: invalid YAML`},
		},
		{
			name: "over another log source: skipped, not invalid",
			files: map[string]string{"a.yml": strings.Replace(helperYAML, "product: aws, service: cloudtrail", "product: windows", 1) +
				"---\n" + correlationYAML("many", "event_count", "created")},
		},
		{
			name: "in another file than its invalid rule",
			files: map[string]string{
				"a.yml": strings.Replace(helperYAML, "eventName: CreateUser", "eventName|expand: '%nolist%'", 1),
				"b.yml": correlationYAML("many", "event_count", "created"),
			},
			want: []string{`b.yml:5:13: correlation references "created", which did not compile`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			set, err := Load(context.Background(), Options{Builtin: fsys})
			var el sigma.ErrorList
			if err != nil && !errors.As(err, &el) {
				t.Fatal(err)
			}
			var got []string
			for _, e := range set.Invalid {
				got = append(got, e.Error())
				if !strings.Contains(err.Error(), e.Error()) {
					t.Errorf("invalid %q is not among Load's errors:\n%v", e, err)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Invalid = %q, want %d entries starting %q (all errors: %v)", got, len(tt.want), tt.want, err)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("Invalid[%d] = %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
			if (set.CheckCorrelations() != nil) != (len(tt.want) > 0) {
				t.Errorf("CheckCorrelations() = %v with %d invalid", set.CheckCorrelations(), len(tt.want))
			}
			var runs []string
			for _, c := range set.Correlations.Rules {
				runs = append(runs, c.ID)
			}
			if diff := cmp.Diff(tt.runs, runs); diff != "" {
				t.Errorf("correlations that load (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPublicRulesHaveNoInvalidCorrelations: the public rule sets load with every
// correlation able to run.
func TestPublicRulesHaveNoInvalidCorrelations(t *testing.T) {
	dir := shareddata.Dir(t, "rules")
	set, err := Load(context.Background(), Options{Paths: []string{dir}, Placeholders: map[string][]string{}})
	if err != nil {
		t.Errorf("public rules: %v", err)
	}
	if len(set.Invalid) != 0 || len(set.Correlations.Rules) == 0 {
		t.Errorf("%d invalid, %d correlations loaded: %v", len(set.Invalid), len(set.Correlations.Rules), set.Invalid)
	}
}

// TestUserCorrelationOverBuiltinRule: references are resolved once over the built-in and the
// user's files together, so a user's correlation over a built-in rule loads (checking the
// user's files alone used to report the rule as unknown, which stopped hunt --rules).
func TestUserCorrelationOverBuiltinRule(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yml")
	if err := os.WriteFile(path, []byte(correlationYAML("many", "event_count", "created")), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := Load(context.Background(), Options{Builtin: fstest.MapFS{"b.yml": {Data: []byte(helperYAML)}}, Paths: []string{dir}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(set.Correlations.Rules) != 1 || set.Correlations.Rules[0].ID != "many" {
		t.Errorf("correlations %+v, want the user's one", set.Correlations.Rules)
	}
}
