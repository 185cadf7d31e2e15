package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/store"
)

// inbox keeps the store's signals, newest first, and refreshes them when a writer commits.
type inbox struct {
	st     Store
	triage TriageLog
	every  time.Duration

	mu      sync.Mutex
	checked time.Time
	snap    *snapshot
}

// snapshot is the signals of one generation of the store, ready to filter. It is never
// modified once built.
type snapshot struct {
	gen uint64
	// sigs are in the store's order (what investigations are given, as investigate
	// gives them); order lists them newest first (first seen, then id).
	sigs  []signal.Signal
	order []int32
	text  []string // lower-cased title and summary of each, for search
	byID  map[string]int
	// facets: the values the filters can take, with counts.
	facets facets
}

type facet struct {
	Value string `json:"value"`
	Label string `json:"label,omitempty"`
	Count int    `json:"count"`
}

type facets struct {
	Rules    []facet `json:"rules"`
	Accounts []facet `json:"accounts"`
	Regions  []facet `json:"regions"`
}

// current returns the signals of the store as last committed, asking the store for a new
// commit at most once per refresh period.
func (ib *inbox) current() (*snapshot, error) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if ib.snap != nil && time.Since(ib.checked) < ib.every {
		return ib.snap, nil
	}
	if err := ib.st.Refresh(); err != nil {
		return nil, err
	}
	ib.checked = time.Now()
	if gen := ib.st.Generation(); ib.snap == nil || gen != ib.snap.gen {
		sigs, err := ib.st.Signals()
		if err != nil {
			return nil, fmt.Errorf("reading signals: %w", err)
		}
		ib.snap = newSnapshot(gen, sigs)
	}
	return ib.snap, nil
}

func newSnapshot(gen uint64, sigs []signal.Signal) *snapshot {
	s := &snapshot{gen: gen, sigs: sigs, order: make([]int32, len(sigs)), text: make([]string, len(sigs)), byID: make(map[string]int, len(sigs))}
	for i := range s.order {
		s.order[i] = int32(i)
	}
	slices.SortFunc(s.order, func(i, j int32) int {
		a, b := &sigs[i], &sigs[j]
		return cmp.Or(b.FirstSeen.Compare(a.FirstSeen), cmp.Compare(a.ID, b.ID))
	})
	rules, accts, regions := map[string]*facet{}, map[string]*facet{}, map[string]*facet{}
	count := func(m map[string]*facet, v, label string) {
		if f := m[v]; f != nil {
			f.Count++
			return
		}
		m[v] = &facet{Value: v, Label: label, Count: 1}
	}
	for i := range sigs {
		sg := &sigs[i]
		s.text[i] = strings.ToLower(sg.Title + "\n" + sg.Summary)
		s.byID[sg.ID] = i
		count(rules, sg.RuleID, sg.Title)
		count(accts, sg.AccountID, "")
		for _, r := range sg.Regions {
			count(regions, r, "")
		}
	}
	list := func(m map[string]*facet) []facet {
		out := make([]facet, 0, len(m))
		for _, f := range m {
			out = append(out, *f)
		}
		slices.SortFunc(out, func(a, b facet) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value)) })
		return out
	}
	s.facets = facets{Rules: list(rules), Accounts: list(accts), Regions: list(regions)}
	return s
}

// query is what the inbox is asked for.
type query struct {
	levels   []signal.Level
	statuses []store.TriageStatus
	rule     string
	account  string
	region   string
	actor    string // substring of the actor or the access key, any case
	text     string // lower-cased words, all of which the title or summary holds
	since    time.Time
	until    time.Time
	offset   int
	limit    int
}

// maxPage bounds a page of the inbox.
const maxPage = 500

func parseQuery(v url.Values) (query, error) {
	q := query{rule: v.Get("rule"), account: v.Get("account"), region: v.Get("region"),
		actor: strings.ToLower(strings.TrimSpace(v.Get("actor"))), text: strings.ToLower(strings.TrimSpace(v.Get("q"))), limit: 50}
	for _, l := range splitList(v["level"]) {
		lv, err := signal.ParseLevel(l)
		if err != nil {
			return q, fmt.Errorf("level: %w", err)
		}
		q.levels = append(q.levels, lv)
	}
	for _, s := range splitList(v["status"]) {
		st := store.TriageStatus(s)
		if !slices.Contains(store.TriageStatuses, st) {
			return q, fmt.Errorf("status: unknown status %q", s)
		}
		q.statuses = append(q.statuses, st)
	}
	var err error
	if q.since, err = parseTime(v.Get("since")); err != nil {
		return q, fmt.Errorf("since: %w", err)
	}
	if q.until, err = parseTime(v.Get("until")); err != nil {
		return q, fmt.Errorf("until: %w", err)
	}
	for name, p := range map[string]*int{"offset": &q.offset, "limit": &q.limit} {
		if s := v.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return q, fmt.Errorf("%s: %q is not a count", name, s)
			}
			*p = n
		}
	}
	q.limit = min(max(q.limit, 1), maxPage)
	return q, nil
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// parseTime reads an RFC 3339 time, a datetime-local value (UTC) or a date; "" is zero.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want RFC 3339 or YYYY-MM-DD)", s)
}

