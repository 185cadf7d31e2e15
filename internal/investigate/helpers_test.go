package investigate

import (
	"context"
	"encoding/json"
	"github.com/trailhound/trailhound/internal/store"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/incident"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/signal"
)

// base is the time of the first test event; ev.at is minutes after it.
var base = time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)

// who is a CloudTrail userIdentity for tests.
type who struct {
	typ, arn, acct, key, issuer, srcID, invokedBy string
	pid, idp                                      string // principalId (default AIDAEXAMPLE), identityProvider
	sessAt                                        time.Time
	console                                       bool
}

func iamUser(acct, name, key string) who {
	return who{typ: "IAMUser", arn: "arn:aws:iam::" + acct + ":user/" + name, acct: acct, key: key}
}

// consoleOf is user u in a console session opened at minute m.
func (u who) consoleAt(m int, key string) who {
	u.console, u.sessAt, u.key = true, base.Add(time.Duration(m)*time.Minute), key
	return u
}

func roleSession(acct, role, session, key string) who {
	return who{typ: "AssumedRole", arn: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session, acct: acct, key: key,
		issuer: "arn:aws:iam::" + acct + ":role/" + role}
}

// samlUser is a SAML identity (no ARN: its actor is "SAMLUser:PRINCIPAL_ID").
func samlUser(acct, name string) who {
	return who{typ: "SAMLUser", acct: acct, pid: "SAMLPROVIDERHASH=:" + name, idp: "arn:aws:iam::" + acct + ":saml-provider/Okta"}
}

// webUser is a web identity (OIDC token) with no ARN: its actor is "WebIdentityUser:PRINCIPAL_ID".
func webUser(acct, sub string) who {
	return who{typ: "WebIdentityUser", acct: acct, pid: "token.actions.githubusercontent.com:sts.amazonaws.com:" + sub,
		idp: "token.actions.githubusercontent.com"}
}

func (u who) withSourceIdentity(s string) who { u.srcID = s; return u }
func (u who) via(service string) who          { u.invokedBy = service; return u }

func (u who) identity() map[string]any {
	m := map[string]any{"type": u.typ, "arn": u.arn, "accountId": u.acct, "principalId": "AIDAEXAMPLE"}
	if u.pid != "" {
		m["principalId"] = u.pid
	}
	if u.arn == "" {
		delete(m, "arn")
	}
	if u.idp != "" {
		m["identityProvider"], m["userName"] = u.idp, u.pid[strings.LastIndex(u.pid, ":")+1:]
	}
	if u.key != "" {
		m["accessKeyId"] = u.key
	}
	if u.invokedBy != "" {
		m["invokedBy"] = u.invokedBy
	}
	sc := map[string]any{}
	if u.issuer != "" {
		sc["sessionIssuer"] = map[string]any{"type": "Role", "arn": u.issuer, "accountId": u.acct}
	}
	if !u.sessAt.IsZero() {
		sc["attributes"] = map[string]any{"creationDate": u.sessAt.Format(time.RFC3339), "mfaAuthenticated": "false"}
	}
	if u.srcID != "" {
		sc["sourceIdentity"] = u.srcID
	}
	if len(sc) > 0 {
		m["sessionContext"] = sc
	}
	return m
}

// ev is one test event.
type ev struct {
	id      string
	at      int // minutes after base
	who     who
	api     string // "iam:CreateUser"
	region  string
	ip      string
	ua      string // the default aws-cli/2 when empty
	req     map[string]any
	resp    map[string]any
	errCode string
	extra   map[string]any // additionalEventData, resources…
}

