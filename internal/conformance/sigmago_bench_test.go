package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
	"github.com/bradleyjkemp/sigma-go/evaluator/modifiers"
	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"

	"github.com/trailhound/trailhound/internal/detect"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/sigma"
)

// TestSigmaGoBaseline measures github.com/bradleyjkemp/sigma-go (the Go Sigma evaluator most
// projects reach for) and trailhound's matcher on the same sample of a benchmark corpus with
// the same rules, one goroutine each, and prints one key=value line per implementation:
//
//	impl=sigma-go rules=… rules_evaluated=… events=… runs=1 elapsed_s=… events_per_s=… matches=…
//	impl=trailhound rules=… events=… runs=… elapsed_s=… events_per_s=… matches=…
//
// Both are timed from an event's JSON text to its matches (sigma-go: encoding/json into a
// map, then its rule bundle; trailhound: fastjson, then the indexed matcher); reading and
// decompressing the files is not timed. It is gated because it takes about a minute:
//
//	TRAILHOUND_BENCH_CORPUS=DIR TRAILHOUND_BENCH_RULES=DIR[:DIR…] [TRAILHOUND_BENCH_EVENTS=2000] \
//	  GOMAXPROCS=1 go test -run '^TestSigmaGoBaseline$' -count=1 -v ./internal/conformance
//
// Adaptations sigma-go needs, kept minimal: an "exists" comparator (v0.6.6 has none), and
// events flattened to dotted keys ("userIdentity.type"), because sigma-go looks a rule's field
// name up as one map key. Arrays are not descended into. Rules sigma-go cannot parse or
// evaluate (unknown modifiers) are left out of its count and reported as rules_evaluated.
func TestSigmaGoBaseline(t *testing.T) {
	corpus, rulesEnv := os.Getenv("TRAILHOUND_BENCH_CORPUS"), os.Getenv("TRAILHOUND_BENCH_RULES")
	if corpus == "" || rulesEnv == "" {
		t.Skip("set TRAILHOUND_BENCH_CORPUS=DIR and TRAILHOUND_BENCH_RULES=DIR to compare with sigma-go")
	}
	n := 2000
	if s := os.Getenv("TRAILHOUND_BENCH_EVENTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			t.Fatalf("TRAILHOUND_BENCH_EVENTS=%q: want a positive number", s)
		}
		n = v
	}
	ruleDirs := filepath.SplitList(rulesEnv)
	raws := benchSampleEvents(t, corpus, n)
	ctx := context.Background()

	// sigma-go
	benchRegisterExists(t)
	sgRules := benchSigmaGoRules(t, ruleDirs)
	bundle := evaluator.ForRules(sgRules)
	var sgMatches, evaluated int
	start := time.Now()
	for _, raw := range raws {
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("decoding an event: %v", err)
		}
		res, err := bundle.Matches(ctx, benchFlatten(ev))
		if err != nil {
			t.Fatalf("sigma-go: %v", err)
		}
		evaluated = max(evaluated, len(res))
		for _, r := range res {
			if r.Match {
				sgMatches++
			}
		}
	}
	sgSecs := time.Since(start).Seconds()
	fmt.Printf("impl=sigma-go rules=%d rules_evaluated=%d events=%d runs=1 elapsed_s=%.3f events_per_s=%.0f matches=%d\n",
		len(sgRules), evaluated, len(raws), sgSecs, float64(len(raws))/sgSecs, sgMatches)

	// trailhound, on the same events
	set, err := ruleset.Load(ctx, ruleset.Options{Paths: ruleDirs})
	var el sigma.ErrorList
	if err != nil && !errors.As(err, &el) {
		t.Fatal(err)
	}
	m := set.Engine.NewMatcher()
	var p fastjson.Parser
	const runs = 20
	thMatches := 0
	count := func(*detect.Rule) { thMatches++ }
	start = time.Now()
	for range runs {
		for _, raw := range raws {
			v, err := p.ParseBytes(raw)
			if err != nil {
				t.Fatalf("parsing an event: %v", err)
			}
			m.Match(&event.Event{Raw: raw, Value: v}, count)
		}
	}
	thSecs := time.Since(start).Seconds()
	fmt.Printf("impl=trailhound rules=%d events=%d runs=%d elapsed_s=%.3f events_per_s=%.0f matches=%d\n",
		len(set.Engine.Rules()), len(raws), runs, thSecs, float64(len(raws)*runs)/thSecs, thMatches/runs)
}

// benchSampleEvents returns the JSON text of the first n events of the gzip'd Records files
// under dir, in walk order.
func benchSampleEvents(t *testing.T, dir string, n int) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	errEnough := errors.New("enough")
	zr := new(gzip.Reader)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json.gz") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := zr.Reset(bufio.NewReader(f)); err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		var doc struct{ Records []json.RawMessage }
		if err := json.NewDecoder(zr).Decode(&doc); err != nil && err != io.EOF {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		for _, r := range doc.Records {
			out = append(out, r)
			if len(out) == n {
				return errEnough
			}
		}
		return nil
	})
	if err != nil && err != errEnough {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no events in %s", dir)
	}
	return out
}

// benchSigmaGoRules parses the AWS CloudTrail detection rules of dirs with sigma-go, leaving
// out what it cannot parse and correlation rules (no condition).
func benchSigmaGoRules(t *testing.T, dirs []string) []sigmago.Rule {
	t.Helper()
	var rules []sigmago.Rule
	skipped := 0
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			r, err := sigmago.ParseRule(b)
			if err != nil || len(r.Detection.Conditions) == 0 ||
				r.Logsource.Product != "aws" || r.Logsource.Service != "cloudtrail" {
				skipped++
				return nil
			}
			rules = append(rules, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(rules) == 0 {
		t.Fatalf("sigma-go parsed no CloudTrail rule in %v", dirs)
	}
	t.Logf("sigma-go: %d rules parsed, %d left out", len(rules), skipped)
	return rules
}

// benchExistsComparator implements the Sigma "exists" modifier: a missing field reaches the
// comparator as nil.
type benchExistsComparator struct{}

func (benchExistsComparator) Matches(actual, expected any) (bool, error) {
	return (actual != nil) == strings.EqualFold(modifiers.CoerceString(expected), "true"), nil
}

// benchRegisterExists adds the exists comparator to sigma-go, which keeps its comparators in a
// package-level map, for the duration of the test.
func benchRegisterExists(t *testing.T) {
	if _, ok := modifiers.Comparators["exists"]; ok {
		return
	}
	modifiers.Comparators["exists"] = benchExistsComparator{}
	t.Cleanup(func() { delete(modifiers.Comparators, "exists") })
}

// benchFlatten returns ev with every nested object's fields also under their dotted path, so that
// sigma-go finds "userIdentity.type".
func benchFlatten(ev map[string]any) map[string]any {
	out := make(map[string]any, 2*len(ev))
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := prefix + k
			out[key] = v
			if sub, ok := v.(map[string]any); ok {
				walk(key+".", sub)
			}
		}
	}
	walk("", ev)
	return out
}
