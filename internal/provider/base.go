package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// Defaults of the adapter base.
const (
	// DefaultMaxPages bounds a paginated listing: more pages than this is a
	// next link that never ends, not a real tenant.
	DefaultMaxPages = 500
	// DefaultMaxAttempts bounds the tries of one idempotent call.
	DefaultMaxAttempts = 4
	// DefaultMaxWait is the longest single wait a Retry-After or a reset
	// header may impose; a longer one is handed back to the caller (a bulk
	// run pauses all its workers instead of one sleeping).
	DefaultMaxWait = 60 * time.Second
)

// Client is the base every admin adapter embeds: it sends requests to one
// vendor API under the HTTP rules of the design, decodes the vendor's
// errors, follows its pages and reads its rate-limit headers. Credentials,
// timeouts, the body cap, redaction and the debug trace come from Env (its
// AdminAuth and httpx client); Client adds what each adapter used to write
// for itself.
//
// Retries: an idempotent call (GET, HEAD, DELETE) is repeated on 429, 502,
// 503, 504 and on a dropped connection, waiting as Retry-After or the
// vendor's reset header says, at most MaxAttempts times and never longer
// than MaxWait at once. A write (POST, PUT, PATCH) is sent once: a replayed
// write can act twice. Req.RetryRateLimited lets a write be repeated after
// a 429 only, for vendors documenting that a 429 was not processed.
type Client struct {
	// Vendor prefixes every error ("okta: revoking ...").
	Vendor string
	Env    *Env
	// Base is the configured API base; paths are joined to it, and next
	// links must share its origin.
	Base *url.URL
	ClientOptions
}

// ClientOptions are a vendor's quirks, given once.
type ClientOptions struct {
	// Decode reads the vendor's error body; nil is DecodeOAuthError.
	Decode ErrorDecoder
	// RateLimit names the vendor's rate-limit headers when they are not
	// X-Rate-Limit-* (Okta) or X-RateLimit-* (Auth0); Env.Observe and the
	// retry wait then see them under X-RateLimit-*.
	RateLimit RateLimitNames
	// MaxPages, MaxAttempts and MaxWait default to the constants above.
	MaxPages    int
	MaxAttempts int
	MaxWait     time.Duration
	// ServerClock measures an epoch reset header against the answer's Date
	// header rather than the local clock, as Okta advises: a skewed local
	// clock then neither cuts a wait short (another 429) nor stretches it.
	ServerClock bool
	// RebaseNext follows a next link by its path and query on Base, as
	// Okta's SDK does, instead of refusing a link to another origin. For
	// vendors whose links name an internal host behind a gateway.
	RebaseNext bool
	// FollowNext, when set, turns a rel="next" target into the next page's
	// URL in place of RFC 8288 resolution, for vendors whose links are only
	// a cursor (Hydra: the query counts, the host and path are whatever
	// Hydra believes its own URL to be). ok false ends the listing. The
	// result must still be on Base's origin.
	FollowNext func(current *url.URL, target string) (next *url.URL, ok bool)
	// Transient recognises an answer outside 429 and 5xx that still means
	// "nothing was done, try again" (Hydra's 400 on a database
	// serialization conflict). An idempotent call is retried on it with
	// the usual back-off; writes are not.
	Transient func(*httpx.Response) bool
}

// RateLimitNames are a vendor's names for its rate-limit headers.
type RateLimitNames struct {
	Limit, Remaining, Reset string
	// ResetIsDelta says Reset counts seconds from now (the IETF RateLimit
	// fields) rather than giving Unix time.
	ResetIsDelta bool
}

// VendorError is what a vendor's error body says.
type VendorError struct {
	Code    string
	Message string
}

// ErrorDecoder reads a vendor's error body; the zero VendorError when the
// body is not the vendor's error shape.
type ErrorDecoder func(resp *httpx.Response) VendorError

// DecodeOAuthError reads the OAuth 2.0 error shape (RFC 6749 §5.2),
// {"error","error_description"}, which many admin APIs reuse.
func DecodeOAuthError(resp *httpx.Response) VendorError {
	var doc struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(resp.Body, &doc) != nil {
		return VendorError{}
	}
	return VendorError{Code: doc.Error, Message: doc.Description}
}

// APIError is an unexpected answer of a vendor API, classified by
// StatusError, with the status and the vendor's error code kept for
// adapters that give them a meaning (errors.As).
type APIError struct {
	Status int
	Code   string
	Err    error
}

func (e *APIError) Error() string { return e.Err.Error() }
func (e *APIError) Unwrap() error { return e.Err }

