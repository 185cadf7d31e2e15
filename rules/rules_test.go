package rules

import (
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// These tests check the rule files as data: metadata conventions and the shape of the test
// files. Whether each rule really produces the expected signals is checked by the detect
// package and by `trailhound rules test`, which run the cases through the engine.

type ruleFile struct {
	Title          string         `yaml:"title"`
	ID             string         `yaml:"id"`
	Status         string         `yaml:"status"`
	Description    string         `yaml:"description"`
	Author         string         `yaml:"author"`
	Date           string         `yaml:"date"`
	References     []string       `yaml:"references"`
	Tags           []string       `yaml:"tags"`
	Level          string         `yaml:"level"`
	FalsePositives []string       `yaml:"falsepositives"`
	Logsource      map[string]any `yaml:"logsource"`
	Detection      map[string]any `yaml:"detection"`
}

type testFile struct {
	GeoIP []struct {
		Network string `yaml:"network"`
		ASN     int    `yaml:"asn"`
		ASOrg   string `yaml:"as_org"`
		Country string `yaml:"country"`
	} `yaml:"geoip"`
	Cases []struct {
		Name   string           `yaml:"name"`
		Events []map[string]any `yaml:"events"`
		Expect []struct {
			EventIDs []string `yaml:"event_ids"`
		} `yaml:"expect"`
	} `yaml:"cases"`
}

var (
	uuidRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tacticRE = regexp.MustCompile(`^attack\.[a-z]+(-[a-z]+)*$`)
	techRE   = regexp.MustCompile(`^attack\.t[0-9]{4}(\.[0-9]{3})?$`)
	nameRE   = regexp.MustCompile(`^aws_[a-z0-9_]+\.yml$`)
)

func ruleNames(t *testing.T) []string {
	t.Helper()
	all, err := fs.Glob(FS, "*.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, n := range all {
		if !strings.HasSuffix(n, "_test.yml") {
			rules = append(rules, n)
		}
	}
	if len(rules) == 0 {
		t.Fatal("no rules embedded")
	}
	return rules
}

// TestRuleMetadata checks every document of every rule file. A document that emits signals
// (a detection rule on its own, a correlation, or a detection rule that a correlation with
// generate: true references) needs the full metadata; a helper detection that only feeds a
// correlation of its file needs an id, a title, the logsource and a detection.
func TestRuleMetadata(t *testing.T) {
	ids := map[string]string{}
	for _, name := range ruleNames(t) {
		t.Run(name, func(t *testing.T) {
			b, err := fs.ReadFile(FS, name)
			if err != nil {
				t.Fatal(err)
			}
			if !nameRE.MatchString(name) {
				t.Errorf("file name %q does not match aws_<what>.yml", name)
			}
			type doc struct {
				ruleFile    `yaml:",inline"`
				Name        string         `yaml:"name"`
				Correlation map[string]any `yaml:"correlation"`
				Generate    bool           `yaml:"generate"`
			}
			var docs []doc
			dec := yaml.NewDecoder(strings.NewReader(string(b)))
			for {
				var d doc
				if err := dec.Decode(&d); err != nil {
					if err.Error() == "EOF" {
						break
					}
					t.Fatalf("parsing: %v", err)
				}
				docs = append(docs, d)
			}
			// A detection referenced (by id or name) by a correlation of this file that does
			// not generate only feeds it; other detections of the file emit signals.
			feeds := map[string]bool{}
			for _, d := range docs {
				if d.Correlation == nil {
					continue
				}
				gen, _ := d.Correlation["generate"].(bool)
				if gen || d.Generate {
					continue
				}
				refs, _ := d.Correlation["rules"].([]any)
				for _, r := range refs {
					if s, ok := r.(string); ok {
						feeds[s] = true
					}
				}
			}
			for i, d := range docs {
				r := d.ruleFile
				where := fmt.Sprintf("document %d (%q)", i+1, r.Title)
				if !uuidRE.MatchString(r.ID) {
					t.Errorf("%s: id %q is not a lowercase UUIDv4", where, r.ID)
				}
				if prev, dup := ids[r.ID]; dup {
					t.Errorf("%s: id %s already used by %s", where, r.ID, prev)
				}
				ids[r.ID] = name
				if r.Title == "" {
					t.Errorf("%s: no title", where)
				}
				if d.Correlation == nil {
					if r.Logsource["product"] != "aws" || r.Logsource["service"] != "cloudtrail" {
						t.Errorf("%s: logsource = %v; want product aws, service cloudtrail", where, r.Logsource)
					}
					if _, ok := r.Detection["condition"]; !ok {
						t.Errorf("%s: detection has no condition", where)
					}
					if feeds[r.ID] || (d.Name != "" && feeds[d.Name]) {
						continue
					}
				}
				if strings.Count(r.Description, "\n") < 2 || !strings.Contains(r.Description, "Triage") {
					t.Errorf("%s: a description of several lines with a Triage paragraph is required", where)
				}
				if r.Status != "experimental" || r.Author != "trailhound" || r.Date == "" {
					t.Errorf("%s: status, author, date = %q, %q, %q; want experimental, trailhound, a date", where, r.Status, r.Author, r.Date)
				}
				if !slices.Contains([]string{"informational", "low", "medium", "high", "critical"}, r.Level) {
					t.Errorf("%s: level %q is not a Sigma level", where, r.Level)
				}
				if len(r.References) == 0 || len(r.FalsePositives) == 0 {
					t.Errorf("%s: references and falsepositives are required", where)
				}
				var tactic, tech bool
				for _, tag := range r.Tags {
					switch {
					case techRE.MatchString(tag):
						tech = true
					case tacticRE.MatchString(tag):
						tactic = true
					default:
						t.Errorf("%s: tag %q is neither attack.<tactic> nor attack.tNNNN[.NNN]", where, tag)
					}
				}
				if !tactic || !tech {
					t.Errorf("%s: tags %v need an ATT&CK tactic and technique", where, r.Tags)
				}
			}
		})
	}
}

func TestRuleTestFiles(t *testing.T) {
	rules := ruleNames(t)
	tests, err := fs.Glob(FS, "*_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tf := range tests {
		if !slices.Contains(rules, strings.TrimSuffix(tf, "_test.yml")+".yml") {
			t.Errorf("%s has no rule beside it", tf)
		}
	}
	seen := map[string]string{}
	for _, name := range rules {
		tf := strings.TrimSuffix(name, ".yml") + "_test.yml"
		t.Run(tf, func(t *testing.T) {
			b, err := fs.ReadFile(FS, tf)
			if err != nil {
				t.Fatalf("every rule needs a test file: %v", err)
			}
			var f testFile
			dec := yaml.NewDecoder(strings.NewReader(string(b)))
			dec.KnownFields(true)
			if err := dec.Decode(&f); err != nil {
				t.Fatalf("parsing: %v", err)
			}
			var firing, quiet int
			for _, c := range f.Cases {
				if c.Name == "" || len(c.Events) == 0 {
					t.Errorf("case %q: a name and at least one event are required", c.Name)
				}
				inCase := map[string]bool{}
				for i, ev := range c.Events {
					id, _ := ev["eventID"].(string)
					if !uuidRE.MatchString(id) {
						t.Errorf("case %q event %d: eventID %q is not a UUIDv4", c.Name, i, id)
					}
					if prev, dup := seen[id]; dup {
						t.Errorf("case %q: eventID %s already used in %s", c.Name, id, prev)
					}
					seen[id] = tf
					inCase[id] = true
					for _, k := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent", "eventType", "recipientAccountId"} {
						if _, ok := ev[k]; !ok {
							t.Errorf("case %q event %s: missing %s", c.Name, id, k)
						}
					}
				}
				for _, sig := range c.Expect {
					if len(sig.EventIDs) == 0 {
						t.Errorf("case %q: an expected signal lists no event_ids", c.Name)
					}
					for _, id := range sig.EventIDs {
						if !inCase[id] {
							t.Errorf("case %q: expected event %s is not among the case's events", c.Name, id)
						}
					}
				}
				if len(c.Expect) > 0 {
					firing++
				} else {
					quiet++
				}
			}
			if firing < 2 || quiet < 2 {
				t.Errorf("%d firing and %d non-firing cases; want at least 2 of each", firing, quiet)
			}
		})
	}
}

