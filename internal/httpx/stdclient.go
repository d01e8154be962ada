package httpx

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// StandardClient is a net/http client under this package's rules, for the
// vendor libraries that take one (the OAuth 2.0 JWT bearer flow of
// golang.org/x/oauth2, the AWS SDK): the same transport (CA file, proxy,
// TLS 1.2 minimum), the timeout, HTTPS except for loopback, no redirects,
// the body cap and the redacted debug trace. Retries stay with the library,
// which knows which of its calls may be repeated.
func (c *Client) StandardClient() *http.Client {
	next := c.rc.GetClient().Transport
	if next == nil {
		next = http.DefaultTransport
	}
	return &http.Client{
		Transport: &stdTransport{c: c, next: next},
		// The transport enforces Timeout itself, so that the error names
		// it; the client's own limit is only a backstop a little later.
		Timeout: c.opts.Timeout + time.Second,
		// A library request carries a credential (a signed assertion, a
		// SigV4 signature); it is never forwarded to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// stdTransport applies the rules to each request of a StandardClient.
type stdTransport struct {
	c    *Client
	next http.RoundTripper
}

// headerSecrets are request headers whose values are credentials although
// redact does not know their names (AWS session tokens).
var headerSecrets = []string{"X-Amz-Security-Token"}

func (t *stdTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	host := r.URL.Host
	if err := checkScheme(r.URL); err != nil {
		closeBody(r)
		return nil, err
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		closeBody(r)
		if err != nil {
			return nil, fmt.Errorf("reading the request body for %s: %w", host, err)
		}
		body = b
	}
	ctx := r.Context()
	if t.c.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.c.opts.Timeout)
		// The body is read in full below, before the context ends.
		defer cancel()
	}
	out := r.Clone(ctx)
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	}
	if out.Header.Get("User-Agent") == "" {
		out.Header.Set("User-Agent", t.c.opts.UserAgent)
	}
	traced := Request{Method: r.Method}
	for _, h := range headerSecrets {
		if v := r.Header.Get(h); v != "" {
			traced.Secrets = append(traced.Secrets, v)
		}
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		traced.Form = url.Values{}
	}
	t.c.traceRequest(traced, out.Header, r.URL.String(), body, 1)
	start := time.Now()
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		cerr := classify(ctx, err, host, t.c.opts)
		t.c.tracef("<- error after %s: %v", time.Since(start).Round(time.Millisecond), cerr)
		return nil, cerr
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, t.c.opts.MaxBody+1))
	if err != nil {
		return nil, classify(ctx, err, host, t.c.opts)
	}
	if int64(len(data)) > t.c.opts.MaxBody {
		return nil, classify(ctx, resty.ErrResponseBodyTooLarge, host, t.c.opts)
	}
	t.c.traceResponse(traced, &Response{Status: resp.StatusCode, Header: resp.Header, Body: data, URL: r.URL.String()}, time.Since(start))
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	return resp, nil
}

func closeBody(r *http.Request) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
}
