package hunt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trailhound/trailhound/internal/correlate"
)

// stateMagic opens a state file: the format name, its version and the number of shards;
// then, per shard, a line with the byte length of its snapshot (0 for an empty shard)
// followed by the snapshot.
const stateMagic = "trailhound-state"

const stateVersion = 1

// saveState writes every shard's snapshot to path atomically: a temporary file in the same
// folder, synced, renamed over path, and the folder synced, so a killed process leaves
// either the previous state or the new one.
func saveState(path string, shards []*correlate.Engine) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "%s %d %d\n", stateMagic, stateVersion, len(shards))
	for _, eng := range shards {
		var b bytes.Buffer
		if eng != nil {
			if err := eng.Snapshot(&b); err != nil {
				return fmt.Errorf("saving state: %w", err)
			}
		}
		fmt.Fprintf(w, "%d\n", b.Len())
		w.Write(b.Bytes())
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("saving state %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("saving state %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("saving state %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("saving state %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// loadState restores the shards from path; a missing file is an empty state.
func loadState(path string, shards []*correlate.Engine) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("loading state: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	head, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("loading state %s: not a trailhound state file", path)
	}
	var magic string
	var version, n int
	if _, err := fmt.Sscanf(head, "%s %d %d\n", &magic, &version, &n); err != nil || magic != stateMagic {
		return fmt.Errorf("loading state %s: not a trailhound state file", path)
	}
	if version != stateVersion || n != len(shards) {
		return fmt.Errorf("loading state %s: format %d with %d shards, this trailhound reads format %d with %d", path, version, n, stateVersion, len(shards))
	}
	for i := range n {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("loading state %s: shard %d: %w", path, i, err)
		}
		size, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || size < 0 {
			return fmt.Errorf("loading state %s: shard %d: bad length %q", path, i, strings.TrimSpace(line))
		}
		if size == 0 {
			continue
		}
		snap := io.LimitReader(r, int64(size))
		if shards[i] == nil {
			if _, err := io.Copy(io.Discard, snap); err != nil {
				return fmt.Errorf("loading state %s: shard %d: %w", path, i, err)
			}
			continue
		}
		b, err := io.ReadAll(snap)
		if err != nil || len(b) != size {
			return fmt.Errorf("loading state %s: shard %d: truncated", path, i)
		}
		if err := shards[i].Restore(bytes.NewReader(b)); err != nil {
			return fmt.Errorf("loading state %s: shard %d: %w", path, i, err)
		}
	}
	return nil
}
