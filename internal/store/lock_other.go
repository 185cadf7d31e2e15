//go:build !unix

package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// lockDir creates path exclusively. Without flock, a lock left by a killed writer must be
// removed by hand.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("locking: %w", err)
	}
	return f, nil
}

// lockFile opens path. Without flock, appends from several processes are not serialised;
// each is one write of a whole line.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
