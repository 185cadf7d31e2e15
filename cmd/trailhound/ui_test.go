package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startUI starts trailhound ui with args and returns the URL it printed; the process is
// stopped (SIGTERM) when the test ends, and must exit 0.
func startUI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"ui", "-q"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ui after SIGTERM: %v\n%s", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("ui did not stop on SIGTERM")
		}
	})
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("ui printed nothing: %s", stderr.String())
		}
		u, found := strings.CutPrefix(l, "trailhound ui: open ")
		if !found {
			t.Fatalf("ui printed %q", l)
		}
		return u
	case <-time.After(60 * time.Second):
		t.Fatalf("ui printed no URL: %s", stderr.String())
	}
	return ""
}

func get(t *testing.T, u string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestUI: trailhound ui over a store written by hunt --db (while it could be written) and
// over logs; off loopback it prints a URL with a token and refuses requests without it.
func TestUI(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "simulate", "--out", dir, "--seed", "5", "--days", "3", "--events-per-day", "1000", "--attacks", "2"); r.code != 0 {
		t.Fatalf("simulate: exit %d: %s", r.code, r.stderr)
	}
	logs, db := filepath.Join(dir, "AWSLogs"), filepath.Join(dir, "db")
	hunt := runCLI(t, nil, "hunt", "--db", db, "-q", "-f", "jsonl", logs)
	if hunt.code != 0 {
		t.Fatalf("hunt --db: exit %d: %s", hunt.code, hunt.stderr)
	}
	sigs := signalLines(t, hunt.stdout)

	for _, c := range []struct {
		name string
		args []string
	}{
		{"store", []string{"--db", db, "--addr", "127.0.0.1:0"}},
		{"logs", []string{"--addr", "127.0.0.1:0", logs}},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := startUI(t, c.args...)
			if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.Contains(base, "token") {
				t.Fatalf("URL %q", base)
			}
			code, body := get(t, base+"api/signals", nil)
			var page struct{ Total int }
			json.Unmarshal([]byte(body), &page)
			if code != 200 || page.Total != len(sigs) {
				t.Fatalf("GET /api/signals: %d, %d signals, want %d: %.200s", code, page.Total, len(sigs), body)
			}
			code, body = get(t, base+"api/case?"+url.Values{"signal": {sigs[0].ID}}.Encode(), nil)
			if code != 200 || !strings.Contains(body, `"remediation_plan"`) {
				t.Errorf("GET /api/case: %d %.200s", code, body)
			}
			if code, body := get(t, base, nil); code != 200 || !strings.Contains(body, "/assets/app.js") {
				t.Errorf("GET /: %d %.200s", code, body)
			}
		})
	}

	t.Run("token off loopback", func(t *testing.T) {
		u := startUI(t, "--db", db, "--addr", "0.0.0.0:0")
		pu, err := url.Parse(u)
		if err != nil || pu.Query().Get("token") == "" {
			t.Fatalf("URL %q has no token", u)
		}
		token := pu.Query().Get("token")
		base := "http://127.0.0.1:" + pu.Port() + "/" // only loopback is ever asked
		for _, p := range []string{"", "api/signals", "assets/app.js", "api/case?user=x"} {
			if code, _ := get(t, base+p, nil); code != 401 {
				t.Errorf("GET /%s without the token: %d, want 401", p, code)
			}
			if code, _ := get(t, base+p, map[string]string{"Authorization": "Bearer " + token}); code == 401 {
				t.Errorf("GET /%s with the token: 401", p)
			}
		}
		if code, _ := get(t, base+"?token="+token, nil); code != http.StatusSeeOther {
			t.Errorf("the printed URL: %d, want 303 with a cookie", code)
		}
	})

	if r := runCLI(t, nil, "ui", "--db", db, logs); r.code != 1 || !strings.Contains(r.stderr, "not both") {
		t.Errorf("ui --db and paths: exit %d: %s", r.code, r.stderr)
	}
}
