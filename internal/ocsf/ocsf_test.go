package ocsf

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/ocsf/ocsfschema"
	"github.com/trailhound/trailhound/internal/shareddata"
	"github.com/trailhound/trailhound/internal/signal"
)

func loadSchema(t *testing.T) *ocsfschema.Schema {
	t.Helper()
	s, err := ocsfschema.Load(shareddata.Dir(t, "ocsf-schema"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() != SchemaVersion {
		t.Fatalf("schema %s, the mapping says %s", s.Version(), SchemaVersion)
	}
	return s
}

// signals is a matrix of signals over what varies: every level, times present or not,
// regions and addresses none, one or many, addresses that are not IPs (AWS service names,
// the leading-zero IPv4 of anonymised logs), tactics known and not, attacker text.
func signals() []signal.Signal {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	base := signal.Signal{ID: "0123456789abcdef0123", RuleID: "r-1", Title: "Rule", Level: signal.LevelHigh,
		Techniques: []string{"T1098.003"}, Tactics: []string{"persistence", "privilege-escalation"},
		FirstSeen: t0, LastSeen: t0.Add(time.Minute), AccountID: "111122223333", Regions: []string{"us-east-1", "eu-west-1"},
		Actor: "arn:aws:iam::111122223333:user/alice", AccessKeyID: "AKIAEXAMPLE", SourceIPs: []string{"203.0.113.7", "2001:db8::1"},
		EventIDs: []string{"e1", "e2"}, EventCount: 2, Summary: "alice did things."}
	var out []signal.Signal
	for _, l := range []signal.Level{signal.LevelInformational, signal.LevelLow, signal.LevelMedium, signal.LevelHigh, signal.LevelCritical} {
		s := base
		s.Level = l
		out = append(out, s)
	}
	empty := signal.Signal{ID: "ffff", RuleID: "r-2", Title: "Nothing known"}
	out = append(out, empty)
	odd := base
	odd.SourceIPs = []string{"ecs.amazonaws.com", "075.050.255.67", "AWS Internal"}
	odd.Tactics = []string{"some-new-tactic"}
	odd.Techniques = nil
	odd.Actor = "arn:aws:iam::111122223333:user/=cmd|\u202e\x1b[2J"
	odd.Summary = "\u009b31m =HYPERLINK()"
	out = append(out, odd)
	noActor := base
	noActor.Actor, noActor.AccessKeyID, noActor.SourceIPs, noActor.Regions, noActor.AccountID = "", "", nil, nil, ""
	out = append(out, noActor)
	return out
}

// TestFindingsValidate: every finding of the matrix is a valid OCSF 1.8 Detection Finding
// (required attributes, types, enums, profiles, class and type ids).
func TestFindingsValidate(t *testing.T) {
	schema := loadSchema(t)
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, signals(), "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(signals()) {
		t.Fatalf("%d lines for %d signals", len(lines), len(signals()))
	}
	for i, l := range lines {
		if errs := schema.Validate("detection_finding", []byte(l)); len(errs) > 0 {
			t.Errorf("finding %d is not valid OCSF:\n  %s\n%s", i, strings.Join(errs, "\n  "), l)
		}
		if strings.ContainsAny(l, "\u202e\u009b\x1b") {
			t.Errorf("finding %d writes attacker text raw: %s", i, l)
		}
	}
}

// TestFinding: what the mapping puts where, for one signal.
func TestFinding(t *testing.T) {
	s := signals()[4] // critical
	f := Finding(s, "v1")
	if f.ClassUID != 2004 || f.TypeUID != 200401 || f.SeverityID != 5 || f.FindingInfo.UID != s.ID || f.FindingInfo.Analytic.UID != s.RuleID ||
		f.Cloud.Account.UID != s.AccountID || f.Cloud.Region != "us-east-1" || f.Time != s.LastSeen.UnixMilli() || f.StartTime != s.FirstSeen.UnixMilli() ||
		f.FindingInfo.RelatedEventsCount != 2 || len(f.FindingInfo.RelatedEvents) != 2 || f.Evidences[0].Actor.User.CredentialUID != s.AccessKeyID {
		b, _ := json.MarshalIndent(f, "", " ")
		t.Errorf("mapping:\n%s", b)
	}
	var tactics, techniques []string
	for _, a := range f.FindingInfo.Attacks {
		if a.Tactic != nil {
			tactics = append(tactics, a.Tactic.UID)
		}
		if a.Technique != nil {
			techniques = append(techniques, a.Technique.UID)
		}
	}
	if strings.Join(tactics, ",") != "TA0003,TA0004" || strings.Join(techniques, ",") != "T1098.003" {
		t.Errorf("attacks: tactics %v, techniques %v", tactics, techniques)
	}
	var ips []string
	for _, o := range f.Observables {
		if o.TypeID == 2 {
			ips = append(ips, o.Value)
		}
	}
	if strings.Join(ips, ",") != "203.0.113.7,2001:db8::1" {
		t.Errorf("IP observables %v", ips)
	}
	odd := Finding(signals()[6], "v1")
	for _, e := range odd.Evidences {
		if e.SrcEndpoint.IP != "" {
			t.Errorf("a source that is not an IP went to src_endpoint.ip: %+v", e.SrcEndpoint)
		}
	}
	if again := Finding(s, "v1"); !jsonEqual(t, again, f) {
		t.Error("the same signal gave two findings")
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestValidatorCatches: the validator fails findings broken in each way it checks, so that
// TestFindingsValidate passing means something.
func TestValidatorCatches(t *testing.T) {
	schema := loadSchema(t)
	good, err := json.Marshal(Finding(signals()[3], "v1"))
	if err != nil {
		t.Fatal(err)
	}
	if errs := schema.Validate("detection_finding", good); len(errs) > 0 {
		t.Fatalf("the good finding fails: %v", errs)
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"required missing", func(m map[string]any) { delete(m, "finding_info") }, "finding_info: required, missing"},
		{"nested required missing", func(m map[string]any) { delete(m["finding_info"].(map[string]any), "uid") }, "finding_info.uid: required"},
		{"unknown attribute", func(m map[string]any) { m["colour"] = "red" }, "colour: not an attribute"},
		{"wrong type", func(m map[string]any) { m["time"] = "yesterday" }, "time: want an integer"},
		{"enum value", func(m map[string]any) { m["severity_id"] = 7 }, "severity_id: 7 is not one of the enum values"},
		{"caption", func(m map[string]any) { m["severity"] = "Bad" }, `severity: "Bad", want "High"`},
		{"class uid", func(m map[string]any) { m["class_uid"] = 2001 }, "class_uid: 2001, want 2004"},
		{"type uid", func(m map[string]any) { m["type_uid"] = 200402 }, "type_uid: 200402, want 200401"},
		{"not an array", func(m map[string]any) { m["evidences"] = map[string]any{} }, "evidences: want an array"},
		{"ip format", func(m map[string]any) {
			m["evidences"].([]any)[0].(map[string]any)["src_endpoint"] = map[string]any{"ip": "ecs.amazonaws.com"}
		}, "does not match the format of ip_t"},
		{"undeclared profile", func(m map[string]any) { m["metadata"].(map[string]any)["profiles"] = []any{} }, `cloud: attribute of profile "cloud"`},
		{"at least one", func(m map[string]any) { m["evidences"] = []any{map[string]any{}} }, "evidences[0]: needs at least one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			tt.edit(m)
			b, _ := json.Marshal(m)
			errs := schema.Validate("detection_finding", b)
			if !strings.Contains(strings.Join(errs, "\n"), tt.want) {
				t.Errorf("errors %v, want one with %q", errs, tt.want)
			}
		})
	}
}
