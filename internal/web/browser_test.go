package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/trailhound/trailhound/internal/shareddata"
	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/internal/store"
)

// The browser tests drive Debian's chromium (apt-get install chromium; .ci/run installs it)
// through chromedp: one browser per test binary, a tab per test. Without chromium they are
// skipped, except in CI, where that is a failure.

var (
	browserMu     sync.Mutex
	browserCtx    context.Context
	browserCancel func()
	browserDir    string
)

// chromium returns the shared browser, starting it on first use.
func chromium(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browserMu.Lock()
	defer browserMu.Unlock()
	if browserCtx != nil {
		return browserCtx
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if shareddata.InCI() {
			t.Fatalf("chromium is not installed; CI must have it (.ci/run installs it with apt-get install -y chromium)")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium)")
	}
	if browserDir, err = os.MkdirTemp("", "trailhound-chromium-"); err != nil {
		t.Fatal(err)
	}
	// The flags keep chromium from calling out: on a closed network its background
	// connections are refused, many at a time.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(browserDir), chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancelCtx()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	browserCtx = ctx
	browserCancel = func() { cancelCtx(); cancelAlloc() }
	return browserCtx
}

// closeBrowser stops the browser the tests share, if one was started.
func closeBrowser() {
	browserMu.Lock()
	defer browserMu.Unlock()
	if browserCancel != nil {
		browserCancel()
		os.RemoveAll(browserDir)
		browserCtx, browserCancel = nil, nil
	}
}

// tab is one browser tab on an investigator, recording what must not happen: console
// errors, uncaught exceptions, dialogs.
type tab struct {
	t    testing.TB
	ctx  context.Context
	base string
	h    *Handler
	dir  string // screenshots

	expectErrors atomic.Bool

	mu       sync.Mutex
	problems []string
	dialogs  []string
}

func newTab(t testing.TB, h *Handler) *tab {
	t.Helper()
	tb := &tab{t: t, h: h}
	// Every answer of 400 or more is a problem too: a resource that failed to load is a
	// console error in the browser.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		h.ServeHTTP(rec, r)
		if rec.status >= 400 && !tb.expectErrors.Load() {
			tb.mu.Lock()
			tb.problems = append(tb.problems, fmt.Sprintf("%s %s answered %d", r.Method, r.URL, rec.status))
			tb.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	tb.base = srv.URL
	if at, ok := t.(interface{ ArtifactDir() string }); ok {
		tb.dir = at.ArtifactDir()
	} else {
		tb.dir = t.TempDir()
	}
	ctx, cancel := chromedp.NewContext(chromium(t), chromedp.WithListener(tb.listen))
	t.Cleanup(cancel)
	tb.ctx = ctx
	// The tab lives as long as the context of its first action: open it on ctx itself,
	// not on a context with a deadline that run cancels.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	t.Logf("screenshots in %s", tb.dir)
	return tb
}

func (tb *tab) listen(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			tb.problems = append(tb.problems, "console."+string(e.Type)+": "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		tb.problems = append(tb.problems, "exception: "+msg)
	case *page.EventJavascriptDialogOpening:
		tb.dialogs = append(tb.dialogs, string(e.Type)+": "+e.Message)
		go chromedp.Do(tb.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			return err
		}))
	}
}

// run runs actions with a deadline, failing the test on an error.
func (tb *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.shot("failure")
		tb.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into v.
func (tb *tab) eval(expr string, v any) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.shot("failure")
		tb.t.Fatalf("evaluating %s: %v", expr, err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			tb.t.Fatalf("evaluating %s: %v (%s)", expr, err, raw)
		}
	}
}

