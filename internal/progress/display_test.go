package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the Display's goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDisplayShortRun: a run that ends before the delay shows nothing at all.
func TestDisplayShortRun(t *testing.T) {
	var out lockedBuffer
	c := NewCounter("read")
	c.AddFile()
	d := Start(&out, c, Options{Label: "hunt", Delay: time.Hour})
	d.Stop()
	d.Stop() // twice is fine
	if out.String() != "" {
		t.Errorf("a run shorter than the delay drew %q", out.String())
	}
	var none *Display
	none.Stop()
}

// TestDisplayLongRun: past the delay, the line shows files (of the total), events and
// their rate, and the bar of bytes once the total is known; Stop erases the line.
func TestDisplayLongRun(t *testing.T) {
	var out lockedBuffer
	c := NewCounter("read")
	c.SetTotal(40, 1_000_000)
	for range 12 {
		c.AddFile()
	}
	c.AddRecords(45000)
	c.AddBytes(250_000)
	d := Start(&out, c, Options{Label: "hunt", Delay: time.Millisecond, Interval: time.Millisecond})
	for !strings.Contains(out.String(), "hunt: 12/40 files, 45000 events") {
		time.Sleep(5 * time.Millisecond) // the test's deadline bounds the wait
	}
	d.Stop()
	got := out.String()
	for _, want := range []string{"events/s", "25%", "\x1b[2K\r"} {
		if !strings.Contains(got, want) {
			t.Errorf("display lacks %q:\n%q", want, got)
		}
	}
	if !strings.HasSuffix(got, "\x1b[2K\r") {
		t.Errorf("display does not end by erasing its line: %q", got[max(0, len(got)-40):])
	}
}
