// Package source turns the paths a user names (files, folders, or "-" for standard input)
// into a stream of inputs to decode, in a deterministic order, without reading them.
//
// Folders are walked depth-first in lexical (byte) order of entry names, one folder listing
// in memory at a time. Inside a folder, trailhound takes regular files (and symbolic links to
// them) whose names look like logs (.json, .jsonl, .ndjson, .log, .gz, any case). It leaves
// out, and reports as KindSkipped: hidden entries (names starting with "."), symbolic links
// to folders (not followed, so a walk cannot loop), entries that are not regular files, and
// other names (README.md, LICENSE.txt). Options change the first and the last rule. What the
// user names explicitly is always taken, whatever its name or file type (a named pipe works).
//
// CloudTrail digest files (a "CloudTrail-Digest" folder in the S3 layout, or a name holding
// "_CloudTrail-Digest_") are reported as KindDigest and not decoded.
package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Stdin is the argument that names standard input.
const Stdin = "-"

// Kind says what an Input is.
type Kind uint8

// The kinds of input.
const (
	// KindLog is an input to decode.
	KindLog Kind = iota
	// KindDigest is a CloudTrail digest file: it holds hashes of log files, not events.
	// Callers count it ("skipped N digest files") and do not decode it.
	KindDigest
	// KindSkipped is an entry of a folder that is not read; Input.Why says why.
	KindSkipped
	// KindFiltered is a folder or file of the CloudTrail layout left out because
	// Options.Filter excludes every event it can hold (its account, region or dates): it is
	// not listed or read.
	KindFiltered
)

