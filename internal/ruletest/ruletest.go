// Package ruletest runs the test files that sit beside Sigma rules: CloudTrail events in,
// expected signals out. A rule file aws_x.yml is tested by aws_x_test.yml in the same
// directory (format: rules/README.md). The same runner serves `trailhound rules test`, the
// built-in rules' go test, and users' own rule directories.
package ruletest

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/valyala/fastjson"
	"go.yaml.in/yaml/v3"

	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/trailhound/trailhound/internal/signal"
)

// Evaluator turns a case's events into signals. It is given every rule of the rule set and
// must start from empty state on each call. It is an alias of an unnamed interface so that
// an evaluator (hunt.Evaluator) can return one without importing this package.
type Evaluator = interface {
	Evaluate(ctx context.Context, events []*event.Event) ([]signal.Signal, error)
}

// File is one parsed test file.
type File struct {
	// Path is the test file's path within the file system given to Load.
	Path string
	// RuleFile is the rule file it tests (same stem without _test).
	RuleFile string
	// GeoIP are the networks the file declares (top-level key geoip: a list of network,
	// asn, as_org, country), so rules on trailhound.src_asn / src_country can be tested
	// without a database.
	GeoIP []enrich.StaticNetwork
	Cases []Case
}

// GeoIPEvaluator is an Evaluator that can evaluate with the networks a test file declares.
type GeoIPEvaluator interface {
	WithGeoIP(nets []enrich.StaticNetwork) (Evaluator, error)
}

// Case is one test case.
type Case struct {
	Name   string
	Events []*event.Event
	Expect []Expect
	Line   int
}

// Expect is one expected signal: the ids of the events behind it.
type Expect struct {
	EventIDs []string `yaml:"event_ids"`
}

// Result is the outcome of one case.
type Result struct {
	File     string
	RuleFile string
	Case     string
	Line     int
	// Failure is empty when the case passed.
	Failure string
}

// Passed reports whether the case passed.
func (r Result) Passed() bool { return r.Failure == "" }

