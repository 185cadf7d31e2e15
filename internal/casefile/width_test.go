package casefile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/signal"
)

// wideCase is sampleCase with a matrix of every tactic and a long timeline: the tables a
// terminal cannot hold as they are.
func wideCase(events int, marked map[int]bool) Case {
	c := sampleCase()
	rep := *c.Report
	var cols []investigate.TacticColumn
	for _, tac := range []string{"reconnaissance", "resource-development", "initial-access", "execution", "persistence", "privilege-escalation",
		"defense-evasion", "credential-access", "discovery", "lateral-movement", "collection", "command-and-control", "exfiltration", "impact"} {
		cols = append(cols, investigate.TacticColumn{Tactic: tac, Techniques: []investigate.Technique{{ID: "T1098.003", Signals: 2}, {ID: "T1078.004", Signals: 1}}})
	}
	rep.Matrix = investigate.Matrix{Tactics: cols}
	t0 := time.Date(2026, 11, 17, 2, 0, 0, 0, time.UTC)
	rep.Timeline = nil
	for i := range events {
		e := investigate.Entry{Time: t0.Add(time.Duration(i) * time.Minute), EventID: fmt.Sprintf("e-%d", i), Account: "111122223333", Region: "us-east-1",
			API: "iam:ListUsers", Outcome: "ok", SourceIP: "140.213.52.7", Identity: "arn:aws:iam::111122223333:user/leaked", UserAgentFamily: "aws-cli"}
		if marked[i] {
			e.Signals = []investigate.SignalMark{{ID: "abc", Title: "User created then made admin", Level: signal.LevelHigh}}
		}
		rep.Timeline = append(rep.Timeline, e)
	}
	c.Report = &rep
	return c
}

// TestWriteTextFitsWidth: at every width, every line of the text report fits, wide tables
// (the ATT&CK matrix) included; nothing is lost from the timeline's accounting.
func TestWriteTextFitsWidth(t *testing.T) {
	c := wideCase(50, map[int]bool{10: true, 40: true})
	for _, width := range []int{40, 60, 80, 100, 160} {
		var b bytes.Buffer
		if err := WriteText(&b, c, Options{Width: width, TimelineLimit: 10}); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(b.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > width {
				t.Errorf("width %d: line %d is %d wide: %q", width, i+1, n, line)
			}
		}
		out := b.String()
		if !strings.Contains(out, "persistence") || !strings.Contains(out, "exfiltration") {
			t.Errorf("width %d: the matrix lost tactics", width)
		}
	}
	var b bytes.Buffer
	if err := WriteText(&b, c, Options{Width: 80, TimelineLimit: 10}); err != nil {
		t.Fatal(err)
	}
	golden(t, "case_w80.txt.golden", b.Bytes())
}

// TestTimelineRows: over a matrix of lengths, limits and marked events, the rows kept are
// sorted and distinct, as many as the limit allows, always the first and the last, every
// marked event when the limit holds them (the earliest otherwise), and the report's gap
// rows account for every event left out.
func TestTimelineRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 10, 57, 400} {
		for _, limit := range []int{1, 2, 3, 5, 10, 200, 1000} {
			for _, density := range []int{0, 5, 50} {
				marked := map[int]bool{}
				var markedIdx []int
				for i := range n {
					if rng.IntN(100) < density {
						marked[i] = true
						markedIdx = append(markedIdx, i)
					}
				}
				c := wideCase(n, marked)
				got := timelineRows(c.Report.Timeline, limit)
				name := fmt.Sprintf("n=%d limit=%d marked=%d", n, limit, len(markedIdx))
				if want := min(n, limit); len(got) != want {
					t.Errorf("%s: %d rows, want %d", name, len(got), want)
				}
				if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
					t.Errorf("%s: rows %v not sorted and distinct", name, got)
				}
				if n > 0 && limit >= 2 && (got[0] != 0 || got[len(got)-1] != n-1) {
					t.Errorf("%s: first or last missing: %v", name, got)
				}
				has := map[int]bool{}
				for _, i := range got {
					has[i] = true
				}
				for k, i := range markedIdx {
					if (len(markedIdx)+2 <= limit || k < limit-2) && !has[i] {
						t.Errorf("%s: marked event %d left out", name, i)
					}
				}
				var b bytes.Buffer
				if err := WriteText(&b, c, Options{TimelineLimit: limit}); err != nil {
					t.Fatal(err)
				}
				shown := len(got)
				for _, l := range strings.Split(b.String(), "\n") {
					var k int
					if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "…")), "%d events not shown", &k); err == nil {
						shown += k
					}
				}
				if shown != n {
					t.Errorf("%s: rows and gaps account for %d events, want %d", name, shown, n)
				}
			}
		}
	}
}
