package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestVersion: "version" and "--version" print the same one line, exit 0.
func TestVersion(t *testing.T) {
	cmd := runCLI(t, nil, "version")
	flag := runCLI(t, nil, "--version")
	if cmd.code != 0 || flag.code != 0 {
		t.Fatalf("exits %d and %d: %s%s", cmd.code, flag.code, cmd.stderr, flag.stderr)
	}
	if !regexp.MustCompile(`^trailhound \S+\n$`).MatchString(cmd.stdout) || flag.stdout != cmd.stdout {
		t.Errorf("version printed %q, --version %q; want one equal line \"trailhound VERSION\"", cmd.stdout, flag.stdout)
	}
}

// TestUsageErrors: every command-line mistake exits 1 with a message that says what was
// expected and points to the help of the command it was made in; nothing goes to stdout.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want []string // in stderr
		help string   // the --help it points to
	}{
		{[]string{"hunt"}, []string{"hunt needs a PATH", "- for standard input"}, "trailhound hunt"},
		{[]string{"hunt", "--nope", "x"}, []string{"unknown flag: --nope"}, "trailhound hunt"},
		{[]string{"hunt", "-f"}, []string{"flag needs an argument"}, "trailhound hunt"},
		{[]string{"hunt", "--workers", "many", "x"}, []string{"invalid argument \"many\""}, "trailhound hunt"},
		{[]string{"huntt", "x"}, []string{`unknown command "huntt"`, "did you mean hunt?"}, "trailhound"},
		{[]string{"--nope"}, []string{"unknown flag: --nope"}, "trailhound"},
		{[]string{"investigate", "--signal", "x"}, []string{"needs a PATH", "--db DIR"}, "trailhound investigate"},
		{[]string{"investigate", "logs"}, []string{"exactly one starting point", "--signal ID"}, "trailhound investigate"},
		{[]string{"db", "info"}, []string{"db info needs a DIR"}, "trailhound db info"},
		{[]string{"db", "info", "a", "b"}, []string{"db info takes a DIR", "got 2 arguments"}, "trailhound db info"},
		{[]string{"version", "x"}, []string{"version takes no arguments"}, "trailhound version"},
		{[]string{"rules", "list", "--bad"}, []string{"unknown flag: --bad"}, "trailhound rules list"},
		{[]string{"simulate", "extra"}, []string{"simulate takes no arguments"}, "trailhound simulate"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			for _, w := range append(tt.want, "Run '"+tt.help+" --help' for usage.") {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}
