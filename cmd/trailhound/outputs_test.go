package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trailhound/trailhound/internal/ocsf/ocsfschema"
	"github.com/trailhound/trailhound/internal/shareddata"
	"github.com/trailhound/trailhound/internal/signal"
)

// TestHuntTableIDs: the table shows each signal's id (a unique prefix), and investigate
// --signal takes it.
func TestHuntTableIDs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"logs.jsonl": string(loginLines(3))})
	logs := filepath.Join(dir, "logs.jsonl")
	jsonl := runCLI(t, nil, "hunt", "-q", "-f", "jsonl", logs)
	table := runCLI(t, nil, "hunt", "-q", "-f", "table", "--width", "80", logs)
	if jsonl.code != 0 || table.code != 0 {
		t.Fatalf("exits %d and %d: %s%s", jsonl.code, table.code, jsonl.stderr, table.stderr)
	}
	sigs := signalLines(t, jsonl.stdout)
	lines := strings.Split(strings.TrimSpace(table.stdout), "\n")
	if !strings.HasPrefix(lines[0], "LEVEL  ID ") {
		t.Fatalf("table header %q has no ID column", lines[0])
	}
	var ids []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 1 && !strings.HasPrefix(l, " ") {
			ids = append(ids, f[1])
		}
	}
	if len(ids) != len(sigs) || len(sigs) != 3 {
		t.Fatalf("table rows %v for %d signals", ids, len(sigs))
	}
	for i, id := range ids {
		if !strings.HasPrefix(sigs[i].ID, id) {
			t.Errorf("row %d shows id %q, the signal's is %q", i, id, sigs[i].ID)
		}
	}
	r := runCLI(t, nil, "investigate", logs, "--signal", ids[0])
	if r.code != 0 || !strings.Contains(r.stdout, "signal "+ids[0]) {
		t.Errorf("investigate --signal %s (from the table): exit %d\n%s", ids[0], r.code, r.stderr)
	}
}

// evilEvents are CloudTrail events whose attacker-chosen values (user name, access key id,
// source address) hold a spreadsheet formula, a bidi override, a C1 control and ESC: an
// IAM user attaching AdministratorAccess to itself.
func evilEvents() (logs string, arn string) {
	const name = "=cmd|' /C calc'!A0\u202egnp\u009b31m\x1b[2J"
	arn = "arn:aws:iam::111122223333:user/" + name
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	ev := fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEVIL","arn":%s,"accountId":"111122223333","userName":%s,"accessKeyId":"=HYPERLINK(\"http://x\")"},`+
		`"eventTime":"2026-11-20T12:00:00Z","eventSource":"iam.amazonaws.com","eventName":"AttachUserPolicy","awsRegion":"us-east-1","sourceIPAddress":"@SUM(1+1)",`+
		`"userAgent":"aws-cli/2.15.0","requestParameters":{"userName":%s,"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"},"responseElements":null,`+
		`"eventID":"evil-1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, q(arn), q(name), q(name))
	return ev + "\n", arn
}

