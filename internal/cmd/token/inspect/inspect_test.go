package inspect

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// A NumericDate outside years 1970 to 9999 is shown as the number it is:
// converting it would overflow into a wrong time.
func TestNumericDatesOutOfRangeAreNotTimes(t *testing.T) {
	for _, v := range []any{json.Number("99999999999999"), json.Number("12345678901234567890"), json.Number("1e308"), -1.0, math.NaN(), "1700000000"} {
		if tm, ok := numericDate(v); ok {
			t.Errorf("%v read as %v", v, tm)
		}
	}
	if tm, ok := numericDate(json.Number("1700000000.5")); !ok || tm.Unix() != 1700000000 {
		t.Errorf("an ordinary NumericDate: %v %v", tm, ok)
	}
	if _, ok := numericDate(json.Number("253402300799")); !ok {
		t.Error("the last second of 9999 was refused")
	}
}

func TestRelativeTimesStayRightFarAway(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{now.Add(90 * time.Second), "in 1m30s"},
		{now.Add(-5 * 24 * time.Hour), "5 days ago"},
		{time.Unix(253402300799, 0), "in 7972 years"},
		{time.Unix(0, 0), "56 years ago"},
	} {
		if got := relative(tc.t, now); got != tc.want {
			t.Errorf("relative(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
