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
	w   io.Writer
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textWriter) heading(title string) {
	t.printf("\n== %s ==\n\n", title)
}

func (t *textWriter) para(format string, args ...any) {
	t.printf("%s\n\n", visible(fmt.Sprintf(format, args...)))
}

func (t *textWriter) table(header []string, rows [][]string) {
	if len(rows) == 0 {
		t.printf("(none)\n\n")
		return
	}
	width := make([]int, len(header))
	cell := func(s string) string {
		s = visible(s)
		if utf8.RuneCountInString(s) > 60 {
			r := []rune(s)
			s = string(r[:59]) + "…"
		}
		return s
	}
	all := append([][]string{header}, rows...)
	for _, row := range all {
		for i, c := range row {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(cell(c)))
			}
		}
	}
	for n, row := range all {
		var parts []string
		for i, c := range row {
			if i < len(width) {
				c = cell(c)
				parts = append(parts, c+strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
			}
		}
		line := strings.TrimRight(strings.Join(parts, "  "), " ")
		if n == 0 && strings.TrimSpace(line) == "" {
			continue
		}
		t.printf("%s\n", line)
	}
	t.printf("\n")
}

func (t *textWriter) code(_, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		t.printf("%s\n", visible(line))
	}
	t.printf("\n")
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

func (m *mdWriter) table(header []string, rows [][]string) {
	if len(rows) == 0 {
		m.printf("_None._\n\n")
		return
	}
	esc := func(row []string) string {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = mdCell(c)
		}
		return "| " + strings.Join(out, " | ") + " |"
	}
	m.printf("%s\n|%s\n", esc(header), strings.Repeat("---|", len(header)))
	for _, r := range rows {
		m.printf("%s\n", esc(r))
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
