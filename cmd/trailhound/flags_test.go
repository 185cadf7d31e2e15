package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// iamEvent is an IAM call by mallory at the given time.
func iamEvent(id, at, name, params string) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAMALLORY","arn":"arn:aws:iam::111122223333:user/mallory",`+
		`"accountId":"111122223333","userName":"mallory","accessKeyId":"AKIAMALLORY0000000001"},"eventTime":%q,"eventSource":"iam.amazonaws.com",`+
		`"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9","userAgent":"aws-cli/2.15.0","requestParameters":%s,`+
		`"responseElements":null,"eventID":%q,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`+"\n", at, name, params, id)
}

// TestHuntStateAcrossRuns: with --state, a run over day 1 then a run over day 2 (the last,
// with --flush) give the signals of one run over both (a user created before midnight and
// made admin after it); a window still open at the end of a run is said so, and --flush
// closes it.
func TestHuntStateAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"day1.jsonl": iamEvent("c-1", "2026-11-20T23:58:00Z", "CreateUser", `{"userName":"backdoor"}`),
		"day2.jsonl": iamEvent("a-1", "2026-11-21T00:03:00Z", "AttachUserPolicy", `{"userName":"backdoor","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`),
	})
	day1, day2 := filepath.Join(dir, "day1.jsonl"), filepath.Join(dir, "day2.jsonl")
	const correlation = "AWS IAM User Created Then Made Administrator Within 10 Minutes"
	ids := func(r result) []string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var out []string
		if strings.TrimSpace(r.stdout) == "" {
			return nil
		}
		for _, s := range signalLines(t, r.stdout) {
			out = append(out, s.Title+" "+s.ID)
		}
		return out
	}
	one := ids(runCLI(t, nil, "hunt", "-f", "jsonl", day1, day2))
	if !slices.ContainsFunc(one, func(s string) bool { return strings.HasPrefix(s, correlation) }) {
		t.Fatalf("one run over both days misses the correlation: %v", one)
	}
	state := filepath.Join(dir, "state")
	first := runCLI(t, nil, "hunt", "-f", "jsonl", "--state", state, day1)
	if !strings.Contains(first.stderr, "still open (reported when their window closes, or with --flush)") || !strings.Contains(first.stderr, "saved to "+state) {
		t.Errorf("run 1 does not say a window is still open and where the state went:\n%s", first.stderr)
	}
	got := append(ids(first), ids(runCLI(t, nil, "hunt", "-f", "jsonl", "--state", state, "--flush", day2))...)
	slices.Sort(got)
	slices.Sort(one)
	if !slices.Equal(got, one) {
		t.Errorf("two runs with --state: %v\none run: %v", got, one)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("no state file: %v", err)
	}

	flushed := runCLI(t, nil, "hunt", "-f", "jsonl", "--state", filepath.Join(dir, "state2"), "--flush", day1)
	if flushed.code != 0 || strings.Contains(flushed.stderr, "still open") {
		t.Errorf("--flush left windows open: exit %d:\n%s", flushed.code, flushed.stderr)
	}
	broken := filepath.Join(dir, "broken-state")
	writeFiles(t, dir, map[string]string{"broken-state": "not a state file\n"})
	if r := runCLI(t, nil, "hunt", "-f", "jsonl", "--state", broken, day1); r.code != 1 || !strings.Contains(r.stderr, broken) {
		t.Errorf("a broken state file: exit %d, want 1 naming it:\n%s", r.code, r.stderr)
	}
}

// TestHuntRejects: --rejects writes every rejected record, with its position and reason,
// as JSON Lines; as many as the summary counts.
func TestHuntRejects(t *testing.T) {
	dir := t.TempDir()
	good := iamEvent("g-1", "2026-11-20T10:00:00Z", "ListUsers", "null")
	writeFiles(t, dir, map[string]string{"mixed.jsonl": good + "{broken\n" + `{"not":"an event"}` + "\n" + good + strings.Repeat("x", 10) + "\n"})
	rejects := filepath.Join(dir, "rejects.jsonl")
	r := runCLI(t, nil, "hunt", "-f", "jsonl", "--rejects", rejects, filepath.Join(dir, "mixed.jsonl"))
	if r.code != 0 || !strings.Contains(r.stderr, "5 read, 2 evaluated, 3 rejected") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d rejections written, want 3:\n%s", len(lines), b)
	}
	wantLines := []int{2, 3, 5}
	for i, l := range lines {
		var rec struct {
			File   string
			Record int
			Line   int
			Reason string
			Detail string
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if rec.File != filepath.Join(dir, "mixed.jsonl") || rec.Line != wantLines[i] || rec.Reason == "" || rec.Detail == "" {
			t.Errorf("rejection %d = %+v, want the file, line %d, a reason and a detail", i, rec, wantLines[i])
		}
	}
	if r := runCLI(t, nil, "hunt", "-f", "jsonl", "--rejects", filepath.Join(dir, "no", "such", "dir", "r.jsonl"), filepath.Join(dir, "mixed.jsonl")); r.code != 1 {
		t.Errorf("--rejects into a missing folder: exit %d, want 1", r.code)
	}
}

