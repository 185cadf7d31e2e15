package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/simulate"
)

// The XSS corpus: markup, event handlers, javascript: URLs, SVG, bidi and control
// characters and very long strings. Each payload sets window.__xss when it runs. Names
// (users, clusters) carry no slash, so that ARNs keep their shape.
var (
	xssUserName = `"><img src=x onerror="window.__xss=1">` + "\u202egnp.exe"
	xssCLIUser  = `<svg onload=window.__xss=2><a xlink:href=javascript:window.__xss=2>x<` + "\u200b\u2066"
	xssCluster  = `<script>window.__xss=3</script>` + "\x1b[31m"
	xssAgent    = `<iframe srcdoc="<script>parent.__xss=4</script>"></iframe>` + "\u202e" + strings.Repeat("A", 5000)
	xssError    = `<img src=x onerror=window.__xss=5> javascript:window.__xss=5 ` + "\x00\x07\u2028"
	xssKey      = `javascript:window.__xss=6//<svg><a xlink:href="javascript:window.__xss=6"><text>click</text></a></svg>`
)

// xssRewrite puts the corpus in every attacker-controlled field of the attacks' events:
// the names of the users the attacker creates (wherever they appear: request, response,
// ARNs of later calls), the cluster names, and in the attacker's own events the user
// agent, the error message and the S3 object keys.
func xssRewrite(truth *simulate.GroundTruth) func(string, []byte) []byte {
	names := map[string]string{}
	steps := map[string]bool{}
	n := 0
	for _, at := range truth.Attacks {
		for _, st := range at.Steps {
			steps[st.EventID] = true
		}
		for _, id := range at.Identities {
			if id.How == "leaked access key" || id.UserName == "" {
				continue
			}
			n++
			if strings.HasPrefix(id.UserName, "aws_dev") {
				names[id.UserName] = id.UserName + xssUserName
			} else {
				names[id.UserName] = id.UserName + xssCLIUser + fmt.Sprint(n)
			}
		}
		for _, r := range at.Resources {
			if r.Kind == "ecs-cluster" {
				names[r.Name] = r.Name + xssCluster
			}
		}
	}
	var replace func(v any) any
	replace = func(v any) any {
		switch x := v.(type) {
		case string:
			for from, to := range names {
				x = strings.ReplaceAll(x, from, to)
			}
			return x
		case []any:
			for i := range x {
				x[i] = replace(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = replace(x[k])
			}
		}
		return v
	}
	return func(_ string, raw []byte) []byte {
		var doc struct {
			Records []map[string]any `json:"Records"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil || doc.Records == nil {
			return raw
		}
		for _, r := range doc.Records {
			if id, _ := r["eventID"].(string); steps[id] {
				r["userAgent"] = xssAgent
				if _, ok := r["errorCode"]; ok {
					r["errorMessage"] = xssError
				}
				if rp, ok := r["requestParameters"].(map[string]any); ok {
					if _, ok := rp["key"]; ok {
						rp["key"] = xssKey
					}
				}
			}
			replace(r)
		}
		out, err := json.Marshal(doc)
		if err != nil {
			return raw
		}
		return out
	}
}

type discardSink struct{}

func (discardSink) WriteFile(string, []byte) error { return nil }

// No attacker-controlled string runs as code anywhere in the investigator: every view of
// both attacks, with the corpus in every field, opens no dialog, runs no payload (the
// page-level flag stays unset), violates no CSP directive, and shows the text literally.
func TestBrowserXSSCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and hunts a simulated history")
	}
	opts := simulate.Options{Seed: 11, Days: 5, EventsPerDay: 2000}
	truth, err := simulate.Generate(context.Background(), opts, discardSink{})
	if err != nil {
		t.Fatal(err)
	}
	sim := buildSimStore(t, opts, xssRewrite(truth))
	h, _ := openHandler(t, sim.dir, Options{Rules: sim.rules, Triage: newTriageCopy(t), Logger: testLogger(t)})
	tb := newTab(t, h)

	noScript := func(where string) {
		t.Helper()
		var st struct {
			XSS      any
			Elements int
			Scripts  int
		}
		tb.eval(`({xss: window.__xss === undefined ? null : window.__xss,
			elements: document.querySelectorAll('[onerror],[onload],[onmouseover],iframe,img,object,embed,main svg,#panel svg,a[href^="javascript"]').length,
			scripts: document.scripts.length})`, &st)
		if st.XSS != nil || st.Elements != 0 || st.Scripts != 1 {
			t.Errorf("%s: window.__xss=%v, %d injected elements, %d scripts", where, st.XSS, st.Elements, st.Scripts)
		}
	}
	// bodyText returns what the page shows.
	bodyText := func() string {
		var s string
		tb.eval(`document.body.innerText + '\n' + document.getElementById('panel').innerText`, &s)
		return s
	}

	// The inbox, with every signal (their summaries name the users and agents).
	tb.open("/#/?level=critical,high,medium")
	tb.wait("the inbox", "document.querySelectorAll('table.signals tbody tr').length > 0")
	noScript("inbox")
	tb.shot("xss-inbox")

	var userName string
	for _, at := range truth.Attacks {
		for _, id := range at.Identities {
			if strings.HasPrefix(id.UserName, "aws_dev") {
				userName = id.UserName + xssUserName
			}
		}
	}
	if userName == "" {
		t.Fatal("attack 1 created no aws_dev user")
	}
	crit := sim.criticalECS(t)
	for _, start := range []url.Values{{"user": {userName}}, {"signal": {crit.ID}}} {
		tb.open("/#/case?" + start.Encode())
		tb.wait("the case", "window.trailhound && window.trailhound.report && document.querySelector('.tabs')")
		for _, tabName := range tabsForTest {
			tb.click("button[data-tab=" + tabName + "]")
			switch tabName {
			case "graph":
				tb.wait("the graph", "document.querySelector('#graph[data-ready=true]') && window.trailhound.cy")
				// Open the panel of every node named by the attacker.
				var ids []string
				tb.eval(`window.trailhound.cy.nodes().map(n => n.id()).filter(id => id.includes('<'))`, &ids)
				for _, id := range ids {
					js, _ := json.Marshal(id)
					tb.eval(`(window.trailhound.cy.getElementById(`+string(js)+`).emit('tap'), true)`, nil)
					noScript("graph panel of " + id)
				}
			case "timeline":
				tb.wait("the timeline", "document.querySelector('#timeline[data-ready=true]')")
				// Open the raw JSON of the attacker's events.
				var n int
				tb.eval(`[...document.querySelectorAll('#timeline [data-event]')].length`, &n)
				for i := 0; i < min(n, 12); i++ {
					tb.eval(fmt.Sprintf(`(document.querySelectorAll('#timeline [data-event]')[%d].click(), true)`, i), nil)
					tb.wait("the raw event", "document.querySelector('#panel pre.raw') && document.querySelector('#panel pre.raw').textContent.includes('eventVersion')")
				}
				noScript("raw events")
			default:
				tb.wait(tabName, "document.querySelector('.pane').childElementCount > 0")
			}
			noScript(fmt.Sprintf("%v %s", start, tabName))
			tb.shot("xss-" + start.Encode()[:4] + "-" + tabName)
		}
	}

	// The text shows literally: the markup as characters, the invisible characters as
	// escapes.
	tb.open("/#/case?" + url.Values{"user": {userName}}.Encode() + "&tab=overview")
	tb.wait("the case", "window.trailhound && window.trailhound.report && document.querySelector('.tabs')")
	text := bodyText()
	for _, want := range []string{`"><img src=x onerror="window.__xss=1">`, `\u202egnp.exe`} {
		if !strings.Contains(text, want) {
			t.Errorf("the overview does not show %q literally", want)
		}
	}
	if strings.ContainsAny(text, "\u202e\u200b\u2066\x1b") {
		t.Errorf("the page shows raw bidi or control characters")
	}
	tb.clean()
}

// tabsForTest are the case view's tabs, in order.
var tabsForTest = []string{"overview", "graph", "timeline", "attack", "resources", "data", "blind-spots", "cost", "plan"}
