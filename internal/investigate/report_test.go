package investigate

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/goldenfile"
	"github.com/trailhound/trailhound/internal/signal"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

// smallIncident is a short attack: a created user with a quoting, newline and bidi trick in
// its name, EC2 and ECS resources (one launch refused, one service later deleted), S3 reads
// with the KMS decrypts S3 makes on the attacker's behalf, and a benign admin alongside.
func smallIncident() []ev {
	west := func(e ev) ev { e.region = "us-west-1"; return e }
	evil := "x\"] -> \"pwn\n\u202euser"
	s3get := func(id string, at int, key string) ev {
		return ev{id: id, at: at, who: attacker, api: "s3:GetObject", req: map[string]any{"bucketName": "prod-data", "key": key}}
	}
	decrypt := func(id string, at int, key string) ev {
		return ev{id: id, at: at, who: attacker.via("s3.amazonaws.com"), api: "kms:Decrypt", ip: "s3.amazonaws.com",
			req:   map[string]any{"encryptionContext": map[string]any{"aws:s3:arn": "arn:aws:s3:::prod-data/" + key}},
			extra: map[string]any{"resources": []any{map[string]any{"ARN": "arn:aws:kms:us-east-1:" + acctA + ":key/k1"}}}}
	}
	return []ev{
		{id: "a01", at: 0, who: attacker, api: "iam:ListUsers", ip: "140.213.52.9"},
		createUser("a02", 1, attacker, evil),
		{id: "a03", at: 1, who: attacker, api: "iam:AttachUserPolicy", req: map[string]any{"userName": evil, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}},
		createKey("a04", 2, attacker, evil, "AKIANEW0000000000001"),
		call("b01", 3, alice, "iam:ListRoles"),
		s3get("a05", 10, "exports/users.csv"),
		decrypt("a06", 10, "exports/users.csv"),
		s3get("a07", 11, "exports/users.csv"),
		west(ev{id: "a08", at: 20, who: iamUser(acctA, evil, "AKIANEW0000000000001"), api: "ec2:ImportKeyPair",
			req: map[string]any{"keyName": "k"}, resp: map[string]any{"keyName": "k", "keyPairId": "key-01"}}),
		west(ev{id: "a09", at: 21, who: iamUser(acctA, evil, "AKIANEW0000000000001"), api: "ec2:CreateSecurityGroup",
			req: map[string]any{"groupName": "ssh", "vpcId": "vpc-1"}, resp: map[string]any{"groupId": "sg-01"}}),
		west(ev{id: "a10", at: 22, who: iamUser(acctA, evil, "AKIANEW0000000000001"), api: "ec2:AuthorizeSecurityGroupIngress",
			req: map[string]any{"groupId": "sg-01", "ipPermissions": map[string]any{"items": []any{map[string]any{
				"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": map[string]any{"items": []any{map[string]any{"cidrIp": "0.0.0.0/0"}}}}}}}}),
		west(ev{id: "a11", at: 23, who: iamUser(acctA, evil, "AKIANEW0000000000001"), api: "ec2:RunInstances", errCode: "Client.PendingVerification",
			req: map[string]any{"instanceType": "r6i.metal", "instancesSet": map[string]any{"items": []any{map[string]any{"imageId": "ami-1", "minCount": 1, "maxCount": 2}}}}}),
		{id: "a12", at: 30, who: attacker, api: "ecs:CreateCluster", region: "eu-west-1", req: map[string]any{"clusterName": "c1"},
			resp: map[string]any{"cluster": map[string]any{"clusterArn": "arn:aws:ecs:eu-west-1:" + acctA + ":cluster/c1"}}},
		{id: "a13", at: 30, who: attacker, api: "ecs:RegisterTaskDefinition", region: "eu-west-1",
			req: map[string]any{"family": "f", "cpu": "16384", "memory": "32768", "networkMode": "awsvpc", "requiresCompatibilities": []any{"FARGATE"},
				"containerDefinitions": []any{map[string]any{"name": "m", "image": "yzsqbe/ka:si"}}},
			resp: map[string]any{"taskDefinition": map[string]any{"taskDefinitionArn": "arn:aws:ecs:eu-west-1:" + acctA + ":task-definition/f:1", "revision": 1}}},
		{id: "a14", at: 31, who: attacker, api: "ecs:CreateService", region: "eu-west-1",
			req: map[string]any{"cluster": "c1", "serviceName": "s1", "taskDefinition": "f:1", "desiredCount": 25, "launchType": "FARGATE",
				"networkConfiguration": map[string]any{"awsvpcConfiguration": map[string]any{"assignPublicIp": "ENABLED"}}},
			resp: map[string]any{"service": map[string]any{"serviceArn": "arn:aws:ecs:eu-west-1:" + acctA + ":service/c1/s1", "taskDefinition": "arn:aws:ecs:eu-west-1:" + acctA + ":task-definition/f:1"}}},
		{id: "b02", at: 90, who: alice, api: "ecs:DeleteService", region: "eu-west-1", req: map[string]any{"cluster": "arn:aws:ecs:eu-west-1:" + acctA + ":cluster/c1", "service": "s1"}},
		{id: "b03", at: 91, who: alice, api: "iam:DeleteAccessKey", req: map[string]any{"userName": evil, "accessKeyId": "AKIANEW0000000000001"}},
	}
}

func smallReport(t *testing.T) *Report {
	t.Helper()
	x := loadEvents(t, smallIncident())
	sigs := []signal.Signal{
		{ID: "s1", Title: "AdministratorAccess attached", Level: signal.LevelHigh, Techniques: []string{"T1098.003"},
			Tactics: []string{"persistence", "privilege-escalation"}, Actor: attacker.arn, AccessKeyID: attacker.key, EventIDs: []string{"a03"}},
		{ID: "s2", Title: "Large Fargate service", Level: signal.LevelCritical, Techniques: []string{"T1496.001"},
			Tactics: []string{"impact"}, Actor: attacker.arn, EventIDs: []string{"a13", "a14"}},
		{ID: "s3", Title: "Benign admin", Level: signal.LevelLow, Actor: alice.arn, EventIDs: []string{"b01"}},
	}
	rep, err := Investigate(context.Background(), x, Start{Signal: "s1"}, sigs, Options{Regions: []string{"us-east-1", "us-west-1", "eu-west-1", "ap-south-1"}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// reportJSON is the JSON report, the form in which reports are compared.
func reportJSON(t *testing.T, rep *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReportGolden(t *testing.T) {
	b := []byte(reportJSON(t, smallReport(t)))
	golden(t, "small.report.json", b)
	if bytes.Contains(b, []byte("\u202e")) {
		t.Error("the JSON report holds a raw U+202E")
	}
}

func TestGraphDOTGolden(t *testing.T) {
	rep := smallReport(t)
	var b bytes.Buffer
	if err := rep.Graph.WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "small.graph.dot", b.Bytes())
	// Every line is a statement: an attacker's name cannot open a new one.
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
		if line != "}" && !strings.HasSuffix(line, ";") {
			t.Errorf("line %q is not one statement", line)
		}
	}
	if strings.ContainsRune(b.String(), '\u202e') {
		t.Error("the DOT output holds a raw U+202E")
	}
}

func TestDOTQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"a\nb", `"a\nb"`},
		{"a\x1b[31m", `"a\\u001b[31m"`},
		{"\u202eevil", `"\\u202eevil"`},
	}
	for _, tc := range tests {
		if got := dotQuote(tc.in); got != tc.want {
			t.Errorf("dotQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
