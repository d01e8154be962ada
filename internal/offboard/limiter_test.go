package offboard

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider"
)

type fakeClock struct {
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

func TestTheLimiterWaitsForTheResetTheIdPAnnounced(t *testing.T) {
	base := time.Unix(1_700_000_000, 400_000_000)
	cases := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"Retry-After in seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{"Okta reset, exact to the second, wins over a rounded Retry-After", http.Header{
			"Retry-After": {"1"}, "X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {strconv.FormatInt(base.Unix()+1, 10)},
		}, 600*time.Millisecond + resetSlop},
		{"Auth0 reset", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(base.Unix()+2, 10)}}, 1600*time.Millisecond + resetSlop},
		{"a skewed local clock is corrected by the Date header", http.Header{
			"X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {strconv.FormatInt(base.Unix()-600+5, 10)},
			"Date": {base.Add(-600 * time.Second).UTC().Format(http.TimeFormat)},
		}, 5*time.Second + resetSlop}, // Date has whole seconds: at most 1s late, never early
		{"no timing at all: one second first", http.Header{}, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &fakeClock{now: base}
			l := NewLimiter(c.Now, c.Sleep)
			if !l.RateLimited(&provider.RateLimitedError{Err: errors.New("429"), Header: tc.header}) {
				t.Fatal("not recognised as a rate limit")
			}
			if err := l.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(c.slept) != 1 || c.slept[0] != tc.want {
				t.Fatalf("slept %v, want %s", c.slept, tc.want)
			}
		})
	}
}

func TestLateRefusalsDuringAPauseDoNotLengthenIt(t *testing.T) {
	c := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l := NewLimiter(c.Now, c.Sleep)
	for i := 0; i < 8; i++ { // eight workers' calls, all sent before the pause
		l.RateLimited(errors.New("wrapped: (HTTP 429)")) // no kind: not a rate-limit error
	}
	if l.Pauses() != 0 {
		t.Fatalf("an unclassified error paused the run")
	}
	rl := &provider.RateLimitedError{Err: errors.New("429"), Header: http.Header{}}
	for i := 0; i < 8; i++ {
		l.RateLimited(rl)
	}
	l.Wait(context.Background())
	if l.Pauses() != 1 || len(c.slept) != 1 || c.slept[0] != time.Second {
		t.Fatalf("pauses %d, slept %v; want one pause of 1s", l.Pauses(), c.slept)
	}
}

func TestASpentBudgetPausesBeforeTheNextCall(t *testing.T) {
	c := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l := NewLimiter(c.Now, c.Sleep)
	ctx := context.Background()
	l.Observe(http.Header{"X-Rate-Limit-Remaining": {"5"}, "X-Rate-Limit-Reset": {"1700000001"}})
	if l.Pauses() != 0 {
		t.Fatal("paused with budget left")
	}
	l.Observe(http.Header{"X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {"1700000001"}})
	l.Wait(ctx)
	if len(c.slept) != 1 || c.slept[0] != time.Second+resetSlop {
		t.Fatalf("slept %v", c.slept)
	}
}
