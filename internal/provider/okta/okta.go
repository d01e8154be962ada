package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name of this adapter.
const Name = "okta"

// OrgAuthorizationServer is the authorization_server value naming the org
// authorization server (/oauth2/v1), which has no policies or key API.
const OrgAuthorizationServer = "org"

// DefaultScope is what a client-credentials admin token asks for when the
// profile names no scope: the okta.* scopes the three operations need.
const DefaultScope = "okta.users.read okta.users.manage okta.apps.read okta.apps.manage okta.authorizationServers.read okta.authorizationServers.manage"

// maxPages bounds a paginated listing; a loop past it means a broken or
// hostile next link rather than a real org.
const maxPages = 200

// Provider is the Okta adapter. It implements provider.UserTokenRevoker,
// provider.AppExpiryManager and provider.KeyRotator.
type Provider struct {
	env *provider.Env
	org string // scheme://host of the org, no trailing slash
	as  string // custom authorization server id, or OrgAuthorizationServer

	mu sync.Mutex
	// stillValid caches the "how long issued access tokens live" sentence
	// per client ("" = any client), so a bulk run reads the policies once.
	stillValid map[string]string
}

var (
	_ provider.UserTokenRevoker = (*Provider)(nil)
	_ provider.AppExpiryManager = (*Provider)(nil)
	_ provider.KeyRotator       = (*Provider)(nil)
)