func (e ev) json() []byte {
	svc, name, _ := strings.Cut(e.api, ":")
	region := e.region
	if region == "" {
		region = "us-east-1"
	}
	ip := e.ip
	if ip == "" {
		ip = "198.51.100.7"
	}
	m := map[string]any{
		"eventVersion": "1.09", "userIdentity": e.who.identity(),
		"eventTime":   base.Add(time.Duration(e.at) * time.Minute).Format(time.RFC3339),
		"eventSource": svc + ".amazonaws.com", "eventName": name, "awsRegion": region,
		"sourceIPAddress": ip, "userAgent": "aws-cli/2.15.0 Python/3.11", "eventID": e.id,
		"recipientAccountId": e.who.acct, "requestParameters": e.req, "responseElements": e.resp,
	}
	if e.ua != "" {
		m["userAgent"] = e.ua
	}
	if e.who.console {
		m["sessionCredentialFromConsole"] = "true"
		m["userAgent"] = "AWS Internal"
	}
	if e.errCode != "" {
		m["errorCode"], m["errorMessage"] = e.errCode, "denied"
	}
	if name == "ConsoleLogin" {
		m["userAgent"] = "Mozilla/5.0"
		m["responseElements"] = map[string]any{"ConsoleLogin": "Success"}
		m["additionalEventData"] = map[string]any{"MFAUsed": "No"}
	}
	for k, v := range e.extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// writeEvents writes events as JSON Lines in a temporary folder and returns its path.
func writeEvents(t testing.TB, evs []ev) string {
	t.Helper()
	var b strings.Builder
	for _, e := range evs {
		b.Write(e.json())
		b.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadEvents builds an index of events.
func loadEvents(t testing.TB, evs []ev) *Index {
	t.Helper()
	x, err := Load(context.Background(), []string{writeEvents(t, evs)}, LoadOptions{Workers: 1})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return x
}

// storeOf writes events into a new store (closed with the test).
func storeOf(t testing.TB, evs []ev) *store.Store {
	t.Helper()
	s, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w, err := s.Writer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddPaths(context.Background(), []string{writeEvents(t, evs)}, store.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return s
}

// Common calls.
func createUser(id string, at int, by who, name string) ev {
	return ev{id: id, at: at, who: by, api: "iam:CreateUser", req: map[string]any{"userName": name},
		resp: map[string]any{"user": map[string]any{"userName": name, "arn": "arn:aws:iam::" + by.acct + ":user/" + name}}}
}

func createKey(id string, at int, by who, user, key string) ev {
	return ev{id: id, at: at, who: by, api: "iam:CreateAccessKey", req: map[string]any{"userName": user},
		resp: map[string]any{"accessKey": map[string]any{"userName": user, "accessKeyId": key, "status": "Active"}}}
}

func assumeRole(id string, at int, by who, roleARN, session, key string, extraReq map[string]any) ev {
	req := map[string]any{"roleArn": roleARN, "roleSessionName": session}
	for k, v := range extraReq {
		req[k] = v
	}
	acct := arnAccount(roleARN)
	role := roleARN[strings.LastIndex(roleARN, "/")+1:]
	return ev{id: id, at: at, who: by, api: "sts:AssumeRole", req: req,
		resp: map[string]any{"credentials": map[string]any{"accessKeyId": key, "sessionToken": "x"},
			"assumedRoleUser": map[string]any{"arn": "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session}}}
}

// assumeRoleFederated is AssumeRoleWithSAML (by a SAMLUser) or AssumeRoleWithWebIdentity
// (by a WebIdentityUser): the session name is in the assumed-role ARN of the response.
func assumeRoleFederated(id string, at int, by who, roleARN, session, key string) ev {
	api, req := "sts:AssumeRoleWithSAML", map[string]any{"roleArn": roleARN, "principalArn": by.idp, "durationSeconds": 3600}
	if by.typ == "WebIdentityUser" {
		api, req = "sts:AssumeRoleWithWebIdentity", map[string]any{"roleArn": roleARN, "roleSessionName": session}
	}
	acct := arnAccount(roleARN)
	role := roleARN[strings.LastIndex(roleARN, "/")+1:]
	return ev{id: id, at: at, who: by, api: api, req: req,
		resp: map[string]any{"credentials": map[string]any{"accessKeyId": key, "sessionToken": "x"},
			"assumedRoleUser": map[string]any{"arn": "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session}}}
}

func call(id string, at int, by who, api string) ev { return ev{id: id, at: at, who: by, api: api} }

// planOf builds the plan of a report as trailhound investigate does, and checks its safety
// property against the report's attribution of the events it cites: every plan the tests of
// this package make goes through it.
func planOf(t testing.TB, rep *Report) remediate.Plan {
	t.Helper()
	p := remediate.BuildPlan(rep.Resources, remediate.PlanOptions{Credentials: rep.Credentials, DataRead: rep.Data.Reads(),
		OwnerResources: len(rep.OwnerResources), Title: "test"})
	attr := map[string]incident.Attribution{}
	for _, e := range rep.Timeline {
		attr[e.EventID] = e.Attribution
	}
	if err := remediate.CheckPlan(p, func(id string) incident.Attribution { return attr[id] }); err != nil {
		t.Error(err)
	}
	return p
}

// testSignals returns a signal on who's first admin-looking call, for Start.Signal.
func testSignals(u who) []signal.Signal {
	return []signal.Signal{{
		ID: "sig-dave", RuleID: "r1", Title: "Login profile for another user", Level: signal.LevelHigh,
		Techniques: []string{"T1098"}, Tactics: []string{"persistence", "privilege-escalation"},
		Actor: u.arn, AccessKeyID: u.key, EventIDs: []string{"e1"}, EventCount: 1,
	}}
}
