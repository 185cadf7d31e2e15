package shareddata

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// Event is one record of the shared CloudTrail data sets.
type Event struct {
	// Key names the record: its file under data/cloudtrail and its index ("x.json#3") or
	// line ("y.jsonl:12").
	Key string
	// Raw is the record's JSON; Value is Raw parsed by a parser of its own, so that every
	// Event stays valid.
	Raw   []byte
	Value *fastjson.Value
}

// CloudTrail returns the records of the shared CloudTrail data sets named (folders of
// data/cloudtrail such as "grycap-cloudtrail-tracker"; none names them all), in file
// order, or skips the test when ../shared is absent. It reads Records files (.json.gz),
// JSON arrays or single objects (.json) and JSON Lines (.jsonl), whose lines may hold the
// event in Panther's test wrapper {"event": …}.
func CloudTrail(tb testing.TB, sets ...string) []Event {
	tb.Helper()
	root := Dir(tb, "data", "cloudtrail")
	if len(sets) == 0 {
		sets = []string{"."}
	}
	var out []Event
	add := func(key string, v *fastjson.Value) {
		raw := v.MarshalTo(nil)
		var p fastjson.Parser
		pv, err := p.ParseBytes(raw)
		if err != nil {
			tb.Fatalf("re-parsing %s: %v", key, err)
		}
		out = append(out, Event{Key: key, Raw: raw, Value: pv})
	}
	var p fastjson.Parser
	for _, set := range sets {
		err := filepath.WalkDir(filepath.Join(root, set), func(path string, d fs.DirEntry, err error) error {
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
						v = e // Panther's rule tests: {rule_id, test_name, expected_result, event}
					}
					add(rel+":"+strconv.Itoa(line), v)
				}
				return sc.Err()
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("reading shared CloudTrail data %s: %v", set, err)
		}
	}
	if len(out) == 0 {
		tb.Fatalf("shared CloudTrail data %v: no records", sets)
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
