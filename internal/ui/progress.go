package ui

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// progressWidth is the bar's length in cells; with the counts it fits an
// 80-column terminal.
const progressWidth = 28

// progressEvery limits redraws: a bulk run can finish hundreds of items a
// second, and repainting a terminal that often costs more than the work.
const progressEvery = 100 * time.Millisecond

// Progress is a one-line progress bar for bulk runs, redrawn in place with
// a carriage return. Make one only when the stream is a terminal; pipes
// and logs get no bar. It is safe for concurrent use.
type Progress struct {
	p     *Printer
	label string
	total int
	now   func() time.Time

	mu       sync.Mutex
	start    time.Time
	done     int
	failed   int
	note     string
	lastDraw time.Time
	drawn    bool
}

// NewProgress starts a bar for total items. now may be nil.
func (p *Printer) NewProgress(label string, total int, now func() time.Time) *Progress {
	if now == nil {
		now = time.Now
	}
	pr := &Progress{p: p, label: label, total: total, now: now, start: now()}
	pr.draw(true)
	return pr
}

// Step counts one finished item.
func (pr *Progress) Step(failed bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.done++
	if failed {
		pr.failed++
	}
	pr.drawLocked(pr.done == pr.total)
}

// SetNote shows a short status after the counts ("paused until 12:01:05:
// rate limit"); "" removes it.
func (pr *Progress) SetNote(note string) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.note = note
	pr.drawLocked(true)
}

// Clear erases the bar so other text can be written; the next Step draws
// it again.
func (pr *Progress) Clear() {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.drawn {
		fmt.Fprint(pr.p.w, "\r\x1b[K")
		pr.drawn = false
	}
}

// Finish draws the final state and ends the line.
func (pr *Progress) Finish() {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.note = ""
	pr.drawLocked(true)
	fmt.Fprintln(pr.p.w)
	pr.drawn = false
}

func (pr *Progress) draw(force bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.drawLocked(force)
}

func (pr *Progress) drawLocked(force bool) {
	now := pr.now()
	if !force && now.Sub(pr.lastDraw) < progressEvery {
		return
	}
	pr.lastDraw = now
	fmt.Fprint(pr.p.w, "\r\x1b[K"+pr.line(now))
	pr.drawn = true
}

// line renders the bar: label, bar, counts, percentage, failures, time left.
func (pr *Progress) line(now time.Time) string {
	frac := 1.0
	if pr.total > 0 {
		frac = float64(pr.done) / float64(pr.total)
	}
	full := int(frac * progressWidth)
	bar := strings.Repeat("█", full) + strings.Repeat("░", progressWidth-full)
	if pr.failed > 0 {
		bar = pr.p.Warning(bar)
	} else {
		bar = pr.p.Success(bar)
	}
	s := fmt.Sprintf("%s %s %d/%d %3.0f%%", pr.label, bar, pr.done, pr.total, frac*100)
	if pr.failed > 0 {
		s += "  " + pr.p.Failure(fmt.Sprintf("%d failed", pr.failed))
	}
	if eta := pr.eta(now); eta != "" {
		s += pr.p.Dim("  " + eta)
	}
	if pr.note != "" {
		s += "  " + pr.p.Warning(pr.note)
	}
	return s
}

// eta extrapolates from the rate so far, which already includes any
// rate-limit pauses: an honest guess rather than the hopeful one.
func (pr *Progress) eta(now time.Time) string {
	if pr.done == 0 || pr.done >= pr.total {
		return ""
	}
	elapsed := now.Sub(pr.start)
	left := time.Duration(float64(elapsed) / float64(pr.done) * float64(pr.total-pr.done))
	if left < time.Second {
		return ""
	}
	return "about " + left.Round(time.Second).String() + " left"
}
