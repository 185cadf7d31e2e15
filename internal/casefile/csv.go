package casefile

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/trailhound/trailhound/internal/safetext"
)

// WriteCSV writes the report's tables as one CSV document (RFC 4180) for a spreadsheet:
// each table's header row and then its rows, every row led by the name of its section
// ("Identities", "Timeline", ...) so that one sheet can be filtered by section. Sections
// without a table (notes, the remediation script: --plan writes it) are left out. Every
// cell goes through safetext.Cell: attacker-chosen text never runs as a formula nor
// carries control characters.
func WriteCSV(w io.Writer, c Case, opts Options) error {
	cw := &csvWriter{w: csv.NewWriter(w)}
	render(cw, c, opts)
	cw.w.Flush()
	if cw.err == nil {
		cw.err = cw.w.Error()
	}
	if cw.err != nil {
		return fmt.Errorf("writing the report as CSV: %w", cw.err)
	}
	return nil
}

type csvWriter struct {
	w       *csv.Writer
	section string
	err     error
}

func (c *csvWriter) heading(title string) { c.section = title }
func (c *csvWriter) para(string, ...any)  {}
func (c *csvWriter) code(string, string)  {}

// tableDim is table: the attribution column says which rows are the owners'.
func (c *csvWriter) tableDim(header []string, rows [][]string, _ []bool) { c.table(header, rows) }

func (c *csvWriter) table(header []string, rows [][]string) {
	c.row("section", header)
	for _, r := range rows {
		c.row(c.section, r)
	}
}

func (c *csvWriter) row(first string, cells []string) {
	if c.err != nil {
		return
	}
	rec := make([]string, 0, len(cells)+1)
	rec = append(rec, safetext.Cell(first))
	for _, cell := range cells {
		rec = append(rec, safetext.Cell(cell))
	}
	c.err = c.w.Write(rec)
}
