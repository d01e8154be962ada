package ui

import (
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/idpctl/idpctl/internal/iostreams"
)

// columnGap is the space between two columns, as Table writes them.
const columnGap = 2

// minColumn is the narrowest a shrunk column gets (unless its header is
// wider): narrower, a wrapped cell becomes a column of fragments.
const minColumn = 8

// maxWordFloor bounds how wide a column stays so that its longest word (an
// e-mail address, an ID, a timestamp's date) is not broken.
const maxWordFloor = 24

// ForStdout returns a Printer for the command's stdout: colour when it is a
// terminal, and tables fitted to the terminal's width (see
// iostreams.TerminalWidth).
func ForStdout(ios *iostreams.IOStreams) *Printer {
	return New(ios.Out, ios.ColorEnabled()).WithWidth(ios.TerminalWidth())
}

// WithWidth makes Table fit its output in width cells; 0 means no limit.
func (p *Printer) WithWidth(width int) *Printer {
	p.width = max(width, 0)
	return p
}

// fitTable lays rows out within width cells, as gh and kubectl keep tables
// readable in a terminal: when the columns do not fit side by side, the
// widest columns give way first (every column keeps at least its header's
// width, or minColumn) and their cells wrap onto continuation rows, at
// spaces where possible. Wrapping rather than truncating keeps every value
// whole: the request ID or detail of an audit entry is what its reader
// came for. It returns the rows unchanged, and false, when they fit, when
// width is 0 (no limit), or when even the narrowest layout cannot fit.
func fitTable(headers []string, rows [][]string, width int) ([][]string, bool) {
	n := len(headers)
	if width <= 0 || n == 0 {
		return rows, false
	}
	natural := make([]int, n)
	word := make([]int, n)
	for i, h := range headers {
		natural[i] = ansi.StringWidth(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < n {
				natural[i] = max(natural[i], ansi.StringWidth(c))
				for _, w := range strings.Fields(ansi.Strip(c)) {
					word[i] = max(word[i], ansi.StringWidth(w))
				}
			}
		}
	}
	avail := width - columnGap*(n-1)
	if sum(natural) <= avail {
		return rows, false
	}
	// Each column keeps its header whole and, as far as the width allows,
	// its longest word, so that words break only when nothing else fits.
	floor := make([]int, n)
	for k := maxWordFloor; ; k-- {
		for i, h := range headers {
			floor[i] = min(natural[i], max(ansi.StringWidth(h), min(word[i], k), minColumn))
		}
		if sum(floor) <= avail || k <= minColumn {
			break
		}
	}
	if sum(floor) > avail {
		// Nothing readable fits; leave the lines long for the terminal
		// to wrap rather than shredding every cell.
		return rows, false
	}
	// The largest cap on column widths under which the table fits; the
	// cells left over go to the capped columns, left to right.
	limits := make([]int, n)
	capped := func(c int) int {
		total := 0
		for i := range limits {
			limits[i] = max(floor[i], min(natural[i], c))
			total += limits[i]
		}
		return total
	}
	c := maxOf(natural)
	for c > 0 && capped(c) > avail {
		c--
	}
	// The cells left over go first to the columns they make whole (a
	// timestamp one cell short of fitting), then one each, left to right.
	spare := avail - capped(c)
	order := make([]int, 0, n)
	for i := range limits {
		if limits[i] < natural[i] {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		return natural[order[a]]-limits[order[a]] < natural[order[b]]-limits[order[b]]
	})
	for _, i := range order {
		if need := natural[i] - limits[i]; need <= spare {
			limits[i] += need
			spare -= need
		}
	}
	for _, i := range order {
		if spare > 0 && limits[i] < natural[i] {
			limits[i]++
			spare--
		}
	}

	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		cells := make([][]string, len(r))
		lines := 1
		for i, c := range r {
			if i < n && ansi.StringWidth(c) > limits[i] {
				cells[i] = wrapCell(c, limits[i])
			} else {
				cells[i] = []string{c}
			}
			lines = max(lines, len(cells[i]))
		}
		for l := 0; l < lines; l++ {
			row := make([]string, len(r))
			for i := range r {
				if l < len(cells[i]) {
					row[i] = strings.TrimRight(cells[i][l], " ")
				}
			}
			out = append(out, row)
		}
	}
	return out, true
}

// wrapCell breaks a cell into lines of at most limit cells: at spaces
// where it can, inside a word (an ID, a URL) where it must.
func wrapCell(c string, limit int) []string {
	var lines []string
	for _, l := range strings.Split(ansi.Wrap(c, limit, ""), "\n") {
		if ansi.StringWidth(l) > limit {
			l = ansi.Hardwrap(l, limit, false)
		}
		lines = append(lines, strings.Split(l, "\n")...)
	}
	return lines
}

func sum(v []int) int {
	t := 0
	for _, x := range v {
		t += x
	}
	return t
}

func maxOf(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
