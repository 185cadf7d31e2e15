package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// rootLogin is one CloudTrail event a built-in rule flags (a root console login without MFA).
const rootLogin = `{"eventVersion":"1.08","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventTime":"2026-11-20T09:00:00Z","eventID":"x-1","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"recipientAccountId":"111122223333"}`

// writeFiles writes name → content under dir, making folders as needed.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHuntNoCloudTrail: a path with no CloudTrail in it is an error (exit 1) that names the
// path and says why, never a clean "signals: 0"; empty standard input is not.
func TestHuntNoCloudTrail(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"docs/README.md": "# notes",
		"docs/notes.txt": "text",
		"digests/AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/20/1_CloudTrail-Digest_us-east-1_x.json.gz": "{}",
		"other/app.json":     `{"level":"info","msg":"started"}`,
		"other/more.jsonl":   `{"a":1}` + "\n" + `{"b":2}` + "\n",
		"good/trail.json":    `{"Records":[` + rootLogin + `]}`,
		"quiet/empty.json":   `{"Records":[]}`,
		"mixed/a.json":       `{"Records":[` + rootLogin + `]}`,
		"mixed/z-other.json": `{"level":"info"}`,
	})
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name  string
		args  []string
		stdin []byte
		code  int
		want  []string
	}{
		{"empty folder", []string{p("empty")}, nil, 1, []string{"no CloudTrail in " + p("empty") + ": no log file in it"}},
		{"folder of other files", []string{p("docs")}, nil, 1, []string{"no log file in it; 2 other file(s) skipped by name (--all-files reads them)"}},
		{"digests only", []string{p("digests")}, nil, 1, []string{"1 digest file(s), which hold hashes, not events"}},
		{"JSON that is not CloudTrail", []string{p("other")}, nil, 1, []string{"no CloudTrail in " + p("other") + ": 2 file(s) found, all 3 records rejected"}},
		{"one good path, one empty", []string{p("good"), p("empty")}, nil, 1, []string{"no CloudTrail in " + p("empty")}},
		{"every bad path named", []string{p("empty"), p("other")}, nil, 1, []string{"in " + p("empty") + ":", "in " + p("other") + ":"}},
		{"stdin of other JSON", []string{"-"}, []byte(`{"a":1}` + "\n"), 1, []string{"no CloudTrail in standard input"}},
		{"with --db", []string{"--db", p("db"), p("empty")}, nil, 1, []string{"no CloudTrail in " + p("empty")}},
		{"empty stdin", []string{"-"}, []byte{}, 0, nil},
		{"empty Records document", []string{p("quiet")}, nil, 0, nil},
		{"CloudTrail beside other files", []string{p("mixed")}, nil, 0, nil},
		{"good folder", []string{p("good")}, nil, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.stdin, append([]string{"hunt", "-f", "jsonl"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if tt.code != 0 && !strings.Contains(r.stderr, "give the folder AWS delivers CloudTrail to") {
				t.Errorf("the error does not say what to give:\n%s", r.stderr)
			}
		})
	}
}

// runCLIAs runs the binary as a user who cannot read a file with mode 0: the current user,
// or nobody when the tests run as root (root reads everything). The binary and dir (made
// by t.TempDir) are opened to that user.
func runCLIAs(t *testing.T, dir string, args ...string) result {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not deny reading on Windows")
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if os.Geteuid() == 0 {
		for _, d := range []string{filepath.Dir(binary), filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Dir = dir
	}
	return runCmd(t, cmd)
}

// TestHuntUnreadableInputs: an input that cannot be read is never silently lost. Named on
// the command line (a file or a folder), the run stops before reading anything (exit 1);
// inside a folder, the run goes on, lists it in the summary and exits 4, or 0 with
// --allow-unreadable; -q keeps the error, naming the first input.
func TestHuntUnreadableInputs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"logs/a.json":        `{"Records":[` + rootLogin + `]}`,
		"logs/locked.json":   `{"Records":[]}`,
		"logs/sealed/b.json": `{"Records":[]}`,
	})
	logs := filepath.Join(dir, "logs")
	locked, sealed := filepath.Join(logs, "locked.json"), filepath.Join(logs, "sealed")
	for _, p := range []string{logs, filepath.Join(logs, "a.json"), filepath.Join(sealed, "b.json")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sealed, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(sealed, 0o755) })

	r := runCLIAs(t, dir, "hunt", "-f", "jsonl", logs)
	if r.code != exitUnreadable {
		t.Errorf("unreadable entries in a folder: exit %d, want %d:\n%s", r.code, exitUnreadable, r.stderr)
	}
	if !strings.Contains(r.stdout, `"level":"critical"`) {
		t.Errorf("the readable file's signal is missing:\n%s", r.stdout)
	}
	for _, w := range []string{"2 unreadable", "unreadable: 2 input(s) could not be read", locked + ": opening " + locked, sealed + ": reading folder", "--allow-unreadable"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	r = runCLIAs(t, dir, "hunt", "-f", "jsonl", "--allow-unreadable", logs)
	if r.code != 0 || !strings.Contains(r.stderr, "unreadable: 2 input(s)") {
		t.Errorf("--allow-unreadable: exit %d, want 0 with the inputs still listed:\n%s", r.code, r.stderr)
	}
	r = runCLIAs(t, dir, "hunt", "-q", "-f", "jsonl", logs)
	if r.code != exitUnreadable || !strings.Contains(r.stderr, "first: "+locked) || strings.Contains(r.stderr, "events:") {
		t.Errorf("-q: exit %d, want %d, the error naming %s and no summary:\n%s", r.code, exitUnreadable, locked, r.stderr)
	}
	for _, named := range []string{locked, sealed} {
		r = runCLIAs(t, dir, "hunt", "-f", "jsonl", filepath.Join(logs, "a.json"), named)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, named+": permission denied") || !strings.Contains(r.stderr, "check the permissions") {
			t.Errorf("hunt naming %s: exit %d, stdout %q; want 1, nothing read, and the path named:\n%s", named, r.code, r.stdout, r.stderr)
		}
	}
	r = runCLIAs(t, dir, "investigate", logs, "--user", "nobody")
	if r.code != exitUnreadable {
		t.Errorf("investigate over a folder with unreadable entries: exit %d, want %d:\n%s", r.code, exitUnreadable, r.stderr)
	}
}

