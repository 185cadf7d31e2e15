package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
	"github.com/bradleyjkemp/sigma-go/evaluator/modifiers"
	"github.com/valyala/fastjson"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/sigma"
)

// knownDisagreements are the rule/event pairs on which trailhound and sigma-go v0.6.6 are
// known to differ, keyed by rule id and event key, with the reason (see DISAGREEMENTS.md).
// The test fails on any other disagreement, and on an entry that no longer disagrees.
var knownDisagreements = map[string]string{
	"97fbabf8-8e1b-47a2-b7d5-a418d2b95e3d stratus-red-team-detonation-logs/aws.persistence.lambda-layer-extension.json#0": "sigma-go has no wildcards: contains '*' looks for a literal star",
}

// existsComparator implements the exists modifier that sigma-go v0.6.6 lacks: sigma-go
// passes nil as the actual value of an absent field.
type existsComparator struct{}

func (existsComparator) Matches(actual, expected any) (bool, error) {
	return (actual != nil) == (modifiers.CoerceString(expected) == "true"), nil
}

// registerExists adds the exists comparator to sigma-go's comparator table. sigma-go's
// options cannot reach the comparators of a RuleEvaluator (the field is unexported and
// ForRule copies the package table), so the table itself is extended, once per test binary.
var registerExists = sync.OnceFunc(func() { modifiers.Comparators["exists"] = existsComparator{} })

// sigmaGoRule is one rule as sigma-go sees it, or why sigma-go could not take it.
type sigmaGoRule struct {
	eval *evaluator.RuleEvaluator
	err  error
}

// sigmaGoRules parses every document of the rules' files with sigma-go. Each rule is
// given a field mapping of every field to itself, so that sigma-go expands array values
// (it does that only for mapped fields).
func sigmaGoRules(t *testing.T, rules []*sigma.Rule) []sigmaGoRule {
	t.Helper()
	docs := map[string][][]byte{}
	out := make([]sigmaGoRule, len(rules))
	for i, r := range rules {
		if _, ok := docs[r.File]; !ok {
			d, err := splitDocuments(r.File)
			if err != nil {
				t.Fatalf("splitting %s into documents: %v", r.File, err)
			}
			docs[r.File] = d
		}
		if r.Doc >= len(docs[r.File]) {
			t.Fatalf("%s: document %d not found", r.File, r.Doc)
		}
		sr, err := sigmago.ParseRule(docs[r.File][r.Doc])
		if err != nil {
			out[i].err = fmt.Errorf("sigma-go parsing %s: %w", r.File, err)
			continue
		}
		cfg := sigmago.Config{FieldMappings: map[string]sigmago.FieldMapping{}}
		for _, s := range sr.Detection.Searches {
			for _, em := range s.EventMatchers {
				for _, fm := range em {
					cfg.FieldMappings[fm.Field] = sigmago.FieldMapping{TargetNames: []string{fm.Field}}
					// sigma-go rejects a YAML null value at evaluation time, but its
					// comparator reads the string "null" as "absent": use its own spelling.
					for j, v := range fm.Values {
						if v == nil {
							fm.Values[j] = "null"
						}
					}
				}
			}
		}
		out[i].eval = evaluator.ForRule(sr, evaluator.WithConfig(cfg))
	}
	return out
}

// splitDocuments returns the YAML documents of a file, each re-encoded on its own.
func splitDocuments(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out [][]byte
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decoding document %d: %w", len(out), err)
		}
		b, err := yaml.Marshal(&n)
		if err != nil {
			return nil, fmt.Errorf("encoding document %d: %w", len(out), err)
		}
		out = append(out, b)
	}
}

// flatEvent is the event as sigma-go reads it: every dotted path (crossing arrays, like
// trailhound's field names) mapped to the values found there.
func flatEvent(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	flat := map[string][]any{}
	flatten("", v, flat)
	out := make(map[string]any, len(flat))
	for k, vs := range flat {
		out[k] = vs
	}
	return out, nil
}

func flatten(prefix string, v any, out map[string][]any) {
	switch x := v.(type) {
	case map[string]any:
		if prefix != "" {
			out[prefix] = append(out[prefix], x)
		}
		for k, c := range x {
			if prefix != "" {
				k = prefix + "." + k
			}
			flatten(k, c, out)
		}
	case []any:
		for _, c := range x {
			flatten(prefix, c, out)
		}
	default:
		out[prefix] = append(out[prefix], x)
	}
}

// disagreement is one rule/event pair on which the two implementations differ.
type disagreement struct {
	rule       *sigma.Rule
	ev         testEvent
	trailhound bool
}

func (d disagreement) key() string { return d.rule.Ref() + " " + d.ev.Key }

