package remediate

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/goldenfile"
	"github.com/trailhound/trailhound/internal/incident"
)

// The credentials of the fixture: the leaked keys of the two seed attacks.
var fixtureCredentials = []incident.Credential{
	{Kind: incident.CredentialAccessKey, Account: "111122223333", UserARN: "arn:aws:iam::111122223333:user/ci-deploy", UserName: "ci-deploy",
		AccessKeyID: "AKIAEXAMPLELEAKED001", Attribution: incident.Attacker, Why: "test fixture", FirstAttackerEventID: "evt-leak-1"},
	{Kind: incident.CredentialAccessKey, Account: "444455556666", UserARN: "arn:aws:iam::444455556666:user/backup-svc", UserName: "backup-svc",
		AccessKeyID: "AKIAEXAMPLELEAKED002", Attribution: incident.Attacker, Why: "test fixture", FirstAttackerEventID: "evt-leak-2"},
}

// buildPlan builds a plan and checks its safety property (CheckPlan) against the
// attribution its inputs carry: every plan the tests of this package make goes through it.
func buildPlan(t *testing.T, rs []incident.Resource, opts PlanOptions) Plan {
	t.Helper()
	p := BuildPlan(rs, opts)
	attr := map[string]incident.Attribution{}
	for _, r := range rs {
		if r.CreateEventID != "" {
			attr[r.CreateEventID] = r.Attribution
		}
	}
	for _, c := range opts.Credentials {
		if c.FirstAttackerEventID != "" {
			attr[c.FirstAttackerEventID] = incident.Attacker
		}
	}
	for _, d := range opts.DataRead {
		attr[d.EventID] = incident.Attacker
	}
	if err := CheckPlan(p, func(id string) incident.Attribution { return attr[id] }); err != nil {
		t.Error(err)
	}
	return p
}

