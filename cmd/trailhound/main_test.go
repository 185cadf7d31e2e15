package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/internal/goldenfile"
	"github.com/trailhound/trailhound/internal/incident"
	"github.com/trailhound/trailhound/internal/remediate"
	"github.com/trailhound/trailhound/internal/shareddata"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/store"
)

// binary is the trailhound built once for the CLI tests: they run the real program on real
// files, as a user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trailhound-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "trailhound")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building trailhound:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func runCLI(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	return runCLIIn(t, "", stdin, args...)
}

// runCLIIn runs trailhound in the working directory dir ("" for the test's).
func runCLIIn(t *testing.T, dir string, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	return runCmd(t, cmd)
}

// runCmd runs cmd, a run of the binary, and returns its output and exit status.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// sharedDir returns ../shared beside the checkout, or skips.
func sharedDir(t *testing.T) string { return shareddata.Dir(t) }

// signalLines decodes the signals of -f jsonl output.
func signalLines(t *testing.T, stdout string) []signal.Signal {
	t.Helper()
	var out []signal.Signal
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var s signal.Signal
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("signal line %q: %v", l, err)
		}
		out = append(out, s)
	}
	return out
}

func TestDemo(t *testing.T) {
	r := runCLI(t, nil, "demo", "--seed", "3", "--days", "3", "--clean", "-f", "jsonl")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 5 {
		t.Fatalf("demo printed %d signals, want at least 5:\n%s", len(lines), r.stdout)
	}
	rules := map[string]bool{}
	for _, l := range lines {
		var s map[string]any
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		rules[s["title"].(string)] = true
	}
	for _, want := range []string{"AWS AdministratorAccess Policy Attached to an IAM Identity", "AWS Console Login Without MFA by an IAM User"} {
		if !rules[want] {
			t.Errorf("demo misses %q; got %v", want, rules)
		}
	}
	if !strings.Contains(r.stderr, "0 rejected") {
		t.Errorf("summary missing or with rejections:\n%s", r.stderr)
	}
}

func TestHuntJSONLKeys(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "demo", "--seed", "5", "--days", "2", "--dir", dir, "-f", "jsonl"); r.code != 0 {
		t.Fatalf("demo: exit %d: %s", r.code, r.stderr)
	}
	dir = filepath.Join(dir, "AWSLogs")
	r := runCLI(t, nil, "hunt", "-f", "jsonl", dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := []string{"id", "rule_id", "title", "level", "techniques", "tactics", "first_seen", "last_seen", "account_id", "regions", "actor", "access_key_id", "source_ips", "event_ids", "event_count", "summary", "status", "revision"}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		dec := json.NewDecoder(strings.NewReader(l))
		var keys []string
		tok, _ := dec.Token() // {
		_ = tok
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k.(string))
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
		if strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Fatalf("keys %v, want %v", keys, want)
		}
	}
	// --min-level filters.
	r2 := runCLI(t, nil, "hunt", "-f", "jsonl", "--min-level", "high", dir)
	for _, l := range strings.Split(strings.TrimSpace(r2.stdout), "\n") {
		if !strings.Contains(l, `"level":"high"`) && !strings.Contains(l, `"level":"critical"`) {
			t.Errorf("--min-level high let through %s", l)
		}
	}
	if len(r2.stdout) >= len(r.stdout) {
		t.Error("--min-level high did not filter anything")
	}
	// The table fits 80 columns.
	r3 := runCLI(t, nil, "hunt", "-f", "table", "--width", "80", dir)
	for _, l := range strings.Split(r3.stdout, "\n") {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("table line of %d columns: %q", n, l)
		}
	}
}