// wait polls a JavaScript expression until it is true.
func (tb *tab) wait(what, expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		var ok bool
		tb.eval("!!("+expr+")", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.shot("failure")
			tb.t.Fatalf("waiting for %s: %s is still false", what, expr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open loads a view of the investigator (path and fragment) in a new document: a
// navigation that changes only the fragment would keep the old view on the page until the
// new one has its data, and a wait could see the old one.
func (tb *tab) open(view string) {
	tb.t.Helper()
	tb.run(chromedp.Navigate("about:blank"), chromedp.Navigate(tb.base+view))
	tb.wait("the page", "document.readyState === 'complete' && document.getElementById('main')")
}

// click clicks the first element matching a CSS selector, once it is there.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	js, _ := json.Marshal(sel)
	tb.wait(sel, "document.querySelector("+string(js)+")")
	tb.run(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// shot saves a screenshot of the page under the test's artefacts.
func (tb *tab) shot(name string) {
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(tb.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
	}
}

// clean fails the test on any console error, exception, dialog or CSP violation so far.
func (tb *tab) clean() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		tb.t.Errorf("browser: %s", p)
	}
	for _, d := range tb.dialogs {
		tb.t.Errorf("a dialog opened: %s", d)
	}
	if n := tb.h.CSPViolations(); n > 0 {
		tb.t.Errorf("%d Content-Security-Policy violations", n)
	}
	tb.problems, tb.dialogs = nil, nil
}

// download clicks a link and returns the file the browser saved.
func (tb *tab) download(sel string) []byte {
	tb.t.Helper()
	dir := tb.t.TempDir()
	progress := chromedp.BrowserEvents(tb.ctx, browser.DownloadProgress)
	tb.run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true),
		})
		return err
	}))
	tb.click(sel)
	for ev, err := range progress {
		if err != nil {
			tb.t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			tb.t.Fatalf("download of %s cancelled", sel)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				tb.t.Fatal(err)
			}
			return b
		}
	}
	tb.t.Fatalf("download of %s: no completion", sel)
	return nil
}

func ptrTo[T any](v T) *T { return &v }

