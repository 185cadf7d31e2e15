package signal

import (
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAttackTags(t *testing.T) {
	tests := []struct {
		name           string
		tags           []string
		wantTechniques []string
		wantTactics    []string
	}{
		{"nil", nil, []string{}, []string{}},
		{
			name:           "technique and sub-technique",
			tags:           []string{"attack.t1078.004", "attack.t1078"},
			wantTechniques: []string{"T1078", "T1078.004"},
			wantTactics:    []string{},
		},
		{
			name:           "upper case and spaces",
			tags:           []string{" ATTACK.T1098 ", "Attack.Persistence"},
			wantTechniques: []string{"T1098"},
			wantTactics:    []string{"persistence"},
		},
		{
			name:           "duplicates",
			tags:           []string{"attack.t1098", "attack.T1098", "attack.persistence", "attack.persistence"},
			wantTechniques: []string{"T1098"},
			wantTactics:    []string{"persistence"},
		},
		{
			name: "kill-chain order and underscores",
			tags: []string{
				"attack.impact", "attack.defense_evasion", "attack.initial-access", "attack.reconnaissance",
				"attack.command_and_control", "attack.privilege-escalation", "attack.defense-evasion",
			},
			wantTechniques: []string{},
			wantTactics: []string{
				"reconnaissance", "initial-access", "privilege-escalation", "defense-evasion",
				"command-and-control", "impact",
			},
		},
		{
			name: "all tactics",
			tags: []string{
				"attack.exfiltration", "attack.collection", "attack.lateral_movement", "attack.discovery",
				"attack.credential_access", "attack.execution", "attack.resource_development", "attack.impact",
				"attack.persistence", "attack.command-and-control", "attack.privilege_escalation",
				"attack.reconnaissance", "attack.initial_access", "attack.defense_evasion",
			},
			wantTechniques: []string{},
			wantTactics: []string{
				"reconnaissance", "resource-development", "initial-access", "execution", "persistence",
				"privilege-escalation", "defense-evasion", "credential-access", "discovery",
				"lateral-movement", "collection", "command-and-control", "exfiltration", "impact",
			},
		},
		{
			name: "ignored tags",
			tags: []string{
				"attack.g0001", "attack.s0001", "attack.ta0001", "cve.2021-44228", "detection.threat-hunting",
				"attack.t123", "attack.t12345", "attack.t1078.04", "attack.t1078.0041", "attack.t1078x004",
				"attack.tabcd", "attack.", "t1078", "persistence", "tlp.amber", "attack.t1078.",
				"attack.privilege escalation", "car.2016-04-005",
			},
			wantTechniques: []string{},
			wantTactics:    []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			techniques, tactics := ParseAttackTags(tt.tags)
			if diff := cmp.Diff(tt.wantTechniques, techniques); diff != "" {
				t.Errorf("techniques (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantTactics, tactics); diff != "" {
				t.Errorf("tactics (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseAttackTags(f *testing.F) {
	for _, s := range []string{"attack.t1078.004", "attack.defense_evasion", "attack.g0001", "ATTACK.T1", ""} {
		f.Add(s, "attack.persistence")
	}
	technique := regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	f.Fuzz(func(t *testing.T, a, b string) {
		techniques, tactics := ParseAttackTags([]string{a, b})
		for _, id := range techniques {
			if !technique.MatchString(id) {
				t.Errorf("technique %q is malformed", id)
			}
		}
		if !slices.IsSorted(techniques) {
			t.Errorf("techniques %q are not sorted", techniques)
		}
		for i, name := range tactics {
			if tacticRank(name) < 0 {
				t.Errorf("tactic %q is unknown", name)
			}
			if i > 0 && tacticRank(tactics[i-1]) >= tacticRank(name) {
				t.Errorf("tactics %q are not in kill-chain order", tactics)
			}
		}
	})
}
