package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/casefile"
	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/store"
)

// routes lists a request for every route of the handler, and paths it does not have.
var routes = []struct{ method, target, body string }{
	{"GET", "/", ""},
	{"GET", "/assets/app.js", ""},
	{"GET", "/assets/app.css", ""},
	{"GET", "/api/signals", ""},
	{"GET", "/api/signal?id=x", ""},
	{"POST", "/api/triage", `{"signal_id":"x","status":"investigating"}`},
	{"GET", "/api/case?user=x", ""},
	{"GET", "/api/case.json?user=x", ""},
	{"GET", "/api/case.md?user=x", ""},
	{"GET", "/api/plan.sh?user=x", ""},
	{"GET", "/api/navigator?user=x", ""},
	{"GET", "/api/navigator/rules", ""},
	{"GET", "/api/event?id=x&t=2026-01-01T00:00:00Z", ""},
	{"POST", "/api/csp-report", "{}"},
	{"GET", "/no/such/page", ""},
	{"HEAD", "/", ""},
	{"PUT", "/api/triage", "{}"},
	{"DELETE", "/api/signals", ""},
}

// emptyStore returns the folder of a store holding the given signals and no event.
func emptyStore(t testing.TB, sigs []signal.Signal) string {
	t.Helper()
	dir := t.TempDir()
	writeStore(t, dir, withSignals(sigs))
	return dir
}

// Off loopback, no route answers anything but 401 without the token, whatever the method;
// with it (cookie, bearer, header) none answers 401.
func TestAuthEveryRouteNeedsTheToken(t *testing.T) {
	h, _ := openHandler(t, emptyStore(t, nil), Options{RequireToken: true, Token: "s3cret-token"})
	withouts := []map[string]string{
		nil,
		{"Authorization": "Bearer wrong"},
		{"Cookie": tokenCookie + "=wrong"},
		{tokenHeader: "s3cret-toke"},
		{"Host": "localhost:8710"}, // loopback names are no exemption off loopback
	}
	for _, r := range routes {
		for _, hd := range withouts {
			rec := do(h, r.method, r.target, r.body, hd)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s with %v: %d, want 401", r.method, r.target, hd, rec.Code)
			}
			if strings.Contains(rec.Body.String(), "s3cret") {
				t.Errorf("%s %s: the answer shows the token", r.method, r.target)
			}
		}
		for _, hd := range []map[string]string{
			{"Authorization": "Bearer s3cret-token"},
			{"Cookie": tokenCookie + "=s3cret-token"},
			{tokenHeader: "s3cret-token"},
		} {
			if rec := do(h, r.method, r.target, r.body, hd); rec.Code == http.StatusUnauthorized {
				t.Errorf("%s %s with %v: 401", r.method, r.target, hd)
			}
		}
	}
	// The printed URL: a cookie for the site, and the token taken out of the address.
	rec := do(h, "GET", "/?token=s3cret-token", "", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Errorf("GET /?token=: %d to %q, want 303 to /", rec.Code, rec.Header().Get("Location"))
	}
	c := rec.Result().Cookies()
	if len(c) != 1 || c[0].Value != "s3cret-token" || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie: %+v", c)
	}
	if rec := do(h, "GET", "/api/signals?token=wrong", "", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("a wrong ?token=: %d", rec.Code)
	}
}

