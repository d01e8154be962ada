package okta

import (
	"context"
	"encoding/json"
	"fmt"
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
	*provider.Client
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
	c, err := provider.NewClient(env, Name, org, provider.ClientOptions{
		Decode: decodeError,
		// An org reached through a custom domain may name its okta.com
		// host in next links. Like Okta's SDKs, keep the configured org
		// and take only the path and query from the link: the admin
		// credential never goes to a host the profile does not name.
		RebaseNext: true,
		// X-Rate-Limit-Reset is a time on Okta's clock: the wait is the
		// reset minus the answer's Date, as Okta advises.
		ServerClock: true,
		MaxPages:    maxPages,
		// One try and four retries, as every admin call had before the base.
		MaxAttempts: 5,
	})
	if err != nil {
		return nil, err
	}
	return &Provider{Client: c, org: org, as: as, stillValid: map[string]string{}}, nil
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

// send makes one management API call to an absolute URL on the org.
// Reads and deletes are idempotent (repeating a revocation is harmless);
// writes are repeated only after a 429, which says Okta did not process
// them.
func (p *Provider) send(ctx context.Context, method, rawURL string, query url.Values, body any) (*httpx.Response, error) {
	return p.Do(ctx, provider.Req{Method: method, URL: rawURL, Query: query, JSON: body, RetryRateLimited: !provider.Idempotent(method)})
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

// decodeError is the base's view of Okta's error document; the message
// already names the errorCode.
func decodeError(resp *httpx.Response) provider.VendorError {
	e := readError(resp)
	return provider.VendorError{Code: e.ErrorCode, Message: e.message()}
}

// fail classifies an unexpected answer, keeping Okta's own words. The
// adapter's operations name the vendor already ("okta: listing apps"),
// which the base adds itself.
func (p *Provider) fail(op string, resp *httpx.Response) error {
	return p.Fail(strings.TrimPrefix(op, Name+": "), resp)
}

// listAll follows Okta's Link rel="next" pagination (the base's Pages),
// handing each item to fn.
func (p *Provider) listAll(ctx context.Context, op, path string, query url.Values, fn func(json.RawMessage) error) error {
	return p.Pages(ctx, strings.TrimPrefix(op, Name+": "), path, query, func(resp *httpx.Response) error {
		var items []json.RawMessage
		if err := provider.DecodeExact(resp, &items); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	})
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
