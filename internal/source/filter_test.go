package source

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseTrailPath(t *testing.T) {
	tests := []struct {
		in     string
		want   TrailPath
		wantOK bool
	}{
		{"AWSLogs/", TrailPath{Prefix: "AWSLogs/"}, true},
		{"x/AWSLogs/111122223333/", TrailPath{Prefix: "x/AWSLogs/", Account: "111122223333"}, true},
		{"AWSLogs/111122223333/CloudTrail/eu-west-1/2024/02/29/", TrailPath{Prefix: "AWSLogs/", Account: "111122223333", Region: "eu-west-1", Year: 2024, Month: 2, Day: 29}, true},
		{"AWSLogs/o-abcdef1234/111122223333/CloudTrail/us-east-1/2024/", TrailPath{Prefix: "AWSLogs/", OrgID: "o-abcdef1234", Account: "111122223333", Region: "us-east-1", Year: 2024}, true},
		{"AWSLogs/o-abcdef1234/", TrailPath{Prefix: "AWSLogs/", OrgID: "o-abcdef1234"}, true},
		{"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/", TrailPath{Prefix: "AWSLogs/", Account: "111122223333", Region: "us-east-1", Digest: true}, true},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/02/f.json.gz", TrailPath{Prefix: "AWSLogs/", Account: "111122223333", Region: "us-east-1", Year: 2024, Month: 1, Day: 2}, true},
		{"AWSLogs/notanaccount/", TrailPath{Prefix: "AWSLogs/"}, false},
		{"AWSLogs/111122223333/Config/", TrailPath{Prefix: "AWSLogs/", Account: "111122223333"}, false},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/24/", TrailPath{Prefix: "AWSLogs/", Account: "111122223333", Region: "us-east-1"}, false},
		{"logs/2024/", TrailPath{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseTrailPath(tt.in)
		if ok != tt.wantOK || got != tt.want {
			t.Errorf("ParseTrailPath(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestFilterExcluded(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }
	f := Filter{Since: day(10), Until: day(11), Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}}
	tests := []struct {
		path string
		want bool
	}{
		{"AWSLogs/", false},
		{"AWSLogs/111122223333/", false},
		{"AWSLogs/444455556666/", true},
		{"AWSLogs/o-abcdef1234/444455556666/", true},
		{"AWSLogs/o-abcdef1234/111122223333/CloudTrail/us-east-1/", false},
		{"AWSLogs/111122223333/CloudTrail/eu-west-1/", true},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2023/", true},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/", false},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/", true},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/", false},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/09/", true},  // delivered the day before: all events before Since
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/", false}, // the day itself
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/11/", false}, // late deliveries of the 10th
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/12/", true},  // more than the slack after Until
		{"elsewhere/2024/03/01/", false},
	}
	for _, tt := range tests {
		if got := f.PathExcluded(tt.path); got != tt.want {
			t.Errorf("PathExcluded(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	names := []struct {
		name string
		want bool
	}{
		{"111122223333_CloudTrail_us-east-1_20240310T0005Z_abc.json.gz", false},
		{"111122223333_CloudTrail_us-east-1_20240309T2358Z_abc.json.gz", true},
		{"111122223333_CloudTrail_us-east-1_20240309T2359Z_abc.json.gz", false}, // to the minute: events up to 23:59:59
		{"111122223333_CloudTrail_eu-west-1_20240310T0005Z_abc.json.gz", true},
		{"444455556666_CloudTrail_us-east-1_20240310T0005Z_abc.json.gz", true},
		{"111122223333_CloudTrail_us-east-1_20240311T2355Z_abc.json.gz", false},
		{"111122223333_CloudTrail_us-east-1_20240312T0000Z_abc.json.gz", true},
		{"events.jsonl", false},
		{"111122223333_CloudTrail_us-east-1_garbage_abc.json.gz", false},
	}
	for _, tt := range names {
		if got := f.NameExcluded(tt.name); got != tt.want {
			t.Errorf("NameExcluded(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
	if (Filter{}).PathExcluded("AWSLogs/444455556666/") || (Filter{}).NameExcluded("444455556666_CloudTrail_us-east-1_20240310T0005Z_abc.json.gz") {
		t.Error("the zero filter excluded something")
	}
}

func TestFilterEvent(t *testing.T) {
	at := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		f    Filter
		acct string
		reg  string
		t    time.Time
		want bool
	}{
		{Filter{}, "1", "r", time.Time{}, true},
		{Filter{Since: at}, "1", "r", at, true},
		{Filter{Since: at}, "1", "r", at.Add(-time.Nanosecond), false},
		{Filter{Until: at}, "1", "r", at, false},
		{Filter{Until: at}, "1", "r", at.Add(-time.Nanosecond), true},
		{Filter{Until: at}, "1", "r", time.Time{}, false},
		{Filter{Accounts: []string{"1", "2"}}, "2", "r", at, true},
		{Filter{Accounts: []string{"1"}}, "2", "r", at, false},
		{Filter{Regions: []string{"r"}}, "2", "r", at, true},
		{Filter{Regions: []string{"q"}}, "2", "r", at, false},
	}
	for i, tt := range tests {
		if got := tt.f.Event(tt.acct, tt.reg, tt.t); got != tt.want {
			t.Errorf("%d: %+v.Event(%q, %q, %v) = %v, want %v", i, tt.f, tt.acct, tt.reg, tt.t, got, tt.want)
		}
	}
	if err := (Filter{Since: at, Until: at}).Validate(); err == nil {
		t.Error("Validate accepted an empty range")
	}
}

// trailFile is a delivery file of a synthetic trail: its key and the times of its events.
type trailFile struct {
	key    string
	acct   string
	region string
	events []time.Time
}

// syntheticTrail makes files for two accounts (one through an organization trail) and two
// regions over days, each file delivered at most DeliverySlack after its events.
func syntheticTrail(r *rand.Rand, days int) []trailFile {
	start := time.Date(2024, 2, 27, 0, 0, 0, 0, time.UTC)
	var out []trailFile
	for _, acct := range []string{"111122223333", "444455556666"} {
		prefix := "AWSLogs/" + acct
		if acct == "444455556666" {
			prefix = "AWSLogs/o-abcdef1234/" + acct
		}
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			for h := 0; h < days*24; h += 1 + r.IntN(5) {
				delivered := start.Add(time.Duration(h)*time.Hour + time.Duration(r.IntN(3600))*time.Second).Truncate(time.Minute)
				f := trailFile{acct: acct, region: region}
				for range 1 + r.IntN(3) {
					late := time.Duration(r.Int64N(int64(15 * time.Minute)))
					if r.IntN(10) == 0 {
						late = time.Duration(r.Int64N(int64(DeliverySlack)))
					}
					f.events = append(f.events, delivered.Add(-late))
				}
				f.key = fmt.Sprintf("%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%04d.json.gz", prefix, region,
					delivered.Format("2006/01/02"), acct, region, delivered.Format("20060102T1504Z"), r.IntN(10000))
				out = append(out, f)
			}
		}
	}
	return out
}

// TestFilterNeverPrunesAWantedEvent: over random filters and a trail whose files are
// delivered up to DeliverySlack after their events, no folder or file holding an event the
// filter keeps is ever excluded.
func TestFilterNeverPrunesAWantedEvent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	files := syntheticTrail(r, 6)
	base := time.Date(2024, 2, 26, 0, 0, 0, 0, time.UTC)
	total := 0
	for i := range 300 {
		var f Filter
		if r.IntN(3) > 0 {
			f.Since = base.Add(time.Duration(r.Int64N(int64(8 * 24 * time.Hour))))
		}
		if r.IntN(3) > 0 {
			f.Until = base.Add(time.Duration(r.Int64N(int64(8 * 24 * time.Hour))))
		}
		if r.IntN(2) == 0 {
			f.Accounts = []string{"111122223333"}
		}
		if r.IntN(2) == 0 {
			f.Regions = []string{"eu-west-1"}
		}
		pruned := 0
		for _, file := range files {
			excluded := f.NameExcluded(path.Base(file.key))
			for dir := path.Dir(file.key); dir != "."; dir = path.Dir(dir) {
				excluded = excluded || f.PathExcluded(dir+"/")
			}
			wanted := false
			for _, et := range file.events {
				wanted = wanted || f.Event(file.acct, file.region, et)
			}
			if excluded && wanted {
				t.Fatalf("filter %d %+v excludes %s, which holds a kept event (%v)", i, f, file.key, file.events)
			}
			if excluded {
				pruned++
			}
		}
		if f.IsZero() && pruned > 0 {
			t.Fatalf("the zero filter pruned %d files", pruned)
		}
		total += pruned
	}
	if total < len(files) {
		t.Fatalf("300 filters pruned %d files in all: the pruning does not work", total)
	}
}

func TestFilterValidate(t *testing.T) {
	at := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	if diff := cmp.Diff(nil, Filter{Since: at, Until: at.Add(time.Hour)}.Validate()); diff != "" {
		t.Error(diff)
	}
	if (Filter{Since: at.Add(time.Hour), Until: at}).Validate() == nil {
		t.Error("Since after Until accepted")
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2024-03-01", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"2024-03-01T10:30", time.Date(2024, 3, 1, 10, 30, 0, 0, time.UTC), false},
		{"2024-03-01T10:30:00+02:00", time.Date(2024, 3, 1, 8, 30, 0, 0, time.UTC), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"7d", now.Add(-7 * 24 * time.Hour), false},
		{"-1h", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, now)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestResumeKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/111122223333_CloudTrail_us-east-1_20240310T0105Z_abc.json.gz",
			"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/111122223333_CloudTrail_us-east-1_20240310T0100Z"},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/111122223333_CloudTrail_us-east-1_20240310T0002Z_abc.json.gz",
			"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/09/111122223333_CloudTrail_us-east-1_20240309T2357Z"},
		{"other/events.jsonl", "other/events.jsonl"},
	}
	for _, tt := range tests {
		got := ResumeKey(tt.key, 5*time.Minute)
		if got != tt.want {
			t.Errorf("ResumeKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
		if got > tt.key {
			t.Errorf("ResumeKey(%q) = %q sorts after the key", tt.key, got)
		}
	}
}

// FuzzParseTrailPath: any path parses without a panic; what it reads is consistent with the
// path (the account, region and date it names appear in it), and a path excluded by a
// filter stays excluded with a slash added or a deeper folder appended.
func FuzzParseTrailPath(f *testing.F) {
	for _, s := range []string{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/", "x/AWSLogs/o-abcdef1234/111122223333/CloudTrail/eu-west-1/2024/", "AWSLogs/", "", "AWSLogs/1/CloudTrail-Digest/r/2024/01/01/f"} {
		f.Add(s)
	}
	flt := Filter{Since: time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC), Until: time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC), Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}}
	f.Fuzz(func(t *testing.T, p string) {
		tp, ok := ParseTrailPath(p)
		if !ok {
			return
		}
		for _, part := range []string{tp.Account, tp.Region, tp.OrgID} {
			if part != "" && !strings.Contains(p, part) {
				t.Fatalf("ParseTrailPath(%q) = %+v: %q is not in the path", p, tp, part)
			}
		}
		if tp.Month > 12 && tp.Day > 0 {
			// time.Date normalises; the span is still a valid range.
			if from, to, _ := tp.span(); !from.Before(to) {
				t.Fatalf("span of %+v is empty", tp)
			}
		}
		if flt.PathExcluded(p) && !strings.HasSuffix(p, "/") && !flt.PathExcluded(p+"/") {
			t.Fatalf("%q excluded, %q not", p, p+"/")
		}
	})
}

func FuzzParseS3URL(f *testing.F) {
	f.Add("s3://bucket/AWSLogs/")
	f.Add("s3://")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseS3URL(s)
		if err != nil {
			return
		}
		if u.Bucket == "" || strings.Contains(u.Bucket, "/") || u.String() != S3Scheme+u.Bucket+"/"+u.Prefix {
			t.Fatalf("ParseS3URL(%q) = %+v", s, u)
		}
	})
}