func TestHuntStdinAndStrict(t *testing.T) {
	ev := `{"eventVersion":"1.08","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventTime":"2026-11-20T09:00:00Z","eventID":"x-1","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"recipientAccountId":"111122223333"}`
	in := []byte(ev + "\n{broken\n")
	r := runCLI(t, in, "hunt", "-f", "jsonl", "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `"level":"critical"`) {
		t.Errorf("root login without MFA not flagged critical: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, "2 read, 1 evaluated, 1 rejected") || !strings.Contains(r.stderr, "-:2 (record 1): invalid-json") {
		t.Errorf("summary does not account for the bad line:\n%s", r.stderr)
	}
	r = runCLI(t, in, "hunt", "-q", "--strict", "-f", "jsonl", "-")
	if r.code != 3 {
		t.Errorf("--strict with a rejection: exit %d, want 3", r.code)
	}
}

// TestHuntEventTime: an export that keeps only @timestamp is hunted at that time and counted
// in the summary; an event with no time at all is a no-event-time rejection (--strict: 3),
// listed by --rejects, never a signal dated 1970.
func TestHuntEventTime(t *testing.T) {
	ev := func(id, timeField string) string {
		return `{"eventVersion":"1.08","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin",` + timeField + `"eventID":"` + id + `","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"recipientAccountId":"111122223333"}`
	}
	in := []byte(ev("ts-1", `"@timestamp":"2026-11-20T09:00:00.000Z",`) + "\n" + ev("ts-2", "") + "\n")
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	r := runCLI(t, in, "hunt", "-f", "jsonl", "--rejects", rejects, "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sigs := signalLines(t, r.stdout)
	if len(sigs) != 1 || !slices.Equal(sigs[0].EventIDs, []string{"ts-1"}) || !sigs[0].FirstSeen.Equal(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("signals = %+v; want one for ts-1 at 2026-11-20T09:00:00Z", sigs)
	}
	for _, want := range []string{"2 read, 1 evaluated, 1 rejected", "event time: 1 events without eventTime timed by their @timestamp", "no-event-time 1", "-:2 (record 1): no-event-time: no eventTime and no @timestamp"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stderr)
		}
	}
	b, err := os.ReadFile(rejects)
	if err != nil || !strings.Contains(string(b), `"reason":"no-event-time"`) {
		t.Errorf("--rejects file %q (%v) lacks the no-event-time rejection", b, err)
	}
	if r := runCLI(t, in, "hunt", "-q", "--strict", "-f", "jsonl", "-"); r.code != 3 {
		t.Errorf("--strict with an event without time: exit %d, want 3", r.code)
	}
}

func TestHuntMissingPath(t *testing.T) {
	r := runCLI(t, nil, "hunt", filepath.Join(t.TempDir(), "missing"))
	if r.code != 1 || !strings.Contains(r.stderr, "missing") {
		t.Errorf("exit %d, stderr %q; want 1 and the path named", r.code, r.stderr)
	}
}

func TestRulesLint(t *testing.T) {
	dir := t.TempDir()
	bad := "title: Broken\nid: 1b9b5d54-3a43-4d43-9d55-6a0e1f9c2a10\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    sel:\n        eventName|nosuch: x\n    condition: sel and other\nlevel: severe\n"
	if err := os.WriteFile(filepath.Join(dir, "broken.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "rules", "lint", dir)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2; out %s err %s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 3 {
		t.Fatalf("want every error (modifier, condition, level), got:\n%s", r.stdout)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, filepath.Join(dir, "broken.yml")+":") {
			t.Errorf("error without file:line:col: %q", l)
		}
	}
	if r := runCLI(t, nil, "rules", "lint"); r.code != 0 {
		t.Errorf("built-in rules do not lint clean: %s%s", r.stdout, r.stderr)
	}
}