var issuerAS = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/oauth2/([^/]+)/?$`) })

// New builds the adapter from the profile. See the package documentation
// for how the org and authorization server are found.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil || env.HTTP == nil {
		return nil, errs.New(errs.KindUsage, "okta: no HTTP client configured")
	}
	org, asFromIssuer, err := orgOf(env)
	if err != nil {
		return nil, err
	}
	as := env.Setting("authorization_server", asFromIssuer)
	if as == "" {
		as = "default"
	}
	if strings.Contains(as, "/") {
		return nil, errs.New(errs.KindUsage, "okta: authorization_server %q is not an authorization server id", as)
	}
	if env.Auth != nil {
		switch env.Auth.Scheme {
		case "":
			// Unset: an API token, the credential most Okta admins have.
			env.Auth.Scheme = provider.AuthSSWS
		case provider.AuthSSWS, provider.AuthBearer:
		case provider.AuthClientCredentials:
			if env.Auth.TokenURL == "" {
				env.Auth.TokenURL = org + "/oauth2/v1/token"
			}
			if env.Auth.Scope == "" {
				env.Auth.Scope = DefaultScope
			}
		default:
			return nil, errs.New(errs.KindUsage, "okta: admin auth %q is not supported: use ssws (an API token), bearer or client_credentials", env.Auth.Scheme)
		}
	}
	return &Provider{env: env, org: org, as: as, stillValid: map[string]string{}}, nil
}

// orgOf finds the org origin and, from an issuer of the form
// https://org/oauth2/{as}, the custom authorization server.
func orgOf(env *provider.Env) (org, as string, err error) {
	if env.Issuer != "" {
		if u, perr := url.Parse(env.Issuer); perr == nil {
			if m := issuerAS().FindStringSubmatch(u.Path); m != nil {
				as = m[1]
			}
		}
	}
	raw := env.BaseURL
	if raw == "" {
		raw = env.Issuer
	}
	if raw == "" {
		return "", "", errs.New(errs.KindUsage, "okta: set the profile's admin url (https://your-org.okta.com) or its issuer")
	}
	u, perr := url.Parse(raw)
	if perr != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", errs.New(errs.KindUsage, "okta: %q is not an org URL like https://your-org.okta.com", raw)
	}
	return u.Scheme + "://" + u.Host, as, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// AuthorizationServer is the authorization server the adapter works on.
func (p *Provider) AuthorizationServer() string { return p.as }

func (p *Provider) custom() bool { return p.as != OrgAuthorizationServer }

// asPath is the management path of the custom authorization server.
func (p *Provider) asPath() string {
	return "/api/v1/authorizationServers/" + url.PathEscape(p.as)
}

// send makes one management API call. Reads and deletes are idempotent
// (repeating a revocation is harmless); writes are repeated only after a
// 429, which says Okta did not process them.
func (p *Provider) send(ctx context.Context, method, rawURL string, query url.Values, body any) (*httpx.Response, error) {
	req := httpx.Request{Method: method, URL: rawURL, Query: query}
	if body != nil {
		req.JSON = body
	}
	switch method {
	case http.MethodGet, http.MethodDelete:
		req.Idempotent = true
	default:
		req.RetryRateLimited = true
	}
	return p.env.Send(ctx, req)
}

func (p *Provider) api(path string) string { return p.org + path }

// oktaError is Okta's error document.
type oktaError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

func (e oktaError) message() string {
	var b strings.Builder
	if e.ErrorCode != "" {
		b.WriteString(e.ErrorCode)
		b.WriteString(" ")
	}
	b.WriteString(e.ErrorSummary)
	for _, c := range e.ErrorCauses {
		if c.ErrorSummary != "" {
			b.WriteString("; ")
			b.WriteString(c.ErrorSummary)
		}
	}
	return strings.TrimSpace(b.String())
}

func readError(resp *httpx.Response) oktaError {
	var e oktaError
	if httpx.IsJSON(resp.Body) {
		_ = json.Unmarshal(resp.Body, &e)
	}
	return e
}

// fail classifies an unexpected answer, keeping Okta's own words.
func fail(op string, resp *httpx.Response) error {
	return provider.StatusError(op, resp, readError(resp).message())
}

// listAll follows Okta's Link rel="next" pagination, handing each item to
// fn. Next links must stay on the org: the admin credential goes with them.
func (p *Provider) listAll(ctx context.Context, op, path string, query url.Values, fn func(json.RawMessage) error) error {
	next := p.api(path)
	q := query
	for page := 0; next != ""; page++ {
		if page == maxPages {
			return errs.New(errs.KindNetwork, "%s: more than %d pages; stopping", op, maxPages)
		}
		resp, err := p.send(ctx, http.MethodGet, next, q, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if resp.Status != http.StatusOK {
			return &statusError{status: resp.Status, err: fail(op, resp)}
		}
		var items []json.RawMessage
		if err := provider.DecodeExact(resp, &items); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		next, err = p.nextLink(op, resp.Header)
		if err != nil {
			return err
		}
		q = nil // the next link carries the query and cursor
	}
	return nil
}

// statusError keeps the HTTP status of a failed listing, for callers that
// give a status its own meaning (a 404 naming an unknown client).
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return 0
}

// nextLink returns the rel="next" target of a Link header (RFC 8288), or "".
func (p *Provider) nextLink(op string, h http.Header) (string, error) {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			segs := strings.Split(part, ";")
			if len(segs) < 2 {
				continue
			}
			target := strings.Trim(strings.TrimSpace(segs[0]), "<>")
			isNext := false
			for _, s := range segs[1:] {
				s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
				if s == `rel="next"` || s == "rel=next" {
					isNext = true
				}
			}
			if !isNext {
				continue
			}
			u, err := url.Parse(target)
			if err != nil || (u.Host == "" && !strings.HasPrefix(u.Path, "/")) {
				return "", errs.New(errs.KindNetwork, "%s: Okta's next-page link %q is not a URL", op, provider.Clean(target))
			}
			// An org reached through a custom domain may name its okta.com
			// host in the link. Like Okta's SDKs, keep the configured org
			// and take only the path and query from the link: the admin
			// credential never goes to a host the profile does not name.
			next := p.org + u.EscapedPath()
			if u.RawQuery != "" {
				next += "?" + u.RawQuery
			}
			return next, nil
		}
	}
	return "", nil
}

// child returns m[key] as an object, creating it when create is set.
func child(m map[string]any, key string, create bool) map[string]any {
	if m == nil {
		return nil
	}
	if c, ok := m[key].(map[string]any); ok {
		return c
	}
	if !create {
		return nil
	}
	c := map[string]any{}
	m[key] = c
	return c
}

func strings2(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