// TestOutputsNeutraliseAttackerText: hunt -f csv and investigate -f csv write every signal
// and table row with formulas shown as text and control characters escaped; investigate
// -f json escapes bidi and C1 characters (the README's promise) and still decodes to the
// attacker's exact text.
func TestOutputsNeutraliseAttackerText(t *testing.T) {
	dir := t.TempDir()
	events, arn := evilEvents()
	writeFiles(t, dir, map[string]string{"logs.jsonl": events})
	logs := filepath.Join(dir, "logs.jsonl")

	checkCSV := func(what, out string) [][]string {
		t.Helper()
		r := csv.NewReader(strings.NewReader(out))
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: not CSV: %v\n%s", what, err, out)
		}
		for i, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("%s row %d: %q would run as a formula", what, i+1, cell)
				}
				if strings.ContainsAny(cell, "\x1b\u202e\u009b") {
					t.Errorf("%s row %d: %q carries a control or bidi character", what, i+1, cell)
				}
			}
		}
		return rows
	}

	hunt := runCLI(t, nil, "hunt", "-q", "-f", "csv", logs)
	if hunt.code != 0 {
		t.Fatalf("hunt -f csv: exit %d: %s", hunt.code, hunt.stderr)
	}
	rows := checkCSV("hunt -f csv", hunt.stdout)
	jsonl := signalLines(t, runCLI(t, nil, "hunt", "-q", "-f", "jsonl", logs).stdout)
	if len(rows) != len(jsonl)+1 || len(jsonl) == 0 || rows[0][0] != "id" {
		t.Fatalf("hunt -f csv: %d rows for %d signals", len(rows), len(jsonl))
	}
	for i, s := range jsonl {
		if rows[i+1][0] != s.ID || rows[i+1][11] != `'=HYPERLINK("http://x")` || rows[i+1][12] != "'@SUM(1+1)" {
			t.Errorf("hunt -f csv row %d = %q, want signal %s with its key and address as text", i+1, rows[i+1], s.ID)
		}
	}

	inv := runCLI(t, nil, "investigate", logs, "--arn", arn, "-f", "csv")
	if inv.code != 0 {
		t.Fatalf("investigate -f csv: exit %d: %s", inv.code, inv.stderr)
	}
	sections := map[string]bool{}
	for _, row := range checkCSV("investigate -f csv", inv.stdout) {
		sections[row[0]] = true
	}
	for _, s := range []string{"Identities", "Signals", "Resources created or changed", "Timeline"} {
		if !sections[s] {
			t.Errorf("investigate -f csv lacks the %s table", s)
		}
	}

	js := runCLI(t, nil, "investigate", logs, "--arn", arn, "-f", "json")
	if js.code != 0 {
		t.Fatalf("investigate -f json: exit %d: %s", js.code, js.stderr)
	}
	if strings.ContainsAny(js.stdout, "\u202e\u009b\x1b") || !strings.Contains(js.stdout, `\u202e`) || !strings.Contains(js.stdout, `\u009b`) {
		t.Errorf("investigate -f json writes attacker text raw:\n%s", js.stdout)
	}
	var doc struct {
		Identities []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Identities) == 0 || doc.Identities[0].ID != arn {
		t.Errorf("decoded identities %q, want %q first", doc.Identities, arn)
	}
}

