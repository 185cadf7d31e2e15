package casefile

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/trailhound/trailhound/internal/safetext"
)

// visible makes control, bidi and zero-width characters visible (safetext.Printable), so
// attacker text cannot move the cursor, recolour the terminal or reorder what the reader sees.
func visible(s string) string { return safetext.Printable(s) }

// mdCell escapes a value for a Markdown table cell: Markdown and HTML syntax is
// backslash-escaped, pipes cannot end the cell, and a cell a spreadsheet would take for a
// formula (= + - @ at the start) is prefixed with a quote.
func mdCell(s string) string {
	s = safetext.Cell(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]<>()#+!|~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

type textWriter struct {
	w     io.Writer
	width int // columns every line fits in; 0: no limit
	err   error
	// color allows SGR sequences (dim rows) of trailhound's own.
	color bool
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textWriter) heading(title string) {
	t.printf("\n")
	for _, l := range wrapText("== "+title+" ==", t.width, "   ") {
		t.printf("%s\n", l)
	}
	t.printf("\n")
}

func (t *textWriter) para(format string, args ...any) {
	for _, l := range wrapText(visible(fmt.Sprintf(format, args...)), t.width, "") {
		t.printf("%s\n", l)
	}
	t.printf("\n")
}

// Text table widths, in columns.
const (
	maxCell = 60 // the widest a cell is shown
	minCell = 20 // the narrowest a column is squeezed to before the table is laid out as records
	cellSep = "  "
)

// table writes an aligned table. When the width cannot hold it, the widest columns are
// narrowed (cells cut with "…"), none below its header or minCell (a time, an account id
// and most names stay whole); when even that does not
// fit (the ATT&CK matrix has a column per tactic), each row is written as a record
// instead: its "header: value" pairs on one wrapped line.
func (t *textWriter) table(header []string, rows [][]string) { t.tableDim(header, rows, nil) }

// tableDim writes a table (as table does) whose rows with dim set are greyed: SGR faint when
// color is on; their attribution column says why either way.
func (t *textWriter) tableDim(header []string, rows [][]string, dim []bool) {
	if len(rows) == 0 {
		t.printf("(none)\n\n")
		return
	}
	all := append([][]string{header}, rows...)
	width := make([]int, len(header))
	for _, row := range all {
		for i, c := range row {
			if i < len(width) {
				width[i] = max(width[i], min(maxCell, textWidth(visible(c))))
			}
		}
	}
	total := func() int {
		n := len(cellSep) * (len(width) - 1)
		for _, w := range width {
			n += w
		}
		return n
	}
	floor := make([]int, len(header))
	for i, h := range header {
		floor[i] = min(width[i], max(minCell, textWidth(visible(h))))
	}
	for t.width > 0 && total() > t.width {
		widest := -1
		for i, w := range width {
			if w > floor[i] && (widest < 0 || w > width[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			t.records(header, rows)
			return
		}
		width[widest]--
	}
	for n, row := range all {
		var parts []string
		for i, c := range row {
			if i < len(width) {
				c = cut(visible(c), width[i])
				parts = append(parts, c+strings.Repeat(" ", width[i]-textWidth(c)))
			}
		}
		line := strings.TrimRight(strings.Join(parts, cellSep), " ")
		if n == 0 && strings.TrimSpace(line) == "" {
			continue
		}
		if n > 0 && n-1 < len(dim) && dim[n-1] && t.color {
			line = "\x1b[2m" + line + "\x1b[0m"
		}
		t.printf("%s\n", line)
	}
	t.printf("\n")
}

// records writes each row as one wrapped line of "header: value" pairs, empty cells left
// out, continuation lines indented.
func (t *textWriter) records(header []string, rows [][]string) {
	for _, row := range rows {
		var pairs []string
		for i, c := range row {
			if i < len(header) && strings.TrimSpace(c) != "" {
				pairs = append(pairs, visible(header[i])+": "+visible(c))
			}
		}
		for _, l := range wrapText(strings.Join(pairs, cellSep), t.width, "    ") {
			t.printf("%s\n", l)
		}
	}
	t.printf("\n")
}

func (t *textWriter) code(_, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		// Commands are wrapped, never cut: a reviewer must see all of each.
		for _, l := range wrapText(visible(line), t.width, "    ") {
			t.printf("%s\n", l)
		}
	}
	t.printf("\n")
}

// textWidth is the number of terminal columns of a visible string (one per rune).
func textWidth(s string) int { return utf8.RuneCountInString(s) }

// cut shortens s to w columns, ending with "…" when cut.
func cut(s string, w int) string {
	if textWidth(s) <= w {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:max(0, w-1)]), " ") + "…"
}

// wrapText breaks s into lines of at most width columns, at spaces where it can, the lines
// after the first starting with indent; width 0 leaves s whole.
func wrapText(s string, width int, indent string) []string {
	if width <= 0 || textWidth(s) <= width {
		return []string{s}
	}
	var lines []string
	prefix := ""
	for {
		avail := max(1, width-textWidth(prefix))
		r := []rune(s)
		if len(r) <= avail {
			lines = append(lines, prefix+s)
			return lines
		}
		// Break between two-space separated fields where one ends in the second half of
		// the line, else at a space, else anywhere.
		at := avail
		for i := avail; i > avail/2; i-- {
			if r[i] == ' ' && r[i-1] == ' ' {
				at = i
				break
			}
		}
		if at == avail {
			for i := avail; i > avail/2; i-- {
				if r[i] == ' ' {
					at = i
					break
				}
			}
		}
		lines = append(lines, prefix+strings.TrimRight(string(r[:at]), " "))
		s = strings.TrimLeft(string(r[at:]), " ")
		prefix = indent
		if s == "" {
			return lines
		}
	}
}

type mdWriter struct {
	w   io.Writer
	err error
}

func (m *mdWriter) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

func (m *mdWriter) heading(title string) { m.printf("## %s\n\n", title) }

func (m *mdWriter) para(format string, args ...any) {
	m.printf("%s\n\n", mdCell(fmt.Sprintf(format, args...)))
}

func (m *mdWriter) table(header []string, rows [][]string) { m.tableDim(header, rows, nil) }

// tableDim writes a table whose rows with dim set are in italics (greyed in most renderers'
// eyes; their attribution column says why).
func (m *mdWriter) tableDim(header []string, rows [][]string, dim []bool) {
	if len(rows) == 0 {
		m.printf("_None._\n\n")
		return
	}
	esc := func(row []string, italic bool) string {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = mdCell(c)
			if italic && out[i] != "" {
				out[i] = "_" + out[i] + "_"
			}
		}
		return "| " + strings.Join(out, " | ") + " |"
	}
	m.printf("%s\n|%s\n", esc(header, false), strings.Repeat("---|", len(header)))
	for i, r := range rows {
		m.printf("%s\n", esc(r, i < len(dim) && dim[i]))
	}
	m.printf("\n")
}

// code writes a fenced block; the fence is longer than any backtick run in the text, so the
// text cannot close it.
func (m *mdWriter) code(lang, text string) {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(visible(line))
		b.WriteByte('\n')
	}
	m.printf("%s%s\n%s%s\n\n", fence, lang, b.String(), fence)
}
