package casefile

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// TestWriteCSV: the report's tables, each row led by its section; attacker text never
// starts a cell as a formula nor carries control characters; the timeline holds every
// event when asked for all.
func TestWriteCSV(t *testing.T) {
	c := sampleCase()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, c, Options{TimelineLimit: -1}); err != nil {
		t.Fatal(err)
	}
	golden(t, "case.csv.golden", buf.Bytes())
	r := csv.NewReader(bytes.NewReader(buf.Bytes()))
	r.FieldsPerRecord = -1 // each table has its own columns
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]int{}
	for i, row := range rows {
		sections[row[0]]++
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("row %d: cell %q would run as a formula", i+1, cell)
			}
			if strings.ContainsAny(cell, "\x1b\u202e\n\r") {
				t.Errorf("row %d: cell %q carries a control or bidi character", i+1, cell)
			}
		}
	}
	for section, want := range map[string]int{"Identities": 2, "Timeline": 4, "Resources created or changed": 2, "Signals": 1} {
		if sections[section] != want {
			t.Errorf("section %q: %d rows, want %d (all: %v)", section, sections[section], want, sections)
		}
	}
	if !strings.Contains(buf.String(), `'=HYPERLINK(`) {
		t.Error("the attacker's formula is not shown as text")
	}
}
