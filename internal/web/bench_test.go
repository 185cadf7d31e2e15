package web

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/store"
)

// Benchmarks of the investigator (numbers in bench/PERFORMANCE.md). Server times run the
// handler in process; browser times drive headless chromium and report milliseconds as
// custom metrics. TRAILHOUND_BENCH_DB names a store written by hunt --db (the 10M-event
// one of PERFORMANCE.md) for the case benchmarks; without it they use the 5-day simulated
// store of the tests.

// BenchmarkInboxFirstPage: the first page of the inbox over 100k signals, newest first,
// with the counts per level and status — as a long-running UI answers it (signals read
// once per commit) and cold (the signals of a new commit read and indexed first).
func BenchmarkInboxFirstPage(b *testing.B) {
	sigs := inboxSignals(100_000)
	dir := b.TempDir()
	writeStore(b, dir, withSignals(sigs))
	tr := store.OpenTriage(b.TempDir())
	for i := 0; i < 10_000; i++ {
		tr.Append(store.TriageRecord{SignalID: sigs[i*7].ID, Status: store.StatusInvestigating, At: time.Now()})
	}
	h, _ := openHandler(b, dir, Options{Triage: tr, RefreshEvery: time.Hour})
	do(h, "GET", "/api/signals", "", nil) // the signals read once
	for _, q := range []string{"", "level=critical,high", "q=thing1+fired&region=eu-west-1", "status=investigating", "offset=99950"} {
		b.Run("warm/"+strings.ReplaceAll(q, "/", "_"), func(b *testing.B) {
			for b.Loop() {
				if rec := do(h, "GET", "/api/signals?"+q, "", nil); rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			h.inbox.snap = nil // as after a commit
			if rec := do(h, "GET", "/api/signals", "", nil); rec.Code != http.StatusOK {
				b.Fatal(rec.Code)
			}
		}
	})
}

// BenchmarkInboxStore: the first page of the inbox over the benchmark store (the 10M-event
// one with TRAILHOUND_BENCH_DB), warm and cold (after a commit: the store refreshed, its
// signals read and indexed).
func BenchmarkInboxStore(b *testing.B) {
	dir, _ := benchStore(b)
	h, _ := openHandler(b, dir, Options{Triage: store.OpenTriage(b.TempDir()), RefreshEvery: time.Hour})
	do(h, "GET", "/api/signals", "", nil)
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			if rec := do(h, "GET", "/api/signals", "", nil); rec.Code != http.StatusOK {
				b.Fatal(rec.Code)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			h.inbox.snap = nil
			if rec := do(h, "GET", "/api/signals", "", nil); rec.Code != http.StatusOK {
				b.Fatal(rec.Code)
			}
		}
	})
}

// benchStore returns the store the case benchmarks read, and per seed attack the signal
// an analyst would start from: attack 1's "probes SES and enumerates IAM", attack 2's
// critical ECS signal.
func benchStore(b *testing.B) (dir string, starts map[string]signal.Signal) {
	var sigs []signal.Signal
	if d := os.Getenv("TRAILHOUND_BENCH_DB"); d != "" {
		st, err := store.Open(d, store.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		if sigs, err = st.Signals(); err != nil {
			b.Fatal(err)
		}
		dir = d
	} else {
		sim := defaultSim(b)
		dir, sigs = sim.dir, sim.signals
	}
	starts = map[string]signal.Signal{}
	for _, s := range sigs {
		switch {
		case s.Level == signal.LevelCritical && strings.Contains(s.Title, "ECS"):
			starts["attack2"] = s
		case strings.Contains(s.Title, "Probes SES and Enumerates IAM"):
			starts["attack1"] = s
		}
	}
	if len(starts) != 2 {
		b.Fatalf("the store %s lacks a starting signal of a seed attack: %v", dir, starts)
	}
	return dir, starts
}

// BenchmarkCase: the server time of an incident (load the scope from the store,
// investigate, cost, plan, JSON), uncached, from each seed attack's signal.
func BenchmarkCase(b *testing.B) {
	dir, starts := benchStore(b)
	h, _ := openHandler(b, dir, Options{})
	for _, name := range []string{"attack1", "attack2"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				h.cases.clear()
				if rec := do(h, "GET", "/api/case?signal="+starts[name].ID, "", nil); rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkBrowserIncidentView: from navigation to a seed attack's incident until its
// graph is laid out, then until its timeline is drawn, in headless chromium: cold (the
// investigation computed by the server first) and warm (the UI's cache of cases holds it).
func BenchmarkBrowserIncidentView(b *testing.B) {
	dir, starts := benchStore(b)
	h, _ := openHandler(b, dir, Options{})
	tb := newTab(b, h)
	for _, name := range []string{"attack1", "attack2"} {
		for _, cold := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/cold=%v", name, cold), func(b *testing.B) {
				var graphMS, totalMS float64
				n := 0
				for b.Loop() {
					if cold {
						h.cases.clear()
					}
					n++
					start := time.Now()
					tb.open("/#/case?" + url.Values{"signal": {starts[name].ID}, "tab": {"graph"}}.Encode() + fmt.Sprintf("&n=%d", n))
					tb.wait("the graph", "document.querySelector('#graph[data-ready=true]') && window.trailhound.cy")
					graphMS += float64(time.Since(start).Microseconds()) / 1000
					tb.eval(`(document.querySelector('button[data-tab=timeline]').click(), true)`, nil)
					tb.wait("the timeline", "document.querySelector('#timeline[data-ready=true]') && document.querySelectorAll('#timeline [data-event]').length > 0")
					totalMS += float64(time.Since(start).Microseconds()) / 1000
				}
				b.ReportMetric(graphMS/float64(n), "ms-to-graph")
				b.ReportMetric(totalMS/float64(n), "ms-to-graph+timeline")
			})
		}
	}
	tb.clean()
}

