package iostreams

import "testing"

func TestTerminalWidthComesFromColumnsElseTheTerminalElseNoLimit(t *testing.T) {
	for v, want := range map[string]int{"120": 120, " 80 ": 80, "": 0, "0": 0, "-5": 0, "wide": 0} {
		if got := parseColumns(v); got != want {
			t.Errorf("COLUMNS=%q: %d, want %d", v, got, want)
		}
	}
	ios, _, _, _ := Test()
	if w := ios.TerminalWidth(); w != 0 {
		t.Fatalf("a buffer that is no terminal has width %d, want 0 (no limit)", w)
	}
	// Marked a terminal but with no file behind it: still no width to ask.
	ios.SetTTY(false, true, false)
	if w := ios.TerminalWidth(); w != 0 {
		t.Fatalf("width %d without a file descriptor", w)
	}
	ios.SetColumns(100)
	if w := ios.TerminalWidth(); w != 100 {
		t.Fatalf("COLUMNS=100 gave width %d", w)
	}
}
