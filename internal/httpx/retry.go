package httpx

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryWait decides whether an idempotent request is tried again and after
// how long. The server's own word wins: Retry-After (RFC 9110 §10.2.3), then
// the vendors' reset headers; otherwise a capped exponential back-off.
func (c *Client) retryWait(req Request, resp *Response, err error, attempt int) (time.Duration, bool) {
	if err != nil {
		if !transient(err) {
			return 0, false
		}
		return backoff(attempt), true
	}
	switch resp.Status {
	case http.StatusTooManyRequests:
		// A rate limit: Retry-After, else the vendor's reset time. Both
		// are read against the server's clock (its Date header, RFC 9110
		// §6.6.1) when it sends one, as Okta's SDKs do: a local clock a
		// minute off would otherwise wait a minute too long, or not at all.
		now := c.opts.Now()
		if d, ok := resp.ServerDate(); ok {
			now = d
		}
		if d, ok := RetryAfter(resp.Header, now); ok {
			return d, true
		}
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		// A server or gateway failure: only Retry-After counts. Okta and
		// Auth0 send their rate-limit reset on every answer, and waiting
		// for the window to roll over would stall a 502 for a minute.
		if d, ok := retryAfterHeader(resp.Header, c.opts.Now()); ok {
			return d, true
		}
	default:
		if req.Idempotent && req.Transient != nil && req.Transient(resp) {
			return backoff(attempt), true
		}
		return 0, false
	}
	return backoff(attempt), true
}

// retryAfterHeader reads Retry-After alone, as seconds or an HTTP date.
func retryAfterHeader(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			secs = 0
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		d := at.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << (attempt - 1)
	if d > 8*time.Second {
		d = 8 * time.Second
	}
	return d
}

// RetryAfter reads how long the server asks us to wait. It understands
// Retry-After as seconds or an HTTP date, and the rate-limit reset headers
// of Okta (X-Rate-Limit-Reset) and Auth0 (X-RateLimit-Reset), both epoch
// seconds at which the window resets. ok is false when none is present.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if d, ok := retryAfterHeader(h, now); ok {
		return d, true
	}
	for _, name := range []string{"X-Rate-Limit-Reset", "X-RateLimit-Reset"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		epoch, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		// A small value is a delay in seconds (some gateways send that);
		// a large one is an epoch time.
		if epoch < 1_000_000_000 {
			return time.Duration(epoch) * time.Second, true
		}
		d := time.Unix(epoch, 0).Sub(now)
		if d < 0 {
			d = 0
		}
		// The reset clock has one-second resolution; waiting a little past
		// it avoids a second 429 from rounding.
		return d + 250*time.Millisecond, true
	}
	return 0, false
}

// RateLimit is what a response said about the caller's remaining budget.
type RateLimit struct {
	Limit, Remaining int
	Reset            time.Time
	Known            bool
}

// ReadRateLimit reads Okta's X-Rate-Limit-* or Auth0's X-RateLimit-* headers.
func ReadRateLimit(h http.Header) RateLimit {
	for _, prefix := range []string{"X-Rate-Limit-", "X-RateLimit-"} {
		rem := h.Get(prefix + "Remaining")
		if rem == "" {
			continue
		}
		var rl RateLimit
		rl.Known = true
		rl.Remaining, _ = strconv.Atoi(rem)
		rl.Limit, _ = strconv.Atoi(h.Get(prefix + "Limit"))
		if epoch, err := strconv.ParseInt(h.Get(prefix+"Reset"), 10, 64); err == nil && epoch > 1_000_000_000 {
			rl.Reset = time.Unix(epoch, 0)
		}
		return rl
	}
	return RateLimit{}
}
