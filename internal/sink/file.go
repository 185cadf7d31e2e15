package sink

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// lineFile appends lines to standard output or to a file it rotates by size: path, then
// path.1 (the newest rotated) … path.<keep>. A write is acknowledged once the file is synced.
type lineFile struct {
	mu       sync.Mutex
	out      io.Writer // standard output, when path is "" or "-"
	path     string
	f        *os.File
	size     int64
	maxBytes int64
	keep     int
}

func newLineFile(path string, maxBytes int64, keep int, stdout io.Writer) (*lineFile, error) {
	if maxBytes == 0 {
		maxBytes = 100 << 20
	}
	if keep <= 0 {
		keep = 5
	}
	lf := &lineFile{path: path, maxBytes: maxBytes, keep: keep}
	if path == "" || path == "-" {
		if stdout == nil {
			stdout = os.Stdout
		}
		lf.out = stdout
		return lf, nil
	}
	if err := lf.open(); err != nil {
		return nil, err
	}
	return lf, nil
}

func (lf *lineFile) open() error {
	if err := os.MkdirAll(filepath.Dir(lf.path), 0o755); err != nil {
		return fmt.Errorf("opening sink file %s: %w", lf.path, err)
	}
	f, err := os.OpenFile(lf.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening sink file %s: %w", lf.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening sink file %s: %w", lf.path, err)
	}
	lf.f, lf.size = f, fi.Size()
	return nil
}

// write appends b (whole lines), rotating first when the file would pass its size, and
// syncs the file.
func (lf *lineFile) write(b []byte) error {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.out != nil {
		_, err := lf.out.Write(b)
		return err
	}
	if lf.f == nil {
		if err := lf.open(); err != nil {
			return err
		}
	}
	if lf.maxBytes > 0 && lf.size > 0 && lf.size+int64(len(b)) > lf.maxBytes {
		if err := lf.rotate(); err != nil {
			return err
		}
	}
	n, err := lf.f.Write(b)
	lf.size += int64(n)
	if err == nil {
		err = lf.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("writing sink file %s: %w", lf.path, err)
	}
	return nil
}

// rotate renames path to path.1, path.1 to path.2 and so on, dropping the oldest, and
// starts a new file.
func (lf *lineFile) rotate() error {
	if err := lf.f.Close(); err != nil {
		return fmt.Errorf("rotating sink file %s: %w", lf.path, err)
	}
	lf.f = nil
	os.Remove(fmt.Sprintf("%s.%d", lf.path, lf.keep))
	for i := lf.keep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", lf.path, i), fmt.Sprintf("%s.%d", lf.path, i+1))
	}
	if err := os.Rename(lf.path, lf.path+".1"); err != nil {
		return fmt.Errorf("rotating sink file %s: %w", lf.path, err)
	}
	return lf.open()
}

func (lf *lineFile) Close() error {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.f == nil {
		return nil
	}
	err := lf.f.Close()
	lf.f = nil
	return err
}