// loadFixture reads testdata/incident.json: both seed attacks' shapes (3 users with login
// profiles, policies and keys; a key pair, a group with rules, a refused r6i.metal launch;
// ECS clusters, task definitions and services in three regions; deleted resources).
func loadFixture(t *testing.T) []incident.Resource {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "incident.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []incident.Resource
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatalf("parsing the fixture: %v", err)
	}
	return rs
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func script(t *testing.T, p Plan) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteScript(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// needSh skips a test on systems without a POSIX shell at /bin/sh.
func needSh(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
}

// shellSyntax runs sh -n on the script.
func shellSyntax(t *testing.T, src []byte) {
	t.Helper()
	needSh(t)
	path := filepath.Join(t.TempDir(), "plan.sh")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/bin/sh", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
}

func TestPlanGolden(t *testing.T) {
	p := buildPlan(t, loadFixture(t), PlanOptions{
		Credentials: fixtureCredentials,
		Profiles:    map[string]string{"111122223333": "victim-prod"},
		Title:       "seed attacks 1 and 2 (test fixture)",
	})
	src := script(t, p)
	golden(t, "plan.golden.sh", src)
	shellSyntax(t, src)
}

// TestPlanContract checks the properties the golden file could silently lose on -update.
func TestPlanContract(t *testing.T) {
	p := buildPlan(t, loadFixture(t), PlanOptions{Credentials: fixtureCredentials})
	var lines []string
	for _, s := range p.Sections {
		rank := map[string]int{}
		for i, st := range s.Steps {
			if st.Line != "" {
				lines = append(lines, st.Line)
				if st.Evidence == "" && st.Action != "wait" {
					t.Errorf("%s/%s: %q has no evidence", s.Account, s.Region, st.Line)
				}
				if s.Region != GlobalRegion && !strings.HasSuffix(st.Line, "--region '"+s.Region+"'") {
					t.Errorf("%q: want --region %s at the end", st.Line, s.Region)
				}
			}
			if _, ok := rank[st.Action]; !ok {
				rank[st.Action] = i
			}
		}
		// Containment before deletion, dependencies before dependants.
		for _, order := range [][2]string{
			{"deactivate-access-key", "delete-login-profile"}, {"delete-login-profile", "detach-user-policy"},
			{"detach-user-policy", "delete-access-key"}, {"delete-access-key", "delete-user"},
			{"scale-service-to-zero", "delete-service"}, {"delete-service", "wait"}, {"wait", "delete-cluster"},
			{"delete-cluster", "deregister-task-definition"},
			{"terminate-instances", "revoke-security-group-ingress"}, {"revoke-security-group-ingress", "delete-security-group"},
			{"delete-security-group", "delete-key-pair"},
		} {
			a, okA := rank[order[0]]
			b, okB := rank[order[1]]
			if okA && okB && a > b {
				t.Errorf("%s/%s: %s (step %d) after %s (step %d)", s.Account, s.Region, order[0], a, order[1], b)
			}
		}
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		"aws iam update-access-key --user-name 'ci-deploy' --access-key-id 'AKIAEXAMPLELEAKED001' --status Inactive",
		"aws iam update-access-key --user-name 'backup-svc' --access-key-id 'AKIAEXAMPLELEAKED002' --status Inactive",
		"aws iam delete-user --user-name 'aws_dev4821'",
		"aws iam delete-user --user-name 'aws-cli7xq2'",
		"aws iam delete-user --user-name 'aws-clik9p1'",
		"aws iam delete-access-key --user-name 'aws-cli7xq2' --access-key-id 'AKIAEXAMPLEATTACK001'",
		"aws ec2 revoke-security-group-ingress --group-id 'sg-0123456789abcdef0' --protocol 'tcp' --port '22' --cidr '0.0.0.0/0' --region 'us-west-1'",
		`aws ec2 revoke-security-group-ingress --group-id 'sg-0123456789abcdef0' --ip-permissions '[{"IpProtocol":"-1","Ipv6Ranges":[{"CidrIpv6":"::/0"}]}]' --region 'us-west-1'`,
		"aws ecs delete-service --cluster 'qmzkrwtx' --service 'svc-qmzkrwtx' --force --region 'us-east-1'",
		"aws ecs deregister-task-definition --task-definition 'mkoijn:1' --region 'ap-northeast-3'",
		"aws ec2 delete-key-pair --key-pair-id 'key-0a1b2c3d4e5f60718' --region 'us-west-1'",
		"aws lambda delete-function --function-name 'cron-updater' --region 'us-west-1'",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	for _, bad := range []string{
		"delete-access-key --user-name 'ci-deploy'", "delete-user --user-name 'ci-deploy'", "AKIAEXAMPLELEAKED001' --status Active",
		"delete-service --cluster 'hfjwoeal'", "i-0fedcba9876543210", "r6i.metal",
	} {
		if strings.Contains(all, bad) {
			t.Errorf("plan has %q, a command it must not have", bad)
		}
	}
}

// fakeAWS writes an aws command that records its arguments (count, then each, NUL-terminated)
// in $AWSLOG and answers sts get-caller-identity with the account of the profile prof-ACCOUNT.
func fakeAWS(t *testing.T) (dir, log string) {
	t.Helper()
	dir = t.TempDir()
	log = filepath.Join(dir, "calls")
	src := "#!/bin/sh\nprintf '%s\\0' \"$#\" \"$@\" >>\"$AWSLOG\"\n" +
		"if [ \"$1\" = sts ]; then printf '%s\\n' \"${AWS_PROFILE#prof-}\"; fi\n"
	if err := os.WriteFile(filepath.Join(dir, "aws"), []byte(src), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, log
}

// run is the outcome of a script run.
type run struct {
	code   int
	calls  [][]string
	stderr string
	dir    string // the working directory, empty unless something wrote into it
}

// runScript runs src with the fake aws in a scratch working directory.
func runScript(t *testing.T, src []byte) run {
	t.Helper()
	needSh(t)
	bin, log := fakeAWS(t)
	work := t.TempDir()
	path := filepath.Join(t.TempDir(), "plan.sh")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", path)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "AWSLOG=" + log, "HOME=" + work}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	data, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var calls [][]string
	fields := strings.Split(string(data), "\x00")
	for i := 0; i+1 < len(fields); {
		n, err := strconv.Atoi(fields[i])
		if err != nil || i+1+n > len(fields) {
			t.Fatalf("bad call log at field %d: %q", i, fields[i])
		}
		calls = append(calls, append([]string{"aws"}, fields[i+1:i+1+n]...))
		i += 1 + n
	}
	return run{code: code, calls: calls, stderr: stderr.String(), dir: work}
}

// written lists the files a script created in its working directory.
func (r run) written(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func unguard(t *testing.T, src []byte) []byte {
	t.Helper()
	out := bytes.Replace(src, []byte(GuardLine+"\n"), nil, 1)
	if bytes.Equal(out, src) {
		t.Fatal("the script has no guard line")
	}
	return out
}

// TestScriptRuns runs the plan of the fixture with a fake aws: unreviewed, it does nothing;
// without the guard, aws receives exactly the argv of the plan's commands, in order.
func TestScriptRuns(t *testing.T) {
	p := buildPlan(t, loadFixture(t), PlanOptions{Credentials: fixtureCredentials,
		Profiles: map[string]string{"111122223333": "prof-111122223333", "444455556666": "prof-444455556666"}})
	src := script(t, p)

	r := runScript(t, src)
	if r.code != 1 || len(r.calls) != 0 {
		t.Fatalf("unreviewed script: exit %d with %d aws calls, want exit 1 and none", r.code, len(r.calls))
	}

	r = runScript(t, unguard(t, src))
	if r.code != 0 {
		t.Fatalf("reviewed script: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	var want [][]string
	for _, s := range p.Sections {
		for _, st := range s.Steps {
			if st.Command != nil {
				want = append(want, st.Command)
			}
		}
	}
	var got [][]string
	for _, c := range r.calls {
		if len(c) > 1 && c[1] != "sts" {
			got = append(got, c)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("aws calls differ from the plan (-want +got):\n%s", d)
	}
}

// TestWrongAccount: the script stops before the first command when the credentials are for
// another account.
func TestWrongAccount(t *testing.T) {
	p := buildPlan(t, loadFixture(t), PlanOptions{Profiles: map[string]string{"111122223333": "prof-999999999999"}})
	r := runScript(t, unguard(t, script(t, p)))
	if r.code == 0 || len(r.calls) != 1 || r.calls[0][1] != "sts" {
		t.Errorf("exit %d, calls %q; want a failure after the sts check only", r.code, r.calls)
	}
	if !strings.Contains(r.stderr, "not for account 111122223333") {
		t.Errorf("stderr %q: want the account named", r.stderr)
	}
}

// TestInjection: attacker-chosen names reach aws as one literal argument, or are refused;
// they never run anything, and cannot escape a comment.
func TestInjection(t *testing.T) {
	const acct = "111122223333"
	at := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
	evil := []string{
		`x'; rm -rf / #`,
		`$(touch PWNED)`,
		"`touch PWNED`",
		`a"b\c; touch PWNED`,
		`--debug`,
		`'`,
	}
	refused := []string{
		"ok\ntouch PWNED",
		"ok\rtouch PWNED",
		"ok\u202etouch PWNED",
		"ok\x00touch PWNED",
	}
	var rs []incident.Resource
	for i, name := range append(append([]string{}, evil...), refused...) {
		ev := "evt-" + strconv.Itoa(i) + "\n" + "touch PWNED"
		rs = append(rs,
			incident.Resource{Type: incident.IAMUser, Account: acct, Region: "global", Name: name,
				CreatedBy: "arn:aws:iam::111122223333:user/x\ntouch PWNED", CreatedAt: at, CreateEventID: ev, Attribution: incident.Attacker},
			incident.Resource{Type: incident.ECSCluster, Account: acct, Region: "us-east-1", ID: name, Name: name,
				CreatedBy: "attacker", CreatedAt: at, CreateEventID: ev, Attribution: incident.Attacker},
			incident.Resource{Type: incident.EC2KeyPair, Account: acct, Region: "us-west-1", Name: name,
				CreatedBy: "attacker", CreatedAt: at, CreateEventID: ev, Attribution: incident.Attacker},
		)
	}
	p := buildPlan(t, rs, PlanOptions{Profiles: map[string]string{acct: "prof-" + acct}})
	src := script(t, p)
	shellSyntax(t, src)
	for i, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, "touch PWNED") && !strings.HasPrefix(line, "#") && !strings.Contains(line, "'") {
			t.Errorf("line %d runs attacker text: %q", i+1, line)
		}
	}

	r := runScript(t, unguard(t, src))
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if w := r.written(t); len(w) > 0 {
		t.Fatalf("the script wrote %q: attacker text ran", w)
	}
	seen := map[string]int{}
	for _, c := range r.calls {
		for _, a := range c {
			seen[a]++
		}
	}
	for _, name := range evil {
		want := map[string]int{name: 3}
		if strings.HasPrefix(name, "-") {
			want = map[string]int{"--user-name=" + name: 1, "--cluster=" + name: 1, "--key-name=" + name: 1}
		}
		for arg, n := range want {
			if seen[arg] != n {
				t.Errorf("aws received %q as one argument %d times, want %d", arg, seen[arg], n)
			}
		}
	}
	for a := range seen {
		if strings.ContainsAny(a, "\n\r\x00\u202e") {
			t.Errorf("aws received a value it must refuse: %q", a)
		}
	}
	for _, name := range refused {
		if n := strings.Count(string(src), "skip: IAM user "+printable(name)+": "); n != 1 {
			t.Errorf("the script shows the refused user %q %d times as skipped, want once", printable(name), n)
		}
	}
}
