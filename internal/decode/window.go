package decode

import "io"

// minRead is the least free space the window offers to a Read.
const minRead = 32 << 10

// window is a sliding buffer over a stream. buf[start:end] is kept; pos is the scan cursor
// (start <= pos <= end). fill discards buf[:start] when it needs room, so indices into buf
// shift: code that remembers a place across a fill keeps base+index (an absolute offset).
type window struct {
	src   io.Reader
	buf   []byte
	start int
	pos   int
	end   int
	base  int64 // stream offset of buf[0]
	limit int   // largest len(buf)
	eof   bool
	err   error // first read error other than io.EOF
}

func (w *window) reset(src io.Reader, initial, limit int) {
	if cap(w.buf) < initial {
		w.buf = make([]byte, initial)
	}
	w.buf = w.buf[:cap(w.buf)]
	*w = window{src: src, buf: w.buf, limit: max(limit, len(w.buf))}
}

// abs returns the stream offset of buf[i].
func (w *window) abs(i int) int64 { return w.base + int64(i) }

// idx returns the buffer index of stream offset off, or -1 when it was discarded.
func (w *window) idx(off int64) int {
	if off < w.base+int64(w.start) {
		return -1
	}
	return int(off - w.base)
}

// fill reads more data after end, keeping buf[start:end]. It reports whether data was
// added; false means end of input, a read error (w.err), or no room left without
// discarding kept bytes.
func (w *window) fill() bool {
	if w.eof || w.err != nil {
		return false
	}
	if len(w.buf)-w.end < minRead {
		// Move the kept bytes to the front, into a larger buffer if they fill more than
		// half of this one: each byte is copied at most about once on average.
		kept := w.end - w.start
		buf := w.buf
		if kept > len(w.buf)/2 && len(w.buf) < w.limit {
			buf = make([]byte, min(2*len(w.buf), w.limit))
		}
		if w.start > 0 || len(buf) != len(w.buf) {
			copy(buf, w.buf[w.start:w.end])
			w.buf = buf
			w.base += int64(w.start)
			w.pos -= w.start
			w.end = kept
			w.start = 0
		}
		if w.end == len(w.buf) {
			return false
		}
	}
	for range 100 {
		n, err := w.src.Read(w.buf[w.end:])
		w.end += n
		if err != nil {
			if err == io.EOF {
				w.eof = true
			} else {
				w.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	w.err = io.ErrNoProgress
	return false
}
