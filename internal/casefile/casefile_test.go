package casefile

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/goldenfile"
	"github.com/trailhound/trailhound/internal/incident"
	"github.com/trailhound/trailhound/internal/investigate"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/signal"
)

// evil is attacker-controlled text: ANSI, bidi override, Markdown and a spreadsheet formula.
const evil = "=HYPERLINK(\"http://x\")|`rm`\x1b[31m\u202e**bold**<script>\n# heading"

func sampleCase() Case {
	t0 := time.Date(2026, 11, 17, 2, 57, 50, 0, time.UTC)
	rep := &investigate.Report{
		Start:   investigate.Start{User: "aws_dev7093"},
		Summary: investigate.Summary{Events: 2, OwnerEvents: 2, Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}, SourceIPs: []string{"140.213.52.7"}, FirstSeen: t0, LastSeen: t0.Add(time.Minute)},
		Identities: []investigate.Identity{
			{Kind: "access-key", ID: "AKIAEXAMPLE", How: "pre-existing identity", PreExisting: true, Attribution: incident.Attacker, Why: "2 of its 4 calls are the attacker's"},
			{Kind: "principal", ID: "arn:aws:iam::111122223333:user/" + evil, How: "created IAM user", By: "arn:aws:iam::111122223333:user/leaked", EventID: "e-1", From: t0,
				Attribution: incident.Attacker, Why: "created IAM user by a call attributed to the attacker (event e-1)"},
		},
		Signals: []investigate.SignalRef{{ID: "abc", Title: "User created then made admin", Level: signal.LevelHigh, Techniques: []string{"T1136.003"}, Tactics: []string{"persistence"}, FirstSeen: t0, Attribution: incident.Attacker}},
		Timeline: []investigate.Entry{
			{Time: t0.Add(-time.Hour), EventID: "o-0", Account: "111122223333", Region: "us-east-1", API: "ec2:RunInstances", Outcome: "ok", SourceIP: "198.18.10.4", Identity: "arn:aws:iam::111122223333:user/leaked",
				Attribution: incident.Owner, Why: "from 198.18.10.4, the owner's usual address"},
			{Time: t0, EventID: "e-1", Account: "111122223333", Region: "us-east-1", API: "iam:CreateUser", Outcome: "ok", SourceIP: "140.213.52.7", Identity: "arn:aws:iam::111122223333:user/leaked",
				Signals: []investigate.SignalMark{{ID: "abc", Title: "User created then made admin", Level: signal.LevelHigh}}, Attribution: incident.Attacker, Why: "marked by signal"},
			{Time: t0.Add(30 * time.Second), EventID: "o-1", Account: "111122223333", Region: "us-east-1", API: "ec2:TerminateInstances", Outcome: "ok", SourceIP: "198.18.10.4", Identity: "arn:aws:iam::111122223333:user/leaked",
				Attribution: incident.Owner, Why: "from 198.18.10.4, the owner's usual address"},
			{Time: t0.Add(time.Minute), EventID: "e-2", Account: "111122223333", Region: "us-west-1", API: "ec2:RunInstances", Outcome: "Client.PendingVerification", SourceIP: "140.213.52.7", Identity: "arn:aws:iam::111122223333:user/leaked",
				Attribution: incident.Attacker, Why: "from 140.213.52.7, an address of the attacker's calls"},
		},
		Graph: &investigate.Graph{
			Nodes: []investigate.Node{{ID: "u1", Kind: "user", Label: "leaked"}, {ID: "u2", Kind: "user", Label: evil}},
			Edges: []investigate.Edge{{From: "u1", To: "u2", Kind: "created", EventID: "e-1", Time: t0}},
		},
		Resources: []incident.Resource{
			{Type: incident.IAMUser, Account: "111122223333", Region: "global", Name: evil, CreatedBy: "arn:aws:iam::111122223333:user/leaked", CreatedAt: t0, CreateEventID: "e-1", Attribution: incident.Attacker},
			{Type: incident.EC2Instance, Account: "111122223333", Region: "us-west-1", Name: "e-2", Failed: true, ErrorCode: "Client.PendingVerification", CreatedAt: t0.Add(time.Minute), CreateEventID: "e-2", Details: map[string]string{"instance_type": "r6i.metal", "count": "2"}, Attribution: incident.Attacker},
		},
		OwnerResources: []incident.Resource{
			{Type: incident.EC2Instance, Account: "111122223333", Region: "us-east-1", ID: "i-0owner", CreatedBy: "arn:aws:iam::111122223333:user/leaked", CreatedAt: t0.Add(-time.Hour), CreateEventID: "o-0",
				Details: map[string]string{"instance_type": "t3.micro", "count": "1"}, Attribution: incident.Owner, Why: "from 198.18.10.4, the owner's usual address"},
		},
		Credentials: []incident.Credential{{Kind: incident.CredentialAccessKey, Account: "111122223333", AccessKeyID: "AKIAEXAMPLE", UserARN: "arn:aws:iam::111122223333:user/leaked",
			UserName: "leaked", Attribution: incident.Attacker, Why: "2 of its 4 calls are the attacker's", AttackerEvents: 2, OwnerEvents: 2, FirstAttackerEventID: "e-1"}},
		Data:       investigate.Data{S3: []investigate.S3Bucket{{Account: "111122223333", Bucket: "prod-data", Calls: map[string]int{"GetObject": 3}, Objects: []investigate.S3Object{{Key: evil, Reads: 3}}, ObjectCount: 1}}},
		BlindSpots: []investigate.BlindSpot{{Kind: "no-s3-data-events", Account: "111122223333", Detail: "no S3 object-level events"}},
		Matrix:     investigate.Matrix{Tactics: []investigate.TacticColumn{{Tactic: "persistence", Techniques: []investigate.Technique{{ID: "T1136.003", Signals: 1}}}}},
	}
	prices, err := remediate.DefaultPrices()
	if err != nil {
		panic(err)
	}
	plan := remediate.BuildPlan(rep.Resources, remediate.PlanOptions{Title: "test", Credentials: rep.Credentials, DataRead: rep.Data.Reads(), OwnerResources: len(rep.OwnerResources)})
	attr := map[string]incident.Attribution{}
	for _, e := range rep.Timeline {
		attr[e.EventID] = e.Attribution
	}
	if err := remediate.CheckPlan(plan, func(id string) incident.Attribution { return attr[id] }); err != nil {
		panic(err)
	}
	return Case{
		Report: rep,
		Cost:   remediate.EstimateCost(rep.Resources, prices, rep.Summary.LastSeen),
		Plan:   plan,
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestGolden(t *testing.T) {
	c := sampleCase()
	var text, md bytes.Buffer
	if err := WriteText(&text, c, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, c, Options{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "case.txt.golden", text.Bytes())
	golden(t, "case.md.golden", md.Bytes())
}

func TestAttackerTextIsNeutralised(t *testing.T) {
	c := sampleCase()
	var text, md bytes.Buffer
	if err := WriteText(&text, c, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, c, Options{}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if strings.ContainsAny(out, "\x1b\u202e") {
			t.Errorf("%s output carries raw escape or bidi characters", name)
		}
	}
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(line, "| ") {
			cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |"), " | ")
			for _, c := range cells {
				if strings.HasPrefix(c, "=") || strings.HasPrefix(c, "+") || strings.HasPrefix(c, "@") {
					t.Errorf("markdown cell starts like a formula: %q", c)
				}
				if strings.Contains(strings.ReplaceAll(c, `\|`, ""), "|") {
					t.Errorf("unescaped pipe splits a cell: %q", c)
				}
			}
		}
		if line == "# heading" {
			t.Error("attacker text made a heading")
		}
	}
}

func TestCodeFenceCannotBeClosed(t *testing.T) {
	var b bytes.Buffer
	m := &mdWriter{w: &b}
	m.code("sh", "echo '```'\n```\nrm -rf /")
	out := b.String()
	if !strings.HasPrefix(out, "````sh\n") || !strings.HasSuffix(out, "\n````\n\n") {
		t.Errorf("fence not longer than the text's backtick runs:\n%s", out)
	}
}