// BenchmarkBrowserGraphLayout: a synthetic incident graph of 3,000 nodes (40 identities,
// 200 keys, 300 addresses, 2,460 resources in 17 regions) laid out by fcose in headless
// chromium: uncollapsed, and as the page draws it (collapsed per region and type past 300
// nodes).
func BenchmarkBrowserGraphLayout(b *testing.B) {
	h, _ := openHandler(b, emptyStore(b, nil), Options{})
	tb := newTab(b, h)
	tb.open("/")
	tb.wait("the bundle", "window.trailhoundGraph")
	for _, c := range []struct {
		name     string
		collapse string
	}{{"3000-nodes", "Infinity"}, {"3000-nodes-collapsed", "300"}} {
		b.Run(c.name, func(b *testing.B) {
			var ms float64
			var nodes int
			for b.Loop() {
				var r struct {
					MS    float64
					Nodes int
				}
				tb.eval(`(() => {
					const regions = ['us-east-1','us-east-2','us-west-1','us-west-2','ca-central-1','sa-east-1','eu-west-1','eu-west-2','eu-west-3','eu-central-1','eu-north-1','ap-south-1','ap-northeast-1','ap-northeast-2','ap-northeast-3','ap-southeast-1','ap-southeast-2'];
					const types = ['ecs:cluster','ecs:service','ecs:task-definition','ec2:instance','ec2:security-group'];
					const nodes = [], edges = [], user = (i) => 'user:arn:aws:iam::111122223333:user/u' + (i % 40);
					for (let i = 0; i < 40; i++) nodes.push({id: user(i), kind: 'user', label: 'arn:aws:iam::111122223333:user/u' + i, in_scope: true});
					for (let i = 0; i < 200; i++) { nodes.push({id: 'access-key:AKIA' + i, kind: 'access-key', label: 'AKIA' + i, in_scope: true}); edges.push({from: user(i), to: 'access-key:AKIA' + i, kind: 'used-key', count: 1}); }
					for (let i = 0; i < 300; i++) { const ip = '198.51.' + (i >> 8) + '.' + (i & 255); nodes.push({id: 'ip:' + ip, kind: 'ip', label: ip}); edges.push({from: user(i), to: 'ip:' + ip, kind: 'used-from', count: 1}); }
					for (let i = 0; i < 2460; i++) { const id = 'resource:' + types[i % 5] + '|111122223333|' + regions[i % 17] + '|r' + i; nodes.push({id, kind: 'resource', label: types[i % 5] + ' r' + i}); edges.push({from: user(i), to: id, kind: 'acted-on', count: 1}); }
					const els = window.trailhoundGraph.elements({graph: {nodes, edges}, timeline: [], identities: []}, {collapseAt: `+c.collapse+`});
					const box = document.createElement('div'); box.style.width = '1400px'; box.style.height = '900px'; document.body.append(box);
					const {cy, ms} = window.trailhoundGraph.draw(box, els);
					const n = cy.nodes().length; cy.destroy(); box.remove();
					return {ms, nodes: n};
				})()`, &r)
				ms += r.MS
				nodes = r.Nodes
			}
			b.ReportMetric(ms/float64(b.N), "ms-layout")
			b.ReportMetric(float64(nodes), "nodes-drawn")
		})
	}
	tb.clean()
}
