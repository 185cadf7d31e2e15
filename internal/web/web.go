package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailhound/trailhound/internal/enrich"
	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/safetext"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/store"
)

// Store is the event and signal store the investigator reads (store.Store satisfies it,
// opened read-only). It must be safe for concurrent use.
type Store interface {
	investigate.StoreSource
	// Signals returns every stored signal.
	Signals() ([]signal.Signal, error)
	// Refresh makes the store see what a writer committed since.
	Refresh() error
	// Generation names the committed state read: it changes when Refresh sees a commit.
	Generation() uint64
}

// TriageLog keeps the analysts' statuses and notes (store.TriageLog satisfies it). It must
// be safe for concurrent use.
type TriageLog interface {
	Read() (store.TriageState, error)
	Append(store.TriageRecord) error
}

// Options configures New.
type Options struct {
	// Store is read for signals and investigations. Required.
	Store Store
	// Triage keeps statuses and notes. Required.
	Triage TriageLog
	// Rules are the loaded rules: the coverage layer shows them.
	Rules []signal.RuleInfo
	// Token authenticates requests: required for state changes, and for every request
	// with RequireToken. Empty means a random one (see Handler.Token).
	Token string
	// RequireToken makes every request need the token: set it whenever the listener is not
	// on loopback.
	RequireToken bool
	// Analyst is who a triage change is by when the request does not say.
	Analyst string
	// Enricher adds ASN and country to the addresses of investigations; nil adds nothing.
	Enricher *enrich.Enricher
	// Prices are the cost estimate's; nil means the built-in table.
	Prices *remediate.Prices
	// Title names the data in plan titles and exports ("trailhound ui --db DIR").
	Title string
	// RefreshEvery bounds how often the store is asked for new commits; 0 means 1s.
	RefreshEvery time.Duration
	// CaseCache is the number of investigations kept; 0 means 16.
	CaseCache int
	// Logger receives request errors and CSP violations; nil discards.
	Logger *slog.Logger
	// Now is the clock of triage records; nil means time.Now.
	Now func() time.Time
}

// Handler is the investigator. It is safe for concurrent use.
type Handler struct {
	opts   Options
	mux    *http.ServeMux
	log    *slog.Logger
	assets fs.FS
	page   *template.Template

	inbox *inbox
	cases *caseCache

	cspViolations atomic.Int64
}

// New returns the investigator over opts.Store.
func New(opts Options) (*Handler, error) {
	if opts.Store == nil || opts.Triage == nil {
		return nil, errors.New("web: a store and a triage log are required")
	}
	if opts.Token == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("making a token: %w", err)
		}
		opts.Token = hex.EncodeToString(b)
	}
	if opts.RefreshEvery <= 0 {
		opts.RefreshEvery = time.Second
	}
	if opts.CaseCache <= 0 {
		opts.CaseCache = 16
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Prices == nil {
		p, err := remediate.DefaultPrices()
		if err != nil {
			return nil, fmt.Errorf("reading the built-in prices: %w", err)
		}
		opts.Prices = p
	}
	assets, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("reading the embedded assets: %w", err)
	}
	page, err := template.ParseFS(assetFS, "assets/index.html")
	if err != nil {
		return nil, fmt.Errorf("reading the embedded page: %w", err)
	}
	h := &Handler{opts: opts, mux: http.NewServeMux(), log: opts.Logger, assets: assets, page: page}
	h.inbox = &inbox{st: opts.Store, triage: opts.Triage, every: opts.RefreshEvery}
	h.cases = newCaseCache(opts.CaseCache)
	h.routes()
	return h, nil
}

// Token returns the token requests authenticate with.
func (h *Handler) Token() string { return h.opts.Token }

// CSPViolations returns the number of Content-Security-Policy violations browsers reported.
func (h *Handler) CSPViolations() int64 { return h.cspViolations.Load() }

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /{$}", h.servePage)
	m.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(h.assets)))
	m.HandleFunc("GET /api/signals", h.serveSignals)
	m.HandleFunc("GET /api/signal", h.serveSignal)
	m.HandleFunc("POST /api/triage", h.serveTriage)
	m.HandleFunc("GET /api/case", h.serveCase)
	m.HandleFunc("GET /api/case.json", h.serveCaseDownload)
	m.HandleFunc("GET /api/case.md", h.serveCaseDownload)
	m.HandleFunc("GET /api/plan.sh", h.serveCaseDownload)
	m.HandleFunc("GET /api/navigator", h.serveCaseDownload)
	m.HandleFunc("GET /api/navigator/rules", h.serveCoverage)
	m.HandleFunc("GET /api/event", h.serveEvent)
	m.HandleFunc("POST /api/csp-report", h.serveCSPReport)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such page: "+r.URL.Path)
	})
}

// contentSecurityPolicy allows the page's own script, style sheet and API and nothing
// else: no inline script or style element, no eval, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
	"report-uri /api/csp-report"

// ServeHTTP authenticates the request and serves it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !h.authorize(w, r) {
		return
	}
	h.mux.ServeHTTP(w, r)
}

// servePage serves the application's one page, with the token state changes need.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := h.page.Execute(&buf, struct{ Token string }{h.opts.Token}); err != nil {
		h.fail(w, r, fmt.Errorf("rendering the page: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// writeJSON writes v as JSON escaped like investigate -f json: no control, bidi or
// zero-width character raw, no HTML-significant character raw either (a response opened
// as a page by mistake shows text).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshalJSON(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return safetext.JSON(buf.Bytes()), nil
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// fail logs an internal error and answers 500 with it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("web request failed", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, err.Error())
}

// serveCSPReport counts and logs a violation report. Its body is the browser's, bounded.
func (h *Handler) serveCSPReport(w http.ResponseWriter, r *http.Request) {
	h.cspViolations.Add(1)
	var body bytes.Buffer
	body.ReadFrom(http.MaxBytesReader(w, r.Body, 16<<10))
	h.log.Warn("content security policy violation", "report", safetext.Printable(body.String()))
	w.WriteHeader(http.StatusNoContent)
}

// once is a value computed at most once.
type once[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (o *once[T]) get(fn func() (T, error)) (T, error) {
	o.once.Do(func() { o.v, o.err = fn() })
	return o.v, o.err
}