// String returns "log", "digest" or "skipped".
func (k Kind) String() string {
	switch k {
	case KindLog:
		return "log"
	case KindDigest:
		return "digest"
	case KindSkipped:
		return "skipped"
	case KindFiltered:
		return "filtered"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Input is one thing to read.
type Input struct {
	// Name is the path as reached from the user's argument, or "-" for standard input.
	Name string
	// Kind says whether to decode it.
	Kind Kind
	// Why says why a KindSkipped input is skipped.
	Why string
	// Err is set when the entry could not be listed or resolved (a folder that cannot be
	// read, a broken symbolic link): the walk goes on, and the caller reports the input.
	// Open returns Err.
	Err error
	// Arg is the index, in the arguments given to Walk, of the argument the input was
	// reached from; Named reports whether the input is that argument itself rather than an
	// entry found in a folder.
	Arg   int
	Named bool
	// Info, for an object of a remote store (S3), is its size and modification time as
	// listed; nil for local files, which the caller can stat.
	Info fs.FileInfo

	open func(ctx context.Context) (io.ReadCloser, error)
}

// Open opens the input for reading; ctx bounds the requests of a remote object. The caller
// closes it. Opening standard input returns a reader whose Close does nothing.
func (in Input) Open(ctx context.Context) (io.ReadCloser, error) {
	if in.Err != nil {
		return nil, in.Err
	}
	if in.open == nil {
		return nil, fmt.Errorf("opening %s: a %s input is not read", in.Name, in.Kind)
	}
	return in.open(ctx)
}

// Prefetch reads a remote object (an input with Info, as S3 listings give) of at most
// maxBytes whole, and returns an input that reads those bytes, or fails to open with the
// error reading them gave; other inputs are returned as they are. A service reading many
// small objects uses it to fetch ahead of its decoders: a GET is mostly waiting.
func Prefetch(ctx context.Context, in Input, maxBytes int64) Input {
	if in.Kind != KindLog || in.Info == nil || in.Info.Size() > maxBytes || in.Err != nil || in.open == nil {
		return in
	}
	rc, err := in.open(ctx)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			err = fmt.Errorf("reading %s: %w", in.Name, err)
		}
	}
	out := in
	out.open = func(context.Context) (io.ReadCloser, error) {
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	return out
}

// Options configures Walk.
type Options struct {
	// Hidden takes hidden entries (names starting with ".") inside folders, and walks
	// hidden folders.
	Hidden bool
	// AllFiles takes every regular file inside folders, not only names that look like logs.
	AllFiles bool
	// Stdin is what "-" reads; nil means os.Stdin.
	Stdin io.Reader
	// S3 reads the s3://bucket/prefix arguments; nil when there are none.
	S3 S3Client
	// Filter leaves out the folders and files of the CloudTrail layout that cannot hold an
	// event it keeps (reported as KindFiltered). Events are filtered by the caller
	// (Filter.Event).
	Filter Filter
}

// Walk calls fn for each input reached from args, in order. Every argument is checked
// first: if any is missing or cannot be read (a regular file or a folder that cannot be
// opened, for lack of permission say, or an S3 prefix that cannot be listed), Walk returns
// an error naming all of them and calls fn for none. Problems inside folders (and S3
// prefixes) are reported through Input.Err and the walk goes on. Walk stops early and
// returns the error when fn returns one or ctx is done.
func Walk(ctx context.Context, args []string, opts Options, fn func(Input) error) error {
	var errs []error
	infos := make([]fs.FileInfo, len(args))
	urls := make([]S3URL, len(args))
	for i, arg := range args {
		if arg == Stdin {
			continue
		}
		if IsS3(arg) {
			u, err := ParseS3URL(arg)
			if err == nil {
				err = checkS3(ctx, opts.S3, u)
			}
			if err != nil {
				errs = append(errs, err)
			}
			urls[i] = u
			continue
		}
		fi, err := os.Stat(arg)
		if err == nil && (fi.Mode().IsRegular() || fi.IsDir()) {
			// Opening tells what Stat cannot: whether the file or folder can be read. A
			// named pipe is not opened here: that would wait for its writer.
			var f *os.File
			if f, err = os.Open(arg); err == nil {
				f.Close()
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", arg, err))
			continue
		}
		infos[i] = fi
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	w := walker{opts: opts, fn: fn}
	for i, arg := range args {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.arg = i
		var err error
		switch {
		case arg == Stdin:
			err = fn(Input{Name: Stdin, Kind: KindLog, open: func(ctx context.Context) (io.ReadCloser, error) { return w.stdin(ctx) }, Arg: i, Named: true})
		case IsS3(arg):
			err = w.s3(ctx, urls[i])
		case infos[i].IsDir():
			err = w.dir(ctx, arg)
		default:
			in := fileInput(arg)
			in.Arg, in.Named = i, true
			err = fn(in)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type walker struct {
	opts Options
	fn   func(Input) error
	arg  int // the argument being walked
}

// emit hands an input found in a folder of the current argument to fn.
func (w *walker) emit(in Input) error {
	in.Arg = w.arg
	return w.fn(in)
}

// s3 lists an S3 prefix.
func (w *walker) s3(ctx context.Context, u S3URL) error {
	return ListS3(ctx, w.opts.S3, u, w.opts.Filter, func(o S3Object) error {
		if strings.HasSuffix(o.Key, "/") {
			return nil // a folder marker
		}
		in := S3Input(w.opts.S3, o)
		if in.Kind == KindLog && !w.opts.AllFiles && !looksLikeLog(path.Base(o.Key)) {
			in = Input{Name: in.Name, Kind: KindSkipped, Why: "name does not look like a log file", Info: in.Info}
		}
		return w.emit(in)
	}, func(p string) error {
		return w.emit(Input{Name: p, Kind: KindFiltered})
	}, func(p string, err error) error {
		return w.emit(Input{Name: p, Err: err})
	})
}

// stdin returns standard input as a reader that gives up when ctx is done: a read waiting
// on a pipe or a terminal that has nothing to say must not keep an interrupted run from
// ending.
func (w *walker) stdin(ctx context.Context) (io.ReadCloser, error) {
	r := w.opts.Stdin
	if r == nil {
		r = os.Stdin
	}
	return io.NopCloser(&cancelReader{ctx: ctx, r: r}), nil
}

// cancelReader reads r in a goroutine of its own, so that Read can return ctx's error
// while a read of r is still waiting. Once ctx is done the reader gives up: the goroutine
// of a read that never returns waits until the process ends (standard input belongs to the
// process), and what it reads is dropped.
type cancelReader struct {
	ctx     context.Context
	r       io.Reader
	pending chan readResult // the read under way, if any
	buf     []byte
}

type readResult struct {
	n   int
	err error
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.pending == nil {
		if cap(c.buf) < len(p) {
			c.buf = make([]byte, len(p))
		}
		buf := c.buf[:len(p)]
		done := make(chan readResult, 1)
		c.pending = done
		go func() {
			n, err := c.r.Read(buf)
			done <- readResult{n, err}
		}()
	}
	select {
	case res := <-c.pending:
		c.pending = nil
		n := copy(p, c.buf[:res.n])
		return n, res.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}

// dir walks one folder.
func (w *walker) dir(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		// ReadDir returns what it could list before the error: report, then go on.
		if err := w.emit(Input{Name: path, Err: fmt.Errorf("reading folder %s: %w", path, err)}); err != nil {
			return err
		}
	}
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		if !w.opts.Hidden && strings.HasPrefix(e.Name(), ".") {
			if err := w.emit(Input{Name: p, Kind: KindSkipped, Why: "hidden"}); err != nil {
				return err
			}
			continue
		}
		t := e.Type()
		if t&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				if err := w.emit(Input{Name: p, Err: fmt.Errorf("resolving %s: %w", p, err)}); err != nil {
					return err
				}
				continue
			}
			if fi.IsDir() {
				if err := w.emit(Input{Name: p, Kind: KindSkipped, Why: "symbolic link to a folder (not followed)"}); err != nil {
					return err
				}
				continue
			}
			t = fi.Mode().Type()
		}
		var in Input
		switch {
		case t.IsDir() && w.opts.Filter.PathExcluded(filepath.ToSlash(p)):
			in = Input{Name: p, Kind: KindFiltered}
		case t.IsDir():
			if err := w.dir(ctx, p); err != nil {
				return err
			}
			continue
		case !t.IsRegular():
			in = Input{Name: p, Kind: KindSkipped, Why: "not a regular file"}
		case !w.opts.AllFiles && !isDigest(p) && !looksLikeLog(e.Name()):
			in = Input{Name: p, Kind: KindSkipped, Why: "name does not look like a log file"}
		case w.opts.Filter.PathExcluded(filepath.ToSlash(filepath.Dir(p))) || w.opts.Filter.NameExcluded(e.Name()):
			in = Input{Name: p, Kind: KindFiltered}
		default:
			in = fileInput(p)
		}
		if err := w.emit(in); err != nil {
			return err
		}
	}
	return nil
}

// fileInput is a file to open, or a digest file.
func fileInput(path string) Input {
	if isDigest(path) {
		return Input{Name: path, Kind: KindDigest}
	}
	return Input{Name: path, Kind: KindLog, open: func(context.Context) (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		return f, nil
	}}
}

// isDigest reports whether path is a CloudTrail digest file by its S3 key layout.
func isDigest(path string) bool {
	if strings.Contains(filepath.Base(path), "_CloudTrail-Digest_") {
		return true
	}
	for _, part := range strings.Split(filepath.ToSlash(filepath.Dir(path)), "/") {
		if part == "CloudTrail-Digest" {
			return true
		}
	}
	return false
}

// looksLikeLog reports whether a file name has an extension logs are written with.
func looksLikeLog(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".jsonl", ".ndjson", ".log", ".gz":
		return true
	}
	return false
}

// Each walks args and hands every input to decode to a pool of workers goroutines, each
// running work with the shared channel of inputs: work owns its goroutine's state (a decoder,
// counters) and returns when the channel is closed. Inputs that are not read (digests,
// skipped entries) go to other, from the walking goroutine, when other is not nil. The first
// error — of the walk or of a worker — cancels the others and is returned.
func Each(ctx context.Context, args []string, opts Options, workers int, other func(Input), work func(ctx context.Context, inputs <-chan Input) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	inputs := make(chan Input)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(inputs)
		return Walk(gctx, args, opts, func(in Input) error {
			if in.Kind != KindLog {
				if other != nil {
					other(in)
				}
				return nil
			}
			select {
			case inputs <- in:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	for range workers {
		g.Go(func() error { return work(gctx, inputs) })
	}
	return g.Wait()
}

// Size returns how many inputs to decode Walk hands out for args and their bytes as stored,
// without reading them: the total a progress display measures a run against. Standard
// input counts as an input of unknown size, so known is false when args name it.
func Size(ctx context.Context, args []string, opts Options) (files int, bytes int64, known bool, err error) {
	known = true
	err = Walk(ctx, args, opts, func(in Input) error {
		if in.Kind != KindLog {
			return nil
		}
		files++
		if in.Name == Stdin {
			known = false
			return nil
		}
		if in.Info != nil {
			bytes += in.Info.Size()
			return nil
		}
		if fi, err := os.Stat(in.Name); err == nil {
			bytes += fi.Size()
		}
		return nil
	})
	return files, bytes, known, err
}

// BytesInput is an input whose content is in memory (a message of a queue): name says
// where it came from in positions and reports.
func BytesInput(name string, b []byte) Input {
	return Input{Name: name, Kind: KindLog, Named: true, open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

// FileInput is the input of a local file, read when opened (for callers
// that hold a list of files rather than a folder to walk).
func FileInput(path string) Input { return fileInput(path) }
