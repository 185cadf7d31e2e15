package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/internal/store"
	"github.com/trailhound/trailhound/rules"
)

// simStore is a store holding a simulated history with both seed attacks, hunted with the
// built-in rules, as hunt --db writes it.
type simStore struct {
	dir     string
	truth   *simulate.GroundTruth
	signals []signal.Signal
	rules   []signal.RuleInfo
}

// rewriteSink hands every file to next after rewrite (for the XSS corpus).
type rewriteSink struct {
	next    simulate.Sink
	rewrite func(name string, records []byte) []byte
}

func (s rewriteSink) WriteFile(name string, data []byte) error {
	if s.rewrite == nil || !strings.HasSuffix(name, ".json.gz") || strings.Contains(name, "Digest") {
		return s.next.WriteFile(name, data)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(s.rewrite(name, raw))
	zw.Close()
	return s.next.WriteFile(name, out.Bytes())
}

// buildSimStore generates a simulated history into a temporary folder, hunts it into a
// store at a folder of its own and returns the store's folder. rewrite, when not nil,
// changes each delivery file's JSON first.
func buildSimStore(t fixtureT, opts simulate.Options, rewrite func(name string, records []byte) []byte) *simStore {
	t.Helper()
	ctx := context.Background()
	logs := t.TempDir()
	truth, err := simulate.Generate(ctx, opts, rewriteSink{simulate.NewDirSink(logs), rewrite})
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	set, err := ruleset.Load(ctx, ruleset.Options{Builtin: rules.FS})
	if err != nil {
		t.Fatalf("loading rules: %v", err)
	}
	dir := t.TempDir()
	var sigs []signal.Signal
	writeStore(t, dir, func(w *store.Writer) ([]signal.Signal, error) {
		res, err := hunt.Run(ctx, hunt.Config{OnEvent: w.Add}, set, []string{logs + "/AWSLogs"})
		if err != nil {
			return nil, fmt.Errorf("hunt: %w", err)
		}
		sigs = res.Signals
		return sigs, nil
	})
	return &simStore{dir: dir, truth: truth, signals: sigs, rules: set.Infos()}
}

// writeStore opens the store at dir for writing, lets fill add events, and commits them
// with the signals fill returns, as hunt --db does.
func writeStore(t fixtureT, dir string, fill func(*store.Writer) ([]signal.Signal, error)) {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := st.Writer()
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := fill(w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CommitBatch(store.Batch{Signals: sigs}); err != nil {
		t.Fatal(err)
	}
}

// withSignals is a fill of writeStore that adds the signals only.
func withSignals(sigs []signal.Signal) func(*store.Writer) ([]signal.Signal, error) {
	return func(*store.Writer) ([]signal.Signal, error) { return sigs, nil }
}

// fixtureT is what building a fixture needs of a test; testing.TB has it.
type fixtureT interface {
	Helper()
	Fatal(...any)
	Fatalf(string, ...any)
	TempDir() string
}

// fixtures builds what several tests share once per test binary, under one folder that
// TestMain removes.
type fixtures struct {
	root string
	n    int
}

func (f *fixtures) Helper() {}
func (f *fixtures) Fatal(a ...any) {
	panic(fmt.Sprint(append([]any{"building a shared fixture: "}, a...)...))
}
func (f *fixtures) Fatalf(s string, a ...any) {
	panic("building a shared fixture: " + fmt.Sprintf(s, a...))
}
func (f *fixtures) TempDir() string {
	f.n++
	dir := filepath.Join(f.root, strconv.Itoa(f.n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	return dir
}

var shared = &fixtures{}

var (
	sharedMu  sync.Mutex
	sharedSim *simStore
)

// defaultSim is the simulated store most tests share (5 days, both attacks): built once
// per test binary. Tests must not write to it but through triage, with signal ids of
// their own choosing.
func defaultSim(t testing.TB) *simStore {
	t.Helper()
	if testing.Short() {
		t.Skip("generates and hunts a simulated history")
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedSim == nil {
		sharedSim = buildSimStore(shared, simulate.Options{Seed: 7, Days: 5, EventsPerDay: 3000}, nil)
	}
	return sharedSim
}

func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "trailhound-web-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.root = root
	code := m.Run()
	closeBrowser()
	os.RemoveAll(root)
	os.Exit(code)
}

// openHandler opens a store folder read-only and serves it.
func openHandler(t testing.TB, dir string, opts Options) (*Handler, *store.Store) {
	t.Helper()
	st, err := store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts.Store = st
	if opts.Triage == nil {
		opts.Triage = store.OpenTriage(dir)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h, st
}

// do runs one request through h.
func do(h http.Handler, method, target string, body string, hdr map[string]string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.Host = "127.0.0.1:8710"
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// criticalECS returns the critical signal of attack 2 (the cryptomining images).
func (s *simStore) criticalECS(t testing.TB) signal.Signal {
	t.Helper()
	for _, sg := range s.signals {
		if sg.Level == signal.LevelCritical && strings.Contains(sg.Title, "ECS") {
			return sg
		}
	}
	t.Fatal("no critical ECS signal in the simulated store")
	return signal.Signal{}
}