// TestHuntOCSF: hunt -f ocsf writes one OCSF 1.8 Detection Finding per signal, valid against
// the schema, with the signal's id, rule and evidence; attacker text escaped.
func TestHuntOCSF(t *testing.T) {
	schema, err := ocsfschema.Load(shareddata.Dir(t, "ocsf-schema"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	events, _ := evilEvents()
	writeFiles(t, dir, map[string]string{"logs.jsonl": events + string(loginLines(3))})
	logs := filepath.Join(dir, "logs.jsonl")
	r := runCLI(t, nil, "hunt", "-q", "-f", "ocsf", logs)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sigs := signalLines(t, runCLI(t, nil, "hunt", "-q", "-f", "jsonl", logs).stdout)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(sigs) || len(sigs) < 4 {
		t.Fatalf("%d findings for %d signals", len(lines), len(sigs))
	}
	for i, l := range lines {
		if errs := schema.Validate("detection_finding", []byte(l)); len(errs) > 0 {
			t.Errorf("finding %d is not valid OCSF: %v", i, errs)
		}
		if strings.ContainsAny(l, "\u202e\u009b\x1b") {
			t.Errorf("finding %d writes attacker text raw", i)
		}
		var f struct {
			ClassUID    int `json:"class_uid"`
			FindingInfo struct {
				UID      string
				Analytic struct{ UID string }
			} `json:"finding_info"`
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		if f.ClassUID != 2004 || f.FindingInfo.UID != sigs[i].ID || f.FindingInfo.Analytic.UID != sigs[i].RuleID {
			t.Errorf("finding %d: class %d, uid %s, rule %s; want 2004 and signal %s of rule %s", i, f.ClassUID, f.FindingInfo.UID, f.FindingInfo.Analytic.UID, sigs[i].ID, sigs[i].RuleID)
		}
	}
}

// TestInvestigateTextWidth: investigate's text report fits --width, and its timeline limit
// keeps the events signals mark and the last event of the attack, saying what it left out.
func TestInvestigateTextWidth(t *testing.T) {
	dir := t.TempDir()
	events, arn := evilEvents()
	// The attacker lists users 30 times, then attaches the admin policy (a signal).
	var b strings.Builder
	for i := range 30 {
		line := strings.Replace(events, `"eventName":"AttachUserPolicy"`, `"eventName":"ListUsers"`, 1)
		line = strings.Replace(line, `"evil-1"`, fmt.Sprintf(`"list-%d"`, i), 1)
		line = strings.Replace(line, `"2026-11-20T12:00:00Z"`, fmt.Sprintf(`"2026-11-20T11:%02d:00Z"`, i), 1)
		b.WriteString(line)
	}
	b.WriteString(events)
	writeFiles(t, dir, map[string]string{"logs.jsonl": b.String()})
	logs := filepath.Join(dir, "logs.jsonl")
	for _, width := range []int{60, 100} {
		r := runCLI(t, nil, "investigate", logs, "--arn", arn, "--width", strconv.Itoa(width), "--timeline-limit", "5")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for i, line := range strings.Split(r.stdout, "\n") {
			if n := utf8.RuneCountInString(line); n > width {
				t.Errorf("--width %d: line %d is %d wide: %q", width, i+1, n, line)
			}
		}
		timeline := r.stdout[strings.Index(r.stdout, "== Timeline =="):]
		for _, want := range []string{"2026-11-20 11:00:00Z", "2026-11-20 12:00:00Z", "signals: [high]", "events not shown", "5 of 31 events shown"} {
			if !strings.Contains(timeline, want) {
				t.Errorf("--width %d: the timeline lacks %q:\n%s", width, want, timeline)
			}
		}
	}
}

// TestInvestigateUnknownSignal: an unknown --signal id is told with where ids come from:
// over a store, from its stored signals (no logs needed); a value that cannot be an id, at
// once, before any log is read (here the logs do not even exist); a prefix of several ids
// asks for more of it.
func TestInvestigateUnknownSignal(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"logs.jsonl": string(loginLines(3))})
	logs, db := filepath.Join(dir, "logs.jsonl"), filepath.Join(dir, "db")
	if r := runCLI(t, nil, "hunt", "-q", "--db", db, "-f", "jsonl", logs); r.code != 0 {
		t.Fatalf("hunt --db: exit %d: %s", r.code, r.stderr)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown id, store", []string{"--db", db, "--signal", "ffffffffffff"}, []string{"no signal ffffffffffff among the 3 signals of the store " + db, "printed by trailhound hunt"}},
		{"unknown id, logs", []string{logs, "--signal", "ffffffffffff"}, []string{"no signal ffffffffffff among the 3 signals of the logs given", "printed by trailhound hunt"}},
		{"not an id", []string{filepath.Join(dir, "no-such-logs"), "--signal", "aws_dev1234"}, []string{`--signal "aws_dev1234" is not a signal id`, "--help"}},
		{"too long", []string{"--db", db, "--signal", strings.Repeat("a", 21)}, []string{"is not a signal id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"investigate"}, tt.args...)...)
			if r.code != 1 || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", r.code, r.stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func TestFindSignalID(t *testing.T) {
	sigs := []signal.Signal{{ID: "aaaa1111bbbb2222cccc"}, {ID: "aaaa1111bbbb3333dddd"}, {ID: "eeee0000ffff0000aaaa"}}
	tests := []struct{ id, want, err string }{
		{"eeee", "eeee0000ffff0000aaaa", ""},
		{"AAAA1111BBBB2222CCCC", "aaaa1111bbbb2222cccc", ""},
		{"aaaa1111bbbb3", "aaaa1111bbbb3333dddd", ""},
		{"aaaa1111", "", "names several signals (aaaa1111bbbb2222cccc, aaaa1111bbbb3333dddd)"},
		{"0000", "", "no signal 0000 among the 3 signals of here"},
	}
	for _, tt := range tests {
		got, err := findSignalID(sigs, tt.id, "here")
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("findSignalID(%q) = %q, %v; want %q, %q", tt.id, got, err, tt.want, tt.err)
		}
	}
}
