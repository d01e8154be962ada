package provider

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/redact"
)

// Send applies the admin credential and sends the request. When a fetched
// admin token is refused (401) it is fetched again once: admin tokens can
// expire or be revoked between calls of a long bulk run.
func (e *Env) Send(ctx context.Context, req httpx.Request) (*httpx.Response, error) {
	return e.send(ctx, req, e.Observe)
}

// send is Send with the observer given: the adapter base hands Observe the
// vendor's rate-limit headers under the names the bulk limiter reads.
func (e *Env) send(ctx context.Context, req httpx.Request, observe func(context.Context, http.Header)) (*httpx.Response, error) {
	for attempt := 0; ; attempt++ {
		r := req
		r.Header = req.Header.Clone()
		r.Secrets = append([]string(nil), req.Secrets...)
		if e.Auth != nil {
			if err := e.Auth.Apply(ctx, &r); err != nil {
				return nil, err
			}
		}
		resp, err := e.HTTP.Do(ctx, r)
		if err != nil {
			return nil, err
		}
		resp.Body = scrubCredentials(resp.Body, resp.Secrets)
		if observe != nil {
			observe(ctx, resp.Header)
		}
		if resp.Status == http.StatusUnauthorized && attempt == 0 && e.Auth != nil && e.Auth.Scheme == AuthClientCredentials {
			e.Auth.Invalidate()
			continue
		}
		return resp, nil
	}
}

// scrubCredentials blanks the request's own credentials wherever an admin
// API's answer repeats them, before any adapter reads it: no admin answer
// has a reason to carry the caller's credential, and whatever an adapter
// takes from the answer (names, messages, details) is printed, audited or
// journaled. Short values are left alone: they would match by accident.
func scrubCredentials(body []byte, secrets []string) []byte {
	for _, s := range secrets {
		if len(s) >= 8 && bytes.Contains(body, []byte(s)) {
			body = bytes.ReplaceAll(body, []byte(s), []byte(redact.Mask))
		}
	}
	return body
}

// StatusError classifies an unexpected response of an admin API: 401 and
// 403 are refusals (exit 4), 429 and 5xx network trouble (exit 5), an HTML
// page says so. vendorMessage is the vendor's own error text, already
// extracted by the adapter (may be empty); it is cleaned before use.
//
// Every credential of the request is blanked from the vendor's text: an
// API that echoes the Authorization header in its error would otherwise
// get the admin credential printed, audited and journaled.
func StatusError(operation string, resp *httpx.Response, vendorMessage string) error {
	msg := Clean(vendorMessage, resp.Secrets...)
	if msg == "" && len(resp.Body) > 0 && !httpx.IsJSON(resp.Body) {
		// Not the vendor's JSON error: say what came back instead, without
		// letting the body's kind override the status's.
		if looksLikeHTML(resp) {
			msg = "the answer was an HTML page, not the API's JSON (a proxy or wrong URL?)"
		} else {
			// Cut after redaction: a secret cut in half would not match.
			msg = Clean(string(resp.Body), resp.Secrets...)
			if len(msg) > 200 {
				msg = msg[:200] + "..."
			}
		}
	}
	suffix := ""
	if msg != "" {
		suffix = ": " + msg
	}
	// What support desks and retries need: when the limit lifts, and the
	// vendor's request id.
	var extra []string
	if resp.Status == http.StatusTooManyRequests {
		if rl := httpx.ReadRateLimit(resp.Header); rl.Known && !rl.Reset.IsZero() {
			extra = append(extra, "the limit resets at "+rl.Reset.UTC().Format(time.RFC3339))
		}
	}
	if id := RequestID(resp.Header); id != "" {
		extra = append(extra, "request id "+id)
	}
	if len(extra) > 0 {
		suffix += " (" + strings.Join(extra, "; ") + ")"
	}
	host := httpx.Host(resp.URL)
	if conflict := transientConflict(resp, vendorMessage); conflict != "" {
		// Worth repeating for an idempotent operation (a bulk revocation
		// does); the kind stays what the status says.
		kind := errs.KindRefused
		return errs.MarkRetryable(errs.New(kind, "%s: %s (HTTP %d)%s", operation, conflict, resp.Status, suffix))
	}
	switch {
	case resp.Status == http.StatusUnauthorized:
		return errs.New(errs.KindRefused, "%s: %s refused the admin credential (HTTP 401)%s", operation, host, suffix)
	case resp.Status == http.StatusForbidden:
		return errs.New(errs.KindRefused, "%s: the admin credential lacks the permission (HTTP 403)%s", operation, suffix)
	case resp.Status == http.StatusTooManyRequests:
		// Keep the headers: a bulk run reads the vendor's reset time from
		// them and pauses every worker until then.
		return &RateLimitedError{
			Err:    errs.New(errs.KindNetwork, "%s: rate limited by %s (HTTP 429)%s", operation, host, suffix),
			Header: resp.Header.Clone(),
		}
	case resp.Status >= 500:
		return errs.New(errs.KindNetwork, "%s: %s failed (HTTP %d)%s", operation, host, resp.Status, suffix)
	default:
		return errs.New(errs.KindRefused, "%s: HTTP %d from %s%s", operation, resp.Status, host, suffix)
	}
}

