package source

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter narrows a run to the events of some accounts and regions in an event-time range.
// It is applied twice: to the listing (folders and keys of the CloudTrail layout that cannot
// hold a wanted event are not listed or read: PathExcluded, NameExcluded) and to every event
// read (Event), so that inputs outside the layout — JSON Lines, a renamed file — are filtered
// as well. The zero Filter keeps everything.
//
// The layouts understood are those CloudTrail writes to S3, for a trail and for an
// organization trail:
//
//	AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<id>.json.gz
//	AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/...
//
// A day folder holds the files delivered that day (UTC), whose events are at most a few
// minutes older than the file's own time, and more in rare late deliveries: a folder or
// file is left out only when even DeliverySlack of late delivery could not bring a wanted
// event into it.
type Filter struct {
	// Since and Until bound the event time: Since <= eventTime < Until. A zero value is
	// unbounded.
	Since, Until time.Time
	// Accounts and Regions, when not empty, are the recipient accounts and the regions kept.
	Accounts, Regions []string
}

// DeliverySlack is how long after an event CloudTrail may deliver the file holding it, for
// pruning by the time in folder and file names. CloudTrail delivers within about 5 minutes on
// average and gives no bound; a day keeps rare late deliveries in, at the cost of listing one
// more day folder after Until.
const DeliverySlack = 24 * time.Hour

// IsZero reports whether the filter keeps everything.
func (f Filter) IsZero() bool {
	return f.Since.IsZero() && f.Until.IsZero() && len(f.Accounts) == 0 && len(f.Regions) == 0
}

// Validate reports a filter that can keep nothing.
func (f Filter) Validate() error {
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return fmt.Errorf("--since %s is not before --until %s", f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	return nil
}

// Event reports whether an event of this recipient account and region at time t is kept.
// An event without a time is kept only when no time bound is set.
func (f Filter) Event(account, region string, t time.Time) bool {
	if len(f.Accounts) > 0 && !slices.Contains(f.Accounts, account) {
		return false
	}
	if len(f.Regions) > 0 && !slices.Contains(f.Regions, region) {
		return false
	}
	if t.IsZero() {
		return f.Since.IsZero() && f.Until.IsZero()
	}
	if !f.Since.IsZero() && t.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !t.Before(f.Until) {
		return false
	}
	return true
}

// TrailPath is what the CloudTrail layout says about a folder or key: the fields known so
// far from its components (empty or zero when not reached, or not in the layout).
type TrailPath struct {
	// Prefix is the path up to and including the AWSLogs component ("" when absent).
	Prefix string
	// OrgID is set for organization trails.
	OrgID, Account, Region string
	// Year, Month and Day are 0 until their folder is reached.
	Year, Month, Day int
	// Digest is set under a CloudTrail-Digest folder.
	Digest bool
}

// ParseTrailPath reads the CloudTrail layout from a slash-separated path (an S3 key or
// prefix, or a local path with forward slashes): what follows its last AWSLogs component.
// ok is false when the path has no AWSLogs component or does not follow the layout after it.
func ParseTrailPath(p string) (tp TrailPath, ok bool) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	i := -1
	for j, c := range parts {
		if c == "AWSLogs" {
			i = j
		}
	}
	if i < 0 {
		return tp, false
	}
	tp.Prefix = strings.Join(parts[:i+1], "/") + "/"
	rest := parts[i+1:]
	if len(rest) > 0 && isOrgID(rest[0]) {
		tp.OrgID, rest = rest[0], rest[1:]
	}
	if len(rest) == 0 {
		return tp, true
	}
	if !isAccount(rest[0]) {
		return tp, false
	}
	tp.Account, rest = rest[0], rest[1:]
	if len(rest) == 0 {
		return tp, true
	}
	switch rest[0] {
	case "CloudTrail":
	case "CloudTrail-Digest":
		tp.Digest = true
	default:
		return tp, false
	}
	rest = rest[1:]
	if len(rest) == 0 {
		return tp, true
	}
	tp.Region, rest = rest[0], rest[1:]
	for k, width := range []int{4, 2, 2} {
		if len(rest) == 0 {
			return tp, true
		}
		n, err := strconv.Atoi(rest[0])
		if err != nil || len(rest[0]) != width || n <= 0 {
			return tp, false
		}
		switch k {
		case 0:
			tp.Year = n
		case 1:
			tp.Month = n
		case 2:
			tp.Day = n
		}
		rest = rest[1:]
	}
	return tp, true
}