func TestRulesListAndTest(t *testing.T) {
	r := runCLI(t, nil, "rules", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "T1098.003") || !strings.Contains(r.stdout, "builtin:") {
		t.Errorf("rules list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "rules", "test")
	if r.code != 0 || !strings.Contains(r.stdout, " 0 failed") {
		t.Errorf("rules test: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestRulesTestPaths: "rules test" takes a folder, a rule file or its test file; a test file
// stands for its rule (it is not loaded as a rule).
func TestRulesTestPaths(t *testing.T) {
	const rule = "../../rules/aws_attacker_infrastructure_ioc.yml"
	tests := []struct{ name, arg string }{
		{"folder", "../../rules"},
		{"rule file", rule},
		{"test file", strings.TrimSuffix(rule, ".yml") + "_test.yml"},
	}
	var one string
	for _, tt := range tests {
		r := runCLI(t, nil, "rules", "test", tt.arg)
		if r.code != 0 || !strings.Contains(r.stdout, " 0 failed") || strings.HasPrefix(r.stdout, "0 passed") {
			t.Errorf("rules test %s (%s): exit %d\n%s%s", tt.arg, tt.name, r.code, r.stdout, r.stderr)
			continue
		}
		if tt.name != "folder" {
			if one != "" && r.stdout != one {
				t.Errorf("rules test %s says %q, the rule file %q", tt.arg, r.stdout, one)
			}
			one = r.stdout
		}
	}
}

func TestHuntPublicRulesOnSharedData(t *testing.T) {
	shared := sharedDir(t)
	r := runCLI(t, nil, "hunt", "-f", "jsonl", "--rules", filepath.Join(shared, "rules"), filepath.Join(shared, "data", "cloudtrail"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "rule not loaded") {
		t.Errorf("some public rules did not load:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "7064 read, 6527 evaluated, 537 rejected") {
		t.Errorf("unexpected counts:\n%s", r.stderr)
	}
	if n := strings.Count(r.stdout, "\n"); n < 100 {
		t.Errorf("only %d signals from 795 public rules over the shared data", n)
	}
}

// TestInvestigateSeedAttacks runs simulate, hunt and investigate as a responder would and
// checks the scope of both seed attacks against the simulator's answer key.
func TestInvestigateSeedAttacks(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "11", "--days", "5", "--events-per-day", "3000"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	logs := filepath.Join(dir, "AWSLogs")
	r := runCLI(t, nil, "hunt", "-q", "-f", "jsonl", logs)
	if r.code != 0 {
		t.Fatalf("hunt: exit %d: %s", r.code, r.stderr)
	}
	byTitle := map[string]string{}
	for _, s := range signalLines(t, r.stdout) {
		byTitle[s.Title] = s.ID
	}
	admin := byTitle["AWS IAM User Created Then Made Administrator Within 10 Minutes"]
	mining := byTitle["AWS ECS Task Definition Uses a Known Cryptomining Image"]
	if admin == "" || mining == "" {
		t.Fatalf("missing seed-attack signals in %v", byTitle)
	}

	plan := filepath.Join(dir, "plan.sh")
	r = runCLI(t, nil, "investigate", logs, "--signal", admin, "-f", "json", "--plan", plan)
	if r.code != 0 {
		t.Fatalf("investigate: exit %d: %s", r.code, r.stderr)
	}
	checkPlanJSON(t, r.stdout)
	var rep struct {
		Identities []struct{ Kind, ID, How string }
		Resources  []struct {
			Type, Region, Name, ID string
			Failed                 bool
		}
		Data struct{ S3 []struct{ Bucket string } }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	users, keys := 0, 0
	for _, id := range rep.Identities {
		switch {
		case id.How == "created IAM user":
			users++
		case id.How == "created access key":
			keys++
		}
	}
	if users != 3 || keys != 2 {
		t.Errorf("scope of attack 1: %d created users, %d created keys; want 3 and 2: %+v", users, keys, rep.Identities)
	}
	failed, westWest := 0, 0
	for _, res := range rep.Resources {
		if res.Region == "us-west-1" {
			westWest++
		}
		if res.Type == "ec2:instance" && res.Failed {
			failed++
		}
	}
	if failed != 2 || westWest < 4 {
		t.Errorf("us-west-1: %d resources, %d failed launches; want key pair, group, rule and 2 refused launches", westWest, failed)
	}
	if len(rep.Data.S3) == 0 {
		t.Error("no S3 reads in scope")
	}
	script, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "exit 1 # REVIEW GUARD") || !strings.Contains(string(script), "aws iam delete-user") {
		t.Errorf("plan lacks the guard or user deletions:\n%s", script)
	}

	r = runCLI(t, nil, "investigate", logs, "--signal", mining, "-f", "json")
	if r.code != 0 {
		t.Fatalf("investigate: exit %d: %s", r.code, r.stderr)
	}
	checkPlanJSON(t, r.stdout) // the plan the Markdown report below shows
	r = runCLI(t, nil, "investigate", logs, "--signal", mining, "-f", "markdown")
	if r.code != 0 {
		t.Fatalf("investigate: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"# Incident report", "## Estimated cost", "ecs:service", "aws ecs delete-cluster"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("markdown report lacks %q", want)
		}
	}
	if n := strings.Count(r.stdout, "| ecs:cluster |"); n != 17 {
		t.Errorf("%d ECS clusters in the report, want 17", n)
	}
	if r := runCLI(t, nil, "investigate", logs, "--user", "nobody-here"); r.code != 1 || !strings.Contains(r.stderr, "nobody-here") {
		t.Errorf("unknown start: exit %d, stderr %q", r.code, r.stderr)
	}
}

// caseJSON is what the CLI tests read of investigate -f json.
type caseJSON struct {
	Timeline []struct {
		EventID     string               `json:"event_id"`
		Attribution incident.Attribution `json:"attribution"`
	} `json:"timeline"`
	OwnerResources []incident.Resource   `json:"owner_resources"`
	Credentials    []incident.Credential `json:"credentials"`
	Plan           remediate.Plan        `json:"remediation_plan"`
}

// checkPlanJSON checks the safety property of the plan in an investigate -f json output
// against the attribution the same output gives its events (remediate.CheckPlan): every plan
// the CLI tests make goes through it.
func checkPlanJSON(t *testing.T, stdout string) caseJSON {
	t.Helper()
	var c caseJSON
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("decoding investigate -f json: %v", err)
	}
	attr := map[string]incident.Attribution{}
	for _, e := range c.Timeline {
		attr[e.EventID] = e.Attribution
	}
	if err := remediate.CheckPlan(c.Plan, func(id string) incident.Attribution { return attr[id] }); err != nil {
		t.Error(err)
	}
	return c
}

// TestInvestigateBusyOwners: with busy CI users behind the leaked keys, investigate from the
// signal, the leaked key, the attacker's addresses and the user it created writes one plan,
// byte for byte, and that plan names none of the owners' resources; stolen instance
// credentials get the role's sessions revoked and the instance named.
func TestInvestigateBusyOwners(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "31", "--days", "4", "--events-per-day", "2000", "--attacks", "1,3", "--busy-owners"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gt struct {
		Attacks []struct {
			Identities []struct{ AccessKeyID, InstanceID, RoleARN string }
			SourceIPs  []string
			Resources  []struct{ Kind, Name string }
			Steps      []struct{ EventID string }
		}
		Owners []struct {
			Resources []struct{ ID, Name string }
		}
	}
	if err := json.Unmarshal(data, &gt); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(dir, "AWSLogs")
	r := runCLI(t, nil, "hunt", "-q", "-f", "jsonl", logs)
	if r.code != 0 {
		t.Fatalf("hunt: exit %d: %s", r.code, r.stderr)
	}
	a1 := gt.Attacks[0]
	steps := map[string]bool{}
	for _, st := range a1.Steps {
		steps[st.EventID] = true
	}
	starts := [][]string{{"--access-key", a1.Identities[0].AccessKeyID}}
	for _, s := range signalLines(t, r.stdout) {
		if s.Level >= signal.LevelHigh && slices.ContainsFunc(s.EventIDs, func(id string) bool { return steps[id] }) {
			starts = append(starts, []string{"--signal", s.ID})
			break
		}
	}
	for _, ip := range a1.SourceIPs {
		starts = append(starts, []string{"--ip", ip})
	}
	for _, res := range a1.Resources {
		if res.Kind == "iam-user" {
			starts = append(starts, []string{"--user", res.Name})
		}
	}
	if len(starts) < 5 {
		t.Fatalf("only %d starting points: %v", len(starts), starts)
	}
	var first []byte
	for i, st := range starts {
		plan := filepath.Join(dir, fmt.Sprintf("plan%d.sh", i))
		r := runCLI(t, nil, append([]string{"investigate", logs, "-f", "json", "--plan", plan}, st...)...)
		if r.code != 0 {
			t.Fatalf("investigate %v: exit %d: %s", st, r.code, r.stderr)
		}
		c := checkPlanJSON(t, r.stdout)
		script, err := os.ReadFile(plan)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = script
			if len(c.OwnerResources) < 100 || len(c.Credentials) != 1 || c.Credentials[0].UserName == "" || c.Credentials[0].Account == "" {
				t.Errorf("%v: %d owner resources, credentials %+v", st, len(c.OwnerResources), c.Credentials)
			}
			for _, o := range gt.Owners {
				for _, res := range o.Resources {
					if id := cmp.Or(res.ID, res.Name); id != "" && strings.Contains(string(script), "'"+id+"'") {
						t.Errorf("the plan names the owner's %s", id)
					}
				}
			}
			if !strings.Contains(string(script), "aws iam update-access-key --user-name '") {
				t.Errorf("the plan does not deactivate the leaked key:\n%s", script)
			}
		} else if !bytes.Equal(first, script) {
			t.Errorf("investigate %v wrote another plan than %v", st, starts[0])
		}
	}
	a3 := gt.Attacks[1].Identities[0]
	r = runCLI(t, nil, "investigate", logs, "--access-key", a3.AccessKeyID, "-f", "json")
	if r.code != 0 {
		t.Fatalf("investigate: exit %d: %s", r.code, r.stderr)
	}
	c := checkPlanJSON(t, r.stdout)
	var lines, whats []string
	for _, sec := range c.Plan.Sections {
		for _, st := range sec.Steps {
			lines, whats = append(lines, st.Line), append(whats, st.What)
		}
	}
	role := a3.RoleARN[strings.LastIndexByte(a3.RoleARN, '/')+1:]
	if !slices.ContainsFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, "aws iam put-role-policy --role-name '"+role+"' --policy-name AWSRevokeOlderSessions")
	}) ||
		!slices.ContainsFunc(whats, func(w string) bool { return strings.Contains(w, a3.InstanceID) }) {
		t.Errorf("stolen credentials: plan %q / %q", lines, whats)
	}
}

// TestInvestigateGoldenReports: the Markdown and JSON reports of one simulated incident (a
// busy owner's leaked key, seed 5) as trailhound writes them.
func TestInvestigateGoldenReports(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "5", "--days", "2", "--events-per-day", "1000", "--attacks", "1",
		"--busy-owners", "--ci-runs-per-day", "6", "--no-digests"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	r := runCLIIn(t, dir, nil, "hunt", "-q", "-f", "jsonl", "AWSLogs")
	if r.code != 0 {
		t.Fatalf("hunt: exit %d: %s", r.code, r.stderr)
	}
	var start string
	for _, s := range signalLines(t, r.stdout) {
		if s.Title == "AWS IAM User Created Then Made Administrator Within 10 Minutes" {
			start = s.ID
		}
	}
	if start == "" {
		t.Fatal("no signal to start from")
	}
	for _, f := range []struct{ format, golden string }{{"markdown", "incident.md.golden"}, {"json", "incident.json.golden"}} {
		r := runCLIIn(t, dir, nil, "investigate", "AWSLogs", "--signal", start, "-f", f.format, "--timeline-limit", "400")
		if r.code != 0 {
			t.Fatalf("investigate -f %s: exit %d: %s", f.format, r.code, r.stderr)
		}
		if f.format == "json" {
			checkPlanJSON(t, r.stdout)
		}
		goldenfile.Check(t, filepath.Join("testdata", f.golden), []byte(r.stdout))
	}
}

// TestHuntDBAndInvestigate: hunt --db twice adds nothing the second time, and investigate
// --db gives the scope an investigation over the logs gives, even once the logs are gone.
func TestHuntDBAndInvestigate(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "21", "--days", "3", "--events-per-day", "2000", "--attacks", "2"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	logs, db := filepath.Join(dir, "AWSLogs"), filepath.Join(dir, "db")
	first := runCLI(t, nil, "hunt", "--db", db, "-f", "jsonl", logs)
	if first.code != 0 || !strings.Contains(first.stderr, "already stored") {
		t.Fatalf("hunt --db: exit %d: %s", first.code, first.stderr)
	}
	again := runCLI(t, nil, "hunt", "--db", db, "-f", "jsonl", logs)
	if again.code != 0 || !strings.Contains(again.stderr, ": 0 events added") || strings.TrimSpace(again.stdout) != "" {
		t.Errorf("second hunt --db over the same files: exit %d, %d signal lines, stderr:\n%s", again.code, strings.Count(again.stdout, "\n"), again.stderr)
	}
	var mining string
	for _, s := range signalLines(t, first.stdout) {
		if s.Title == "AWS ECS Task Definition Uses a Known Cryptomining Image" {
			mining = s.ID
		}
	}
	if mining == "" {
		t.Fatal("no mining signal")
	}
	fromLogs := runCLI(t, nil, "investigate", logs, "--signal", mining, "-f", "json")
	if err := os.RemoveAll(logs); err != nil {
		t.Fatal(err)
	}
	fromDB := runCLI(t, nil, "investigate", "--db", db, "--signal", mining, "-f", "json")
	if fromLogs.code != 0 || fromDB.code != 0 {
		t.Fatalf("investigate: exits %d and %d: %s%s", fromLogs.code, fromDB.code, fromLogs.stderr, fromDB.stderr)
	}
	checkPlanJSON(t, fromLogs.stdout)
	checkPlanJSON(t, fromDB.stdout)
	type scope struct {
		Summary   struct{ Events int }
		Resources []struct{ Type, Region, ID string }
	}
	var a, b scope
	if err := json.Unmarshal([]byte(fromLogs.stdout), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(fromDB.stdout), &b); err != nil {
		t.Fatal(err)
	}
	if a.Summary.Events != b.Summary.Events || len(a.Resources) != len(b.Resources) || len(b.Resources) != 51 {
		t.Errorf("logs: %d events, %d resources; store: %d events, %d resources; want equal, 51 resources",
			a.Summary.Events, len(a.Resources), b.Summary.Events, len(b.Resources))
	}
}

// TestHuntDBCompacts: hunt --db run once per day folder, as over a live trail, keeps few
// segments (small ones are compacted) and stores the same events as one run over everything.
func TestHuntDBCompacts(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "22", "--days", "3", "--events-per-day", "500", "--attacks", "none", "--no-digests"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	logs := filepath.Join(dir, "AWSLogs")
	var days []string
	filepath.WalkDir(logs, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && len(strings.Split(strings.TrimPrefix(p, logs), string(filepath.Separator))) == 7 {
			days = append(days, p) // AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD
		}
		return nil
	})
	if len(days) < 2*store.CompactMin {
		t.Fatalf("only %d day folders", len(days))
	}
	db := filepath.Join(dir, "db")
	for _, d := range days {
		if r := runCLI(t, nil, "hunt", "--db", db, "-q", "-f", "jsonl", d); r.code != 0 {
			t.Fatalf("hunt --db %s: exit %d: %s", d, r.code, r.stderr)
		}
	}
	got, one := storeAgainstOneRun(t, db, filepath.Join(dir, "db1"), logs)
	if got.Segments >= store.CompactMin || got.Events != one.Events {
		t.Errorf("%d runs: %d segments and %d events; want fewer than %d segments and the %d events of one run",
			len(days), got.Segments, got.Events, store.CompactMin, one.Events)
	}
}

// TestDBInfo: db info accounts for every stored event, per account and region, in text and
// JSON.
func TestDBInfo(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "23", "--days", "2", "--events-per-day", "800", "--attacks", "2", "--no-digests"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	db := filepath.Join(dir, "db")
	if r := runCLI(t, nil, "hunt", "--db", db, "-q", "-f", "jsonl", filepath.Join(dir, "AWSLogs")); r.code != 0 {
		t.Fatalf("hunt --db: exit %d: %s", r.code, r.stderr)
	}
	r := runCLI(t, nil, "db", "info", db, "-f", "json")
	if r.code != 0 {
		t.Fatalf("db info: exit %d: %s", r.code, r.stderr)
	}
	var rep struct {
		Stats   struct{ Events int }
		Signals int
		Files   int `json:"files_recorded"`
		Regions []struct {
			Account, Region string
			Events          int
			HoursWithEvents int `json:"hours_with_events"`
			HoursWithout    int `json:"hours_without_events"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("db info -f json: %v\n%s", err, r.stdout)
	}
	sum, attackOnly := 0, 0
	for _, c := range rep.Regions {
		sum += c.Events
		if c.HoursWithEvents < 1 || c.HoursWithout < 0 {
			t.Errorf("%s %s: %d hours with events, %d without", c.Account, c.Region, c.HoursWithEvents, c.HoursWithout)
		}
		if c.Events <= 3 {
			attackOnly++ // the miners' regions: three calls each
		}
	}
	logFiles := 0
	filepath.WalkDir(filepath.Join(dir, "AWSLogs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			logFiles++
		}
		return nil
	})
	if rep.Files != logFiles || logFiles == 0 {
		t.Errorf("db info: %d input files stored whole, want the %d files hunted", rep.Files, logFiles)
	}
	if sum != rep.Stats.Events || rep.Stats.Events == 0 || rep.Signals == 0 {
		t.Errorf("regions hold %d events, the store %d; %d signals", sum, rep.Stats.Events, rep.Signals)
	}
	if attackOnly < 14 {
		t.Errorf("%d regions with at most 3 events, want the attack's (at least 14 of its 17)", attackOnly)
	}
	text := runCLI(t, nil, "db", "info", db)
	if text.code != 0 || !strings.Contains(text.stdout, "HOURS WITHOUT EVENTS") || !strings.Contains(text.stdout, fmt.Sprintf("%d events", rep.Stats.Events)) {
		t.Errorf("db info: exit %d:\n%s", text.code, text.stdout)
	}
	if r := runCLI(t, nil, "db", "info", filepath.Join(dir, "none")); r.code == 0 {
		t.Error("db info of a missing store: exit 0")
	}
}

// TestS3BulkReadersList: identities of the s3_bulk_readers IOC list (empty as shipped) are
// left out of the S3 download burst rules; others are not.
func TestS3BulkReadersList(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	callers := []struct{ typ, arn, issuer string }{
		{"AssumedRole", "arn:aws:sts::111122223333:assumed-role/etl-loader/run-42", "arn:aws:iam::111122223333:role/etl-loader"},
		{"IAMUser", "arn:aws:iam::111122223333:user/mallory", ""},
	}
	// A day earlier, another caller's read starts the learning clock: the burst rules
	// (baseline_count) learn the first day of a hunt.
	fmt.Fprintf(&b, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/warmup","accountId":"111122223333"},`+
		`"eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5",`+
		`"userAgent":"aws-cli/2.15","requestParameters":{"bucketName":"finance","key":"reports/x.csv"},"eventID":"ev-warmup",`+
		`"eventCategory":"Data","recipientAccountId":"111122223333"}`+"\n", t0.Add(-25*time.Hour).Format(time.RFC3339))
	for i := range 120 {
		for j, c := range callers {
			issuer := ""
			if c.issuer != "" {
				issuer = fmt.Sprintf(`,"sessionContext":{"sessionIssuer":{"type":"Role","arn":%q}}`, c.issuer)
			}
			fmt.Fprintf(&b, `{"eventVersion":"1.09","userIdentity":{"type":%q,"arn":%q,"accountId":"111122223333","accessKeyId":"AKIA%016d"%s},`+
				`"eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.%d",`+
				`"userAgent":"aws-cli/2.15","requestParameters":{"bucketName":"finance","key":"reports/%d.csv"},"eventID":"ev-%d-%d",`+
				`"eventCategory":"Data","recipientAccountId":"111122223333"}`+"\n",
				c.typ, c.arn, j, issuer, t0.Add(time.Duration(i)*2*time.Second).Format(time.RFC3339), 10+j, i, j, i)
		}
	}
	logs := filepath.Join(dir, "s3.jsonl")
	if err := os.WriteFile(logs, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "s3_bulk_readers.txt")
	if err := os.WriteFile(list, []byte("arn:aws:iam::111122223333:role/etl-loader  # the nightly ETL\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bursts := func(args ...string) map[string]int {
		r := runCLI(t, nil, append([]string{"hunt", "-f", "jsonl"}, append(args, logs)...)...)
		if r.code != 0 {
			t.Fatalf("hunt: exit %d: %s", r.code, r.stderr)
		}
		out := map[string]int{}
		for _, s := range signalLines(t, r.stdout) {
			if strings.Contains(s.Title, "S3 Download Burst") {
				out[s.Actor]++
			}
		}
		return out
	}
	etl, mallory := "arn:aws:iam::111122223333:role/etl-loader#run-42", "arn:aws:iam::111122223333:user/mallory"
	if got := bursts(); got[etl] != 2 || got[mallory] != 2 {
		t.Errorf("without the list: bursts %v, want both rules for both callers", got)
	}
	if got := bursts("--ioc", list); got[etl] != 0 || got[mallory] != 2 {
		t.Errorf("with the ETL role listed: bursts %v, want only mallory's", got)
	}
}

// TestHuntDBKeepsEventsThatReuseAnID: hunt --db signals what hunt without a store signals
// when two different events share an eventID (test data does that) and one event is
// delivered twice: the store keeps events by eventID and eventTime, so it neither drops
// the second event before evaluation nor stores the re-delivery.
func TestHuntDBKeepsEventsThatReuseAnID(t *testing.T) {
	const id = "0d3b5e4c-reused"
	login := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice",` +
		`"accountId":"111122223333","userName":"alice"},"eventTime":"2026-11-20T10:00:00Z","eventSource":"signin.amazonaws.com",` +
		`"eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0",` +
		`"requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},` +
		`"eventID":"` + id + `","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`
	attach := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice",` +
		`"accountId":"111122223333","userName":"alice","accessKeyId":"AKIAEXAMPLE"},"eventTime":"2026-11-20T12:00:00Z","eventSource":"iam.amazonaws.com",` +
		`"eventName":"AttachUserPolicy","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0",` +
		`"requestParameters":{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"},"responseElements":null,` +
		`"eventID":"` + id + `","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	dir := t.TempDir()
	logs := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(logs, []byte(login+"\n"+attach+"\n"+login+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := runCLI(t, nil, "hunt", "-f", "jsonl", logs)
	withDB := runCLI(t, nil, "hunt", "--db", filepath.Join(dir, "db"), "-f", "jsonl", logs)
	if plain.code != 0 || withDB.code != 0 {
		t.Fatalf("hunt: exits %d and %d: %s%s", plain.code, withDB.code, plain.stderr, withDB.stderr)
	}
	for _, title := range []string{"AWS Console Login Without MFA by an IAM User", "AWS AdministratorAccess Policy Attached to an IAM Identity"} {
		if !strings.Contains(plain.stdout, `"title":"`+title+`"`) {
			t.Errorf("hunt: no %q signal:\n%s", title, plain.stdout)
		}
	}
	if withDB.stdout != plain.stdout {
		t.Errorf("hunt --db signals differ from hunt's:\n--db:\n%s\nwithout:\n%s", withDB.stdout, plain.stdout)
	}
	if !strings.Contains(withDB.stderr, ": 2 events added, 1 already stored") {
		t.Errorf("hunt --db summary: want 2 events added, 1 already stored:\n%s", withDB.stderr)
	}
}

// TestHuntDBReadsOnlyNewFiles: over a live trail, hunt --db reads the files delivered since
// its last run and leaves the ones it stored unread; a file that changed is read again, and
// so is a file with a rejected record, every time; the store ends with the events of one
// run over everything.
func TestHuntDBReadsOnlyNewFiles(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "24", "--days", "2", "--events-per-day", "600", "--attacks", "none", "--no-digests"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	logs, later := filepath.Join(dir, "AWSLogs"), filepath.Join(dir, "later")
	var all, moved []string
	filepath.WalkDir(logs, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			all = append(all, p)
		}
		return nil
	})
	for i, p := range all { // every third file is delivered after the first run
		if i%3 != 0 {
			continue
		}
		rel, _ := filepath.Rel(logs, p)
		to := filepath.Join(later, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p, to); err != nil {
			t.Fatal(err)
		}
		moved = append(moved, rel)
	}
	db := filepath.Join(dir, "db")
	hunt := func(wantRead, wantUnchanged int) {
		t.Helper()
		r := runCLI(t, nil, "hunt", "--db", db, "-f", "jsonl", logs)
		if r.code != 0 {
			t.Fatalf("hunt --db: exit %d: %s", r.code, r.stderr)
		}
		want := fmt.Sprintf("files: %d read", wantRead)
		if wantUnchanged > 0 {
			want += fmt.Sprintf(", %d unchanged since an earlier run stored them (not read again)", wantUnchanged)
		}
		if !strings.Contains(r.stderr, want+"\n") {
			t.Errorf("hunt --db: want %q in the summary:\n%s", want, r.stderr)
		}
	}
	first := len(all) - len(moved)
	hunt(first, 0)
	for _, rel := range moved { // the trail delivers the rest
		if err := os.Rename(filepath.Join(later, rel), filepath.Join(logs, rel)); err != nil {
			t.Fatal(err)
		}
	}
	hunt(len(moved), first)
	hunt(0, len(all))

	// A file rewritten (same content, new time) is read again, once.
	touched := all[1]
	if err := os.Chtimes(touched, time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	hunt(1, len(all)-1)
	hunt(0, len(all))

	// A file with a rejected record is read on every run.
	bad := filepath.Join(logs, "extra.jsonl")
	if err := os.WriteFile(bad, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hunt(1, len(all))
	hunt(1, len(all))

	got, one := storeAgainstOneRun(t, db, filepath.Join(dir, "db1"), logs)
	if got.Events != one.Events || got.Events == 0 {
		t.Errorf("store after the runs holds %d events, one run over everything %d", got.Events, one.Events)
	}
}

// storeAgainstOneRun returns the statistics of the store db, and of the store one hunt
// --db over all of logs writes into fresh.
func storeAgainstOneRun(t *testing.T, db, fresh, logs string) (got, one store.Stats) {
	t.Helper()
	if r := runCLI(t, nil, "hunt", "--db", fresh, "-q", "-f", "jsonl", logs); r.code != 0 {
		t.Fatalf("hunt --db %s: exit %d: %s", fresh, r.code, r.stderr)
	}
	for _, c := range []struct {
		dir string
		out *store.Stats
	}{{db, &got}, {fresh, &one}} {
		st, err := store.Open(c.dir, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		*c.out = st.Stats()
		st.Close()
	}
	return got, one
}

// TestScannerAllowlists: the user-data sweep of a known scanner's role stays quiet; an
// --ioc file extends the allowlist with a role of one's own and trims a built-in entry
// with "!value"; a leaked IAM user key with a scanner's user agent is never trusted.
func TestScannerAllowlists(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	const scout = "Scout-Suite/5.14.0 md/Botocore#1.35.75 ua/2.0 lang/python#3.12.6 Scout Suite/5.14.0 (https://github.com/nccgroup/ScoutSuite)"
	callers := []struct{ typ, arn, issuer, ua string }{
		{"AssumedRole", "arn:aws:sts::111122223333:assumed-role/WizAccess-Role/WizSession", "arn:aws:iam::111122223333:role/WizAccess-Role", "aws-sdk-go-v2/1.32.3"},
		{"AssumedRole", "arn:aws:sts::111122223333:assumed-role/inventory-scanner/run-7", "arn:aws:iam::111122223333:role/inventory-scanner", "aws-sdk-go-v2/1.32.3"},
		{"IAMUser", "arn:aws:iam::111122223333:user/mallory", "", scout},
	}
	for i := range 8 {
		for j, c := range callers {
			issuer := ""
			if c.issuer != "" {
				issuer = fmt.Sprintf(`,"sessionContext":{"sessionIssuer":{"type":"Role","arn":%q}}`, c.issuer)
			}
			fmt.Fprintf(&b, `{"eventVersion":"1.09","userIdentity":{"type":%q,"arn":%q,"accountId":"111122223333","accessKeyId":"ASIA%016d"%s},`+
				`"eventTime":%q,"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstanceAttribute","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.%d",`+
				`"userAgent":%q,"requestParameters":{"attribute":"userData","instanceId":"i-0%016d"},"eventID":"ud-%d-%d","recipientAccountId":"111122223333"}`+"\n",
				c.typ, c.arn, j, issuer, t0.Add(time.Duration(i)*5*time.Second).Format(time.RFC3339), 10+j, c.ua, i, i, j)
		}
	}
	logs := filepath.Join(dir, "userdata.jsonl")
	if err := os.WriteFile(logs, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	lists := filepath.Join(dir, "lists")
	if err := os.MkdirAll(lists, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lists, "security_scanner_roles.txt"),
		[]byte("# our own inventory job, and we do not run Wiz\narn:aws:iam::111122223333:role/inventory-scanner\n!arn:aws*:iam::*:role/WizAccess-Role\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sweeps := func(args ...string) map[string]bool {
		r := runCLI(t, nil, append([]string{"hunt", "-f", "jsonl"}, append(args, logs)...)...)
		if r.code != 0 {
			t.Fatalf("hunt: exit %d: %s", r.code, r.stderr)
		}
		out := map[string]bool{}
		for _, s := range signalLines(t, r.stdout) {
			if strings.Contains(s.Title, "User Data of 5 or More Instances") {
				out[strings.Split(s.Actor, "#")[0]] = true
			}
		}
		return out
	}
	wiz, inv, mallory := "arn:aws:iam::111122223333:role/WizAccess-Role", "arn:aws:iam::111122223333:role/inventory-scanner", "arn:aws:iam::111122223333:user/mallory"
	if got := sweeps(); got[wiz] || !got[inv] || !got[mallory] {
		t.Errorf("built-in lists: sweeps by %v; want the inventory role and mallory, not Wiz's role", got)
	}
	if got := sweeps("--ioc", lists); !got[wiz] || got[inv] || !got[mallory] {
		t.Errorf("with the list file: sweeps by %v; want Wiz's role (taken out) and mallory, not the inventory role (added)", got)
	}
}