// writeASNDB writes a MaxMind ASN database mapping networks to AS numbers.
func writeASNDB(t *testing.T, path string, nets map[string]uint32) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, asn := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(asn), "autonomous_system_organization": mmdbtype.String(fmt.Sprintf("AS %d", asn))}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHuntGeoIP: with --geoip (or $TRAILHOUND_GEOIP), rules reading the ASN run and are no
// longer reported INACTIVE: a call from an attacker's ASN is flagged.
func TestHuntGeoIP(t *testing.T) {
	dir := t.TempDir()
	// A public address (documentation ranges are never looked up).
	ev := strings.Replace(iamEvent("g-1", "2026-11-20T10:00:00Z", "ListUsers", "null"), "198.51.100.9", "36.80.12.34", 1)
	writeFiles(t, dir, map[string]string{"logs.jsonl": ev})
	logs, db := filepath.Join(dir, "logs.jsonl"), filepath.Join(dir, "asn.mmdb")
	writeASNDB(t, db, map[string]uint32{"36.80.0.0/16": 7713}) // in attacker_asns
	const title = "AWS API Call From Known Attacker Infrastructure"
	without := runCLI(t, nil, "hunt", "-f", "jsonl", logs)
	if without.code != 0 || strings.Contains(without.stdout, title) || !strings.Contains(without.stderr, "trailhound.src_asn are INACTIVE") {
		t.Errorf("without a database: exit %d, want no ASN signal and the INACTIVE warning:\n%s%s", without.code, without.stdout, without.stderr)
	}
	for _, args := range [][]string{{"--geoip", db}, nil} {
		env := ""
		if args == nil {
			env = db
		}
		t.Setenv("TRAILHOUND_GEOIP", env)
		r := runCLI(t, nil, append(append([]string{"hunt", "-f", "jsonl"}, args...), logs)...)
		if r.code != 0 || !strings.Contains(r.stdout, title) || strings.Contains(r.stderr, "src_asn are INACTIVE") {
			t.Errorf("with the database (%v, $TRAILHOUND_GEOIP=%q): exit %d, want the ASN signal and no INACTIVE warning:\n%s%s", args, env, r.code, r.stdout, r.stderr)
		}
	}
}

// TestIOCList: ioc list shows the built-in lists and those --ioc adds, with their sources;
// --values prints every value; a missing list file is an error.
func TestIOCList(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"lists/attacker_cidrs.txt": "192.0.2.0/24  # a test net\n", "lists/my_users.txt": "eve\nmallory\n",
		"lists/security_scanner_user_agents.txt": "# we do not run ScoutSuite\n!*Scout Suite/*\n"})
	r := runCLI(t, nil, "ioc", "list")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "PLACEHOLDER") || !strings.Contains(r.stdout, "%attacker_asns%") || !strings.Contains(r.stdout, "builtin") {
		t.Fatalf("ioc list: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The allowlists are listed with what they are for.
	for _, want := range []string{"%security_scanner_user_agents%  2", "%security_scanner_roles%", "%aws_service_principals%", "%aws_service_roles%", "User agents of cloud security posture"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ioc list lacks %q:\n%s", want, r.stdout)
		}
	}
	lists := filepath.Join(dir, "lists")
	r = runCLI(t, nil, "ioc", "list", "--ioc", lists, "--values")
	if r.code != 0 {
		t.Fatalf("ioc list --ioc: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"%my_users%", filepath.Join(lists, "my_users.txt"), "192.0.2.0/24", "140.213.52.0/24", "  mallory", "%security_scanner_user_agents%  1", "  *APN_1826889*"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ioc list --ioc --values lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Scout Suite/*") {
		t.Errorf("a value taken out with ! is still listed:\n%s", r.stdout)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "%attacker_cidrs% ") && (!strings.Contains(l, "builtin") || !strings.Contains(l, "attacker_cidrs.txt")) {
			t.Errorf("an extended list does not name both sources: %q", l)
		}
	}
	if r := runCLI(t, nil, "ioc", "list", "--ioc", filepath.Join(dir, "none.txt")); r.code != 1 || !strings.Contains(r.stderr, "none.txt") {
		t.Errorf("a missing list: exit %d, want 1 naming it: %s", r.code, r.stderr)
	}
}