// DayFolder reports whether the path reached a day folder (or a file inside one).
func (tp TrailPath) DayFolder() bool { return tp.Day > 0 }

// span is the event-time range [from, to) a folder's date covers, before slack.
func (tp TrailPath) span() (from, to time.Time, ok bool) {
	switch {
	case tp.Day > 0:
		from = time.Date(tp.Year, time.Month(tp.Month), tp.Day, 0, 0, 0, 0, time.UTC)
		to = from.AddDate(0, 0, 1)
	case tp.Month > 0:
		from = time.Date(tp.Year, time.Month(tp.Month), 1, 0, 0, 0, 0, time.UTC)
		to = from.AddDate(0, 1, 0)
	case tp.Year > 0:
		from = time.Date(tp.Year, 1, 1, 0, 0, 0, 0, time.UTC)
		to = from.AddDate(1, 0, 0)
	default:
		return from, to, false
	}
	return from, to, true
}

// PathExcluded reports whether no event the filter keeps can be in the files under the
// folder p (slash-separated): its account or region is filtered out, or its dates are out of
// range even allowing DeliverySlack.
func (f Filter) PathExcluded(p string) bool {
	if f.IsZero() {
		return false
	}
	tp, ok := ParseTrailPath(p)
	if !ok {
		return false
	}
	if tp.Account != "" && len(f.Accounts) > 0 && !slices.Contains(f.Accounts, tp.Account) {
		return true
	}
	if tp.Region != "" && len(f.Regions) > 0 && !slices.Contains(f.Regions, tp.Region) {
		return true
	}
	if from, to, ok := tp.span(); ok {
		// A file delivered in [from, to) holds events before to, and after from minus the slack.
		if !f.Since.IsZero() && !to.After(f.Since) {
			return true
		}
		if !f.Until.IsZero() && !from.Add(-DeliverySlack).Before(f.Until) {
			return true
		}
	}
	return false
}

// NameExcluded reports whether the CloudTrail log file name (the last path component, as
// CloudTrail writes it: <account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<id>.json.gz) says that
// no event the filter keeps can be in it. Names of other forms are never excluded.
func (f Filter) NameExcluded(name string) bool {
	if f.IsZero() {
		return false
	}
	parts := strings.Split(path.Base(name), "_")
	if len(parts) < 5 || parts[1] != "CloudTrail" || !isAccount(parts[0]) {
		return false
	}
	if len(f.Accounts) > 0 && !slices.Contains(f.Accounts, parts[0]) {
		return true
	}
	if len(f.Regions) > 0 && !slices.Contains(f.Regions, parts[2]) {
		return true
	}
	t, err := time.Parse("20060102T1504Z", parts[3])
	if err != nil {
		return false
	}
	// The file was written at t (to the minute), after its events.
	if !f.Since.IsZero() && t.Add(time.Minute).Before(f.Since) {
		return true
	}
	if !f.Until.IsZero() && !t.Add(-DeliverySlack).Before(f.Until) {
		return true
	}
	return false
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isOrgID reports whether s is an AWS Organizations id (o- and 10 to 32 lower-case letters
// or digits).
func isOrgID(s string) bool {
	if !strings.HasPrefix(s, "o-") || len(s) < 12 || len(s) > 34 {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ParseTime reads a time bound as a user writes it: RFC 3339 ("2024-03-10T12:00:00Z"), a
// date ("2024-03-10", midnight UTC), a date and minutes ("2024-03-10T12:00", UTC), or a
// duration back from now ("90m", "24h", "7d").
func ParseTime(s string, now time.Time) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 {
			return now.Add(-time.Duration(days) * 24 * time.Hour).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want 2024-03-10, 2024-03-10T12:00:00Z, or a duration back from now such as 24h or 7d)", s)
}
