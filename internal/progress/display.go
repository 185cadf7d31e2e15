package progress

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// DefaultDelay is how long a run goes on before a Display shows its progress: shorter runs
// show none.
const DefaultDelay = 2 * time.Second

// Options configure a Display.
type Options struct {
	// Label names the run at the start of the line ("hunt", "simulate").
	Label string
	// Delay is how long the run goes on before progress appears; 0 means DefaultDelay.
	Delay time.Duration
	// Interval is the time between redraws; 0 means 200ms.
	Interval time.Duration
}

// Display draws the counts of a Counter on one line of a terminal, redrawn in place: files
// and events done (of the total when known), events per second, and, once the total is
// known, a bar of the bytes done with the time left. It draws nothing before opts.Delay.
// The caller starts a Display only when w is a terminal (and the user did not ask for
// quiet), and stops it before writing anything else there. Its goroutine is owned by the
// Display and ends with Stop.
type Display struct {
	stop, done chan struct{}
}

// Start starts drawing c on w.
func Start(w io.Writer, c *Counter, opts Options) *Display {
	if opts.Delay <= 0 {
		opts.Delay = DefaultDelay
	}
	if opts.Interval <= 0 {
		opts.Interval = 200 * time.Millisecond
	}
	d := &Display{stop: make(chan struct{}), done: make(chan struct{})}
	go d.run(w, c, opts)
	return d
}

// Stop erases the progress line and returns once the Display has stopped drawing. It may
// be called more than once, and on a nil Display.
func (d *Display) Stop() {
	if d == nil {
		return
	}
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	<-d.done
}

func (d *Display) run(w io.Writer, c *Counter, opts Options) {
	defer close(d.done)
	wait := time.NewTimer(opts.Delay)
	select {
	case <-d.stop:
		wait.Stop()
		return
	case <-wait.C:
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(20),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetSpinnerChangeInterval(0), // redrawn by this goroutine only
		progressbar.OptionThrottle(0),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionSetRenderBlankState(true),
	)
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	total := int64(-1)
	for {
		s := c.Snapshot()
		if s.TotalKnown && s.TotalBytes > 0 && s.TotalBytes != total {
			total = s.TotalBytes
			bar.ChangeMax64(total)
		}
		bar.Describe(describe(opts.Label, s))
		done := s.Bytes
		if total > 0 {
			done = min(done, total) // a file that grew while it was read
		}
		_ = bar.Set64(done)
		select {
		case <-d.stop:
			_ = bar.Clear()
			return
		case <-tick.C:
		}
	}
}

// describe is the text before the bar: "hunt: 412/729 files, 1204331 events, 150000 events/s".
func describe(label string, s Snapshot) string {
	files := fmt.Sprintf("%d files", s.Files)
	if s.TotalKnown {
		files = fmt.Sprintf("%d/%d files", s.Files, s.TotalFiles)
	}
	out := files
	if s.Records > 0 {
		out += fmt.Sprintf(", %d events, %.0f events/s", s.Records, s.Rate())
	}
	if label != "" {
		out = label + ": " + out
	}
	return out
}
