package detect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"github.com/trailhound/trailhound/internal/shareddata"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/ioc"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/valyala/fastjson"
)

func moduleRoot(tb testing.TB) string { return shareddata.ModuleRoot(tb) }

// sharedDir returns ../shared/sub or skips the test.
func sharedDir(tb testing.TB, sub string) string { return shareddata.Dir(tb, sub) }

// sharedEvent is one event of the shared data sets, parsed with its own parser.
type sharedEvent struct {
	label string // dataset file and record
	ev    *event.Event
}

// loadSharedEvents reads the events of one data set: "grycap", "stratus" or "panther".
func loadSharedEvents(tb testing.TB, set string) []sharedEvent {
	tb.Helper()
	root := sharedDir(tb, filepath.Join("data", "cloudtrail"))
	var out []sharedEvent
	add := func(label string, v *fastjson.Value) {
		raw := v.MarshalTo(nil)
		var p fastjson.Parser
		pv, err := p.ParseBytes(raw)
		if err != nil {
			tb.Fatalf("re-parsing %s: %v", label, err)
		}
		out = append(out, sharedEvent{label: label, ev: &event.Event{Raw: raw, Value: pv}})
	}
	walk := func(dir string, fn func(path string) error) {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			return fn(path)
		})
		if err != nil {
			tb.Fatalf("reading %s: %v", dir, err)
		}
	}
	var p fastjson.Parser
	switch set {
	case "grycap":
		walk("grycap-cloudtrail-tracker", func(path string) error {
			if !strings.HasSuffix(path, ".json.gz") {
				return nil
			}
			data, err := readGzip(path)
			if err != nil {
				return err
			}
			v, err := p.ParseBytes(data)
			if err != nil {
				return err
			}
			for i, r := range v.GetArray("Records") {
				add(filepath.Base(path)+"#"+strconv.Itoa(i), r)
			}
			return nil
		})
	case "stratus":
		walk("stratus-red-team-detonation-logs", func(path string) error {
			if !strings.HasSuffix(path, ".json") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			v, err := p.ParseBytes(data)
			if err != nil {
				return err
			}
			if v.Type() == fastjson.TypeArray {
				for i, r := range v.GetArray() {
					add(filepath.Base(path)+"#"+strconv.Itoa(i), r)
				}
			} else {
				add(filepath.Base(path)+"#0", v)
			}
			return nil
		})
	case "panther":
		walk("panther-analysis-rule-tests", func(path string) error {
			if !strings.HasSuffix(path, ".jsonl") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 1<<24)
			for line := 1; sc.Scan(); line++ {
				if len(bytes.TrimSpace(sc.Bytes())) == 0 {
					continue
				}
				v, err := p.ParseBytes(sc.Bytes())
				if err != nil {
					return err
				}
				if e := v.Get("event"); e != nil {
					v = e
				}
				add(filepath.Base(path)+":"+strconv.Itoa(line), v)
			}
			return sc.Err()
		})
	default:
		tb.Fatalf("unknown data set %q", set)
	}
	if len(out) == 0 {
		tb.Fatalf("data set %s: no events", set)
	}
	return out
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// loadRules loads and compiles the CloudTrail detection rules under the given directories.
func loadRules(tb testing.TB, dirs ...string) *Engine {
	tb.Helper()
	rs, err := sigma.LoadPaths(context.Background(), dirs...)
	if err != nil {
		tb.Fatalf("loading rules from %s: %v", strings.Join(dirs, ", "), err)
	}
	var rules []*sigma.Rule
	for _, r := range rs.Rules {
		if r.IsCloudTrail() {
			rules = append(rules, r)
		}
	}
	// The built-in rules reach the built-in IOC lists through |expand.
	lists, err := ioc.Load(true)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := Compile(rules, Options{Placeholders: lists.Placeholders()})
	var list sigma.ErrorList
	if err != nil && !errors.As(err, &list) {
		tb.Fatalf("compiling rules: %v", err)
	}
	if err != nil {
		tb.Fatalf("compiling rules: %d errors:\n%v", len(list), err)
	}
	return e
}

// matchedIDs lists the indexes of the rules matching ev, in rule order, with and without
// the eventName index.
func matchedIDs(m *Matcher, ev *event.Event) (indexed, scanned []int) {
	m.Match(ev, func(r *Rule) { indexed = append(indexed, r.Index) })
	for _, r := range m.e.Rules() {
		if m.MatchRule(r, ev) {
			scanned = append(scanned, r.Index)
		}
	}
	sort.Ints(scanned)
	return indexed, scanned
}
