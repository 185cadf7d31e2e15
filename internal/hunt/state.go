package hunt

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trailhound/trailhound/internal/correlate"
)

// stateMagic opens a state: the format name, its version and the number of shards; then,
// per shard, a line with the byte length of its snapshot (0 for an empty shard) followed by
// the snapshot; since version 2, a last line "crc32c XXXXXXXX" with the CRC-32C of
// everything before it, so that a damaged state is an error instead of a silently changed
// one; since version 3, before the checksum, a line with the byte length of a JSON array
// (one object per shard) giving the latest revision of each signal still open.
const stateMagic = "trailhound-state"

const stateVersion = 3

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// encodeState writes every shard's snapshot, and the revisions of the signals still open
// (nil: none).
func encodeState(shards []*correlate.Engine, revs []map[string]int) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d %d\n", stateMagic, stateVersion, len(shards))
	for _, eng := range shards {
		var snap bytes.Buffer
		if eng != nil {
			if err := eng.Snapshot(&snap); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(&b, "%d\n", snap.Len())
		b.Write(snap.Bytes())
	}
	if revs == nil {
		revs = make([]map[string]int, len(shards))
	}
	rj, err := json.Marshal(revs)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "%d\n", len(rj))
	b.Write(rj)
	fmt.Fprintf(&b, "\ncrc32c %08x\n", crc32.Checksum(b.Bytes(), crcTable))
	return b.Bytes(), nil
}

// decodeState restores the shards from a state (version 1 to 3), and fills revs (when not
// nil) with the revisions of the signals still open.
func decodeState(data []byte, shards []*correlate.Engine, revs []map[string]int) error {
	r := bufio.NewReader(bytes.NewReader(data))
	head, err := r.ReadString('\n')
	if err != nil {
		return errors.New("not a trailhound state")
	}
	var magic string
	var version, n int
	if _, err := fmt.Sscanf(head, "%s %d %d\n", &magic, &version, &n); err != nil || magic != stateMagic {
		return errors.New("not a trailhound state")
	}
	if version < 1 || version > stateVersion || n != len(shards) {
		return fmt.Errorf("format %d with %d shards, this trailhound reads formats 1 to %d with %d", version, n, stateVersion, len(shards))
	}
	if version >= 2 {
		const trailer = len("\ncrc32c 01234567\n")
		end := len(data) - trailer
		if end < 0 || !bytes.HasPrefix(data[end:], []byte("\ncrc32c ")) || data[len(data)-1] != '\n' {
			return errors.New("damaged: no checksum (cut short?)")
		}
		want, err := strconv.ParseUint(string(data[end+len("\ncrc32c "):len(data)-1]), 16, 32)
		if err != nil || crc32.Checksum(data[:end], crcTable) != uint32(want) {
			return errors.New("damaged: checksum mismatch")
		}
		r = bufio.NewReader(bytes.NewReader(data[len(head):end]))
	}
	for i := range n {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
		size, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || size < 0 {
			return fmt.Errorf("shard %d: bad length %q", i, strings.TrimSpace(line))
		}
		if size == 0 {
			continue
		}
		snap := io.LimitReader(r, int64(size))
		if shards[i] == nil {
			if _, err := io.Copy(io.Discard, snap); err != nil {
				return fmt.Errorf("shard %d: %w", i, err)
			}
			continue
		}
		b, err := io.ReadAll(snap)
		if err != nil || len(b) != size {
			return fmt.Errorf("shard %d: truncated", i)
		}
		if err := shards[i].Restore(bytes.NewReader(b)); err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
	}
	if version < 3 {
		return nil
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("revisions: %w", err)
	}
	size, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || size < 0 {
		return fmt.Errorf("revisions: bad length %q", strings.TrimSpace(line))
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("revisions: truncated")
	}
	var got []map[string]int
	if err := json.Unmarshal(b, &got); err != nil || len(got) != len(shards) {
		return fmt.Errorf("revisions: not one object per shard")
	}
	for i := range revs {
		if revs[i] != nil && got[i] != nil {
			maps.Copy(revs[i], got[i])
		}
	}
	return nil
}

// saveState writes every shard's snapshot to path atomically: a temporary file in the same
// folder, synced, renamed over path, and the folder synced, so a killed process leaves
// either the previous state or the new one.
func saveState(path string, shards []*correlate.Engine, revs []map[string]int) (err error) {
	data, err := encodeState(shards, revs)
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
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
	if _, err := f.Write(data); err != nil {
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
func loadState(path string, shards []*correlate.Engine, revs []map[string]int) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("loading state: %w", err)
	}
	if err := decodeState(data, shards, revs); err != nil {
		return fmt.Errorf("loading state %s: %w", path, err)
	}
	return nil
}
