package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/trailhound/trailhound/internal/casefile"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/navigator"
	"github.com/trailhound/trailhound/internal/safetext"
	"github.com/trailhound/trailhound/internal/store"
)

// builtCase is an investigation and its JSON, as investigate -f json writes it.
type builtCase struct {
	c    casefile.Case
	json []byte
}

// caseCache keeps the last investigations, by store generation and starting point; a
// request for one being computed waits for it instead of computing it again.
type caseCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*once[*builtCase]
	order   []string // least recently used first
}

func newCaseCache(n int) *caseCache {
	return &caseCache{max: n, entries: map[string]*once[*builtCase]{}}
}

// clear forgets every investigation (a benchmark measures them cold).
func (cc *caseCache) clear() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.entries, cc.order = map[string]*once[*builtCase]{}, nil
}

func (cc *caseCache) get(key string, build func() (*builtCase, error)) (*builtCase, error) {
	cc.mu.Lock()
	e, ok := cc.entries[key]
	if !ok {
		e = &once[*builtCase]{}
		cc.entries[key] = e
	}
	for i, k := range cc.order {
		if k == key {
			cc.order = append(cc.order[:i], cc.order[i+1:]...)
			break
		}
	}
	cc.order = append(cc.order, key)
	for len(cc.order) > cc.max {
		delete(cc.entries, cc.order[0])
		cc.order = cc.order[1:]
	}
	cc.mu.Unlock()
	b, err := e.get(build)
	if err != nil {
		// A failure (a cancelled request, a store being repaired) is not kept.
		cc.mu.Lock()
		if cc.entries[key] == e {
			delete(cc.entries, key)
		}
		cc.mu.Unlock()
	}
	return b, err
}

// startParams are the query parameters naming a starting point, as investigate's flags.
var startParams = []string{"signal", "access_key", "arn", "user", "ip"}

// parseStart reads the one starting point of a request; a signal id may be a unique prefix.
func (h *Handler) parseStart(v url.Values, snap *snapshot) (investigate.Start, int, error) {
	var st investigate.Start
	n := 0
	for _, p := range startParams {
		if v.Get(p) != "" {
			n++
		}
	}
	if n != 1 {
		return st, http.StatusBadRequest, errors.New("name exactly one starting point: signal, access_key, arn, user or ip")
	}
	st = investigate.Start{Signal: v.Get("signal"), AccessKey: v.Get("access_key"), ARN: v.Get("arn"), User: v.Get("user"), IP: v.Get("ip")}
	if st.Signal != "" {
		sg, status, msg := snap.find(st.Signal)
		if sg == nil {
			return st, status, errors.New(msg)
		}
		st.Signal = sg.ID
	}
	return st, 0, nil
}

// investigation returns the case of the request's starting point.
func (h *Handler) investigation(ctx context.Context, v url.Values) (*builtCase, investigate.Start, int, error) {
	snap, err := h.inbox.current()
	if err != nil {
		return nil, investigate.Start{}, http.StatusInternalServerError, err
	}
	start, status, err := h.parseStart(v, snap)
	if err != nil {
		return nil, start, status, err
	}
	key := fmt.Sprintf("%d\x00%s\x00%s\x00%s\x00%s\x00%s", snap.gen, start.Signal, start.AccessKey, start.ARN, start.User, start.IP)
	b, err := h.cases.get(key, func() (*builtCase, error) {
		// The investigation outlives the request that started it: others may wait for it.
		c, err := casefile.Build(context.WithoutCancel(ctx), h.opts.Store, start, snap.sigs, casefile.BuildOptions{
			Enricher: h.opts.Enricher, Prices: h.opts.Prices, Logger: h.log, Title: strings.TrimSpace(h.opts.Title + " " + start.String())})
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := casefile.WriteJSON(&buf, c); err != nil {
			return nil, err
		}
		return &builtCase{c: c, json: buf.Bytes()}, nil
	})
	switch {
	case errors.Is(err, investigate.ErrNotFound):
		return nil, start, http.StatusNotFound, err
	case err != nil:
		return nil, start, http.StatusInternalServerError, err
	}
	return b, start, 0, nil
}

