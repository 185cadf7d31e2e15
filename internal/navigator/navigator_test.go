package navigator

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/trailhound/trailhound/internal/signal"
)

func TestBuild(t *testing.T) {
	cases := []struct {
		name  string
		items []Named
		want  []Technique
		max   int
	}{
		{"none", nil, []Technique{}, 1},
		{"counts per technique and tactic", []Named{
			{Label: "a", Techniques: []string{"T1098", "T1136.003"}, Tactics: []string{"persistence", "privilege-escalation"}},
			{Label: "b", Techniques: []string{"T1098"}, Tactics: []string{"persistence"}},
		}, []Technique{
			{TechniqueID: "T1098", Tactic: "persistence", Score: 2, Enabled: true, Comment: "2 signals: a; b"},
			{TechniqueID: "T1098", Tactic: "privilege-escalation", Score: 1, Enabled: true, Comment: "1 signals: a"},
			{TechniqueID: "T1136", Tactic: "persistence", Enabled: true, ShowSubtechniques: true},
			{TechniqueID: "T1136", Tactic: "privilege-escalation", Enabled: true, ShowSubtechniques: true},
			{TechniqueID: "T1136.003", Tactic: "persistence", Score: 1, Enabled: true, Comment: "1 signals: a"},
			{TechniqueID: "T1136.003", Tactic: "privilege-escalation", Score: 1, Enabled: true, Comment: "1 signals: a"},
		}, 2},
		{"no tactic: every tactic of the technique", []Named{{Label: "x", Techniques: []string{"T1530"}}},
			[]Technique{{TechniqueID: "T1530", Score: 1, Enabled: true, Comment: "1 signals: x"}}, 1},
		{"a parent named too keeps its score", []Named{{Label: "p", Techniques: []string{"T1078", "T1078.004"}, Tactics: []string{"initial-access"}}},
			[]Technique{
				{TechniqueID: "T1078", Tactic: "initial-access", Score: 1, Enabled: true, Comment: "1 signals: p", ShowSubtechniques: true},
				{TechniqueID: "T1078.004", Tactic: "initial-access", Score: 1, Enabled: true, Comment: "1 signals: p"},
			}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := Build("n", "d", "signals", c.items)
			if diff := cmp.Diff(c.want, l.Techniques); diff != "" {
				t.Errorf("techniques (-want +got):\n%s", diff)
			}
			if l.Gradient.MaxValue != c.max {
				t.Errorf("gradient max %d, want %d", l.Gradient.MaxValue, c.max)
			}
		})
	}
}

// The JSON has the fields the Navigator requires, named as layer format 4.5 names them.
func TestLayerJSON(t *testing.T) {
	l := FromRules("coverage", []signal.RuleInfo{{Title: "r", Tags: []string{"attack.t1098", "attack.persistence"}}})
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	vers, _ := doc["versions"].(map[string]any)
	if doc["name"] != "coverage" || doc["domain"] != "enterprise-attack" || vers["layer"] != "4.5" || vers["navigator"] == nil || vers["attack"] == nil {
		t.Errorf("layer header: %s", b)
	}
	techs, _ := doc["techniques"].([]any)
	if len(techs) != 1 {
		t.Fatalf("techniques: %s", b)
	}
	tech := techs[0].(map[string]any)
	if tech["techniqueID"] != "T1098" || tech["tactic"] != "persistence" || tech["score"] != float64(1) || tech["enabled"] != true {
		t.Errorf("technique: %v", tech)
	}
}
