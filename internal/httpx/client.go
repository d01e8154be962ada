// Package httpx is the one HTTP client of idpctl, and the only importer of
// resty. It enforces the HTTP rules of the design: a timeout and a body cap on
// every request, HTTPS except for loopback, no redirects for requests that
// carry secrets, retries only for idempotent calls, and a redacted trace.
package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/idpctl/idpctl/internal/boundedfile"
	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/redact"
)

// Defaults chosen for IdPs: token endpoints answer in well under a second;
// discovery and JWKS documents are a few KB; admin list pages stay under a
// few MB. A larger body is a misconfigured endpoint or an attack.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxBody     = 4 << 20
	DefaultMaxRetries  = 4
	DefaultMaxWait     = 60 * time.Second
	defaultUserAgent   = "idpctl"
	maxRedirectsPublic = 5
)

// Options configure a Client. The zero value is usable.
type Options struct {
	Timeout    time.Duration // per request, including reading the body
	MaxBody    int64         // response size cap in bytes
	MaxRetries int           // for idempotent requests only
	MaxWait    time.Duration // longest single wait a Retry-After may impose
	CAFile     string        // extra trusted CA certificates (PEM), e.g. a UCM's self-signed CA
	Proxy      string        // explicit proxy URL; empty means the environment's
	// ProxyLoopback lets requests to loopback hosts go through a proxy that
	// is itself on loopback; without it loopback traffic never uses one.
	ProxyLoopback bool
	// ClientCert is presented in TLS handshakes, for RFC 8705 tls_client_auth.
	ClientCert *tls.Certificate
	UserAgent  string
	// Debug, when set, receives a redacted trace of every request and response.
	Debug io.Writer
	// Notify, when set, is told in one line each time a retry waits, so a
	// person knows why a command is slow.
	Notify io.Writer
	// Deadline, when set, caps retries for the whole command: no retry
	// waits or runs past it. The first attempt of a request is bounded by
	// Timeout alone, so a request made late in a long command (after a
	// person logged in) is still sent.
	Deadline time.Time
	// Sleep waits between retries; tests replace it. It must honour ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used to read reset-time rate-limit headers.
	Now func() time.Time
	// Transport replaces the network transport, for tests.
	Transport http.RoundTripper
}

// Client sends requests under the package's rules.
type Client struct {
	rc   *resty.Client
	opts Options
}

// Request describes one call.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Query  url.Values
	// Form is sent as application/x-www-form-urlencoded (RFC 6749 §4.1.3 and friends).
	Form url.Values
	// JSON is marshalled as the body when Form is nil.
	JSON any
	// Body is sent as it is when Form and JSON are nil; its Content-Type
	// goes in Header (a SOAP envelope is text/xml).
	Body []byte
	// BasicUser and BasicPassword set HTTP Basic authentication.
	BasicUser, BasicPassword string
	// Idempotent requests are retried on 429, 502, 503 and 504 and on
	// connection errors. Token, revoke and admin writes must leave it false:
	// a replayed refresh token trips reuse detection (RFC 9700 §4.14.2) and
	// kills the whole token family.
	Idempotent bool
	// RetryRateLimited lets a non-idempotent request be repeated after a
	// 429 only: the server says it did not process it, so repeating is
	// safe. Admin writes use it; token requests do not, since some IdPs
	// answer 429 after consuming the grant.
	RetryRateLimited bool
	// Transient, when set on an Idempotent request, recognises a vendor
	// answer outside 429 and 5xx that still means "not done, try again"
	// (Hydra's 400 on a database serialization conflict); such answers are
	// retried with the usual back-off.
	Transient func(*Response) bool
	// FollowRedirects allows redirects; requests carrying credentials never
	// set it, so a secret cannot be forwarded to another host.
	FollowRedirects bool
	// Secrets lists values to blank in the debug trace beyond the usual
	// fields (for example an API token inside a custom header).
	Secrets []string
}

// Response is a fully read response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	URL    string
	// Secrets are the credentials the request carried (its Secrets, the
	// Basic password, credential headers, credential form values), so that
	// whoever quotes the answer can blank them: a server may echo them.
	Secrets []string
}

type ctxKey int

const followRedirectsKey ctxKey = 1

