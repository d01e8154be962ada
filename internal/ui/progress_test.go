package ui

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressRedrawsInPlaceAndThrottles(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	pr := New(&buf, false).NewProgress("revoking", 4, func() time.Time { return now })
	pr.Step(false)
	pr.Step(false) // within 100ms: not drawn
	now = now.Add(time.Second)
	pr.Step(true)
	pr.SetNote("paused: rate limit")
	pr.Step(false) // the last item is always drawn
	pr.Finish()
	out := buf.String()
	frames := strings.Split(strings.TrimSuffix(out, "\n"), "\r\x1b[K")
	var last string
	for _, f := range frames {
		if f != "" {
			last = f
		}
	}
	if strings.Contains(out, "2/4") {
		t.Errorf("a throttled frame was drawn: %q", out)
	}
	for _, want := range []string{"0/4", "3/4", "1 failed", "paused: rate limit", "4/4 100%"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %q", want, out)
		}
	}
	if strings.Contains(last, "paused") || !strings.HasSuffix(out, "\n") {
		t.Errorf("the final frame %q keeps the note or does not end the line", last)
	}
}