// The seed attack end to end, as a responder would click through it: the inbox of a
// simulated store, the critical ECS signal, its graph (the attacker's identities, the
// clusters of the 17 regions), its timeline (every attack event), the plan downloaded, a
// pivot from a node, a triage status that survives a reload; no console error, no CSP
// violation.
func TestBrowserInvestigatesTheSeedAttack(t *testing.T) {
	sim := defaultSim(t)
	h, _ := openHandler(t, sim.dir, Options{Rules: sim.rules, Triage: newTriageCopy(t), Logger: testLogger(t)})
	tb := newTab(t, h)
	crit := sim.criticalECS(t)
	var attack2 = sim.truth.Attacks[1]
	if attack2.Attack != 2 {
		t.Fatalf("attack %d where 2 was expected", attack2.Attack)
	}

	// The inbox.
	tb.open("/")
	tb.wait("the inbox", "document.querySelectorAll('table.signals tbody tr').length > 0")
	var inbox struct {
		Rows     int
		Critical string
	}
	tb.eval(`({rows: document.querySelectorAll('table.signals tbody tr').length,
		critical: document.querySelector('button[data-level=critical] .n').textContent})`, &inbox)
	want := 0
	for _, s := range sim.signals {
		if s.Level == 4 {
			want++
		}
	}
	if inbox.Critical != fmt.Sprint(want) || inbox.Rows != min(50, len(sim.signals)) {
		t.Errorf("inbox: %+v, want %d critical and %d rows", inbox, want, min(50, len(sim.signals)))
	}
	tb.shot("inbox")

	// Filter to the critical ones, then open the ECS signal.
	tb.click("button[data-level=critical]")
	tb.wait("the critical filter", "location.hash.includes('level=critical') && document.querySelectorAll('table.signals tbody tr').length === "+fmt.Sprint(want))
	tb.click(fmt.Sprintf("tr[data-signal=%q] a.title", crit.ID))
	tb.wait("the case", "window.trailhound && window.trailhound.report && document.querySelector('.tabs')")
	tb.shot("case-overview")

	// The graph.
	tb.click("button[data-tab=graph]")
	tb.wait("the graph", "document.querySelector('#graph[data-ready=true]') && window.trailhound.cy")
	var graph struct {
		Nodes []struct {
			ID, Kind string
			InScope  bool
		}
	}
	tb.eval(`({nodes: window.trailhound.cy.nodes().map(n => ({id: n.id(), kind: n.data('kind'), inScope: !!n.data('inScope')}))})`, &graph)
	nodes := map[string]bool{}
	clusterRegions := map[string]bool{}
	for _, n := range graph.Nodes {
		nodes[n.ID] = n.InScope
		if strings.HasPrefix(n.ID, "resource:ecs:cluster|") {
			clusterRegions[strings.Split(n.ID, "|")[2]] = true
		}
	}
	for _, id := range attack2.Identities {
		// A leaked key's user is its owner's identity (issue 15's attribution): the key is
		// the attacker's, the user need not be in the scope.
		if in, ok := nodes["user:"+id.ARN]; id.How != "leaked access key" && (!ok || !in) {
			t.Errorf("graph: no in-scope node for the attacker identity %s", id.ARN)
		}
		if in, ok := nodes["access-key:"+id.AccessKeyID]; id.AccessKeyID != "" && (!ok || !in) {
			t.Errorf("graph: no in-scope node for the attacker key %s", id.AccessKeyID)
		}
	}
	for _, r := range attack2.Resources {
		if r.Kind == "ecs-cluster" && !clusterRegions[r.Region] {
			t.Errorf("graph: no cluster node in %s", r.Region)
		}
	}
	if len(clusterRegions) != 17 {
		t.Errorf("graph: clusters in %d regions, want 17", len(clusterRegions))
	}
	tb.shot("graph")

	// The timeline: every event of the attack is drawn, and one opens as raw JSON.
	tb.click("button[data-tab=timeline]")
	tb.wait("the timeline", "document.querySelector('#timeline[data-ready=true]') && document.querySelectorAll('#timeline [data-event]').length > 0")
	var drawn []string
	tb.eval(`[...document.querySelectorAll('#timeline [data-event]')].map(e => e.dataset.event)`, &drawn)
	have := map[string]bool{}
	for _, id := range drawn {
		have[id] = true
	}
	for _, st := range attack2.Steps {
		if !have[st.EventID] {
			t.Errorf("timeline: attack step %s (%s) is not drawn", st.Step, st.EventID)
		}
	}
	tb.click("#zoom-signals")
	time.Sleep(300 * time.Millisecond) // the redraw after the zoom
	stepIDs := map[string]simulate.Step{}
	var ids []string
	for _, st := range attack2.Steps {
		stepIDs[st.EventID] = st
		ids = append(ids, st.EventID)
	}
	js, _ := json.Marshal(ids)
	// An attack event drawn in the visible part of the timeline (the lane scrolls).
	var clicked string
	tb.eval(`(() => { const ids = `+string(js)+`; const p = document.querySelector('#timeline .vis-center').getBoundingClientRect();
		const e = [...document.querySelectorAll('#timeline [data-event]')].find(e => { const r = e.getBoundingClientRect();
			return ids.includes(e.dataset.event) && r.top >= p.top && r.bottom <= p.bottom && r.left >= p.left && r.right <= p.right; });
		if (!e) return ''; e.id = 'click-me'; return e.dataset.event; })()`, &clicked)
	step, ok := stepIDs[clicked]
	if !ok {
		t.Fatalf("no attack event visible in the timeline after zooming to the signals")
	}
	// A DOM click on the item's label: the timeline's drag layer takes synthetic mouse
	// presses at a point for itself.
	tb.eval(`(document.getElementById('click-me').click(), true)`, nil)
	tb.wait("the raw event", "document.querySelector('#panel pre.raw') && document.querySelector('#panel pre.raw').textContent.includes('eventVersion')")
	var raw string
	tb.eval(`document.querySelector('#panel pre.raw').textContent`, &raw)
	if !strings.Contains(raw, step.EventID) || !strings.Contains(raw, step.EventName) {
		t.Errorf("raw JSON of %s: %.300s", step.EventID, raw)
	}
	tb.shot("timeline")

	// The plan: shown, and downloaded as a script.
	tb.click("button[data-tab=plan]")
	tb.wait("the plan", "document.querySelector('pre.script') && document.querySelector('pre.script').textContent.length > 100")
	tb.shot("plan")
	script := tb.download("#plan-download")
	if !strings.HasPrefix(string(script), "#!") || !strings.Contains(string(script), "delete-cluster") {
		t.Errorf("downloaded plan: %.300s", script)
	}

	// Pivot: a node's panel, then "expand from here" from the attacker's address.
	tb.click("button[data-tab=graph]")
	tb.wait("the graph", "document.querySelector('#graph[data-ready=true]') && window.trailhound.cy")
	ip := attack2.SourceIPs[0]
	tb.eval(fmt.Sprintf(`(window.trailhound.cy.getElementById(%q).emit('tap'), true)`, "ip:"+ip), nil)
	tb.wait("the node panel", "document.querySelector('#panel:not([hidden]) #expand-here')")
	var before int
	tb.eval(`window.trailhound.report.timeline.length`, &before)
	tb.eval(`(window.trailhound = null, true)`, nil) // set again by the view the click opens
	tb.click("#expand-here")
	tb.wait("the expanded case", "location.hash.includes('expand=ip') && window.trailhound && window.trailhound.cy && document.querySelector('#graph[data-ready=true]')")
	var after struct {
		Events   int
		Expanded int
	}
	tb.eval(`({events: window.trailhound.report.timeline.length, expanded: window.trailhound.cy.nodes('.expanded').length})`, &after)
	if after.Events < before {
		t.Errorf("expanding from %s: %d events, fewer than %d", ip, after.Events, before)
	}
	tb.shot("pivot")

	// Exclude an address of the attacker's (another one if the graph has it): the node and
	// its events leave the view.
	other := "ip:" + ip
	for _, n := range graph.Nodes {
		if n.Kind == "ip" && n.ID != "ip:"+ip {
			other = n.ID
		}
	}
	{
		js, _ := json.Marshal(other)
		tb.eval(`(window.trailhound.cy.getElementById(`+string(js)+`).emit('tap'), true)`, nil)
		tb.wait("the node panel", "document.querySelector('#panel:not([hidden]) #exclude-here')")
		tb.eval(`(window.trailhound = null, true)`, nil)
		tb.click("#exclude-here")
		tb.wait("the view without it", "location.hash.includes('exclude=') && window.trailhound && window.trailhound.cy && document.querySelector('#graph[data-ready=true]') && window.trailhound.cy.getElementById("+string(js)+").length === 0")
		tb.click("button[data-tab=timeline]")
		tb.wait("the timeline", "document.querySelector('#timeline[data-ready=true]')")
		var shown int
		tb.eval(`document.querySelectorAll('#timeline [data-event]').length`, &shown)
		var fromOther int
		tb.eval(`window.trailhound.report.timeline.filter(e => 'ip:' + e.source_ip === `+string(js)+`).length`, &fromOther)
		if fromOther == 0 || shown > after.Events-fromOther {
			t.Errorf("excluding %s: %d events drawn of %d, %d from it", other, shown, after.Events, fromOther)
		}
		tb.shot("exclude")
	}

	// Triage, then a reload: the status and note are still there.
	tb.open("/#/case?signal=" + crit.ID)
	tb.wait("the triage editor", "document.querySelector('select[name=triage-status]')")
	tb.eval(`(() => { const s = document.querySelector('select[name=triage-status]'); s.value = 'closed-true-positive';
		document.querySelector('textarea[name=triage-note]').value = 'miners in 17 regions'; return true })()`, nil)
	tb.click("button[name=triage-save]")
	tb.wait("the save", "document.querySelector('.triage [role=status]').textContent === 'saved'")
	tb.run(chromedp.Reload())
	tb.wait("the triage editor", "document.querySelector('select[name=triage-status]')")
	var tri struct{ Status, Note string }
	tb.eval(`({status: document.querySelector('select[name=triage-status]').value, note: document.querySelector('textarea[name=triage-note]').value})`, &tri)
	if tri.Status != "closed-true-positive" || tri.Note != "miners in 17 regions" {
		t.Errorf("after a reload: %+v", tri)
	}
	tb.open("/#/?status=closed-true-positive")
	tb.wait("the inbox", "document.querySelectorAll('table.signals tbody tr').length === 1")
	tb.shot("triage")
	tb.clean()
}

// newTriageCopy returns a triage log of its own, so that tests sharing a store do not see
// each other's statuses.
func newTriageCopy(t testing.TB) TriageLog {
	return storeTriage(t.TempDir())
}

var _ http.Handler = (*Handler)(nil)

func storeTriage(dir string) TriageLog { return store.OpenTriage(dir) }

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// testLogger logs through t (CSP violation reports among others).
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}