// StatusOf is the HTTP status of an APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// NewClient builds the base for a vendor API at baseURL (http only on
// loopback, as httpx enforces for every request).
func NewClient(env *Env, vendor, baseURL string, opts ClientOptions) (*Client, error) {
	if env == nil || env.HTTP == nil {
		return nil, errs.New(errs.KindUsage, "%s: no HTTP client configured", vendor)
	}
	baseURL = strings.TrimRight(strings.TrimSpace(baseURL), "/")
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errs.New(errs.KindUsage, "%s: the admin url %q is not an http(s) URL without query", vendor, baseURL)
	}
	return &Client{Vendor: vendor, Env: env, Base: u, ClientOptions: opts}, nil
}

// Req is one call through the base.
type Req struct {
	Method string
	// Path is joined to Base; URL, when set, is used as it is (a next link
	// already checked).
	Path  string
	URL   string
	Query url.Values
	// Header adds request headers (Idempotency-Key, If-Match ...).
	Header http.Header
	// JSON is sent as the body; Form instead when set; Body, as it is,
	// when neither is (its Content-Type goes in Header).
	JSON any
	Form url.Values
	Body []byte
	// Read marks a call that only reads although its method is not one
	// that says so (a SOAP query is a POST), so it is retried like a GET.
	Read bool
	// RetryRateLimited lets a write be repeated after a 429, which the
	// vendor documents as "not processed". Never for token requests.
	RetryRateLimited bool
}

// Idempotent reports whether method may be repeated blindly (RFC 9110
// §9.2.2). PUT is, by the letter, but adapters use it to replace whole
// objects they read moments before, so it is treated as a write.
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete:
		return true
	}
	return false
}

// URL joins path (which starts with "/") to Base.
func (c *Client) URL(path string) string { return strings.TrimRight(c.Base.String(), "/") + path }

// Now is Env.Now, or the real clock.
func (c *Client) Now() time.Time {
	if c.Env.Now != nil {
		return c.Env.Now()
	}
	return time.Now()
}

// Sleep is Env.Sleep, or a real wait honouring ctx.
func (c *Client) Sleep(ctx context.Context, d time.Duration) error {
	if c.Env.Sleep != nil {
		return c.Env.Sleep(ctx, d)
	}
	return durations.Sleep(ctx, d)
}

// Do sends r with the credential and the retry rules above, and returns the
// answer whatever its status. Errors are network failures, already
// classified by httpx.
func (c *Client) Do(ctx context.Context, r Req) (*httpx.Response, error) {
	target := r.URL
	if target == "" {
		target = c.URL(r.Path)
	}
	idempotent := Idempotent(r.Method) || r.Read
	maxAttempts := c.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	maxWait := c.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	// httpx sends each attempt once: the loop here decides, on Env's clock,
	// so that a test's injected Sleep sees every wait and Observe every 429.
	hreq := httpx.Request{Method: r.Method, URL: target, Query: r.Query, Header: r.Header, JSON: r.JSON, Form: r.Form, Body: r.Body}
	for attempt := 1; ; attempt++ {
		resp, err := c.Env.send(ctx, hreq, c.observe)
		wait, retry := c.retryWait(resp, err, attempt, idempotent, r.RetryRateLimited)
		if !retry || attempt >= maxAttempts || wait > maxWait {
			return resp, err
		}
		if err := c.Sleep(ctx, wait); err != nil {
			return nil, errs.Wrap(errs.KindInterrupted, fmt.Errorf("%s: waiting to retry: %w", c.Vendor, err))
		}
	}
}

func (c *Client) retryWait(resp *httpx.Response, err error, attempt int, idempotent, retry429 bool) (time.Duration, bool) {
	if err != nil {
		return backoff(attempt), idempotent && httpx.Transient(err)
	}
	if idempotent && c.Transient != nil && c.Transient(resp) {
		return backoff(attempt), true
	}
	switch resp.Status {
	case http.StatusTooManyRequests:
		if !idempotent && !retry429 {
			return 0, false
		}
		// Retry-After first, then the vendor's reset (RFC 9110 §10.2.3).
		now := c.Now()
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil && c.ServerClock {
			now = t
		}
		if d, ok := httpx.RetryAfter(c.RateLimitHeader(resp.Header), now); ok {
			return d, true
		}
		return backoff(attempt), true
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		if !idempotent {
			return 0, false
		}
		// Only Retry-After counts here: vendors send their rate-limit reset
		// on every answer, and waiting for the window would stall a 502.
		if d, ok := httpx.RetryAfter(http.Header{"Retry-After": resp.Header.Values("Retry-After")}, c.Now()); ok {
			return d, true
		}
		return backoff(attempt), true
	}
	return 0, false
}

func backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << (attempt - 1)
	return min(d, 8*time.Second)
}

// observe hands Env.Observe every answer's headers, the vendor's rate-limit
// names translated.
func (c *Client) observe(ctx context.Context, h http.Header) {
	if c.Env.Observe != nil {
		c.Env.Observe(ctx, c.RateLimitHeader(h))
	}
}