// New builds a Client. It fails only on an unreadable CA file or proxy URL.
func New(opts Options) (*Client, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	} else if opts.MaxRetries == 0 {
		opts.MaxRetries = DefaultMaxRetries
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	if opts.UserAgent == "" {
		opts.UserAgent = defaultUserAgent
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	transport := opts.Transport
	if transport == nil {
		t, err := newTransport(opts)
		if err != nil {
			return nil, err
		}
		transport = t
	}
	hc := &http.Client{Transport: transport, Timeout: opts.Timeout}
	rc := resty.NewWithClient(hc).
		SetTimeout(opts.Timeout).
		SetResponseBodyLimit(int(opts.MaxBody)).
		SetHeader("User-Agent", opts.UserAgent).
		// Retries are done by Do, per request, so resty's own stay off.
		SetRetryCount(0).
		SetRedirectPolicy(resty.RedirectPolicyFunc(func(req *http.Request, via []*http.Request) error {
			if follow, _ := req.Context().Value(followRedirectsKey).(bool); !follow {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirectsPublic {
				return errors.New("too many redirects")
			}
			if err := checkScheme(req.URL); err != nil {
				return err
			}
			return nil
		}))
	rc.SetLogger(discardLogger{})
	return &Client{rc: rc, opts: opts}, nil
}

func newTransport(opts Options) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.CAFile != "" {
		pem, err := boundedfile.Read(opts.CAFile, boundedfile.CABundle, "the CA file")
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errs.New(errs.KindUsage, "the CA file %s holds no PEM certificate", opts.CAFile)
		}
		t.TLSClientConfig.RootCAs = pool
	}
	if opts.ClientCert != nil {
		cert := *opts.ClientCert
		t.TLSClientConfig.Certificates = []tls.Certificate{cert}
	}
	proxy := http.ProxyFromEnvironment
	var proxyURL *url.URL
	if opts.Proxy != "" {
		u, err := url.Parse(opts.Proxy)
		if err != nil || u.Host == "" {
			return nil, errs.New(errs.KindUsage, "the proxy %q is not a URL", redact.URL(opts.Proxy))
		}
		proxyURL = u
		proxy = http.ProxyURL(u)
	}
	t.Proxy = loopbackDirect(proxy, proxyURL, opts.ProxyLoopback)
	return t, nil
}

// loopbackDirect keeps loopback traffic off the proxy. HTTPS is not
// required for loopback, so such requests may carry a client secret in
// cleartext; through a proxy that cleartext would cross the network, and
// "127.0.0.1" would name the proxy's host rather than this one. A proxy on
// loopback may carry it only when allowLoopback is set (to record a local
// IdP's traffic on purpose).
func loopbackDirect(proxy func(*http.Request) (*url.URL, error), explicit *url.URL, allowLoopback bool) func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		if !IsLoopbackHost(r.URL.Hostname()) {
			return proxy(r)
		}
		if allowLoopback && explicit != nil && IsLoopbackHost(explicit.Hostname()) {
			return explicit, nil
		}
		return nil, nil
	}
}

// Do sends the request, retrying idempotent ones as the server asks, and
// returns the whole response for any HTTP status. Errors are classified:
// transport and TLS failures and unreadable bodies are errs.KindNetwork.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil || u.Host == "" {
		return nil, errs.New(errs.KindUsage, "%q is not a valid URL", redactURL(req.URL))
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	attempts := 1
	if req.Idempotent || req.RetryRateLimited {
		attempts += c.opts.MaxRetries
	}
	var last *Response
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, req, attempt)
		if err == nil {
			last = resp
		}
		if attempt >= attempts {
			if err != nil {
				return nil, err
			}
			return last, nil
		}
		wait, retry := c.retryWait(req, resp, err, attempt)
		if retry && !req.Idempotent && (err != nil || resp.Status != http.StatusTooManyRequests) {
			retry = false
		}
		if !retry {
			if err != nil {
				return nil, err
			}
			return resp, nil
		}
		if wait > c.opts.MaxWait || c.pastDeadline(wait) {
			// The server asks for longer than we may wait: give the caller
			// the answer rather than sleeping past what a person expects.
			if err != nil {
				return nil, err
			}
			return resp, nil
		}
		c.notifyRetry(u.Host, resp, err, wait, attempt+1, attempts)
		c.tracef("retrying in %s (attempt %d of %d)", wait.Round(time.Millisecond), attempt+1, attempts)
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return nil, errs.Wrap(errs.KindInterrupted, fmt.Errorf("waiting to retry %s: %w", u.Host, err))
		}
		if !c.opts.Deadline.IsZero() {
			// A retry must not run past the command's deadline either.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.opts.Deadline.Sub(c.opts.Now()))
			defer cancel()
		}
	}
}

// WithDeadline returns a client like c whose retries stop at d (none when
// d is zero). The copy shares the connection pool.
func (c *Client) WithDeadline(d time.Time) *Client {
	cp := *c
	cp.opts.Deadline = d
	return &cp
}

// pastDeadline tells whether a retry after wait would start too late to
// finish by the deadline: it needs at least a moment to run.
func (c *Client) pastDeadline(wait time.Duration) bool {
	if c.opts.Deadline.IsZero() {
		return false
	}
	return !c.opts.Now().Add(wait).Add(minAttempt).Before(c.opts.Deadline)
}