// TestInvestigatePricesAndDot: --prices replaces the built-in prices where it gives them
// (the estimate follows, and says whose prices it used); a broken price file is an error
// naming it; --dot writes the identity graph of -f json as Graphviz DOT, one statement a
// line, attacker text quoted.
func TestInvestigatePricesAndDot(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "25", "--days", "2", "--events-per-day", "400", "--attacks", "2", "--no-digests"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	logs, db := filepath.Join(dir, "AWSLogs"), filepath.Join(dir, "db")
	r := runCLI(t, nil, "hunt", "-q", "--db", db, "-f", "jsonl", logs)
	if r.code != 0 {
		t.Fatalf("hunt: exit %d: %s", r.code, r.stderr)
	}
	var mining string
	for _, s := range signalLines(t, r.stdout) {
		if s.Title == "AWS ECS Task Definition Uses a Known Cryptomining Image" {
			mining = s.ID
		}
	}
	if mining == "" {
		t.Fatal("no mining signal")
	}
	type caseDoc struct {
		Graph struct {
			Nodes []struct{ ID string }
			Edges []struct{ From, To string }
		}
		Cost struct {
			Source  string
			PerHour float64 `json:"per_hour"`
			Lines   []struct{ Region string }
		} `json:"cost_estimate"`
	}
	investigate := func(args ...string) caseDoc {
		t.Helper()
		r := runCLI(t, nil, append([]string{"investigate", "--db", db, "--signal", mining, "-f", "json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("investigate %v: exit %d: %s", args, r.code, r.stderr)
		}
		var doc caseDoc
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	dot := filepath.Join(dir, "graph.dot")
	base := investigate("--dot", dot)
	if base.Cost.PerHour <= 0 || len(base.Cost.Lines) == 0 {
		t.Fatalf("no cost for the miners: %+v", base.Cost)
	}
	// Ten times the built-in Fargate prices, in every region the miners used.
	fargate := map[string]map[string]float64{}
	for _, l := range base.Cost.Lines {
		fargate[l.Region] = map[string]float64{"vcpu_hour": 0.4048 * 2, "gb_hour": 0.04445 * 2}
	}
	prices, _ := json.Marshal(map[string]any{"source": "test prices", "fargate": fargate})
	writeFiles(t, dir, map[string]string{"prices.json": string(prices), "bad.json": `{"fargate":{"default":{"vcpu_hour":-1,"gb_hour":0}}}`})
	over := investigate("--prices", filepath.Join(dir, "prices.json"))
	if over.Cost.PerHour < 10*base.Cost.PerHour || !strings.HasPrefix(over.Cost.Source, "test prices; otherwise ") {
		t.Errorf("with --prices: %.2f/hour from %q; built in: %.2f/hour", over.Cost.PerHour, over.Cost.Source, base.Cost.PerHour)
	}
	if r := runCLI(t, nil, "investigate", "--db", db, "--signal", mining, "--prices", filepath.Join(dir, "bad.json")); r.code != 1 || !strings.Contains(r.stderr, "bad.json") {
		t.Errorf("a broken price file: exit %d, want 1 naming it: %s", r.code, r.stderr)
	}

	b, err := os.ReadFile(dot)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.HasPrefix(text, "digraph incident {\n") || !strings.HasSuffix(text, "}\n") {
		t.Fatalf("--dot did not write a digraph:\n%s", text)
	}
	if n := strings.Count(text, " -> "); n != len(base.Graph.Edges) || n == 0 {
		t.Errorf("--dot has %d edges, -f json %d", n, len(base.Graph.Edges))
	}
	for _, n := range base.Graph.Nodes {
		q, _ := json.Marshal(n.ID) // DOT quotes like JSON for these ids
		if !strings.Contains(text, "  "+string(q)+" [label=") {
			t.Errorf("--dot lacks node %s", q)
		}
	}
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n")[1:] {
		if l != "}" && !strings.HasSuffix(l, ";") {
			t.Errorf("DOT line %d is not one statement: %q", i+2, l)
		}
	}
}