// Load reads every *_test.yml (or _test.yaml) under root in fsys, sorted by path.
func Load(fsys fs.FS, root string) ([]*File, error) {
	var files []*File
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isTestFile(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		f, err := Parse(p, data)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func isTestFile(p string) bool {
	return strings.HasSuffix(p, "_test.yml") || strings.HasSuffix(p, "_test.yaml")
}

// RulePath is the rule file a test file tests (r_test.yml → r.yml); any other path is
// returned as is. Commands given a test file load its rule with it.
func RulePath(p string) string {
	if !isTestFile(p) {
		return p
	}
	ext := filepath.Ext(p)
	return strings.TrimSuffix(strings.TrimSuffix(p, ext), "_test") + ext
}

// Parse parses one test file.
func Parse(name string, data []byte) (*File, error) {
	var doc struct {
		GeoIP []struct {
			Network string `yaml:"network"`
			ASN     uint32 `yaml:"asn"`
			ASOrg   string `yaml:"as_org"`
			Country string `yaml:"country"`
		} `yaml:"geoip"`
		Cases []yaml.Node `yaml:"cases"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	f := &File{Path: name, RuleFile: RulePath(name)}
	if len(doc.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases", name)
	}
	for _, g := range doc.GeoIP {
		p, err := netip.ParsePrefix(g.Network)
		if err != nil {
			return nil, fmt.Errorf("%s: geoip network %q: %w", name, g.Network, err)
		}
		f.GeoIP = append(f.GeoIP, enrich.StaticNetwork{Prefix: p, ASN: g.ASN, ASOrg: g.ASOrg, Country: g.Country})
	}
	for i := range doc.Cases {
		n := &doc.Cases[i]
		var raw struct {
			Name   string   `yaml:"name"`
			Events []any    `yaml:"events"`
			Expect []Expect `yaml:"expect"`
		}
		if err := n.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s:%d:%d: %w", name, n.Line, n.Column, err)
		}
		c := Case{Name: raw.Name, Expect: raw.Expect, Line: n.Line}
		for j, ev := range raw.Events {
			b, err := json.Marshal(jsonable(ev))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: case %q event %d: %w", name, n.Line, raw.Name, j, err)
			}
			v, err := fastjson.ParseBytes(b)
			if err != nil || v.Type() != fastjson.TypeObject {
				return nil, fmt.Errorf("%s:%d: case %q event %d is not a JSON object", name, n.Line, raw.Name, j)
			}
			c.Events = append(c.Events, &event.Event{Raw: b, Value: v, Pos: event.Position{File: name, Record: j}})
		}
		f.Cases = append(f.Cases, c)
	}
	return f, nil
}

// jsonable converts what YAML decodes (map[string]any, []any, scalars) for encoding/json.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = jsonable(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = jsonable(x)
		}
		return v
	}
	return v
}

// Run runs every case of files. rules is the loaded rule set (to know which rules each rule
// file holds); ev evaluates events. Results are in file and case order.
func Run(ctx context.Context, files []*File, rules *sigma.RuleSet, ev Evaluator) ([]Result, error) {
	byFile := map[string][]string{}
	for _, r := range rules.Rules {
		byFile[r.File] = append(byFile[r.File], r.Ref())
	}
	for _, c := range rules.Correlations {
		byFile[c.File] = append(byFile[c.File], c.Ref())
	}
	var out []Result
	for _, f := range files {
		ids := byFile[f.RuleFile]
		fev := ev
		if len(f.GeoIP) > 0 {
			ge, ok := ev.(GeoIPEvaluator)
			if !ok {
				return nil, fmt.Errorf("%s declares geoip networks, which this evaluator cannot use", f.Path)
			}
			var err error
			if fev, err = ge.WithGeoIP(f.GeoIP); err != nil {
				return nil, fmt.Errorf("%s: %w", f.Path, err)
			}
		}
		for _, c := range f.Cases {
			res := Result{File: f.Path, RuleFile: f.RuleFile, Case: c.Name, Line: c.Line}
			if len(ids) == 0 {
				res.Failure = fmt.Sprintf("no loaded rule in %s", f.RuleFile)
				out = append(out, res)
				continue
			}
			sigs, err := fev.Evaluate(ctx, c.Events)
			if err != nil {
				return nil, fmt.Errorf("%s: case %q: %w", f.Path, c.Name, err)
			}
			var got [][]string
			for _, s := range sigs {
				if slices.Contains(ids, s.RuleID) {
					got = append(got, sortedCopy(s.EventIDs))
				}
			}
			var want [][]string
			for _, e := range c.Expect {
				want = append(want, sortedCopy(e.EventIDs))
			}
			res.Failure = compare(got, want)
			out = append(out, res)
		}
	}
	return out, nil
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

// compare reports the difference between two multisets of event-id lists, or "".
func compare(got, want [][]string) string {
	key := func(ids []string) string { return "[" + strings.Join(ids, " ") + "]" }
	count := map[string]int{}
	for _, g := range got {
		count[key(g)]++
	}
	for _, w := range want {
		count[key(w)]--
	}
	var missing, extra []string
	for k, n := range count {
		for ; n > 0; n-- {
			extra = append(extra, k)
		}
		for ; n < 0; n++ {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var b strings.Builder
	fmt.Fprintf(&b, "got %d signal(s), want %d", len(got), len(want))
	if len(missing) > 0 {
		fmt.Fprintf(&b, "; missing %s", strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, "; unexpected %s", strings.Join(extra, ", "))
	}
	return b.String()
}

// LoadPath reads the test files under an OS path (a folder, or one rule or test file).
func LoadPath(p string) ([]*File, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("reading tests: %w", err)
	}
	dir, root := p, "."
	if !st.IsDir() {
		dir, root = filepath.Split(p)
		if dir == "" {
			dir = "."
		}
		if !isTestFile(root) {
			ext := filepath.Ext(root)
			root = strings.TrimSuffix(root, ext) + "_test" + ext
		}
	}
	files, err := Load(os.DirFS(dir), root)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		f.Path = filepath.Join(dir, f.Path)
		f.RuleFile = filepath.Join(dir, f.RuleFile)
	}
	return files, nil
}
