package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/decode"
	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/simulate"
	"github.com/trailhound/trailhound/internal/source"
	"github.com/valyala/fastjson"
)

// parseEvent turns JSON text into an event (for hand-written cases).
func parseEvent(t testing.TB, raw string) *event.Event {
	t.Helper()
	v, err := fastjson.Parse(raw)
	if err != nil {
		t.Fatalf("parsing %s: %v", raw, err)
	}
	return &event.Event{Raw: []byte(raw), Value: v, Pos: event.Position{File: "hand.json"}}
}

// eventIDs returns the eventIDs of the records Events reads for f, in its order, checking
// that each record comes with its own raw JSON.
func eventIDs(t *testing.T, s *Store, f Filter) []string {
	t.Helper()
	var got []string
	err := s.Events(context.Background(), f, func(r Record, e *event.Event) error {
		if string(e.Str("eventID")) != r.EventID {
			t.Errorf("record %s has the raw JSON of %s", r.EventID, e.Str("eventID"))
		}
		got = append(got, r.EventID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// ev writes a minimal CloudTrail record.
type ev struct {
	id, time, acct, region, name, arn, typ, key, ip, err string
	srcid                                                string // sessionContext.sourceIdentity
}

func (e ev) json() string {
	if e.typ == "" {
		e.typ = "IAMUser"
	}
	if e.region == "" {
		e.region = "us-east-1"
	}
	if e.name == "" {
		e.name = "ListBuckets"
	}
	sc := ""
	if e.srcid != "" {
		sc = fmt.Sprintf(`,"sessionContext":{"sourceIdentity":%q}`, e.srcid)
	}
	s := fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":%q,"arn":%q,"accountId":%q,"accessKeyId":%q%s},`+
		`"eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":%q,"awsRegion":%q,"sourceIPAddress":%q,`+
		`"userAgent":"aws-cli/2.0","eventID":%q,"recipientAccountId":%q`,
		e.typ, e.arn, e.acct, e.key, sc, e.time, e.name, e.region, e.ip, e.id, e.acct)
	if e.err != "" {
		s += fmt.Sprintf(`,"errorCode":%q`, e.err)
	}
	return s + "}"
}

// simulated generates (once per process and parameters) a simulated history and returns its
// folder. Benchmarks keep it under $TRAILHOUND_BENCH_DIR when set, so that it survives runs.
func simulated(tb testing.TB, days, perDay int) string {
	tb.Helper()
	root := os.Getenv("TRAILHOUND_BENCH_DIR")
	if root == "" {
		root = filepath.Join(os.TempDir(), "trailhound-store-corpus")
	}
	dir := filepath.Join(root, fmt.Sprintf("sim-%d-%d", days, perDay))
	if _, err := os.Stat(filepath.Join(dir, ".done")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	if _, err := simulate.Generate(context.Background(), simulate.Options{Seed: 11, Days: days, EventsPerDay: perDay}, simulate.NewDirSink(dir)); err != nil {
		tb.Fatalf("simulate: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".done"), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// decodeAll returns every event's raw JSON by eventID (first delivery wins) and the count of
// records read.
func decodeAll(tb testing.TB, dir string) (map[string]string, int) {
	tb.Helper()
	out := map[string]string{}
	n := 0
	d := decode.New(decode.Options{})
	err := source.Walk(context.Background(), []string{dir}, source.Options{}, func(in source.Input) error {
		if in.Kind != source.KindLog {
			return nil
		}
		rc, err := in.Open(context.Background())
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = d.Decode(context.Background(), in.Name, rc, decode.HandlerFuncs{EventFunc: func(e *event.Event) error {
			n++
			id := string(e.Str("eventID"))
			if _, ok := out[id]; !ok {
				out[id] = string(e.Raw)
			}
			return nil
		}})
		return err
	})
	if err != nil {
		tb.Fatalf("decoding %s: %v", dir, err)
	}
	return out, n
}

// isTmp reports whether a file name is a temporary one.
func isTmp(name string) bool { return strings.HasSuffix(name, tmpSuffix) }

// fileOfKind returns the path of the committed file of a kind (the last one listed).
func fileOfKind(t testing.TB, dir, kind string) string {
	t.Helper()
	m, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	refs := m.files(kind)
	if len(refs) == 0 {
		t.Fatalf("no %s file in the manifest of %s", kind, dir)
	}
	return filepath.Join(dir, refs[len(refs)-1].Name)
}

// writeV1Manifest replaces the manifest of the store in dir by the plain JSON one of version 1
// stores, with the segments' sizes as they are on disk: a store as an older trailhound left
// it (its other files must be written by the test in their version 1 form).
func writeV1Manifest(t testing.TB, dir string) {
	t.Helper()
	m, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	type v1Segment struct {
		Name     string `json:"name"`
		Events   int    `json:"events"`
		Bytes    int64  `json:"bytes"`
		RawBytes int64  `json:"raw_bytes"`
		MinTime  int64  `json:"min_time"`
		MaxTime  int64  `json:"max_time"`
	}
	v1 := struct {
		Version  int         `json:"version"`
		NextSeq  uint64      `json:"next_seq"`
		Segments []v1Segment `json:"segments"`
	}{Version: 1, NextSeq: m.NextSeq}
	for _, sg := range m.Segments {
		fi, err := os.Stat(filepath.Join(dir, sg.Name))
		if err != nil {
			t.Fatal(err)
		}
		v1.Segments = append(v1.Segments, v1Segment{sg.Name, sg.Events, fi.Size(), sg.RawBytes, sg.MinTime, sg.MaxTime})
	}
	b, err := json.MarshalIndent(v1, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, manifestName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		os.Remove(filepath.Join(dir, f.Name))
	}
}
