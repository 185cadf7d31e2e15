package progress

import (
	"io"
	"strings"
	"sync"
	"testing"
)

// TestCounter: counts added from many goroutines all arrive; a nil Counter counts nothing
// and does not panic.
func TestCounter(t *testing.T) {
	c := NewCounter("read")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.AddFile()
				c.AddRecords(3)
				c.AddBytes(10)
			}
		})
	}
	wg.Wait()
	n, err := io.Copy(io.Discard, c.Reader(strings.NewReader("12345")))
	if err != nil || n != 5 {
		t.Fatalf("Reader copied %d, %v", n, err)
	}
	s := c.Snapshot()
	if s.Files != 8000 || s.Records != 24000 || s.Bytes != 80005 || s.TotalKnown {
		t.Errorf("snapshot %+v, want 8000 files, 24000 records, 80005 bytes, no total", s)
	}
	c.SetTotal(9000, 90000)
	if s := c.Snapshot(); !s.TotalKnown || s.TotalFiles != 9000 || s.TotalBytes != 90000 {
		t.Errorf("after SetTotal: %+v", s)
	}

	var none *Counter
	none.AddFile()
	none.AddRecords(1)
	none.AddBytes(1)
	none.SetTotal(1, 1)
	if (none.Snapshot() != Snapshot{}) {
		t.Error("a nil Counter has counts")
	}
	if r := strings.NewReader("x"); none.Reader(r) != io.Reader(r) {
		t.Error("a nil Counter's Reader is not the reader given")
	}
}

func TestSnapshotString(t *testing.T) {
	tests := []struct {
		s    Snapshot
		want string
	}{
		{Snapshot{Verb: "read", Files: 12, Records: 45000, TotalKnown: true, TotalFiles: 40}, "12 of 40 files and 45000 events read"},
		{Snapshot{Verb: "read", Files: 1, Records: 1}, "1 file and 1 event read"},
		{Snapshot{Verb: "written", Files: 120, Bytes: 4_100_000}, "120 files (4.1 MB) written"},
		{Snapshot{}, "0 files"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.s, got, tt.want)
		}
	}
}