// minAttempt is the least time worth giving a retry before the deadline.
const minAttempt = 100 * time.Millisecond

// notifyRetry says on stderr why the command waits, e.g.
// "IdP idp.example.com answered 503; retrying in 4s (2/5)".
func (c *Client) notifyRetry(host string, resp *Response, err error, wait time.Duration, next, attempts int) {
	if c.opts.Notify == nil {
		return
	}
	what := "did not answer"
	if err == nil && resp != nil {
		what = fmt.Sprintf("answered %d", resp.Status)
	}
	fmt.Fprintf(c.opts.Notify, "IdP %s %s; retrying in %s (%d/%d)\n", host, what, roundWait(wait), next, attempts)
}

func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}

func (c *Client) once(ctx context.Context, req Request, attempt int) (*Response, error) {
	ctx = context.WithValue(ctx, followRedirectsKey, req.FollowRedirects)
	r := c.rc.R().SetContext(ctx)
	for k, vs := range req.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if len(req.Query) > 0 {
		r.SetQueryParamsFromValues(req.Query)
	}
	if req.BasicUser != "" || req.BasicPassword != "" {
		r.SetBasicAuth(req.BasicUser, req.BasicPassword)
	}
	var body []byte
	switch {
	case req.Form != nil:
		body = []byte(req.Form.Encode())
		r.SetHeader("Content-Type", "application/x-www-form-urlencoded")
		r.SetBody(body)
	case req.JSON != nil:
		b, err := jsonMarshal(req.JSON)
		if err != nil {
			return nil, fmt.Errorf("encoding the request body: %w", err)
		}
		body = b
		r.SetHeader("Content-Type", "application/json")
		r.SetBody(body)
	case req.Body != nil:
		body = req.Body
		r.SetBody(body)
	}
	if r.Header.Get("Accept") == "" {
		r.SetHeader("Accept", "application/json")
	}
	full := req.URL
	if len(req.Query) > 0 {
		sep := "?"
		if strings.Contains(full, "?") {
			sep = "&"
		}
		full += sep + req.Query.Encode()
	}
	c.traceRequest(req, r.Header, full, body, attempt)
	start := time.Now()
	resp, err := r.Execute(req.Method, req.URL)
	if err != nil {
		cerr := classify(ctx, err, hostOf(req.URL), c.opts)
		c.tracef("<- error after %s: %v", time.Since(start).Round(time.Millisecond), cerr)
		return nil, cerr
	}
	out := &Response{Status: resp.StatusCode(), Header: resp.Header(), Body: resp.Body(), URL: req.URL, Secrets: requestSecrets(req)}
	c.traceResponse(req, out, time.Since(start))
	return out, nil
}

// requestSecrets lists every credential a request carries.
func requestSecrets(req Request) []string {
	out := append([]string(nil), req.Secrets...)
	if req.BasicPassword != "" {
		out = append(out, req.BasicPassword)
	}
	for k, vs := range req.Header {
		if !redact.IsSensitiveHeader(k) {
			continue
		}
		for _, v := range vs {
			// "Bearer abc", "SSWS abc": the credential without its scheme.
			if _, cred, ok := strings.Cut(v, " "); ok {
				out = append(out, strings.TrimSpace(cred))
			}
			out = append(out, v)
		}
	}
	for k, vs := range req.Form {
		if redact.IsSensitiveKey(k) {
			out = append(out, vs...)
		}
	}
	return out
}

// checkScheme enforces HTTPS except for loopback hosts (RFC 8252 §8.3 allows
// plain HTTP only there, and RFC 9700 §2 requires TLS everywhere else).
func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
		return errs.New(errs.KindUsage, "refusing plain http to %s: only loopback addresses may use http, use https", u.Host)
	default:
		return errs.New(errs.KindUsage, "unsupported URL scheme %q", u.Scheme)
	}
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "the server"
}

func sleepCtx(ctx context.Context, d time.Duration) error { return durations.Sleep(ctx, d) }

type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

// Fetch GETs a public document (a JWKS, a discovery document), retrying as
// idempotent requests may, and returns its body; anything but 200 is a
// KindNetwork error naming the status and host.
func (c *Client) Fetch(ctx context.Context, url string) (*Response, error) {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, URL: url, Idempotent: true})
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, errs.New(errs.KindNetwork, "HTTP %d from %s", resp.Status, hostOf(url))
	}
	return resp, nil
}

// ServerDate is the server's clock from the Date header (RFC 9110 §6.6.1),
// for measuring skew.
func (r *Response) ServerDate() (time.Time, bool) {
	t, err := http.ParseTime(r.Header.Get("Date"))
	return t, err == nil
}
