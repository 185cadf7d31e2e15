package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSampleConfig: the README's sample configuration loads and validates, with the values
// it says.
func TestSampleConfig(t *testing.T) {
	c, err := LoadConfig(filepath.Join("testdata", "serve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9790" || len(c.Trails) != 1 || time.Duration(c.Trails[0].Poll) != 30*time.Second || len(c.Notifications.SQS) != 1 ||
		len(c.Events) != 1 || len(c.Sinks) != 4 || time.Duration(*c.Lateness) != 15*time.Minute || c.quietAdvance() != time.Minute || c.Batch.MaxObjects != 500 || c.Sinks[3].Level().String() != "high" ||
		c.UI.Analyst != "soc-oncall" || c.UI.Disabled {
		t.Errorf("sample config read as %+v", c)
	}
	f, err := c.Filter(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	if err != nil || !f.Since.Equal(time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("since 24h: %v, %v", f.Since, err)
	}
}

// TestConfigErrors: every problem is named at once; unknown keys are errors with their line.
func TestConfigErrors(t *testing.T) {
	c := Config{Listen: "nowhere", Log: LogConfig{Format: "xml"}, Trails: []TrailConfig{{URL: "http://x"}},
		Notifications: NotificationsConfig{NATS: []NATSConfig{{URL: "nats://x"}}}, Since: "yesterday"}
	err := c.Validate()
	if err == nil {
		t.Fatal("a broken config validated")
	}
	for _, want := range []string{"listen", "db:", "log.format", "trails[0]", "nats[0]", "since"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("db: x\nsinks:\n  - {type: jsonl, pathh: /tmp/x}\n"), 0o644)
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "pathh") {
		t.Errorf("unknown key: %v", err)
	}
	zero := Duration(0)
	c = Config{DB: "x", Trails: []TrailConfig{{URL: "s3://b/"}}, Lateness: &zero}
	if err := c.Validate(); err != nil || huntLateness(c.Lateness) >= 0 {
		t.Errorf("lateness 0: %v, hunt lateness %v (want none)", err, huntLateness(c.Lateness))
	}
}
