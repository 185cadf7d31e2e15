package hunt

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/goldenfile"
	"github.com/trailhound/trailhound/internal/progress"
	"github.com/trailhound/trailhound/internal/ruleset"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/rules"
)

// loginEvent is a console login without MFA by an IAM user, which a built-in rule flags.
func loginEvent(id string, mfa string) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/dana","accountId":"111122223333","userName":"dana"},"eventTime":"2026-11-20T09:12:44Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/","MobileVersion":"No","MFAUsed":"%s"},"eventID":"%s","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`, mfa, id)
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeCorpus writes a folder that mixes good files with every kind of bad input.
func writeCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	logs := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2026", "11", "20")
	digests := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail-Digest", "us-east-1", "2026", "11", "20")
	for _, d := range []string{logs, digests} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	good := `{"Records":[` + loginEvent("e-1", "No") + "," + loginEvent("e-2", "Yes") + "," + loginEvent("e-3", "No") + `]}`
	truncated := gz(t, `{"Records":[`+loginEvent("t-1", "No")+","+loginEvent("t-2", "No")+`]}`)
	files := map[string][]byte{
		filepath.Join(logs, "a_CloudTrail_us-east-1_20261120T0910Z_a.json.gz"): gz(t, good),
		// The same delivery twice (overlapping inputs): signals must not double.
		filepath.Join(logs, "b_CloudTrail_us-east-1_20261120T0910Z_a-copy.json.gz"):  gz(t, good),
		filepath.Join(logs, "c_CloudTrail_us-east-1_20261120T0915Z_trunc.json.gz"):   truncated[:len(truncated)/2],
		filepath.Join(logs, "d_CloudTrail_us-east-1_20261120T0920Z_bad.json"):        []byte(`{"Records":[` + loginEvent("b-1", "No") + `, {"eventVersion": oops}]}`),
		filepath.Join(logs, "e_events.jsonl"):                                        []byte(loginEvent("l-1", "No") + "\nnot json\n[1,2]\n" + loginEvent("l-2", "Yes") + "\n"),
		filepath.Join(digests, "111122223333_CloudTrail-Digest_us-east-1_x.json.gz"): gz(t, `{"digestStartTime":"2026-11-20T09:00:00Z","logFiles":[]}`),
	}
	for p, b := range files {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func builtin(t testing.TB) *ruleset.Set {
	t.Helper()
	set, err := ruleset.Load(context.Background(), ruleset.Options{Builtin: rules.FS})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestRunAccountsForEveryRecord(t *testing.T) {
	dir := writeCorpus(t)
	set := builtin(t)
	res, err := Run(context.Background(), Config{Workers: 2}, set, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stats
	if st.Read != st.Evaluated+st.Rejected {
		t.Errorf("read %d != evaluated %d + rejected %d", st.Read, st.Evaluated, st.Rejected)
	}
	if st.DigestFiles != 1 {
		t.Errorf("digest files = %d, want 1", st.DigestFiles)
	}
	if st.Files != 5 {
		t.Errorf("files = %d, want 5", st.Files)
	}
	wantBy := map[decode.Reason]int{decode.ReasonGzip: 1, decode.ReasonInvalidJSON: 2, decode.ReasonNotEvent: 1}
	if diff := cmp.Diff(wantBy, st.RejectedBy); diff != "" {
		t.Errorf("rejections by reason (-want +got):\n%s", diff)
	}
	for _, r := range st.Rejections {
		if r.Pos.File == "" {
			t.Errorf("rejection without a file: %+v", r)
		}
	}
	// e-1, e-3 (twice delivered, counted once), b-1, l-1 and whatever survived the truncation.
	var ids []string
	for _, s := range res.Signals {
		ids = append(ids, s.EventIDs...)
	}
	for _, want := range []string{"e-1", "e-3", "b-1", "l-1"} {
		if !contains(ids, want) {
			t.Errorf("no signal for event %s; got %v", want, ids)
		}
	}
	for _, bad := range []string{"e-2", "l-2"} {
		if contains(ids, bad) {
			t.Errorf("signal for MFA login %s", bad)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("event %s signalled twice", id)
		}
		seen[id] = true
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestRunSameResultWhateverTheWorkers(t *testing.T) {
	dir := writeCorpus(t)
	set := builtin(t)
	var first []signal.Signal
	for _, w := range []int{1, 2, 4, 8} {
		res, err := Run(context.Background(), Config{Workers: w}, set, []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res.Signals
			continue
		}
		if diff := cmp.Diff(first, res.Signals); diff != "" {
			t.Errorf("workers=%d changed the signals (-1 worker +%d):\n%s", w, w, diff)
		}
	}
}

func TestRunStdin(t *testing.T) {
	set := builtin(t)
	in := bytes.NewReader(gz(t, loginEvent("s-1", "No")+"\n"+loginEvent("s-2", "No")+"\n"))
	res, err := Run(context.Background(), Config{Source: sourceStdin(in)}, set, []string{"-"})
	if err != nil {
		t.Fatal(err)
	}
	// Two logins by one user within the group window: one signal with both events.
	if res.Stats.Read != 2 || len(res.Signals) != 1 || res.Signals[0].EventCount != 2 {
		t.Errorf("read %d, signals %+v; want 2 events in one signal", res.Stats.Read, res.Signals)
	}
}

func TestRunMissingPath(t *testing.T) {
	set := builtin(t)
	_, err := Run(context.Background(), Config{}, set, []string{filepath.Join(t.TempDir(), "nope")})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v, want an error naming the missing path", err)
	}
}

func TestRunCancelled(t *testing.T) {
	dir := writeCorpus(t)
	set := builtin(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Config{}, set, []string{dir}); err == nil {
		t.Error("Run on a cancelled context returned no error")
	}
}

func TestWriteSummaryGolden(t *testing.T) {
	st := Stats{
		Files: 3, DigestFiles: 1, Read: 11, Evaluated: 7, Rejected: 4, TimedByTimestamp: 4, EventTimeRewritten: 1,
		RejectedBy: map[decode.Reason]int{decode.ReasonGzip: 1, decode.ReasonInvalidJSON: 2, decode.ReasonNoEventTime: 1},
		Rejections: []decode.Rejection{
			{Pos: posOf("logs/a.json.gz", 4, 0), Reason: decode.ReasonGzip, Detail: "unexpected EOF; the rest of the input is lost"},
			{Pos: posOf("logs/b.jsonl", 1, 2), Reason: decode.ReasonInvalidJSON, Detail: "bad \x1b[31mline"},
			{Pos: posOf("logs/b.jsonl", 2, 3), Reason: decode.ReasonInvalidJSON, Detail: "cannot parse"},
			{Pos: posOf("logs/c.jsonl", 0, 1), Reason: decode.ReasonNoEventTime, Detail: "no eventTime and no @timestamp"},
		},
		Signals:    map[signal.Level]int{signal.LevelHigh: 2, signal.LevelLow: 1},
		Elapsed:    1500 * time.Millisecond,
		Unreadable: []Unreadable{{Name: "logs/locked\x1b[2J.json", Reason: "opening logs/locked.json: permission denied"}},
	}
	var b bytes.Buffer
	if err := st.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	goldenfile.Check(t, filepath.Join("testdata", "summary.golden"), b.Bytes())
}

// TestRunEventTime: an event without eventTime is timed by its @timestamp and counted, one
// with neither is rejected with its position, and the signals carry the times found.
func TestRunEventTime(t *testing.T) {
	set := builtin(t)
	noTime := strings.Replace(loginEvent("t-2", "No"), `"eventTime":"2026-11-20T09:12:44Z"`, `"@timestamp":"2026-11-21T10:00:00.000Z"`, 1)
	sqlTime := strings.Replace(loginEvent("t-3", "No"), `"2026-11-20T09:12:44Z"`, `"2026-11-22 11:00:00.000"`, 1)
	none := strings.Replace(loginEvent("t-4", "No"), `"eventTime":"2026-11-20T09:12:44Z",`, "", 1)
	in := strings.Join([]string{loginEvent("t-1", "No"), noTime, sqlTime, none}, "\n") + "\n"
	res, err := Run(context.Background(), Config{Source: sourceStdin(strings.NewReader(in)), GroupWindow: -1}, set, []string{"-"})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stats
	if st.Read != 4 || st.Evaluated != 3 || st.Rejected != 1 || st.RejectedBy[decode.ReasonNoEventTime] != 1 {
		t.Errorf("read %d, evaluated %d, rejected %d by %v; want 4, 3, 1 no-event-time", st.Read, st.Evaluated, st.Rejected, st.RejectedBy)
	}
	if len(st.Rejections) != 1 || st.Rejections[0].Pos.Line != 4 || st.Rejections[0].Pos.Record != 3 {
		t.Errorf("rejections = %+v; want the fourth line", st.Rejections)
	}
	if st.TimedByTimestamp != 1 || st.EventTimeRewritten != 1 {
		t.Errorf("TimedByTimestamp, EventTimeRewritten = %d, %d; want 1, 1", st.TimedByTimestamp, st.EventTimeRewritten)
	}
	got := map[string]time.Time{}
	for _, s := range res.Signals {
		for _, id := range s.EventIDs {
			if _, ok := got[id]; !ok || s.FirstSeen.Before(got[id]) {
				got[id] = s.FirstSeen
			}
		}
	}
	want := map[string]time.Time{
		"t-1": time.Date(2026, 11, 20, 9, 12, 44, 0, time.UTC),
		"t-2": time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
		"t-3": time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("first seen of the signals per event (-want +got):\n%s", diff)
	}
	var b bytes.Buffer
	if err := st.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"1 events without eventTime timed by their @timestamp", "1 eventTime values in the SQL-export form", "no-event-time 1"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, b.String())
		}
	}
}

func TestBlindS3(t *testing.T) {
	st := Stats{Accounts: map[string]AccountStats{
		"111122223333": {Events: 500},                  // blind
		"444455556666": {Events: 500, S3DataEvents: 3}, // has data events
		"777788889999": {Events: 20},                   // too few events to judge
	}}
	if got := st.blindS3(); !cmp.Equal(got, []string{"111122223333"}) {
		t.Errorf("blindS3() = %v", got)
	}
	var b bytes.Buffer
	if err := st.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "no S3 data events in the logs of account(s) 111122223333") {
		t.Errorf("summary lacks the blind spot:\n%s", b.String())
	}
}

func TestAccountsCounted(t *testing.T) {
	set := builtin(t)
	s3 := `{"eventVersion":"1.09","eventID":"d-1","eventTime":"2026-11-20T09:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"111122223333"}`
	in := bytes.NewReader([]byte(loginEvent("a-1", "Yes") + "\n" + s3 + "\n"))
	res, err := Run(context.Background(), Config{Source: sourceStdin(in)}, set, []string{"-"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Stats.Accounts["111122223333"]; got != (AccountStats{Events: 2, S3DataEvents: 1}) {
		t.Errorf("account stats = %+v", got)
	}
}

func TestNeedsEnrichment(t *testing.T) {
	plain := testRules(t) // testdata/rules read no trailhound.* field
	stPlain, err := newStateful(Config{}.withDefaults(), plain, false)
	if err != nil {
		t.Fatal(err)
	}
	if needsEnrichment(plain, stPlain) {
		t.Error("rules without trailhound.* fields should not pay for enrichment")
	}
	set := builtin(t) // built-in rules read trailhound.access_key_type and others
	st, err := newStateful(Config{}.withDefaults(), set, false)
	if err != nil {
		t.Fatal(err)
	}
	if !needsEnrichment(set, st) {
		t.Error("built-in rules read enrichment fields")
	}
}

// TestConflictingCopiesDeterministic: two copies of one eventID that differ (test data does
// this) give one signal, always built from the same copy — the first by position — whatever
// the number of workers and the order the files are read in.
func TestConflictingCopiesDeterministic(t *testing.T) {
	set := builtin(t)
	dir := t.TempDir()
	one := loginEvent("same-id", "No")
	for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"} {
		ev := strings.Replace(one, "203.0.113.7", ip, 1)
		// Many small files, so that workers take them in varying orders.
		for k := range 8 {
			name := filepath.Join(dir, fmt.Sprintf("f%d-%d.json", k, i))
			if err := os.WriteFile(name, []byte(ev), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var want []string
	for run := range 12 {
		res, err := Run(context.Background(), Config{Workers: 1 + run%4}, set, []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range res.Signals {
			got = append(got, s.ID+" "+strings.Join(s.SourceIPs, ","))
		}
		if want == nil {
			want = got
			if len(got) == 0 || !strings.Contains(got[0], "198.51.100.1") {
				t.Fatalf("signals %q: want one from the first copy (f0-0.json, 198.51.100.1)", got)
			}
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("run %d (%d workers) differs (-first +this):\n%s", run, 1+run%4, diff)
		}
	}
}

// TestRunPathStats: each path given is accounted for on its own — files found, files that
// held CloudTrail, skipped and digest entries, unreadable inputs — whatever the number of
// workers, so a caller can tell a path with no CloudTrail in it from one with.
func TestRunPathStats(t *testing.T) {
	corpus := writeCorpus(t)
	other := t.TempDir()
	for name, content := range map[string]string{
		"README.md":      "# notes",
		"config.json":    `{"setting": true}`,
		"empty.jsonl":    "",
		"trail.json":     `{"Records":[]}`,
		"not-trail.json": `[{"a":1},{"b":2}]`,
	} {
		if err := os.WriteFile(filepath.Join(other, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(other, "gone.json"), filepath.Join(other, "z-broken.json")); err != nil {
		t.Skipf("symbolic links not available: %v", err)
	}
	loose := filepath.Join(other, "config.json")
	args := []string{corpus, other, loose}
	want := []PathStats{
		// 5 logs (the truncated gzip and the broken Records file still count as CloudTrail:
		// both are Records documents), 1 digest.
		{Path: corpus, Files: 5, Digests: 1, CloudTrail: 5, Records: 13, Rejected: 4},
		// config.json, empty.jsonl, trail.json (empty Records: CloudTrail), not-trail.json,
		// the broken link (unreadable); README.md skipped.
		{Path: other, Files: 5, Skipped: 1, CloudTrail: 1, Unreadable: 1, Records: 4, Rejected: 4},
		{Path: loose, Files: 1, Records: 1, Rejected: 1},
	}
	for _, workers := range []int{1, 3} {
		res, err := Run(context.Background(), Config{Workers: workers}, builtin(t), args)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, res.Stats.Paths); diff != "" {
			t.Errorf("%d workers: path stats (-want +got):\n%s", workers, diff)
		}
		var records, rejected int
		for _, p := range res.Stats.Paths {
			records += p.Records
			rejected += p.Rejected
		}
		if records != res.Stats.Read || rejected != res.Stats.Rejected {
			t.Errorf("%d workers: paths hold %d records, %d rejected; the run %d and %d", workers, records, rejected, res.Stats.Read, res.Stats.Rejected)
		}
		if u := res.Stats.Unreadable; len(u) != 1 || !strings.HasSuffix(u[0].Name, "z-broken.json") || !strings.Contains(u[0].Reason, "no such file") {
			t.Errorf("%d workers: unreadable %+v, want the broken link and why", workers, u)
		}
		var sum bytes.Buffer
		if err := res.Stats.WriteSummary(&sum); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sum.String(), ", 1 unreadable\n") || !strings.Contains(sum.String(), "z-broken.json: resolving") {
			t.Errorf("summary does not list the unreadable input:\n%s", sum.String())
		}
	}
}

// TestRunProgress: the progress counter ends at the run's own counts — every file, every
// record, every byte as stored — and the total, when the walk that sums it finished before
// the run, is the same (source.TestSize checks the sum itself).
func TestRunProgress(t *testing.T) {
	dir := writeCorpus(t)
	var size int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "CloudTrail-Digest") {
			fi, _ := d.Info()
			size += fi.Size()
		}
		return nil
	})
	for _, workers := range []int{1, 3} {
		c := progress.NewCounter("read")
		res, err := Run(context.Background(), Config{Workers: workers, Progress: c}, builtin(t), []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		got := c.Snapshot()
		want := progress.Snapshot{Verb: "read", Elapsed: got.Elapsed, Files: int64(res.Stats.Files), Records: int64(res.Stats.Read), Bytes: size}
		if got.TotalKnown {
			want.TotalKnown, want.TotalFiles, want.TotalBytes = true, want.Files, size
		}
		if got != want {
			t.Errorf("%d workers: progress %+v, want %+v", workers, got, want)
		}
	}
}
