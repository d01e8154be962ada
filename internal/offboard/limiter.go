package offboard

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// Rate-limit pacing. Admin APIs count calls per window (Okta per minute and
// endpoint, Auth0 per second with a burst bucket) and say so in
// X-Rate-Limit-* / X-RateLimit-* headers and 429 answers. When any worker
// learns the budget is spent, every worker waits for the announced reset:
// retrying sooner only earns more 429s, which some IdPs count against the
// next window too. A run then takes about as long as the limit allows.
const (
	// resetSlop is added to a reset time read from an epoch-seconds header:
	// the IdP's clock and ours agree only to within rounding.
	resetSlop = 100 * time.Millisecond
	// skewLimit is how far our clock may be from the IdP's Date header
	// before the reset is measured against the IdP's clock instead.
	skewLimit = 2 * time.Second
	// maxPause bounds one pause, against a bogus reset far in the future.
	maxPause = 15 * time.Minute
	// firstBackoff and maxBackoff bound the pause after a rate-limit error
	// that carries no timing at all.
	firstBackoff = time.Second
	maxBackoff   = 60 * time.Second
)

// Limiter is shared by the workers of one run.
type Limiter struct {
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// OnPause, if set, hears of each new pause and why (for the progress
	// line).
	OnPause func(until time.Time, reason PauseReason)

	mu      sync.Mutex
	until   time.Time
	backoff time.Duration
	pauses  int
}

// NewLimiter returns a limiter on the given clock; nil means the real one.
func NewLimiter(now func() time.Time, sleep func(context.Context, time.Duration) error) *Limiter {
	return &Limiter{Now: now, Sleep: sleep}
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Wait returns when no pause is in force, or when ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		d := l.until.Sub(l.now())
		l.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		sleep := l.Sleep
		if sleep == nil {
			sleep = sleepCtx
		}
		// The pause may be extended meanwhile; loop and look again.
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Pauses counts the pauses so far.
func (l *Limiter) Pauses() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pauses
}

// Observe reads the rate-limit headers of a successful answer: a spent
// budget pauses everyone until the reset, before the next call earns a 429.
// The adapter making the run's calls is given it explicitly (its
// provider.Env.Observe), so only the calls of that adapter reach it.
func (l *Limiter) Observe(h http.Header) {
	rl := httpx.ReadRateLimit(h)
	if rl.Known && rl.Remaining <= 0 && !rl.Reset.IsZero() {
		l.pauseUntil(l.resetTime(rl.Reset, h), PauseRateLimit)
		return
	}
	l.mu.Lock()
	l.backoff = 0
	l.mu.Unlock()
}

// Succeeded notes a call that got through, ending the back-off growth.
func (l *Limiter) Succeeded() {
	l.mu.Lock()
	l.backoff = 0
	l.mu.Unlock()
}

// RateLimited reports whether err is a rate-limit refusal; if so it pauses
// every worker (until the announced reset where one is known) and the
// caller should repeat the call, which the IdP did not carry out.
func (l *Limiter) RateLimited(err error) bool {
	var hc interface{ RateLimitHeader() http.Header }
	if errors.As(err, &hc) {
		h := hc.RateLimitHeader()
		now := l.now()
		if rl := httpx.ReadRateLimit(h); rl.Known && !rl.Reset.IsZero() {
			// The vendor reset is exact to the second, where Retry-After
			// is rounded up to whole seconds: prefer it.
			l.pauseUntil(l.resetTime(rl.Reset, h), PauseRateLimit)
		} else if d, ok := httpx.RetryAfter(h, now); ok {
			l.pauseUntil(now.Add(d), PauseRateLimit)
		} else {
			l.backOff()
		}
		return true
	}
	if IsRateLimitError(err) {
		l.backOff()
		return true
	}
	return false
}

// IsRateLimitError recognises a rate-limit refusal without headers: the
// error provider.StatusError makes of a 429 ("... (HTTP 429)").
func IsRateLimitError(err error) bool {
	if err == nil {
		return false
	}
	var hc interface{ RateLimitHeader() http.Header }
	if errors.As(err, &hc) {
		return true
	}
	return errs.KindOf(err) == errs.KindNetwork && strings.Contains(err.Error(), "(HTTP 429)")
}

// resetTime turns an epoch reset into our clock, measured against the
// IdP's Date header when our clock is off by more than rounding.
func (l *Limiter) resetTime(reset time.Time, h http.Header) time.Time {
	now := l.now()
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		if skew := now.Sub(date); skew > skewLimit || skew < -skewLimit {
			return now.Add(reset.Sub(date) + resetSlop)
		}
	}
	return reset.Add(resetSlop)
}

func (l *Limiter) backOff() {
	l.mu.Lock()
	now := l.now()
	if now.Before(l.until) {
		// Calls sent before the pause began are still coming back 429;
		// they say nothing new.
		l.mu.Unlock()
		return
	}
	switch {
	case l.backoff == 0:
		l.backoff = firstBackoff
	case l.backoff < maxBackoff:
		l.backoff = min(2*l.backoff, maxBackoff)
	}
	until := now.Add(l.backoff)
	l.mu.Unlock()
	l.pauseUntil(until, PauseRateLimit)
}

// PauseReason says why a run pauses.
type PauseReason string

const (
	PauseRateLimit   PauseReason = "rate limit"
	PauseUnreachable PauseReason = "admin API unreachable"
)

// PauseFor pauses every worker for d from now, unless a longer pause is
// in force.
func (l *Limiter) PauseFor(d time.Duration, reason PauseReason) {
	l.pauseUntil(l.now().Add(d), reason)
}

func (l *Limiter) pauseUntil(t time.Time, reason PauseReason) {
	l.mu.Lock()
	now := l.now()
	if t.Sub(now) > maxPause {
		t = now.Add(maxPause)
	}
	if !t.After(l.until) || !t.After(now) {
		l.mu.Unlock()
		return
	}
	l.until = t
	l.pauses++
	notify := l.OnPause
	l.mu.Unlock()
	if notify != nil {
		notify(t, reason)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error { return durations.Sleep(ctx, d) }