// TestTuningTable checks that the Tuning table of README.md lists every correlation of the
// built-in rules, once, with its type and, in its threshold and window columns, its
// threshold and timespan (or learning and forget periods).
func TestTuningTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ file, typ, threshold, window string }
	var rows []row
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 8 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`aws_") {
			continue
		}
		rows = append(rows, row{strings.Trim(strings.TrimSpace(cells[1]), "`"), strings.TrimSpace(cells[3]), cells[4], cells[5]})
	}
	used := make([]bool, len(rows))
	for _, name := range ruleNames(t) {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		for {
			var d struct {
				Title       string `yaml:"title"`
				Correlation *struct {
					Type      string         `yaml:"type"`
					Timespan  string         `yaml:"timespan"`
					Learning  string         `yaml:"learning"`
					Forget    string         `yaml:"forget"`
					Condition map[string]any `yaml:"condition"`
					Factor    any            `yaml:"factor"`
				} `yaml:"correlation"`
			}
			if err := dec.Decode(&d); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: %v", name, err)
				}
				break
			}
			c := d.Correlation
			if c == nil {
				continue
			}
			var window []string
			if c.Timespan != "" {
				window = append(window, "`timespan: "+c.Timespan+"`")
			}
			if c.Learning != "" {
				window = append(window, "`learning: "+c.Learning+"`")
			}
			if c.Forget != "" {
				window = append(window, "`forget: "+c.Forget+"`")
			}
			found := false
			for i, r := range rows {
				if used[i] || r.file != name || !strings.HasPrefix(r.typ, c.Type) {
					continue
				}
				ok := true
				for _, w := range window {
					ok = ok && strings.Contains(r.window, w)
				}
				for _, op := range []string{"gte", "gt", "lte", "lt", "eq"} {
					if v, has := c.Condition[op]; has {
						ok = ok && strings.Contains(r.threshold, fmt.Sprintf("`%s: %v`", op, v))
					}
				}
				if c.Factor != nil {
					ok = ok && strings.Contains(r.threshold, fmt.Sprintf("`factor: %v`", c.Factor))
				}
				if ok {
					used[i], found = true, true
					break
				}
			}
			if !found {
				t.Errorf("README.md's Tuning table has no row for %s, correlation %q (%s, %v, %s)", name, d.Title, c.Type, c.Condition, strings.Join(window, " "))
			}
		}
	}
	for i, r := range rows {
		if !used[i] {
			t.Errorf("README.md's Tuning table row for %s (%s) matches no correlation", r.file, r.typ)
		}
	}
}
