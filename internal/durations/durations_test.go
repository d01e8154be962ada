package durations

import (
	"testing"
	"time"
)

func TestParseAcceptsTheWaysPeopleWriteLifetimes(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"90m", 90 * time.Minute},
		{"7d", 7 * Day},
		{"2w", 2 * Week},
		{"604800s", 7 * Day},
		{"1h30m", 90 * time.Minute},
		{"3600", time.Hour},
		{"0", 0},
		{"0s", 0},
		{" 15m ", 15 * time.Minute},
		{"1w2d3h4m5s", Week + 2*Day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"1D12H", Day + 12*time.Hour},
	}
	for _, tc := range cases {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseRefusesWhatItCannotReadExactly(t *testing.T) {
	for _, in := range []string{
		"", "  ", "-5m", "1.5h", "10ms", "5x", "m", "1h 30m", "30m1h", "1h1h", "5 minutes",
		"99999999999999999999", "9999999999999w", "106752d", "1h-5m",
	} {
		if d, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", in, d)
		}
	}
}

func TestFormatUsesTheLargestWholeUnits(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{45 * time.Second, "45s"},
		{90 * time.Second, "1m30s"},
		{90 * time.Minute, "1h30m"},
		{7 * Day, "7d"},
		{90 * Day, "90d"},
		{Day + 12*time.Hour, "1d12h"},
		{time.Hour + 1500*time.Millisecond, "1h1s"},
	}
	for _, tc := range cases {
		if got := Format(tc.in); got != tc.want {
			t.Errorf("Format(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseAndFormatRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, time.Second, 59 * time.Second, time.Hour, 25 * time.Hour, 2 * Week, 604800 * time.Second, 3*Day + 7*time.Second, (1 << 30) * time.Second} {
		got, err := Parse(Format(d))
		if err != nil || got != d {
			t.Errorf("Parse(Format(%s)) = %s, %v", d, got, err)
		}
	}
	for _, s := range []string{"1h30m", "7d", "45s", "1d12h", "90d"} {
		d, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if Format(d) != s {
			t.Errorf("Format(Parse(%q)) = %q", s, Format(d))
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"90m", "7d", "2w", "604800s", "1h30m", "3600", "-1s", "1.5h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("Parse(%q) = %s, negative", s, d)
		}
		back, err := Parse(Format(d))
		if err != nil || back != d {
			t.Fatalf("Parse(Format(Parse(%q))) = %s, %v; want %s", s, back, err, d)
		}
	})
}
