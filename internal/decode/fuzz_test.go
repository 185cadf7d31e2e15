package decode

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecode checks that no input makes Decode panic or lose a record, that every event it
// hands over has an RFC 3339 eventTime in its value and its raw text (the collector checks
// each), and that the result does not depend on how the input is cut into reads.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"events.jsonl", "digest.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(gz(f, b), true)
	}
	evs := testEvents(f)
	f.Add(join(s(`{"x":1,"Records":[`), evs[0], s(`,1,"a",`), evs[1], s("]}")), false)
	f.Add(join(s("["), evs[2], s(",{\"eventName\":\"x\\\""), s("]")), true)
	f.Add(join(s(bom), evs[1], s("\r\n\r\n"), evs[2]), false)
	f.Add(gz(f, join(s(`{"Records":[`), evs[0]), s(`]}`)), false)
	f.Add(s("{\n \"eventName\": \"a\"\n}\n{\"eventName\":\"b\"}"), false)
	f.Add(s(`{"eventName":"a","@timestamp":"2026-11-20T09:12:44.5Z"}`+"\n"+`{"eventName":"b","eventTime":"2025-03-26 16:43:57.000"}`+"\n"+`{"eventName":"c","eventTime":7,"@timestamp":null}`), false)
	f.Add(join(s(`{"detail-type":"AWS API Call via CloudTrail","detail":`), evs[1], s("}\n{\"detail-type\":\"x via CloudTrail\",\"detail\":[]}\n")), false)
	if data, ok := sharedDataDir(); ok {
		for _, p := range []string{
			"stratus-red-team-detonation-logs/aws.persistence.iam-create-admin-user.json",
			"stratus-red-team-detonation-logs/aws.defense-evasion.bedrock-guardrail-delete.json",
			"panther-analysis-rule-tests/scenarios/compromised-root-creds__attacker_cloudtrail.jsonl",
		} {
			if b, err := os.ReadFile(filepath.Join(data, p)); err == nil {
				f.Add(b, false)
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, small bool) {
		opts := Options{}
		if small {
			opts.MaxEventBytes = 64
		}
		st1, recs1, _ := decodeAll(t, New(opts), bytes.NewReader(in))
		st2, recs2, _ := decodeAll(t, New(opts), iotest.OneByteReader(bytes.NewReader(in)))
		if st1.Read != st2.Read || st1.Events != st2.Events || st1.Format != st2.Format {
			t.Errorf("whole read: %+v; one byte at a time: %+v", st1, st2)
		}
		if diff := cmp.Diff(recs1, recs2); diff != "" {
			t.Errorf("records differ (-whole +one byte):\n%s", diff)
		}
	})
}

// sharedDataDir is sharedData for a fuzz seed corpus: absent data is no reason to skip.
func sharedDataDir() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			data := filepath.Join(dir, "..", "shared", "data", "cloudtrail")
			_, err := os.Stat(data)
			return data, err == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
