package signal

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Table widths, in terminal columns.
const (
	// DefaultTableWidth is the width used when TableOptions.Width is 0.
	DefaultTableWidth = 80
	// MinTableWidth is the narrowest table laid out; smaller widths are raised to it.
	MinTableWidth = 24
)

// TableOptions configures WriteTable.
type TableOptions struct {
	// Width is the number of columns every line must fit in: the terminal width when known.
	// 0 means DefaultTableWidth.
	Width int
	// Color colours the level and emboldens the header with ANSI escape sequences; see
	// ColorEnabled.
	Color bool
	// Compact leaves out the indented summary line under each signal.
	Compact bool
}

// Column indexes of the table, in display order.
const (
	colLevel = iota
	colID
	colTime
	colRule
	colActor
	colAccount
	colRegion
	colCount
	numCols
)

const (
	colSep       = "  "
	summaryLines = 2 // the most lines a summary is wrapped on
)

// column describes a table column. A fixed column is as wide as its widest cell (at most
// max); a flex column (min > 0) gets at least min columns when its content needs them and
// shares what is left of the width with the other flex columns, in proportion to weight.
type column struct {
	header string
	right  bool // right-aligned
	max    int  // fixed columns: the widest a cell is shown
	min    int  // flex columns: the width below which the column is dropped instead
	weight int  // flex columns: share of the spare width
	middle bool // truncate in the middle, keeping both ends
}

// tableColumns returns the columns in display order, and the order in which they are dropped
// when the width is too small for all of them.
func tableColumns() ([numCols]column, []int) {
	cols := [numCols]column{
		colLevel:   {header: "LEVEL", max: 5},
		colID:      {header: "ID", max: IDLength},
		colTime:    {header: "FIRST SEEN (UTC)", max: 16},
		colRule:    {header: "RULE", min: 24, weight: 3},
		colActor:   {header: "ACTOR", min: 16, weight: 2, middle: true},
		colAccount: {header: "ACCOUNT", max: 12},
		colRegion:  {header: "REGION", max: 16},
		colCount:   {header: "COUNT", right: true, max: 9},
	}
	return cols, []int{colAccount, colRegion, colTime, colCount, colActor}
}