// On loopback, reads need no token, but only under a loopback host name (a DNS-rebinding
// page has another), and a change needs the token header, JSON and no cross-site origin.
func TestAuthLoopback(t *testing.T) {
	dir := emptyStore(t, []signal.Signal{{ID: "0123456789abcdef0123", Title: "t", Level: signal.LevelHigh}})
	h, _ := openHandler(t, dir, Options{Token: "tok"})
	for _, host := range []string{"127.0.0.1:8710", "localhost:8710", "[::1]:8710", "127.0.0.2", "app.localhost:1"} {
		if rec := do(h, "GET", "/api/signals", "", map[string]string{"Host": host}); rec.Code != http.StatusOK {
			t.Errorf("Host %s: %d, want 200", host, rec.Code)
		}
	}
	for _, r := range routes {
		for _, host := range []string{"evil.example", "evil.example:8710", "10.0.0.1:8710", "127.0.0.1.evil.example"} {
			if rec := do(h, r.method, r.target, r.body, map[string]string{"Host": host, tokenHeader: "tok"}); rec.Code != http.StatusForbidden {
				t.Errorf("%s %s under Host %s: %d, want 403", r.method, r.target, host, rec.Code)
			}
		}
	}
	body := `{"signal_id":"0123456789abcdef0123","status":"investigating"}`
	json := map[string]string{"Content-Type": "application/json", tokenHeader: "tok"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range json {
			m[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	cases := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"the page's request", json, http.StatusOK},
		{"same-origin fetch", with(map[string]string{"Origin": "http://127.0.0.1:8710", "Sec-Fetch-Site": "same-origin"}), http.StatusOK},
		{"no token header", with(map[string]string{tokenHeader: ""}), http.StatusForbidden},
		{"a cookie is not enough", with(map[string]string{tokenHeader: "", "Cookie": tokenCookie + "=tok"}), http.StatusForbidden},
		{"wrong token", with(map[string]string{tokenHeader: "tok2"}), http.StatusForbidden},
		{"a form post", with(map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), http.StatusUnsupportedMediaType},
		{"text/plain (no preflight)", with(map[string]string{"Content-Type": "text/plain"}), http.StatusUnsupportedMediaType},
		{"cross-site", with(map[string]string{"Sec-Fetch-Site": "cross-site"}), http.StatusForbidden},
		{"same-site other port", with(map[string]string{"Sec-Fetch-Site": "same-site"}), http.StatusForbidden},
		{"other origin", with(map[string]string{"Origin": "http://evil.example"}), http.StatusForbidden},
		{"null origin", with(map[string]string{"Origin": "null"}), http.StatusForbidden},
	}
	for _, c := range cases {
		if rec := do(h, "POST", "/api/triage", body, c.hdr); rec.Code != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.name, rec.Code, c.want, rec.Body)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h, _ := openHandler(t, emptyStore(t, nil), Options{Token: "tok"})
	for _, r := range routes {
		rec := do(h, r.method, r.target, r.body, nil)
		csp := rec.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s %s: CSP %q lacks %q", r.method, r.target, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s %s: CSP %q allows unsafe sources", r.method, r.target, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no nosniff", r.method, r.target)
		}
	}
	// The page holds no inline script or style and loads nothing from elsewhere.
	page := do(h, "GET", "/", "", nil).Body.String()
	for _, bad := range []string{"<script>", "<style", " style=", "onload", "http://", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	for _, asset := range []string{"/assets/app.js", "/assets/app.css"} {
		b := do(h, "GET", asset, "", nil).Body.String()
		if len(b) < 1000 {
			t.Fatalf("%s: %d bytes", asset, len(b))
		}
		for _, bad := range []string{"fonts.googleapis", "cdn.jsdelivr", "unpkg.com", "cdnjs"} {
			if strings.Contains(b, bad) {
				t.Errorf("%s refers to %s", asset, bad)
			}
		}
	}
	before := h.CSPViolations()
	if rec := do(h, "POST", "/api/csp-report", `{"csp-report":{}}`, map[string]string{"Content-Type": "application/csp-report"}); rec.Code != http.StatusNoContent || h.CSPViolations() != before+1 {
		t.Errorf("CSP report: %d, %d counted", rec.Code, h.CSPViolations())
	}
}

// inboxSignals makes n signals over 3 accounts, 4 regions, 5 levels and 7 rules.
func inboxSignals(n int) []signal.Signal {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	regions := []string{"us-east-1", "eu-west-1", "ap-south-1", "sa-east-1"}
	out := make([]signal.Signal, n)
	for i := range out {
		first := base.Add(time.Duration(i*7919%n) * time.Minute)
		out[i] = signal.Signal{
			ID: fmt.Sprintf("%020x", uint64(i+1)*0x9E3779B97F4A7C15), RuleID: fmt.Sprintf("rule-%d", i%7), Title: fmt.Sprintf("Rule %d fired", i%7),
			Level: signal.Level(i % 5), FirstSeen: first, LastSeen: first.Add(time.Duration(i%90) * time.Minute),
			AccountID: fmt.Sprintf("11112222333%d", i%3), Regions: []string{regions[i%4], regions[(i/4)%4]},
			Actor: fmt.Sprintf("arn:aws:iam::11112222333%d:user/u%d", i%3, i%11), AccessKeyID: fmt.Sprintf("AKIA%016d", i%13),
			Summary: fmt.Sprintf("user u%d called Thing%d from 198.51.100.%d", i%11, i%17, i%250), EventCount: 1 + i%4,
		}
	}
	return out
}

// The inbox agrees with a plain reading of the filters, for every combination tried: the
// rows, their order (newest first), the counts per level and status, and paging that
// visits every match once.
func TestInboxMatchesFilters(t *testing.T) {
	sigs := inboxSignals(600)
	dir := emptyStore(t, sigs)
	tr := store.OpenTriage(t.TempDir())
	statuses := map[string]store.TriageStatus{}
	for i, sg := range sigs {
		if i%3 == 0 {
			st := store.TriageStatuses[1+i%3]
			if err := tr.Append(store.TriageRecord{SignalID: sg.ID, Status: st, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
			statuses[sg.ID] = st
		}
	}
	h, _ := openHandler(t, dir, Options{Triage: tr})
	statusOf := func(sg signal.Signal) store.TriageStatus {
		if s, ok := statuses[sg.ID]; ok {
			return s
		}
		return store.StatusNew
	}
	queries := []url.Values{
		{},
		{"level": {"critical"}},
		{"level": {"critical", "high"}},
		{"level": {"low,medium"}},
		{"rule": {"rule-3"}},
		{"account": {"111122223331"}},
		{"region": {"sa-east-1"}},
		{"actor": {"U7"}},
		{"actor": {"akia0000000000000012"}},
		{"q": {"thing1 fired"}},
		{"q": {"198.51.100.4"}},
		{"status": {"new"}},
		{"status": {"investigating", "closed-false-positive"}},
		{"since": {"2026-11-01T05:00:00Z"}, "until": {"2026-11-01T07:00"}},
		{"until": {"2026-11-01"}},
		{"level": {"high"}, "region": {"us-east-1"}, "status": {"new"}, "q": {"rule"}},
		{"level": {"informational"}, "account": {"111122223332"}, "actor": {"u1"}},
	}
	for _, v := range queries {
		q, err := parseQuery(v)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		// The plain reading.
		var want []string
		counts := map[string]int{}
		stCounts := map[store.TriageStatus]int{}
		for _, sg := range sigs {
			text := strings.ToLower(sg.Title + "\n" + sg.Summary)
			ok := (q.rule == "" || sg.RuleID == q.rule) && (q.account == "" || sg.AccountID == q.account) &&
				(q.region == "" || slices.Contains(sg.Regions, q.region)) &&
				(q.since.IsZero() || !sg.LastSeen.Before(q.since)) && (q.until.IsZero() || sg.FirstSeen.Before(q.until)) &&
				(q.actor == "" || strings.Contains(strings.ToLower(sg.Actor+" "), q.actor) || strings.Contains(strings.ToLower(sg.AccessKeyID), q.actor))
			for _, w := range strings.Fields(q.text) {
				ok = ok && strings.Contains(text, w)
			}
			lvOK := len(q.levels) == 0 || slices.Contains(q.levels, sg.Level)
			stOK := len(q.statuses) == 0 || slices.Contains(q.statuses, statusOf(sg))
			if ok && stOK {
				counts[sg.Level.String()]++
			}
			if ok && lvOK {
				stCounts[statusOf(sg)]++
			}
			if ok && lvOK && stOK {
				want = append(want, sg.ID)
			}
		}
		// Page through the handler.
		var got []string
		var prev time.Time
		for off := 0; ; off += 37 {
			v2 := url.Values{}
			for k, x := range v {
				v2[k] = x
			}
			v2.Set("offset", fmt.Sprint(off))
			v2.Set("limit", "37")
			rec := do(h, "GET", "/api/signals?"+v2.Encode(), "", nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%v: %d %s", v2, rec.Code, rec.Body)
			}
			var p struct {
				Matched  int                        `json:"matched"`
				Total    int                        `json:"total"`
				Counts   map[string]int             `json:"counts"`
				Statuses map[store.TriageStatus]int `json:"statuses"`
				Signals  []struct {
					Signal signal.Signal `json:"signal"`
					Triage triageView    `json:"triage"`
				} `json:"signals"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Matched != len(want) || p.Total != len(sigs) {
				t.Errorf("%v: matched %d of %d, want %d of %d", v, p.Matched, p.Total, len(want), len(sigs))
			}
			if off == 0 {
				for lv, n := range counts {
					if p.Counts[lv] != n {
						t.Errorf("%v: %d %s, want %d", v, p.Counts[lv], lv, n)
					}
				}
				for st, n := range stCounts {
					if p.Statuses[st] != n {
						t.Errorf("%v: %d %s, want %d", v, p.Statuses[st], st, n)
					}
				}
			}
			for _, r := range p.Signals {
				if !prev.IsZero() && r.Signal.FirstSeen.After(prev) {
					t.Errorf("%v: %s (%s) after an older signal", v, r.Signal.ID, r.Signal.FirstSeen)
				}
				prev = r.Signal.FirstSeen
				if r.Triage.Status != statusOf(r.Signal) {
					t.Errorf("%s: status %s, want %s", r.Signal.ID, r.Triage.Status, statusOf(r.Signal))
				}
				got = append(got, r.Signal.ID)
			}
			if len(p.Signals) < 37 {
				break
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%v: pages hold %d signals, want %d", v, len(got), len(want))
		}
	}
	for _, bad := range []string{"level=severe", "status=closed", "since=yesterday", "offset=-1", "limit=x"} {
		if rec := do(h, "GET", "/api/signals?"+bad, "", nil); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, rec.Code)
		}
	}
}

// A long-running investigator sees what a writer commits after it started, without a
// restart: the store is refreshed.
func TestInboxSeesNewCommits(t *testing.T) {
	sigs := inboxSignals(20)
	dir := emptyStore(t, sigs[:10])
	h, _ := openHandler(t, dir, Options{RefreshEvery: time.Nanosecond})
	total := func() int {
		var p struct{ Total int }
		json.Unmarshal(do(h, "GET", "/api/signals", "", nil).Body.Bytes(), &p)
		return p.Total
	}
	if n := total(); n != 10 {
		t.Fatalf("before: %d signals", n)
	}
	writeStore(t, dir, withSignals(sigs[10:])) // the writer, beside the reader
	if n := total(); n != 20 {
		t.Errorf("after a commit: %d signals, want 20", n)
	}
}

func TestTriageThroughTheAPI(t *testing.T) {
	sigs := inboxSignals(5)
	dir := emptyStore(t, sigs)
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	h, _ := openHandler(t, dir, Options{Token: "tok", Analyst: "os-user", Now: func() time.Time { return now }})
	post := func(body string) (int, string) {
		rec := do(h, "POST", "/api/triage", body, map[string]string{"Content-Type": "application/json", tokenHeader: "tok"})
		return rec.Code, rec.Body.String()
	}
	id := sigs[2].ID
	if code, body := post(`{"signal_id":"` + id[:12] + `","status":"closed-true-positive","note":"<img src=x onerror=alert(1)>","by":"ana"}`); code != 200 {
		t.Fatalf("triage: %d %s", code, body)
	}
	if code, body := post(`{"signal_id":"` + id + `","status":"investigating"}`); code != 200 || !strings.Contains(body, `"by":"os-user"`) {
		t.Fatalf("triage without a name: %d %s", code, body)
	}
	rec := do(h, "GET", "/api/signal?id="+id, "", nil)
	var got struct {
		Triage  triageView           `json:"triage"`
		History []store.TriageRecord `json:"history"`
	}
	json.Unmarshal(rec.Body.Bytes(), &got)
	if got.Triage.Status != store.StatusInvestigating || len(got.History) != 2 || got.History[0].Note != "<img src=x onerror=alert(1)>" || got.History[0].By != "ana" || !got.History[1].At.Equal(now) {
		t.Errorf("after two changes: %+v", got)
	}
	if strings.Contains(rec.Body.String(), "<img") {
		t.Errorf("the JSON answer holds raw HTML: %s", rec.Body)
	}
	// It is in the store folder, for the next investigator (or serve) to read.
	st, _ := store.OpenTriage(dir).Read()
	if st.Latest[id].Status != store.StatusInvestigating {
		t.Errorf("triage.log holds %+v", st.Latest)
	}
	for _, c := range []struct {
		body string
		want int
	}{
		{`{"signal_id":"ffffffffffffffffffff","status":"new"}`, 404},
		{`{"signal_id":"` + id + `","status":"done"}`, 400},
		{`{"signal_id":"` + id + `","status":"new","extra":1}`, 400},
		{`{"signal_id":"` + id + `","status":"new","note":"` + strings.Repeat("x", store.MaxTriageNote+1) + `"}`, 400},
		{`not json`, 400},
		{`{"signal_id":"` + id + `","status":"new","note":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
	} {
		if code, body := post(c.body); code != c.want {
			t.Errorf("%.60s: %d %s, want %d", c.body, code, body, c.want)
		}
	}
}

// The case over the API is investigate's: the same JSON bytes as investigate -f json, the
// same Markdown and plan, for every starting point of the seed attacks.
func TestCaseIsInvestigates(t *testing.T) {
	sim := defaultSim(t)
	h, st := openHandler(t, sim.dir, Options{Rules: sim.rules})
	crit := sim.criticalECS(t)
	starts := []investigate.Start{{Signal: crit.ID}, {AccessKey: crit.AccessKeyID}, {ARN: crit.Actor}}
	for _, at := range sim.truth.Attacks {
		for _, id := range at.Identities {
			if id.UserName != "" {
				starts = append(starts, investigate.Start{User: id.UserName})
			}
		}
	}
	for _, s := range starts {
		v := url.Values{}
		switch {
		case s.Signal != "":
			v.Set("signal", s.Signal[:12]) // a prefix, as the inbox shows
		case s.AccessKey != "":
			v.Set("access_key", s.AccessKey)
		case s.ARN != "":
			v.Set("arn", s.ARN)
		case s.User != "":
			v.Set("user", s.User)
		}
		c, err := casefile.Build(t.Context(), st, s, sim.signals, casefile.BuildOptions{Title: s.String()})
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		var js, md, plan bytes.Buffer
		casefile.WriteJSON(&js, c)
		casefile.WriteMarkdown(&md, c, casefile.Options{})
		c.Plan.WriteScript(&plan)
		for path, want := range map[string][]byte{"/api/case": js.Bytes(), "/api/case.json": js.Bytes(), "/api/case.md": md.Bytes(), "/api/plan.sh": plan.Bytes()} {
			rec := do(h, "GET", path+"?"+v.Encode(), "", nil)
			if rec.Code != 200 {
				t.Errorf("%s %s: %d %s", path, s, rec.Code, rec.Body)
				continue
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Errorf("%s?%s: %d bytes differ from investigate's %d", path, v.Encode(), rec.Body.Len(), len(want))
			}
		}
		if cd := do(h, "GET", "/api/plan.sh?"+v.Encode(), "", nil).Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Errorf("plan download: Content-Disposition %q", cd)
		}
		var layer struct {
			Versions   map[string]string `json:"versions"`
			Techniques []struct {
				TechniqueID string `json:"techniqueID"`
				Score       int    `json:"score"`
			} `json:"techniques"`
		}
		json.Unmarshal(do(h, "GET", "/api/navigator?"+v.Encode(), "", nil).Body.Bytes(), &layer)
		if layer.Versions["layer"] != "4.5" || (len(c.Report.Signals) > 0 && len(layer.Techniques) == 0) {
			t.Errorf("%s: navigator layer %+v", s, layer)
		}
	}
	var cov struct {
		Techniques []any `json:"techniques"`
	}
	json.Unmarshal(do(h, "GET", "/api/navigator/rules", "", nil).Body.Bytes(), &cov)
	if len(cov.Techniques) < 10 {
		t.Errorf("coverage layer of the built-in rules: %d techniques", len(cov.Techniques))
	}
	for target, want := range map[string]int{
		"/api/case?user=nobody-at-all":                     404,
		"/api/case?signal=ffffffffffff":                    404,
		"/api/case":                                        400,
		"/api/case?user=a&ip=1.2.3.4":                      400,
		"/api/case.md?signal=" + sharedPrefix(sim.signals): 400, // the prefix of several
		"/api/event?id=nope&t=2026-11-20T00:00:00Z":        404,
		"/api/event?id=nope":                               400,
	} {
		if rec := do(h, "GET", target, "", nil); rec.Code != want {
			t.Errorf("%s: %d, want %d (%s)", target, rec.Code, want, rec.Body)
		}
	}
}

// Every event of a case's timeline opens: its raw JSON, as stored.
func TestEventRaw(t *testing.T) {
	sim := defaultSim(t)
	h, _ := openHandler(t, sim.dir, Options{})
	crit := sim.criticalECS(t)
	var rep investigate.Report
	if err := json.Unmarshal(do(h, "GET", "/api/case?signal="+crit.ID, "", nil).Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Timeline) < 51 {
		t.Fatalf("timeline of %d events", len(rep.Timeline))
	}
	for _, e := range rep.Timeline {
		v := url.Values{"id": {e.EventID}, "t": {e.Time.Format(time.RFC3339)}, "actor": {e.Identity}, "key": {e.AccessKeyID}}
		rec := do(h, "GET", "/api/event?"+v.Encode(), "", nil)
		var raw map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &raw); rec.Code != 200 || err != nil || raw["eventID"] != e.EventID {
			t.Fatalf("event %s: %d %v %.200s", e.EventID, rec.Code, err, rec.Body)
		}
	}
}

// sharedPrefix returns the shortest id prefix two signals share.
func sharedPrefix(sigs []signal.Signal) string {
	for n := 1; ; n++ {
		seen := map[string]string{}
		for _, s := range sigs {
			if id, ok := seen[s.ID[:n]]; ok && id != s.ID {
				return s.ID[:n]
			}
			seen[s.ID[:n]] = s.ID
		}
	}
}