// TestDifferentialSigmaGo compares trailhound's verdict with sigma-go's for every
// CloudTrail detection rule of the public sets and every shared CloudTrail event.
//
// Every pair is compared: nothing is prefiltered. The comparison runs in parallel, one
// goroutine per CPU, each with its own trailhound Matcher.
func TestDifferentialSigmaGo(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against sigma-go skipped in -short mode")
	}
	registerExists()
	var rules []*sigma.Rule
	for _, name := range publicSets {
		for _, r := range loadSet(t, name).Rules {
			if r.IsCloudTrail() {
				rules = append(rules, r)
			}
		}
	}
	eng, err := detect.Compile(rules, detect.Options{})
	if err != nil {
		t.Fatalf("compiling public rules: %v", err)
	}
	if len(eng.Rules()) != len(rules) {
		t.Fatalf("compiled %d of %d rules", len(eng.Rules()), len(rules))
	}
	sg := sigmaGoRules(t, rules)
	events := loadEvents(t)
	flat := make([]map[string]any, len(events))
	for i, ev := range events {
		if flat[i], err = flatEvent(ev.Raw); err != nil {
			t.Fatalf("decoding %s with encoding/json: %v", ev.Key, err)
		}
	}

	var (
		mu          sync.Mutex
		disagree    []disagreement
		unsupported = map[string]string{} // rule ref -> sigma-go error
		compared    int
		matches     int
	)
	// A parsed event is not safe for concurrent reads (fastjson unescapes strings in place
	// on first access), so every worker matches its own parse of the events, and takes
	// the rules one at a time.
	compiled := eng.Rules()
	var next atomic.Int64
	g, ctx := errgroup.WithContext(context.Background())
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			own, err := parseEvents(events)
			if err != nil {
				return err
			}
			m := eng.NewMatcher()
			for {
				ri := int(next.Add(1)) - 1
				if ri >= len(compiled) || ctx.Err() != nil {
					return nil
				}
				r := compiled[ri]
				var local []disagreement
				n, hits := 0, 0
				var evalErr error
				for i, ev := range events {
					got := m.MatchRule(r, own[i])
					if sg[ri].err != nil {
						evalErr = sg[ri].err
						break
					}
					res, err := sg[ri].eval.Matches(ctx, flat[i])
					if err != nil {
						evalErr = err
						break
					}
					n++
					if got {
						hits++
					}
					if got != res.Match {
						local = append(local, disagreement{rule: r.Sigma, ev: ev, trailhound: got})
					}
				}
				mu.Lock()
				if evalErr != nil {
					unsupported[r.Sigma.Ref()] = r.Sigma.File + ": " + evalErr.Error()
				} else {
					compared += n
					matches += hits
					disagree = append(disagree, local...)
				}
				mu.Unlock()
			}
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	sort.Slice(disagree, func(i, j int) bool { return disagree[i].key() < disagree[j].key() })
	seen := map[string]bool{}
	known := 0
	for _, d := range disagree {
		k := d.key()
		seen[k] = true
		if _, ok := knownDisagreements[k]; ok {
			known++
			continue
		}
		t.Errorf("unexplained disagreement: rule %s (%s) on event %s (eventID %s, eventName %s): trailhound %v, sigma-go %v",
			d.rule.Ref(), d.rule.File, d.ev.Key, d.ev.ID, d.ev.Ev.Str("eventName"), d.trailhound, !d.trailhound)
	}
	for k := range knownDisagreements {
		if !seen[k] {
			t.Errorf("known disagreement %q no longer occurs: remove it from the table and DISAGREEMENTS.md", k)
		}
	}
	var refs []string
	for ref := range unsupported {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		t.Logf("sigma-go cannot evaluate rule %s: %s", ref, unsupported[ref])
	}
	t.Logf("rules: %d (%d evaluated by sigma-go, %d it cannot evaluate); events: %d", len(rules), len(rules)-len(unsupported), len(unsupported), len(events))
	t.Logf("pairs compared: %d; agreements: %d; disagreements: %d (%d known); trailhound matches: %d",
		compared, compared-len(disagree), len(disagree), known, matches)
	if matches == 0 {
		t.Error("no rule matched any event: the comparison proves nothing")
	}
}

// parseEvents parses the events again, for a goroutine of its own.
func parseEvents(events []testEvent) ([]*event.Event, error) {
	out := make([]*event.Event, len(events))
	for i, ev := range events {
		v, err := fastjson.ParseBytes(ev.Raw)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", ev.Key, err)
		}
		out[i] = &event.Event{Raw: ev.Raw, Value: v}
	}
	return out, nil
}
