package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// loginLines returns n root console logins as JSON Lines, two hours apart (so that each
// is a signal of its own).
func loginLines(n int) []byte {
	var b bytes.Buffer
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for i := range n {
		line := strings.Replace(rootLogin, `"eventID":"x-1"`, fmt.Sprintf(`"eventID":"x-%d"`, i), 1)
		line = strings.Replace(line, `"2026-11-20T09:00:00Z"`, `"`+t0.Add(time.Duration(i)*2*time.Hour).Format(time.RFC3339)+`"`, 1)
		b.WriteString(line + "\n")
	}
	return b.Bytes()
}

// slowStdin gives the process data, then keeps its standard input open for hold before
// closing it: a run that lasts at least hold, whatever the machine.
func slowStdin(t *testing.T, cmd *exec.Cmd, data []byte, hold time.Duration) {
	t.Helper()
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(data)
		time.Sleep(hold)
		w.Close()
	}()
}

// runOnTerminal runs the binary with its stderr on a pseudo-terminal and returns what it
// drew there, its stdout and its exit status.
func runOnTerminal(t *testing.T, stdin []byte, hold time.Duration, args ...string) (tty, stdout string, code int) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no pseudo-terminals")
	}
	ptmx, pts, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, pts
	slowStdin(t, cmd, stdin, hold)
	drawn := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with an error once the last writer is gone
		drawn <- b
	}()
	err = cmd.Run()
	pts.Close()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(<-drawn), out.String(), code
}

// progressDrawn reports whether terminal output holds a progress line.
var progressDrawn = regexp.MustCompile(`hunt: \d+ files`)

// TestProgress: a run longer than two seconds shows its progress on stderr when stderr is
// a terminal; never when it is not (a pipe, a file), nor with -q, nor on a short run; and
// the progress line is erased before the summary.
func TestProgress(t *testing.T) {
	data := loginLines(3)
	hold := 3 * time.Second // longer than progress.DefaultDelay

	tty, stdout, code := runOnTerminal(t, data, hold, "hunt", "-f", "jsonl", "-")
	if code != 0 || strings.Count(stdout, "\n") != 3 {
		t.Fatalf("on a terminal: exit %d, stdout %q", code, stdout)
	}
	if !progressDrawn.MatchString(tty) || !strings.Contains(tty, "\x1b[2K\r") {
		t.Errorf("a long run on a terminal drew no progress, or did not erase it:\n%q", tty)
	}
	if i, j := strings.LastIndex(tty, "\x1b[2K\r"), strings.Index(tty, "files: 1 read"); j < i {
		t.Errorf("the summary is not after the erased progress line:\n%q", tty)
	}

	tty, _, code = runOnTerminal(t, data, hold, "hunt", "-q", "-f", "jsonl", "-")
	if code != 0 || tty != "" {
		t.Errorf("-q on a terminal: exit %d, drew %q; want nothing", code, tty)
	}
	tty, _, code = runOnTerminal(t, data, 0, "hunt", "-f", "jsonl", "-")
	if code != 0 || progressDrawn.MatchString(tty) || strings.Contains(tty, "\x1b") {
		t.Errorf("a short run on a terminal: exit %d, drew progress:\n%q", code, tty)
	}

	cmd := exec.Command(binary, "hunt", "-f", "jsonl", "-")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	slowStdin(t, cmd, data, hold)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if progressDrawn.MatchString(errb.String()) || strings.ContainsAny(errb.String(), "\r\x1b") {
		t.Errorf("a long run with stderr not a terminal drew progress:\n%q", errb.String())
	}
}

// TestInterrupt: Ctrl-C (SIGINT) ends a run with status 130 after one line saying what it
// had done; spilled match files and investigate's temporary store are removed; nothing is
// printed as if the run had finished. SIGTERM gives 143.
func TestInterrupt(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send")
	}
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs.jsonl")
	writeFiles(t, dir, map[string]string{"logs.jsonl": string(loginLines(5))})
	tests := []struct {
		name string
		sig  syscall.Signal
		code int
		args []string
	}{
		// --max-matches 1 spills every match to a temporary file.
		{"hunt", syscall.SIGINT, 130, []string{"hunt", "-f", "jsonl", "--max-matches", "1", "--group-window", "0", logs, "-"}},
		{"hunt --db", syscall.SIGINT, 130, []string{"hunt", "-f", "jsonl", "--db", filepath.Join(dir, "db"), logs, "-"}},
		{"investigate", syscall.SIGINT, 130, []string{"investigate", "--user", "nobody", logs, "-"}},
		{"hunt, SIGTERM", syscall.SIGTERM, 143, []string{"hunt", "-f", "jsonl", logs, "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(binary, tt.args...)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "NO_COLOR=1")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			slowStdin(t, cmd, loginLines(2), time.Minute) // standard input stays open: the run waits
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait until the run is under way: the logs file read (its spill files or the
			// temporary store exist), or a second at most.
			for i := 0; i < 20; i++ {
				if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
				t.Fatalf("exit %v, want %d:\n%s", err, tt.code, errb.String())
			}
			lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
			last := lines[len(lines)-1]
			if !regexp.MustCompile(`^trailhound: (interrupted \(Ctrl-C\)|terminated \(SIGTERM\)) after [0-9.]+m?s, with \d+ files? and \d+ events? read: the run did not finish`).MatchString(last) {
				t.Errorf("last line %q is not the one-line partial summary", last)
			}
			if strings.Contains(errb.String(), "signals:") || out.Len() > 0 {
				t.Errorf("an interrupted run printed results:\nstdout %q\nstderr %s", out.String(), errb.String())
			}
			if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("temporary files left in $TMPDIR: %v", names)
			}
		})
	}
}

// TestSummaryElapsedCoversTheRun: the summary's elapsed time counts the whole run, writing
// the signals included: here the test stops reading the signals for two seconds once the
// first arrives (they are more than a pipe holds), so the run cannot end sooner than two
// seconds after it started, and its elapsed must say so.
func TestSummaryElapsedCoversTheRun(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"logs.jsonl": string(loginLines(400))})
	cmd := exec.Command(binary, "hunt", "-f", "jsonl", "--group-window", "0", filepath.Join(dir, "logs.jsonl"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first byte of a signal comes after the run started; the stall counts from there.
	first := make([]byte, 1)
	if _, err := io.ReadFull(stdout, first); err != nil {
		t.Fatal(err)
	}
	const stall = 2 * time.Second
	time.Sleep(stall)
	rest, _ := io.ReadAll(stdout)
	out := append(first, rest...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	if len(out) < 128<<10 {
		t.Fatalf("only %d bytes of signals: a pipe holds them, the test proves nothing", len(out))
	}
	m := regexp.MustCompile(`elapsed: ([^,]+), (\d+) events/s`).FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no elapsed line:\n%s", errb.String())
	}
	elapsed, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	rate, _ := strconv.Atoi(m[2])
	if elapsed < stall {
		t.Errorf("elapsed %s, but the run could not end before %s (writing its signals)", elapsed, stall)
	}
	if want := int(400 / elapsed.Seconds()); rate < want-1 || rate > want+1 {
		t.Errorf("%d events/s, want %d (400 events over the elapsed %s)", rate, want, elapsed)
	}
}
