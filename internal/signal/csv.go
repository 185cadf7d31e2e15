package signal

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/safetext"
)

// CSVHeader is the header row of WriteCSV: the keys of the JSON form, in its order, with
// event_count before event_ids.
var CSVHeader = []string{"id", "level", "first_seen", "last_seen", "rule_id", "title", "techniques", "tactics",
	"account_id", "regions", "actor", "access_key_id", "source_ips", "event_count", "event_ids", "summary"}

// WriteCSV writes signals as CSV (RFC 4180), one row per signal under CSVHeader, in the
// order given, for a spreadsheet: lists are joined with spaces, times are RFC 3339 UTC.
// Every cell goes through safetext.Cell, so a value a spreadsheet would read as a formula
// (an IAM user named "=HYPERLINK(...)") is shown as text and control characters are
// escaped.
func WriteCSV(w io.Writer, signals []Signal) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("writing signals as CSV: %w", err)
	}
	rfc3339 := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	row := make([]string, len(CSVHeader))
	for _, s := range signals {
		copy(row, []string{s.ID, s.Level.String(), rfc3339(s.FirstSeen), rfc3339(s.LastSeen), s.RuleID, s.Title,
			strings.Join(s.Techniques, " "), strings.Join(s.Tactics, " "), s.AccountID, strings.Join(s.Regions, " "),
			s.Actor, s.AccessKeyID, strings.Join(s.SourceIPs, " "), strconv.Itoa(s.EventCount), strings.Join(s.EventIDs, " "), s.Summary})
		for i := range row {
			row[i] = safetext.Cell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("writing signal %s as CSV: %w", s.ID, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing signals as CSV: %w", err)
	}
	return nil
}
