package hunt

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
)

// streamEvent is one CloudTrail record of the generated two-day stream.
type streamEvent struct {
	t    time.Time
	json string
}

func ev(id string, t time.Time, actor, source, name, region string, params string) streamEvent {
	return streamEvent{t, fmt.Sprintf(`{"eventVersion":"1.09","eventID":%q,"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":%q,`+
		`"sourceIPAddress":"198.51.100.9","userAgent":"aws-cli/2.15.0","recipientAccountId":"111122223333",`+
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/%s","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE%s","userName":%q},`+
		`"requestParameters":%s}`, id, t.Format(time.RFC3339), source, name, region, actor, strings.ToUpper(actor), actor, params)}
}

// twoDays is a stream over 2026-11-01 and 2026-11-02 that exercises every correlation type
// of testdata/rules, including a window that spans midnight.
func twoDays() []streamEvent {
	d1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(h, m, s int) time.Time {
		return d1.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	user := func(n string) string { return fmt.Sprintf(`{"userName":%q}`, n) }
	admin := func(n string) string {
		return fmt.Sprintf(`{"userName":%q,"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, n)
	}
	run := func(typ string) string { return fmt.Sprintf(`{"instanceType":%q,"minCount":1,"maxCount":1}`, typ) }
	var out []streamEvent
	// Benign launches through day 1 teach the account its instance types.
	for i := range 24 {
		typ := []string{"t3.micro", "m5.large"}[i%2]
		out = append(out, ev(fmt.Sprintf("ci-%02d", i), at(i, 7, 0), "ci", "ec2.amazonaws.com", "RunInstances", "us-east-1", run(typ)))
	}
	// alice creates three users in five minutes: event_count.
	for i := range 3 {
		out = append(out, ev(fmt.Sprintf("alice-%d", i), at(10, i*2, 0), "alice", "iam.amazonaws.com", "CreateUser", "us-east-1", user(fmt.Sprintf("tmp%d", i))))
	}
	// bob is created, then made admin: temporal_ordered. carol the other way round: nothing.
	out = append(out,
		ev("bob-1", at(12, 0, 0), "admin", "iam.amazonaws.com", "CreateUser", "us-east-1", user("bob")),
		ev("bob-2", at(12, 2, 0), "admin", "iam.amazonaws.com", "AttachUserPolicy", "us-east-1", admin("bob")),
		ev("carol-1", at(14, 0, 0), "admin", "iam.amazonaws.com", "AttachUserPolicy", "us-east-1", admin("carol")),
		ev("carol-2", at(14, 1, 0), "admin", "iam.amazonaws.com", "CreateUser", "us-east-1", user("carol")),
	)
	// mallory creates users across midnight.
	out = append(out,
		ev("mal-1", at(23, 55, 0), "mallory", "iam.amazonaws.com", "CreateUser", "us-east-1", user("m1")),
		ev("mal-2", at(23, 58, 0), "mallory", "iam.amazonaws.com", "CreateUser", "us-east-1", user("m2")),
		ev("mal-3", at(24, 3, 0), "mallory", "iam.amazonaws.com", "CreateUser", "us-east-1", user("m3")),
	)
	// Day 2: an attacker launches a new instance type in three regions in two minutes.
	for i, r := range []string{"us-west-1", "eu-west-1", "ap-south-1"} {
		out = append(out, ev(fmt.Sprintf("atk-%d", i), at(33, i, 0), "leaked", "ec2.amazonaws.com", "RunInstances", r, run("r6i.metal")))
	}
	out = append(out, ev("ci-day2", at(34, 0, 0), "ci", "ec2.amazonaws.com", "RunInstances", "us-east-1", run("t3.micro")))
	return out
}

// writeStream writes the events into nfiles JSON Lines files, each event in a random file,
// in a random order inside it.
func writeStream(t *testing.T, dir string, events []streamEvent, nfiles int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	files := make([][]string, nfiles)
	for _, e := range events {
		i := rng.IntN(nfiles)
		files[i] = append(files[i], e.json)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, lines := range files {
		rng.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
		name := filepath.Join(dir, fmt.Sprintf("%03d.jsonl", rng.IntN(1000)*1000+i))
		if err := os.WriteFile(name, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func testRules(t *testing.T) *ruleset.Set {
	t.Helper()
	set, err := ruleset.Load(context.Background(), ruleset.Options{Paths: []string{filepath.Join("testdata", "rules")}})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// brief is what two runs must agree on: the rule, the evidence and its time span.
func brief(sigs []signal.Signal) []string {
	var out []string
	for _, s := range sigs {
		ids := slices.Clone(s.EventIDs)
		slices.Sort(ids)
		out = append(out, fmt.Sprintf("%s %s n=%d %s..%s [%s]", s.Level, s.Title, s.EventCount,
			s.FirstSeen.Format("01-02T15:04"), s.LastSeen.Format("01-02T15:04"), strings.Join(ids, " ")))
	}
	slices.Sort(out)
	return out
}

func hunt(t *testing.T, set *ruleset.Set, cfg Config, paths ...string) []signal.Signal {
	t.Helper()
	res, err := Run(context.Background(), cfg, set, paths)
	if err != nil {
		t.Fatal(err)
	}
	return res.Signals
}

func TestCorrelationsOnTwoDays(t *testing.T) {
	set := testRules(t)
	dir := t.TempDir()
	writeStream(t, dir, twoDays(), 5, 1)
	got := brief(hunt(t, set, Config{}, dir))
	want := []string{
		"critical User created then made admin n=2 11-01T12:00..11-01T12:02 [bob-1 bob-2]",
		"high Instances launched in many regions n=3 11-02T09:00..11-02T09:02 [atk-0 atk-1 atk-2]",
		"high Several IAM users created by one actor n=3 11-01T10:00..11-01T10:04 [alice-0 alice-1 alice-2]",
		"high Several IAM users created by one actor n=3 11-01T23:55..11-02T00:03 [mal-1 mal-2 mal-3]",
		"medium New instance type in an account n=1 11-02T09:00..11-02T09:00 [atk-0]",
	}
	var stateful []string
	for _, g := range got {
		if !strings.Contains(g, " IAM user created n=") && !strings.Contains(g, "Instance launch n=") {
			stateful = append(stateful, g)
		}
	}
	if diff := cmp.Diff(want, stateful); diff != "" {
		t.Errorf("correlation signals (-want +got):\n%s\nall signals:\n%s", diff, strings.Join(got, "\n"))
	}
}

// TestShuffledInputSameSignals: however the events are spread over files and ordered inside
// them, and however many workers read them, the signals are the same.
func TestShuffledInputSameSignals(t *testing.T) {
	set := testRules(t)
	events := twoDays()
	var first []string
	for seed := range uint64(8) {
		dir := t.TempDir()
		writeStream(t, dir, events, 2+int(seed)%5, seed)
		got := brief(hunt(t, set, Config{Workers: 1 + int(seed)%3}, dir))
		if first == nil {
			first = got
			continue
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Fatalf("seed %d changed the signals (-first +now):\n%s", seed, diff)
		}
	}
}

// TestStateSplitRunEqualsOneRun: a run over days 1-2 gives the signals of a run over day 1
// then a run over day 2 with the state file.
func TestStateSplitRunEqualsOneRun(t *testing.T) {
	set := testRules(t)
	events := twoDays()
	midnight := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var day1, day2 []streamEvent
	for _, e := range events {
		if e.t.Before(midnight) {
			day1 = append(day1, e)
		} else {
			day2 = append(day2, e)
		}
	}
	root := t.TempDir()
	d1, d2, all := filepath.Join(root, "d1"), filepath.Join(root, "d2"), filepath.Join(root, "all")
	writeStream(t, d1, day1, 3, 7)
	writeStream(t, d2, day2, 3, 8)
	writeStream(t, all, events, 4, 9)
	one := brief(hunt(t, set, Config{}, all))

	state := filepath.Join(root, "state.json")
	first := hunt(t, set, Config{StateFile: state}, d1)
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("no state file after the first run: %v", err)
	}
	second := hunt(t, set, Config{StateFile: state, Flush: true}, d2)
	split := brief(append(first, second...))
	if diff := cmp.Diff(one, split); diff != "" {
		t.Errorf("split run differs from one run (-one +split):\n%s", diff)
	}
	// Without the state the second day alone misses what needs day 1.
	alone := brief(hunt(t, set, Config{}, d2))
	if cmp.Equal(brief(second), alone) {
		t.Error("the state file changed nothing in the second run")
	}

	// The same with the state handed over in memory, as hunt --db keeps it in the store.
	r1, err := Run(context.Background(), Config{KeepState: true}, set, []string{d1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.State) == 0 {
		t.Fatal("KeepState: no state returned")
	}
	r2, err := Run(context.Background(), Config{State: r1.State, KeepState: true, Flush: true}, set, []string{d2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(one, brief(append(r1.Signals, r2.Signals...))); diff != "" {
		t.Errorf("split run with the state in memory differs from one run (-one +split):\n%s", diff)
	}
}

// TestStateChecksum: a state whose bytes changed (a flipped byte, a cut) is refused instead
// of being read as another state; one written by an older trailhound (format 1, without a
// checksum) is still read.
func TestStateChecksum(t *testing.T) {
	set := testRules(t)
	root := t.TempDir()
	d1 := filepath.Join(root, "d1")
	writeStream(t, d1, twoDays(), 3, 7)
	r, err := Run(context.Background(), Config{KeepState: true}, set, []string{d1})
	if err != nil {
		t.Fatal(err)
	}
	good := r.State
	trailer := len("\ncrc32c 01234567\n")
	for name, bad := range map[string][]byte{
		"a flipped byte":    func() []byte { b := bytes.Clone(good); b[len(b)/2] ^= 0x20; return b }(),
		"cut short":         good[:len(good)-trailer-3],
		"trailer cut":       good[:len(good)-1],
		"no trailer at all": good[:len(good)-trailer],
	} {
		for _, viaFile := range []bool{false, true} {
			cfg := Config{State: bad}
			if viaFile {
				path := filepath.Join(root, "state")
				if err := os.WriteFile(path, bad, 0o644); err != nil {
					t.Fatal(err)
				}
				cfg = Config{StateFile: path}
			}
			if _, err := Run(context.Background(), cfg, set, []string{d1}); err == nil || !strings.Contains(err.Error(), "loading state") {
				t.Errorf("%s (file %v): err = %v, want a loading-state error", name, viaFile, err)
			}
		}
	}
	// Format 1: no revisions section (format 3) and no checksum (format 2).
	revs := []byte("21\n[null,null,null,null]")
	body := good[:len(good)-trailer]
	if !bytes.HasSuffix(body, revs) {
		t.Fatalf("state does not end with the revisions of a run that emits closed signals: %q", body[max(0, len(body)-40):])
	}
	v1 := bytes.Replace(body[:len(body)-len(revs)], []byte("trailhound-state 3 "), []byte("trailhound-state 1 "), 1)
	a, err := Run(context.Background(), Config{State: good, Flush: true, KeepState: true}, set, []string{d1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), Config{State: v1, Flush: true, KeepState: true}, set, []string{d1})
	if err != nil {
		t.Fatalf("a format 1 state: %v", err)
	}
	if diff := cmp.Diff(brief(a.Signals), brief(b.Signals)); diff != "" {
		t.Errorf("format 1 and 2 of one state give different signals:\n%s", diff)
	}
}

func TestLateEventsAreCounted(t *testing.T) {
	set := testRules(t)
	root := t.TempDir()
	d2 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	state := filepath.Join(root, "state.json")
	first := filepath.Join(root, "a")
	writeStream(t, first, []streamEvent{ev("x-1", d2, "z", "iam.amazonaws.com", "CreateUser", "us-east-1", `{"userName":"a"}`)}, 1, 1)
	if _, err := Run(context.Background(), Config{StateFile: state}, set, []string{first}); err != nil {
		t.Fatal(err)
	}
	late := filepath.Join(root, "b")
	writeStream(t, late, []streamEvent{ev("x-2", d2.Add(-2*time.Hour), "z", "iam.amazonaws.com", "CreateUser", "us-east-1", `{"userName":"b"}`)}, 1, 1)
	res, err := Run(context.Background(), Config{StateFile: state}, set, []string{late})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.State.Late == 0 {
		t.Errorf("an event two hours behind the watermark was not counted late: %+v", res.Stats.State)
	}
}

func TestStateFileErrors(t *testing.T) {
	set := testRules(t)
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not ours":  "{\"hello\": 1}\n",
		"truncated": "trailhound-state 1 4\n100\nabc",
		"shards":    "trailhound-state 1 3\n0\n0\n0\n",
		"version":   "trailhound-state 9 4\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Run(context.Background(), Config{StateFile: path}, set, []string{dir})
		if err == nil || !strings.Contains(err.Error(), "loading state") {
			t.Errorf("%s: err = %v, want a loading-state error", name, err)
		}
	}
}

// TestSpillSameSignals: with a tiny memory budget every worker spills sorted runs to disk;
// the merged stream gives exactly the signals of the in-memory path, and no run file stays.
func TestSpillSameSignals(t *testing.T) {
	set := testRules(t)
	dir := t.TempDir()
	writeStream(t, dir, twoDays(), 6, 3)
	want := brief(hunt(t, set, Config{}, dir))
	spillDir := t.TempDir()
	for _, workers := range []int{1, 3} {
		res, err := Run(context.Background(), Config{Workers: workers, MaxMatches: 2, SpillDir: spillDir}, set, []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.SpilledRuns < 5 {
			t.Errorf("workers=%d: %d runs spilled; the budget of 2 matches should force many", workers, res.Stats.SpilledRuns)
		}
		got := brief(res.Signals)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("workers=%d: spilled run differs (-memory +spilled):\n%s", workers, diff)
		}
	}
	left, err := os.ReadDir(spillDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("%d spill files left behind", len(left))
	}
}

// TestLearningStartsAtTheFirstEvent: a first-seen rule's learning period runs from the first
// event of the data, whether or not a rule matches it, so that what it signals does not
// depend on which other rules are loaded; a run that ends before learning does says so.
func TestLearningStartsAtTheFirstEvent(t *testing.T) {
	set := testRules(t)
	d0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	run := func(typ string) string { return fmt.Sprintf(`{"instanceType":%q,"minCount":1,"maxCount":1}`, typ) }
	// An event no rule matches at midnight, the account's first launch 20 hours later, a new
	// instance type 6 hours after that: past a day of data, but not a day after the first
	// launch.
	events := []streamEvent{
		ev("quiet", d0, "ops", "s3.amazonaws.com", "ListBuckets", "us-east-1", `{}`),
		ev("launch-1", d0.Add(20*time.Hour), "ci", "ec2.amazonaws.com", "RunInstances", "us-east-1", run("t3.micro")),
		ev("launch-2", d0.Add(26*time.Hour), "ci", "ec2.amazonaws.com", "RunInstances", "us-east-1", run("r6i.metal")),
	}
	dir := t.TempDir()
	writeStream(t, dir, events, 1, 1)
	res, err := Run(context.Background(), Config{}, set, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var newType bool
	for _, s := range res.Signals {
		newType = newType || s.Title == "New instance type in an account"
	}
	if !newType {
		t.Errorf("a new instance type a day after the first event: no signal; got %v", brief(res.Signals))
	}
	if len(res.Stats.Learning) != 0 {
		t.Errorf("learning reported over: %+v", res.Stats.Learning)
	}

	// Twelve hours of data: the rule is still learning, and the summary says so.
	short := t.TempDir()
	writeStream(t, short, events[:2], 1, 1)
	res, err = Run(context.Background(), Config{}, set, []string{short})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stats.Learning) != 1 || !res.Stats.Learning[0].Until.Equal(d0.Add(24*time.Hour)) {
		t.Fatalf("learning after 20 hours of data: %+v, want one rule learning until %s", res.Stats.Learning, d0.Add(24*time.Hour))
	}
	var sum strings.Builder
	if err := res.Stats.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.String(), "learning: 1 first-seen or baseline rule(s) were still learning at the last event (until 2026-11-02 00:00Z") {
		t.Errorf("summary does not say a rule was still learning:\n%s", sum.String())
	}
}