// matches reports whether signal i passes every filter but the level and the status (the
// counts per level and per status are of the rest).
func (q *query) matches(s *snapshot, i int) bool {
	sg := &s.sigs[i]
	switch {
	case q.rule != "" && sg.RuleID != q.rule,
		q.account != "" && sg.AccountID != q.account,
		q.region != "" && !slices.Contains(sg.Regions, q.region),
		!q.since.IsZero() && sg.LastSeen.Before(q.since),
		!q.until.IsZero() && !sg.FirstSeen.Before(q.until):
		return false
	}
	if q.actor != "" && !strings.Contains(strings.ToLower(sg.Actor), q.actor) && !strings.Contains(strings.ToLower(sg.AccessKeyID), q.actor) {
		return false
	}
	if q.text != "" {
		for _, w := range strings.Fields(q.text) {
			if !strings.Contains(s.text[i], w) {
				return false
			}
		}
	}
	return true
}

// triageView is a signal's triage as the page shows it.
type triageView struct {
	Status store.TriageStatus `json:"status"`
	Note   string             `json:"note"`
	By     string             `json:"by,omitempty"`
	At     time.Time          `json:"at,omitzero"`
}

func viewOf(rec store.TriageRecord, ok bool) triageView {
	if !ok {
		return triageView{Status: store.StatusNew}
	}
	return triageView{Status: rec.Status, Note: rec.Note, By: rec.By, At: rec.At}
}

type signalRow struct {
	Signal *signal.Signal `json:"signal"`
	Triage triageView     `json:"triage"`
}

type inboxPage struct {
	Generation uint64                     `json:"generation"`
	Total      int                        `json:"total"` // signals in the store
	Matched    int                        `json:"matched"`
	Offset     int                        `json:"offset"`
	Limit      int                        `json:"limit"`
	Counts     map[string]int             `json:"counts"`   // per level, of the signals passing the other filters
	Statuses   map[store.TriageStatus]int `json:"statuses"` // per status, of the signals passing the other filters
	Signals    []signalRow                `json:"signals"`
	Facets     facets                     `json:"facets"`
	// TriageDamaged counts the lines of the triage log that were skipped.
	TriageDamaged int `json:"triage_damaged"`
}

// page runs a query over a snapshot.
func (s *snapshot) page(q query, tr store.TriageState) inboxPage {
	p := inboxPage{Generation: s.gen, Total: len(s.sigs), Offset: q.offset, Limit: q.limit, Counts: map[string]int{},
		Statuses: map[store.TriageStatus]int{}, Signals: []signalRow{}, Facets: s.facets, TriageDamaged: len(tr.Damaged)}
	for lv := signal.LevelInformational; lv <= signal.LevelCritical; lv++ {
		p.Counts[lv.String()] = 0
	}
	for _, st := range store.TriageStatuses {
		p.Statuses[st] = 0
	}
	for _, i32 := range s.order {
		i := int(i32)
		sg := &s.sigs[i]
		rec, ok := tr.Latest[sg.ID]
		status := store.StatusNew
		if ok {
			status = rec.Status
		}
		if !q.matches(s, i) {
			continue
		}
		levelOK := len(q.levels) == 0 || slices.Contains(q.levels, sg.Level)
		statusOK := len(q.statuses) == 0 || slices.Contains(q.statuses, status)
		if statusOK {
			p.Counts[sg.Level.String()]++
		}
		if levelOK {
			p.Statuses[status]++
		}
		if !levelOK || !statusOK {
			continue
		}
		if p.Matched >= q.offset && len(p.Signals) < q.limit {
			p.Signals = append(p.Signals, signalRow{Signal: sg, Triage: viewOf(rec, ok)})
		}
		p.Matched++
	}
	return p
}

func (h *Handler) serveSignals(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	snap, err := h.inbox.current()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tr, err := h.opts.Triage.Read()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, snap.page(q, tr))
}

// serveSignal answers one signal, by id or unique prefix, with its triage history.
func (h *Handler) serveSignal(w http.ResponseWriter, r *http.Request) {
	snap, err := h.inbox.current()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sg, status, msg := snap.find(r.URL.Query().Get("id"))
	if sg == nil {
		writeError(w, status, msg)
		return
	}
	tr, err := h.opts.Triage.Read()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rec, ok := tr.Latest[sg.ID]
	hist := tr.History[sg.ID]
	if hist == nil {
		hist = []store.TriageRecord{}
	}
	writeJSON(w, http.StatusOK, struct {
		signalRow
		History []store.TriageRecord `json:"history"`
	}{signalRow{sg, viewOf(rec, ok)}, hist})
}

// find returns the signal with an id or unique id prefix, or the status and message of why
// there is none.
func (s *snapshot) find(id string) (*signal.Signal, int, string) {
	if id == "" {
		return nil, http.StatusBadRequest, "id: a signal id is required"
	}
	if i, ok := s.byID[id]; ok {
		return &s.sigs[i], 0, ""
	}
	found := -1
	for i := range s.sigs {
		if strings.HasPrefix(s.sigs[i].ID, id) {
			if found >= 0 {
				return nil, http.StatusBadRequest, fmt.Sprintf("signal id %q is the prefix of several signals", id)
			}
			found = i
		}
	}
	if found < 0 {
		return nil, http.StatusNotFound, fmt.Sprintf("no signal %q in the store", id)
	}
	return &s.sigs[found], 0, ""
}
