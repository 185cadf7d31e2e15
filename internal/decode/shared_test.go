package decode

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/shareddata"
)

// sharedData returns the folder of third-party CloudTrail data next to the module, or skips.
func sharedData(t testing.TB) string { return shareddata.Dir(t, "data", "cloudtrail") }

// dataFiles lists the log files under dir (README and LICENSE files left out).
func dataFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasSuffix(path, ".md") && !strings.HasSuffix(path, ".txt") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDecodeSharedData(t *testing.T) {
	data := sharedData(t)
	tests := []struct {
		dir       string
		files     int
		events    int
		rejected  map[Reason]int
		formats   map[Format]int
		gzipFiles int
		sqlTimes  int // eventTime in the SQL-export form, rewritten
	}{
		// The two bedrock files (from a pull request) carry CloudTrail Lake's time form.
		{dir: "stratus-red-team-detonation-logs", files: 37, events: 312,
			formats: map[Format]int{FormatArray: 35, FormatObject: 2}, sqlTimes: 2},
		{dir: "grycap-cloudtrail-tracker", files: 687, events: 6188, gzipFiles: 687,
			formats: map[Format]int{FormatRecords: 687}},
		// Each line is a wrapper {"rule_id", ..., "event": {...}}: not an event itself.
		{dir: "panther-analysis-rule-tests/cloudtrail_rule_tests.jsonl", files: 1, events: 0,
			rejected: map[Reason]int{ReasonNotEvent: 537}, formats: map[Format]int{FormatJSONLines: 1}},
		{dir: "panther-analysis-rule-tests/scenarios", files: 4, events: 27,
			formats: map[Format]int{FormatJSONLines: 4}},
	}
	d := New(Options{})
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			files := dataFiles(t, filepath.Join(data, tc.dir))
			if len(files) != tc.files {
				t.Errorf("%d files, want %d", len(files), tc.files)
			}
			var total Stats
			formats := map[Format]int{}
			gzipFiles := 0
			for _, path := range files {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				c := &collector{t: t}
				st, err := d.Decode(context.Background(), path, f, c)
				f.Close()
				if err != nil {
					t.Fatalf("Decode %s: %v", path, err)
				}
				checkInvariant(t, st, c.recs)
				total.Add(st)
				formats[st.Format]++
				if st.Gzip {
					gzipFiles++
				}
				for _, r := range c.rej {
					if r.Reason == ReasonNotEvent && !strings.Contains(r.Detail, "wrapper") {
						t.Errorf("%v: detail %q does not mention the wrapper", r.Pos, r.Detail)
					}
				}
			}
			if total.Events != tc.events {
				t.Errorf("events = %d, want %d", total.Events, tc.events)
			}
			if total.EventTimeRewritten != tc.sqlTimes || total.TimedByTimestamp != 0 {
				t.Errorf("eventTime rewritten, timed by @timestamp = %d, %d; want %d, 0", total.EventTimeRewritten, total.TimedByTimestamp, tc.sqlTimes)
			}
			if got, want := len(total.ByReason), len(tc.rejected); got != want || total.Rejected != sum(tc.rejected) {
				t.Errorf("rejections = %v, want %v", total.ByReason, tc.rejected)
			}
			for r, n := range tc.rejected {
				if total.ByReason[r] != n {
					t.Errorf("rejections = %v, want %v", total.ByReason, tc.rejected)
				}
			}
			for f, n := range tc.formats {
				if formats[f] != n {
					t.Errorf("formats = %v, want %v", formats, tc.formats)
				}
			}
			if gzipFiles != tc.gzipFiles {
				t.Errorf("gzip files = %d, want %d", gzipFiles, tc.gzipFiles)
			}
		})
	}
}

func sum(m map[Reason]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
