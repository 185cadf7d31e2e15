package store

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"
)

// workers is the number of goroutines a lookup uses to read and decompress.
func workers() int { return max(1, runtime.GOMAXPROCS(0)) }

// ordered runs work(i) for every i in [0, n) on up to nw goroutines and calls emit(i, v)
// with each result from the calling goroutine, in order of i. At most window results are
// computed ahead of emit. The first error (of work, in order of i, or of emit) stops it and
// is returned; work still running is waited for.
func ordered[T any](ctx context.Context, n, nw, window int, work func(i int) (T, error), emit func(i int, v T) error) error {
	if n == 0 {
		return nil
	}
	nw = min(nw, n)
	window = max(window, nw)
	if nw <= 1 {
		for i := range n {
			v, err := work(i)
			if err != nil {
				return err
			}
			if err := emit(i, v); err != nil {
				return err
			}
		}
		return nil
	}
	type slot struct {
		v    T
		err  error
		done chan struct{}
	}
	slots := make([]slot, n)
	for i := range slots {
		slots[i].done = make(chan struct{})
	}
	ctx, cancel := context.WithCancel(ctx)
	sem := make(chan struct{}, window)
	var (
		mu   sync.Mutex
		next int
	)
	var g errgroup.Group
	for range nw {
		g.Go(func() error {
			for {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return nil
				}
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return nil
				}
				slots[i].v, slots[i].err = work(i)
				close(slots[i].done)
			}
		})
	}
	defer func() {
		cancel()
		g.Wait()
	}()
	for i := range slots {
		select {
		case <-slots[i].done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := slots[i].err; err != nil {
			return err
		}
		v := slots[i].v
		var zero T
		slots[i].v = zero
		if err := emit(i, v); err != nil {
			return err
		}
		<-sem
	}
	return nil
}

// bufPool holds byte buffers for compressed and decompressed raw blocks, reused across
// lookups.
var bufPool sync.Pool

func getBuf(n int) []byte {
	if p, ok := bufPool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n, max(n, DefaultBlockSize+DefaultBlockSize/8))
}

func putBuf(b []byte) {
	if cap(b) == 0 || cap(b) > 64<<20 {
		return
	}
	b = b[:0]
	bufPool.Put(&b)
}

// block reads and decompresses raw block b into a pooled buffer; release it with putBuf.
func (sg *segment) block(dec *zstd.Decoder, b int) ([]byte, error) {
	br := sg.blocks[b]
	c := getBuf(int(br.clen))
	defer putBuf(c)
	if _, err := sg.f.ReadAt(c, br.off); err != nil {
		return nil, fmt.Errorf("segment %s: reading block %d: %w", sg.name, b, err)
	}
	out, err := dec.DecodeAll(c, getBuf(int(br.raw))[:0])
	if err == nil && int64(len(out)) != br.raw {
		err = fmt.Errorf("decompressed %d bytes, want %d", len(out), br.raw)
	}
	if err != nil {
		putBuf(out)
		return nil, fmt.Errorf("segment %s: reading block %d: %w", sg.name, b, err)
	}
	return out, nil
}

// preload reads and decompresses the row groups gs (nil: all) of the columns (nil ones are
// skipped) and of ids (when not nil) on up to GOMAXPROCS goroutines, so that the columns'
// at does not read them one by one. Errors are kept in the columns, as by at.
func preload(gs []int, ids *idColumn, cols ...*column) {
	var g errgroup.Group
	g.SetLimit(workers())
	each := func(n int, fn func(int)) {
		if gs == nil {
			for i := range n {
				fn(i)
			}
			return
		}
		for _, i := range gs {
			fn(i)
		}
	}
	for _, c := range cols {
		if c == nil {
			continue
		}
		each(len(c.groups), func(i int) {
			if c.groups[i] == nil {
				g.Go(func() error { c.load(i); return nil })
			}
		})
	}
	if ids != nil {
		each(len(ids.groups), func(i int) {
			if ids.groups[i] == nil {
				g.Go(func() error { ids.load(i); return nil })
			}
		})
	}
	g.Wait()
}
