// Package ui renders what people read: tables, key/value blocks, status
// words. It is the only importer of lipgloss. Callers say what a thing is
// (a success, a warning, a heading); the theme decides how it looks. With
// colour off the output is plain, aligned text that pipes and diffs well.
package ui

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Printer writes styled text to one stream.
type Printer struct {
	w     io.Writer
	color bool
	r     *lipgloss.Renderer
	// width is the terminal width tables fit in; 0 means no limit.
	width int
	// own lists the escape sequences of this Printer's styles: the only
	// ones let through to the terminal; every other one is shown escaped.
	own []string
}

// palette is every foreground and weight the Printer styles with.
var palette = []struct {
	fg   string
	bold bool
}{{"42", true}, {"214", true}, {"196", true}, {"75", true}, {"245", false}, {"110", false}}

// New returns a Printer. The renderer is told the colour profile and the
// background up front, so lipgloss never queries the terminal (a query that
// costs a round trip and can hang on some terminals).
func New(w io.Writer, color bool) *Printer {
	p := &Printer{w: w, color: color}
	if color {
		p.r = lipgloss.NewRenderer(w)
		p.r.SetColorProfile(termenv.ANSI256)
		p.r.SetHasDarkBackground(true)
		for _, c := range palette {
			styled := p.style(c.fg, c.bold)("x")
			pre, post, _ := strings.Cut(styled, "x")
			p.own = append(p.own, pre, post)
		}
	}
	return p
}

// clean is what every write of the Printer goes through.
func (p *Printer) clean(s string) string { return sanitize(s, p.own, true) }

// cell is clean for one-line values: table cells and key/value pairs.
func (p *Printer) cell(s string) string { return sanitize(s, p.own, false) }

func (p *Printer) style(fg string, bold bool) func(string) string {
	if !p.color {
		return func(s string) string { return s }
	}
	st := p.r.NewStyle().Foreground(lipgloss.Color(fg)).Bold(bold)
	return func(s string) string { return st.Render(s) }
}

// Success marks a good outcome ("revoked", "verified").
func (p *Printer) Success(s string) string { return p.style("42", true)(s) }

// Warning marks something the user should read ("plaintext store").
func (p *Printer) Warning(s string) string { return p.style("214", true)(s) }

// Failure marks a bad outcome.
func (p *Printer) Failure(s string) string { return p.style("196", true)(s) }

// Heading marks a section title.
func (p *Printer) Heading(s string) string { return p.style("75", true)(s) }

// Dim marks secondary detail.
func (p *Printer) Dim(s string) string { return p.style("245", false)(s) }

// Key marks the key of a key/value line.
func (p *Printer) Key(s string) string { return p.style("110", false)(s) }

// Printf writes formatted text.
func (p *Printer) Printf(format string, args ...any) {
	io.WriteString(p.w, p.clean(fmt.Sprintf(format, args...)))
}

// Println writes a line.
func (p *Printer) Println(args ...any) { io.WriteString(p.w, p.clean(fmt.Sprintln(args...))) }

// Pair is one key/value line.
type Pair struct{ Key, Value string }

// KeyValues writes aligned "key  value" lines.
func (p *Printer) KeyValues(pairs []Pair) {
	pairs = append([]Pair(nil), pairs...)
	for i := range pairs {
		pairs[i] = Pair{Key: p.cell(pairs[i].Key), Value: p.cell(pairs[i].Value)}
	}
	width := 0
	for _, kv := range pairs {
		if len(kv.Key) > width {
			width = len(kv.Key)
		}
	}
	for _, kv := range pairs {
		pad := strings.Repeat(" ", width-len(kv.Key))
		fmt.Fprintf(p.w, "  %s%s  %s\n", p.Key(kv.Key), pad, kv.Value)
	}
}

// Table writes rows under headers, aligned. Cells are plain strings; style
// them with the Printer's methods before passing them in only when colour
// is off, since escape codes upset alignment. With a width (WithWidth,
// ForStdout) the table is fitted to it, wrapping the widest columns.
func (p *Printer) Table(headers []string, rows [][]string) {
	headers = p.cells(headers)
	clean := make([][]string, len(rows))
	for i, r := range rows {
		clean[i] = p.cells(r)
	}
	rows = clean
	if fitted, ok := fitTable(headers, rows, p.width); ok {
		// Render the fitted rows on a copy of the Printer, then drop the
		// trailing blanks tabwriter pads the empty cells of continuation
		// rows into.
		var buf bytes.Buffer
		plain := *p
		plain.w, plain.width = &buf, 0
		plain.Table(headers, fitted)
		for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
			fmt.Fprintln(p.w, strings.TrimRight(l, " "))
		}
		return
	}
	if p.color {
		p.colorTable(headers, rows)
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func (p *Printer) cells(r []string) []string {
	out := make([]string, len(r))
	for i, c := range r {
		out[i] = p.cell(c)
	}
	return out
}

func (p *Printer) colorTable(headers []string, rows [][]string) {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = lipgloss.Width(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) && lipgloss.Width(c) > widths[i] {
				widths[i] = lipgloss.Width(c)
			}
		}
	}
	head := p.r.NewStyle().Bold(true).Foreground(lipgloss.Color("75"))
	line := func(cells []string, st *lipgloss.Style) string {
		parts := make([]string, len(cells))
		for i, c := range cells {
			w := 0
			if i < len(widths) {
				w = widths[i]
			}
			pad := strings.Repeat(" ", max(0, w-lipgloss.Width(c)))
			if st != nil {
				c = st.Render(c)
			}
			parts[i] = c + pad
		}
		return strings.TrimRight(strings.Join(parts, "  "), " ")
	}
	fmt.Fprintln(p.w, line(headers, &head))
	for _, r := range rows {
		fmt.Fprintln(p.w, line(r, nil))
	}
}