// Clean makes vendor-supplied text safe to print: one line, no control
// characters, no credentials (JWTs, PEM keys and the given secrets),
// bounded.
func Clean(s string, secrets ...string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = redact.Text(strings.Join(strings.Fields(s), " "), secrets...)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// RequestID finds a vendor request id in common headers.
func RequestID(h http.Header) string {
	for _, k := range []string{"X-Okta-Request-Id", "X-Request-Id", "Request-Id", "X-Correlation-Id", "Ecid-Context", "Traceparent"} {
		if v := h.Get(k); v != "" {
			return Clean(v)
		}
	}
	return ""
}

func looksLikeHTML(resp *httpx.Response) bool {
	if strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		return true
	}
	b := strings.TrimSpace(string(resp.Body))
	return strings.HasPrefix(b, "<")
}

// RateLimitedError is a 429 that still carries the response headers
// (Retry-After, X-Rate-Limit-Reset, X-RateLimit-Reset).
type RateLimitedError struct {
	Err    error
	Header http.Header
}

func (e *RateLimitedError) Error() string { return e.Err.Error() }
func (e *RateLimitedError) Unwrap() error { return e.Err }

// RateLimitHeader exposes the headers to whoever schedules retries.
func (e *RateLimitedError) RateLimitHeader() http.Header { return e.Header }

// TransientError is a failure the vendor says nothing came of and that the
// same call may repeat (a database serialization conflict, for one): the
// adapter has already retried idempotent calls, so a bulk run may schedule
// the user again rather than count a refusal.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Transient reports that the failure is worth another attempt.
func (e *TransientError) Transient() bool { return true }

// Retryable lets a bulk run repeat the user (errs.IsRetryable).
func (e *TransientError) Retryable() bool { return true }

// Transient marks err as a TransientError; nil stays nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err}
}

// IsTransient reports whether err, or an error it wraps, is marked
// transient (a rate limit is reported by RateLimitedError instead).
func IsTransient(err error) bool {
	var t interface{ Transient() bool }
	return errors.As(err, &t) && t.Transient()
}

// serializationFailure is how databases word a transaction aborted by a
// concurrent one (PostgreSQL SQLSTATE 40001 "could not serialize access
// due to concurrent update", CockroachDB's retry errors). Hydra passes it
// on as HTTP 400 "Unable to serialize access due to a concurrent update in
// another session" (ory/x sqlcon.ErrConcurrentUpdate) when deletes of one
// subject's sessions overlap; repeated, the delete succeeds.
var serializationFailure = []string{"serialize access", "restart transaction", "transactionretryerror"}

// transientConflict says why an answer is a conflict that goes away when
// the request is repeated, or "": HTTP 409, and a 400 carrying a
// database's serialization failure.
func transientConflict(resp *httpx.Response, vendorMessage string) string {
	switch resp.Status {
	case http.StatusConflict:
		return "conflict with a concurrent change"
	case http.StatusBadRequest:
		body := resp.Body
		if len(body) > 4096 {
			body = body[:4096]
		}
		text := strings.ToLower(vendorMessage + " " + string(body))
		for _, s := range serializationFailure {
			if strings.Contains(text, s) {
				return "a concurrent update at the IdP's database aborted the request"
			}
		}
	}
	return ""
}
