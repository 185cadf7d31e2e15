package investigate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIAMChangesRecorded(t *testing.T) {
	pol := "arn:aws:iam::" + acctA + ":policy/ops"
	group := func(id string, at int, by who, api, g, u string) ev {
		return ev{id: id, at: at, who: by, api: api, req: map[string]any{"groupName": g, "userName": u}}
	}
	newVersion := func(id string, at int, by who, v string, dflt bool) ev {
		return ev{id: id, at: at, who: by, api: "iam:CreatePolicyVersion",
			req:  map[string]any{"policyArn": pol, "policyDocument": `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, "setAsDefault": dflt},
			resp: map[string]any{"policyVersion": map[string]any{"versionId": v, "isDefaultVersion": dflt}}}
	}
	setDefault := func(id string, at int, by who, v string) ev {
		return ev{id: id, at: at, who: by, api: "iam:SetDefaultPolicyVersion", req: map[string]any{"policyArn": pol, "versionId": v}}
	}
	tests := []struct {
		name string
		evs  []ev
		// want are the resources ("TYPE ID changed/deleted/failed details"); edges the
		// acted-on edges of the graph ("FROM -> TO").
		want, edges []string
	}{
		{
			name: "group membership by the scope, removed later; a benign admin's membership stays out",
			evs: []ev{
				group("e1", 0, attacker, "iam:AddUserToGroup", "admins", "bob"),
				group("e2", 1, alice, "iam:AddUserToGroup", "admins", "intern"),
				group("e3", 30, alice, "iam:RemoveUserFromGroup", "admins", "bob"),
			},
			want:  []string{"iam:group-membership admins/bob deleted=e3 group=admins user=bob"},
			edges: []string{"user:" + attacker.arn + " -> resource:iam:group-membership|" + acctA + "|global|admins/bob"},
		},
		{
			name: "policy version made default, then default set again: one changed policy",
			evs: []ev{
				newVersion("e1", 0, attacker, "v2", true),
				setDefault("e2", 5, attacker, "v2"),
				setDefault("e3", 6, alice, "v1"), // the responder's revert is not the scope's
			},
			want: []string{"iam:managed-policy " + pol + " changed default_version=v2 policy_document=" +
				`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}` + " set_as_default=true version=v2"},
			edges: []string{"user:" + attacker.arn + " -> resource:iam:managed-policy|" + acctA + "|global|" + pol},
		},
		{
			name: "refused policy version and a default version set on its own",
			evs: []ev{
				func() ev { e := newVersion("e1", 0, attacker, "", false); e.errCode = "AccessDenied"; return e }(),
				{id: "e2", at: 1, who: attacker, api: "iam:SetDefaultPolicyVersion",
					req: map[string]any{"policyArn": "arn:aws:iam::" + acctA + ":policy/other", "versionId": "v3"}},
			},
			want: []string{
				"iam:managed-policy " + pol + " changed failed=AccessDenied policy_document=" +
					`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}` + " set_as_default=false",
				"iam:managed-policy arn:aws:iam::" + acctA + ":policy/other changed default_version=v3",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := loadEvents(t, tc.evs)
			rep, err := Investigate(context.Background(), x, Start{ARN: attacker.arn}, nil, Options{})
			if err != nil {
				t.Fatalf("Investigate: %v", err)
			}
			var got []string
			for _, r := range rep.Resources {
				s := string(r.Type) + " " + r.ID
				if r.Changed {
					s += " changed"
				}
				if r.Deleted {
					s += " deleted=" + r.DeleteEventID
				}
				if r.Failed {
					s += " failed=" + r.ErrorCode
				}
				for _, k := range slices.Sorted(maps.Keys(r.Details)) {
					s += fmt.Sprintf(" %s=%s", k, r.Details[k])
				}
				got = append(got, s)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
			var edges []string
			for _, e := range rep.Graph.Edges {
				if e.Kind == EdgeActedOn && strings.HasPrefix(e.To, "resource:") {
					edges = append(edges, e.From+" -> "+e.To)
				}
			}
			if tc.edges != nil {
				if diff := cmp.Diff(tc.edges, edges); diff != "" {
					t.Errorf("acted-on edges (-want +got):\n%s", diff)
				}
			}
		})
	}
}