// TestHuntBadRulesIOCGeoIP: a --rules, --ioc or --geoip path that is missing or holds an
// error stops the run before it reads a log (exit 1), with every problem and what to do;
// never a warning and a run with fewer rules, or the built-in ones alone.
func TestHuntBadRulesIOCGeoIP(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"logs/trail.json": `{"Records":[` + rootLogin + `]}`,
		"rules/bad.yml": "title: Broken\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    sel:\n        eventName|nosuch: x\n    condition: sel\n" +
			"---\ntitle: Also broken\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    condition: missing\n",
		"rules/good.yml":   "title: Fine\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    sel: {eventName: ConsoleLogin}\n    condition: sel\n",
		"norules/notes.md": "no rules here",
		"geo/fake.mmdb":    "not a database",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name string
		args []string
		env  string
		want []string
	}{
		{"missing rules path", []string{"--rules", p("none")}, "", []string{p("none"), "no such file", "rules lint"}},
		{"rule errors", []string{"--rules", p("rules")}, "", []string{"3 error(s) in the rules; nothing was hunted", p("rules/bad.yml") + ":5:19: unknown modifier", p("rules/bad.yml") + ":11:16: condition: unknown search identifier", "rules lint PATH lists every error"}},
		{"no rule file", []string{"--rules", p("norules")}, "", []string{"--rules " + p("norules") + ": no rule file in it"}},
		{"missing IOC list", []string{"--ioc", p("none.txt")}, "", []string{p("none.txt"), "give --ioc a list file"}},
		{"missing GeoIP database", []string{"--geoip", p("none.mmdb")}, "", []string{p("none.mmdb"), "--geoip: give MaxMind DB files"}},
		{"broken GeoIP database", []string{"--geoip", p("geo/fake.mmdb")}, "", []string{p("geo/fake.mmdb"), "--geoip: give MaxMind DB files"}},
		{"broken GeoIP database in the environment", nil, p("geo/fake.mmdb"), []string{p("geo/fake.mmdb"), "$TRAILHOUND_GEOIP: give MaxMind DB files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TRAILHOUND_GEOIP", tt.env)
			for _, quiet := range []bool{false, true} {
				args := append([]string{"hunt", "-f", "jsonl"}, tt.args...)
				if quiet {
					args = append(args, "-q")
				}
				r := runCLI(t, nil, append(args, p("logs"))...)
				if r.code != 1 || r.stdout != "" || strings.Contains(r.stderr, "events:") {
					t.Errorf("quiet %v: exit %d, stdout %q; want 1 and no run:\n%s", quiet, r.code, r.stdout, r.stderr)
				}
				for _, w := range tt.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("quiet %v: stderr lacks %q:\n%s", quiet, w, r.stderr)
					}
				}
			}
		})
	}
	// The good rule alone loads; -q then prints nothing on stderr, warnings included.
	r := runCLI(t, nil, "hunt", "-f", "jsonl", "--rules", p("rules/good.yml"), p("logs"))
	if r.code != 0 || !strings.Contains(r.stderr, "INACTIVE") || !strings.Contains(r.stdout, `"title":"Fine"`) {
		t.Errorf("good rule: exit %d, want 0, its signal and the INACTIVE warning:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "hunt", "-q", "-f", "jsonl", "--rules", p("rules/good.yml"), p("logs"))
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, `"title":"Fine"`) {
		t.Errorf("-q: exit %d, stderr %q; want 0 and nothing on stderr", r.code, r.stderr)
	}
}