// RateLimitHeader returns h with the vendor's rate-limit headers (as
// RateLimit names them) also under X-RateLimit-Limit, -Remaining and -Reset
// (Unix seconds), which httpx.ReadRateLimit, httpx.RetryAfter and the bulk
// limiter read. h itself is not changed.
func (c *Client) RateLimitHeader(h http.Header) http.Header {
	n := c.RateLimit
	if n.Remaining == "" || h.Get(n.Remaining) == "" {
		return h
	}
	out := h.Clone()
	out.Set("X-RateLimit-Remaining", strings.TrimSpace(h.Get(n.Remaining)))
	if n.Limit != "" && h.Get(n.Limit) != "" {
		// The IETF field may carry a policy after the number ("100, 100;w=60").
		lim, _, _ := strings.Cut(h.Get(n.Limit), ",")
		out.Set("X-RateLimit-Limit", strings.TrimSpace(lim))
	}
	if v := strings.TrimSpace(h.Get(n.Reset)); n.Reset != "" && v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			if n.ResetIsDelta {
				secs = c.Now().Add(time.Duration(secs) * time.Second).Unix()
			}
			out.Set("X-RateLimit-Reset", strconv.FormatInt(secs, 10))
		}
	}
	return out
}

// Fail classifies an unexpected answer: StatusError with the vendor's own
// words, wrapped in an APIError.
func (c *Client) Fail(operation string, resp *httpx.Response) error {
	decode := c.Decode
	if decode == nil {
		decode = DecodeOAuthError
	}
	ve := decode(resp)
	msg := strings.TrimSpace(ve.Message)
	if code := strings.TrimSpace(ve.Code); code != "" && !strings.Contains(msg, code) {
		msg = strings.TrimSpace(code + " " + msg)
	}
	// A 429's RateLimitedError keeps the headers for the bulk limiter, which
	// reads them under the X-RateLimit-* names.
	shown := *resp
	shown.Header = c.RateLimitHeader(resp.Header)
	return &APIError{Status: resp.Status, Code: ve.Code, Err: StatusError(c.Vendor+": "+operation, &shown, msg)}
}

// Call sends r and expects one of the statuses want (any 2xx when none is
// given); the JSON body goes into out when out is non-nil and the body is
// not empty. Anything else is Fail's error.
func (c *Client) Call(ctx context.Context, operation string, r Req, out any, want ...int) (*httpx.Response, error) {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.Vendor, operation, err)
	}
	ok := resp.Status >= 200 && resp.Status < 300
	if len(want) > 0 {
		ok = false
		for _, s := range want {
			ok = ok || resp.Status == s
		}
	}
	if !ok {
		return resp, c.Fail(operation, resp)
	}
	if out != nil && len(strings.TrimSpace(string(resp.Body))) > 0 {
		if err := DecodeExact(resp, out); err != nil {
			return resp, fmt.Errorf("%s: %s: %w", c.Vendor, operation, err)
		}
	}
	return resp, nil
}

// Pages GETs path and every page its rel="next" Link headers (RFC 8288)
// lead to, handing each 200 answer to page. A next link is resolved
// against the page it came on (RFC 8288 §3.1) and followed only on Base's
// origin, since the admin credential goes with it; with RebaseNext its path
// and query are taken onto Base instead. More than MaxPages pages, or a
// link back to a page already read, is an error: a listing cut short would
// be a silent lie about what the IdP holds.
func (c *Client) Pages(ctx context.Context, operation, path string, q url.Values, page func(*httpx.Response) error) error {
	return c.PagesByBody(ctx, operation, path, q, func(resp *httpx.Response) (string, error) {
		if err := page(resp); err != nil {
			return "", err
		}
		link, _ := NextLink(resp.Header)
		return link, nil
	})
}

// follow resolves a next link against the page it came on and applies the
// same-origin rule; ok is false when FollowNext ends the listing.
func (c *Client) follow(current, link string) (string, bool, error) {
	cur, err := url.Parse(current)
	if err != nil {
		return "", false, errs.New(errs.KindNetwork, "unreadable page URL")
	}
	var u *url.URL
	if c.FollowNext != nil {
		next, ok := c.FollowNext(cur, link)
		if !ok {
			return "", false, nil
		}
		u = next
	} else {
		ref, err := url.Parse(link)
		if err != nil {
			return "", false, errs.New(errs.KindNetwork, "the next-page link is not a URL")
		}
		u = cur.ResolveReference(ref)
	}
	u.Fragment = ""
	if c.RebaseNext {
		u.Scheme, u.Host, u.User = c.Base.Scheme, c.Base.Host, nil
		return u.String(), true, nil
	}
	if Origin(u) != Origin(c.Base) || u.User != nil {
		return "", false, errs.New(errs.KindNetwork, "the next-page link leaves %s for %s; not sending the admin credential there", c.Base.Host, u.Host)
	}
	return u.String(), true, nil
}

// Origin is a URL's scheme, host and port (RFC 6454 §4), with the default
// port made explicit, so that https://a and https://a:443 are one origin.
func Origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}
