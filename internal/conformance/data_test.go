package conformance

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"github.com/trailhound/trailhound/internal/shareddata"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/valyala/fastjson"
)

// sharedDir returns ../shared/sub or skips the test.
func sharedDir(tb testing.TB, sub string) string { return shareddata.Dir(tb, sub) }

// testEvent is one shared CloudTrail event.
type testEvent struct {
	// Key names the event: data-set file and record ("x.json#3", "y.jsonl:12").
	Key string
	// ID is the record's eventID (not unique across data sets).
	ID  string
	Raw []byte
	Ev  *event.Event
}

// loadEvents reads every event of the three shared CloudTrail data sets, each parsed with
// its own parser so that all stay valid.
func loadEvents(tb testing.TB) []testEvent {
	tb.Helper()
	root := sharedDir(tb, filepath.Join("data", "cloudtrail"))
	var out []testEvent
	add := func(key string, v *fastjson.Value) {
		raw := v.MarshalTo(nil)
		var p fastjson.Parser
		pv, err := p.ParseBytes(raw)
		if err != nil {
			tb.Fatalf("re-parsing %s: %v", key, err)
		}
		out = append(out, testEvent{Key: key, ID: string(pv.GetStringBytes("eventID")), Raw: raw, Ev: &event.Event{Raw: raw, Value: pv}})
	}
	var p fastjson.Parser
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasSuffix(path, ".json.gz"):
			data, err := readGzip(path)
			if err != nil {
				return err
			}
			v, err := p.ParseBytes(data)
			if err != nil {
				return err
			}
			for i, r := range v.GetArray("Records") {
				add(rel+"#"+strconv.Itoa(i), r)
			}
		case strings.HasSuffix(path, ".json"):
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			v, err := p.ParseBytes(data)
			if err != nil {
				return err
			}
			if v.Type() == fastjson.TypeArray {
				for i, r := range v.GetArray() {
					add(rel+"#"+strconv.Itoa(i), r)
				}
			} else {
				add(rel+"#0", v)
			}
		case strings.HasSuffix(path, ".jsonl"):
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 1<<24)
			for line := 1; sc.Scan(); line++ {
				if len(bytes.TrimSpace(sc.Bytes())) == 0 {
					continue
				}
				v, err := p.ParseBytes(sc.Bytes())
				if err != nil {
					return err
				}
				if e := v.Get("event"); e != nil {
					v = e // panther rule tests: {rule_id, test_name, expected_result, event}
				}
				add(rel+":"+strconv.Itoa(line), v)
			}
			return sc.Err()
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("reading shared CloudTrail data: %v", err)
	}
	return out
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