// serveCase answers the case as investigate -f json writes it.
func (h *Handler) serveCase(w http.ResponseWriter, r *http.Request) {
	b, _, status, err := h.investigation(r.Context(), r.URL.Query())
	if err != nil {
		h.answerError(w, r, status, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.json)
}

func (h *Handler) answerError(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= 500 {
		h.fail(w, r, err)
		return
	}
	writeError(w, status, err.Error())
}

// serveCaseDownload answers the case as a file: JSON, Markdown, the remediation script or
// the ATT&CK Navigator layer.
func (h *Handler) serveCaseDownload(w http.ResponseWriter, r *http.Request) {
	b, start, status, err := h.investigation(r.Context(), r.URL.Query())
	if err != nil {
		h.answerError(w, r, status, err)
		return
	}
	var buf bytes.Buffer
	var ctype, ext string
	switch r.URL.Path {
	case "/api/case.json":
		buf.Write(b.json)
		ctype, ext = "application/json; charset=utf-8", "json"
	case "/api/case.md":
		err = casefile.WriteMarkdown(&buf, b.c, casefile.Options{})
		ctype, ext = "text/markdown; charset=utf-8", "md"
	case "/api/plan.sh":
		err = b.c.Plan.WriteScript(&buf)
		ctype, ext = "text/x-shellscript; charset=utf-8", "sh"
	case "/api/navigator":
		items := make([]navigator.Named, 0, len(b.c.Report.Signals))
		for _, s := range b.c.Report.Signals {
			items = append(items, navigator.Named{Label: s.Title, Techniques: s.Techniques, Tactics: s.Tactics})
		}
		l := navigator.Build("trailhound incident "+start.String(), "ATT&CK techniques of the signals in the scope of "+start.String()+", scored by the number of signals", "signals", items)
		var js []byte
		if js, err = marshalJSON(l); err == nil {
			buf.Write(js)
		}
		ctype, ext = "application/json; charset=utf-8", "layer.json"
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name := "trailhound-" + fileSafe(start.String()) + "." + ext
	if r.URL.Path == "/api/plan.sh" {
		name = "trailhound-remediation-" + fileSafe(start.String()) + ".sh"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("inline") == "" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	w.Write(buf.Bytes())
}

// fileSafe keeps letters, digits, dot, dash and underscore of s, for a file name.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 80 {
			break
		}
	}
	return b.String()
}

// serveCoverage answers the ATT&CK Navigator layer of the loaded rules.
func (h *Handler) serveCoverage(w http.ResponseWriter, r *http.Request) {
	l := navigator.FromRules("trailhound rule coverage", h.opts.Rules)
	js, err := marshalJSON(l)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.URL.Query().Get("inline") == "" {
		w.Header().Set("Content-Disposition", `attachment; filename="trailhound-coverage.layer.json"`)
	}
	w.Write(js)
}

// serveEvent answers the raw JSON of one stored event, indented and escaped, found by its
// eventID at its time (to the second), made by the actor or with the key given.
func (h *Handler) serveEvent(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	id := v.Get("id")
	t, err := parseTime(v.Get("t"))
	if id == "" || err != nil || t.IsZero() {
		writeError(w, http.StatusBadRequest, "an event is named by id (its eventID) and t (its time, RFC 3339)")
		return
	}
	f := store.Filter{Since: t.Truncate(time.Second), Until: t.Truncate(time.Second).Add(time.Second)}
	if a := v.Get("actor"); a != "" {
		f.Actors = []string{a}
	}
	if k := v.Get("key"); k != "" {
		f.AccessKeys = []string{k}
	}
	var raw []byte
	errFound := errors.New("found")
	err = h.opts.Store.Events(r.Context(), f, func(rec store.Record, ev *event.Event) error {
		if rec.EventID != id {
			return nil
		}
		raw = bytes.Clone(ev.Raw)
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		h.fail(w, r, err)
		return
	}
	if raw == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no event %s at %s in the store", id, t.Format(time.RFC3339)))
		return
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(safetext.JSON(buf.Bytes()))
}
