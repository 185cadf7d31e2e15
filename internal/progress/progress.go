// Package progress tells people at a terminal how far a long run has got. The pipeline
// counts what it has done on a Counter, from any goroutine; a Display draws the counts on
// a terminal once the run has lasted long enough to need it, and erases them before the
// run prints its results. The same counts give the one-line partial summary of a run that
// was interrupted (Snapshot.String).
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// Counter holds the live counts of one run: files, records (events) and bytes done, and the
// totals once known. Its methods are safe for concurrent use and cost an atomic add; a nil
// *Counter counts nothing, so a pipeline calls it without checking whether anyone watches.
type Counter struct {
	verb  string // what was done to the files: "read", "written"
	start time.Time

	files, records, bytes  atomic.Int64
	totalFiles, totalBytes atomic.Int64
	totalKnown             atomic.Bool
}

// NewCounter returns a Counter of a run that starts now; verb says what the run does to
// its files ("read", "written").
func NewCounter(verb string) *Counter {
	return &Counter{verb: verb, start: time.Now()}
}

// AddFile counts one file done.
func (c *Counter) AddFile() {
	if c != nil {
		c.files.Add(1)
	}
}

// AddRecords counts n records (events) done.
func (c *Counter) AddRecords(n int) {
	if c != nil && n != 0 {
		c.records.Add(int64(n))
	}
}

// AddBytes counts n bytes done (of the files as stored: compressed bytes for gzip files).
func (c *Counter) AddBytes(n int64) {
	if c != nil && n != 0 {
		c.bytes.Add(n)
	}
}

// SetTotal records how many files and bytes the run has in all, once that is known; the
// Display then shows how far along the run is and when it should end.
func (c *Counter) SetTotal(files int, bytes int64) {
	if c == nil {
		return
	}
	c.totalFiles.Store(int64(files))
	c.totalBytes.Store(bytes)
	c.totalKnown.Store(true)
}

// Reader returns r, counting the bytes read from it.
func (c *Counter) Reader(r io.Reader) io.Reader {
	if c == nil {
		return r
	}
	return &countingReader{r: r, c: c}
}

type countingReader struct {
	r io.Reader
	c *Counter
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.c.AddBytes(int64(n))
	return n, err
}

// Snapshot is the counts of a Counter at one moment.
type Snapshot struct {
	Verb                   string
	Elapsed                time.Duration
	Files, Records, Bytes  int64
	TotalKnown             bool
	TotalFiles, TotalBytes int64
}

// Snapshot returns the counts now; the zero Snapshot for a nil Counter.
func (c *Counter) Snapshot() Snapshot {
	if c == nil {
		return Snapshot{}
	}
	return Snapshot{
		Verb:       c.verb,
		Elapsed:    time.Since(c.start),
		Files:      c.files.Load(),
		Records:    c.records.Load(),
		Bytes:      c.bytes.Load(),
		TotalKnown: c.totalKnown.Load(),
		TotalFiles: c.totalFiles.Load(),
		TotalBytes: c.totalBytes.Load(),
	}
}

// String says what the run has done, in a few words: "12 of 40 files and 45000 events
// read", "120 files (4.1 MB) written".
func (s Snapshot) String() string {
	var b strings.Builder
	if s.TotalKnown {
		fmt.Fprintf(&b, "%d of %d files", s.Files, s.TotalFiles)
	} else {
		fmt.Fprintf(&b, "%d %s", s.Files, plural(s.Files, "file", "files"))
	}
	if s.Records > 0 {
		fmt.Fprintf(&b, " and %d %s", s.Records, plural(s.Records, "event", "events"))
	} else if s.Bytes > 0 {
		fmt.Fprintf(&b, " (%.1f MB)", float64(s.Bytes)/1e6)
	}
	if s.Verb != "" {
		b.WriteString(" " + s.Verb)
	}
	return b.String()
}

// Rate returns the records done per second so far (0 before any time has passed).
func (s Snapshot) Rate() float64 {
	if secs := s.Elapsed.Seconds(); secs > 0 {
		return float64(s.Records) / secs
	}
	return 0
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
