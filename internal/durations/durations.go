// Package durations reads and writes the token lifetimes people type:
// "90m", "7d", "2w", "604800s", "1h30m" or plain seconds ("3600"). Vendors
// count in Go durations (Hydra), seconds (Keycloak, Auth0, IDCS), minutes
// (Okta, CUCM access tokens) and days (CUCM refresh tokens); the command
// line accepts all of them in one syntax so the same flags work everywhere.
package durations

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day and Week are calendar-free: token lifetimes are counted in seconds
// by every IdP, so a day is always 86400 s regardless of DST.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

var units = []struct {
	suffix string
	size   time.Duration
}{
	{"w", Week}, {"d", Day}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second},
}

// Parse reads a lifetime. Components must be whole numbers of weeks, days,
// hours, minutes or seconds, largest first, each unit at most once; a bare
// number is seconds. Negative, fractional and sub-second values are
// refused: no IdP stores lifetimes finer than a second, and a silently
// rounded "1.5m" is worse than an error.
func Parse(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New("empty duration: use e.g. 90m, 7d, 2w, 1h30m or seconds")
	}
	if isDigits(in) {
		n, err := strconv.ParseInt(in, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("duration %q is too large", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	var total time.Duration
	rest := strings.ToLower(in)
	next := 0 // index into units: each unit may appear once, in order
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, invalid(s)
		}
		numText := rest[:i]
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		if unit == "" {
			return 0, fmt.Errorf("duration %q: %s has no unit; use w, d, h, m or s (a bare number alone means seconds)", s, numText)
		}
		k := unitIndex(unit)
		if k < 0 {
			return 0, fmt.Errorf("duration %q: unknown unit %q; use w, d, h, m or s", s, unit)
		}
		if k < next {
			return 0, fmt.Errorf("duration %q: units must go from largest to smallest, each once (e.g. 1d12h)", s)
		}
		next = k + 1
		n, err := strconv.ParseInt(numText, 10, 64)
		size := units[k].size
		if err != nil || n > math.MaxInt64/int64(size) {
			return 0, fmt.Errorf("duration %q is too large", s)
		}
		part := time.Duration(n) * size
		if total > math.MaxInt64-part {
			return 0, fmt.Errorf("duration %q is too large", s)
		}
		total += part
	}
	return total, nil
}

func invalid(s string) error {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return fmt.Errorf("duration %q is negative", s)
	}
	return fmt.Errorf("duration %q is not understood: use e.g. 90m, 7d, 2w, 1h30m or seconds", s)
}

func unitIndex(u string) int {
	for i, x := range units {
		if x.suffix == u {
			return i
		}
	}
	return -1
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Format writes d in the largest whole units, days at most ("7d",
// "1d12h", "1h30m", "45s"). Weeks are left out on purpose: "90d" reads
// better than "12w6d" for refresh-token lifetimes. Parse(Format(d)) == d
// for every whole number of seconds; sub-second remainders are dropped.
func Format(d time.Duration) string {
	if d < 0 {
		return "-" + Format(-d)
	}
	d = d.Truncate(time.Second)
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range units[1:] {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.suffix)
			d -= n * u.size
		}
	}
	return b.String()
}

// Seconds is d in whole seconds, the unit of the JSON output.
func Seconds(d time.Duration) int64 { return int64(d / time.Second) }