// WriteTable writes signals as an aligned table for people at a terminal, most severe first:
// a header row, then per signal one row (level, id, first seen, rule title, actor in short
// form, account, region, event count) and, unless opts.Compact or the width is too small, the
// summary on an indented second line. Every line fits in opts.Width columns: long values are
// cut with "…", and the least useful columns (account, then region, time, count, actor) are
// left out when the width cannot hold them; the id never is (it is what investigate
// --signal takes), shown as its shortest prefix of at least MinIDPrefix characters that
// no other signal of the table shares. The summary is wrapped on at most two lines. Control characters and escape sequences in the
// values are shown escaped (\x1b), never interpreted. The signals slice is not modified.
func WriteTable(w io.Writer, signals []Signal, opts TableOptions) error {
	width := opts.Width
	if width == 0 {
		width = DefaultTableWidth
	}
	width = max(width, MinTableWidth)
	sorted := slices.Clone(signals)
	Sort(sorted)

	cols, dropOrder := tableColumns()
	idLen := UniquePrefixLen(sorted, MinIDPrefix)
	cells := make([][numCols]string, len(sorted))
	for i, s := range sorted {
		cells[i] = tableCells(s)
		cells[i][colID] = dashIfEmpty(sanitize(s.ID[:min(len(s.ID), idLen)]))
	}
	widths := layout(cols, dropOrder, cells, width)

	var b strings.Builder
	var header [numCols]string
	for i, c := range cols {
		header[i] = c.header
	}
	line := renderRow(cols, widths, header, "")
	if opts.Color {
		line = sgrBold + line + sgrReset
	}
	b.WriteString(line + "\n")

	indent := widths[colLevel] + len(colSep)
	for i, s := range sorted {
		color := ""
		if opts.Color {
			color = levelColor(s.Level)
		}
		b.WriteString(renderRow(cols, widths, cells[i], color) + "\n")
		if !opts.Compact && width-indent >= 20 {
			for _, l := range wrap(sanitize(s.Summary), width-indent, summaryLines) {
				b.WriteString(strings.Repeat(" ", indent) + l + "\n")
			}
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing signal table: %w", err)
	}
	return nil
}

// MinIDPrefix is the shortest signal id prefix a table shows: 48 bits, so that a prefix
// stays unique among the hundreds of thousands of signals of a run with large rule sets.
const MinIDPrefix = 12

// UniquePrefixLen returns the shortest length, at least min, at which the ids of signals
// differ from each other (ids that are equal in full stay equal).
func UniquePrefixLen(signals []Signal, min int) int {
	ids := make([]string, len(signals))
	for i, s := range signals {
		ids[i] = s.ID
	}
	slices.Sort(ids)
	n := min
	for i := 1; i < len(ids); i++ {
		a, b := ids[i-1], ids[i]
		if a == b {
			continue
		}
		common := 0
		for common < len(a) && common < len(b) && a[common] == b[common] {
			common++
		}
		n = max(n, common+1)
	}
	return n
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tableCells returns the sanitized, untruncated cells of a signal's row.
func tableCells(s Signal) [numCols]string {
	dash := func(v string) string {
		if v == "" {
			return "-"
		}
		return sanitize(v)
	}
	var c [numCols]string
	c[colLevel] = levelLabel(s.Level)
	c[colTime] = "-"
	if !s.FirstSeen.IsZero() {
		c[colTime] = s.FirstSeen.UTC().Format("2006-01-02 15:04")
	}
	c[colRule] = dash(s.Title)
	if s.Title == "" {
		c[colRule] = dash(s.RuleID)
	}
	c[colActor] = dash(shortActor(s.Actor))
	c[colAccount] = dash(s.AccountID)
	c[colRegion] = "-"
	if len(s.Regions) > 0 {
		c[colRegion] = sanitize(s.Regions[0])
		if len(s.Regions) > 1 {
			c[colRegion] += " +" + strconv.Itoa(len(s.Regions)-1)
		}
	}
	c[colCount] = strconv.Itoa(s.EventCount)
	return c
}

// layout returns the width of each column for a table of the given width; 0 means the column
// is left out.
func layout(cols [numCols]column, dropOrder []int, cells [][numCols]string, width int) [numCols]int {
	var natural [numCols]int
	for i, c := range cols {
		natural[i] = max(natural[i], len(c.header))
		for _, row := range cells {
			natural[i] = max(natural[i], widthOf(row[i]))
		}
		if c.max > 0 {
			natural[i] = min(natural[i], c.max)
		}
	}
	kept := [numCols]bool{}
	for i := range kept {
		kept[i] = true
	}
	need := func() int {
		n, k := 0, 0
		for i, c := range cols {
			if !kept[i] {
				continue
			}
			k++
			if c.min > 0 {
				n += min(natural[i], c.min)
			} else {
				n += natural[i]
			}
		}
		return n + len(colSep)*(k-1)
	}
	for _, i := range dropOrder {
		if need() <= width {
			break
		}
		kept[i] = false
	}

	var w [numCols]int
	free := width + len(colSep)
	for i, c := range cols {
		if !kept[i] {
			continue
		}
		free -= len(colSep)
		w[i] = natural[i]
		if c.min > 0 {
			w[i] = min(natural[i], c.min)
		}
		free -= w[i]
	}
	if free < 0 { // only the level, the id and the rule are left: the rule takes what remains
		w[colRule] = max(1, w[colRule]+free)
	}
	for ; free > 0; free-- {
		best := -1
		for i, c := range cols {
			if !kept[i] || c.weight == 0 || w[i] >= natural[i] {
				continue
			}
			if best < 0 || w[i]*cols[best].weight < w[best]*c.weight {
				best = i
			}
		}
		if best < 0 {
			break
		}
		w[best]++
	}
	return w
}

// renderRow pads and truncates the cells of one row to the column widths. color, when not
// empty, is the SGR sequence the level cell is wrapped in.
func renderRow(cols [numCols]column, widths [numCols]int, cells [numCols]string, color string) string {
	last := -1
	for i := range widths {
		if widths[i] > 0 {
			last = i
		}
	}
	var b strings.Builder
	for i, c := range cols {
		if widths[i] == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(colSep)
		}
		text := cells[i]
		if c.middle {
			text = truncateMiddle(text, widths[i])
		} else {
			text = truncateEnd(text, widths[i])
		}
		pad := strings.Repeat(" ", widths[i]-widthOf(text))
		if i == colLevel && color != "" {
			text = color + text + sgrReset
		}
		switch {
		case c.right:
			b.WriteString(pad + text)
		case i == last:
			b.WriteString(text)
		default:
			b.WriteString(text + pad)
		}
	}
	return b.String()
}

// ANSI SGR sequences.
const (
	sgrReset = "\x1b[0m"
	sgrBold  = "\x1b[1m"
)

func levelColor(l Level) string {
	switch l {
	case LevelCritical:
		return "\x1b[1;31m" // bold red
	case LevelHigh:
		return "\x1b[31m" // red
	case LevelMedium:
		return "\x1b[33m" // yellow
	case LevelLow:
		return "\x1b[36m" // cyan
	}
	return ""
}

func levelLabel(l Level) string {
	switch l {
	case LevelCritical:
		return "CRIT"
	case LevelHigh:
		return "HIGH"
	case LevelMedium:
		return "MED"
	case LevelLow:
		return "LOW"
	case LevelInformational:
		return "INFO"
	}
	return "?"
}

// wrap breaks a sanitized string into lines of at most w columns, at spaces when it can,
// and cuts the last of at most maxLines lines with "…".
func wrap(s string, w, maxLines int) []string {
	var lines []string
	for len(lines) < maxLines-1 && widthOf(s) > w {
		cut, used, space := 0, 0, -1
		for i, r := range s {
			if r == ' ' {
				space = i
			}
			if used+runeWidth(r) > w {
				break
			}
			used += runeWidth(r)
			cut = i + utf8.RuneLen(r)
		}
		if space > 0 {
			lines = append(lines, strings.TrimRight(s[:space], " "))
			s = strings.TrimLeft(s[space:], " ")
			continue
		}
		if cut == 0 { // a rune wider than the line
			_, cut = utf8.DecodeRuneInString(s)
		}
		lines = append(lines, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		lines = append(lines, truncateEnd(s, w))
	}
	return lines
}
