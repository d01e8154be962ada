package auth0

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name of this adapter.
const Name = "auth0"

// maxPages bounds a paginated listing (Auth0 pages by page and per_page,
// not by Link headers).
const maxPages = 200

// devicePerPage is the largest page GET /device-credentials answers.
const devicePerPage = 1000

// Provider is the Auth0 adapter. It implements provider.UserTokenRevoker,
// provider.AppExpiryManager and provider.KeyRotator.
type Provider struct {
	*provider.Client
	base   string // scheme://host the Management API is reached at
	tenant string // the tenant's canonical domain
	api    string // default API for access-token lifetimes, may be ""
	// perPage is the device-credentials page size (devicePerPage; tests
	// make it small to see the paging).
	perPage int

	mu sync.Mutex
	// stillValid caches the access-token lifetime sentence per API, so a
	// bulk revocation reads the API once.
	stillValid map[string]string
	// clientsSeen are the --client ids Auth0 confirmed, so a bulk
	// revocation for one application reads it once.
	clientsSeen map[string]bool
}

var (
	_ provider.UserTokenRevoker = (*Provider)(nil)
	_ provider.AppExpiryManager = (*Provider)(nil)
	_ provider.KeyRotator       = (*Provider)(nil)
)

// New builds the adapter from the profile. See the package documentation
// for how the tenant is found.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil || env.HTTP == nil {
		return nil, errs.New(errs.KindUsage, "auth0: no HTTP client configured")
	}
	tenant := strings.TrimSuffix(strings.TrimPrefix(env.Setting("tenant", ""), "https://"), "/")
	if strings.ContainsAny(tenant, "/?#@") {
		return nil, errs.New(errs.KindUsage, "auth0: tenant %q is not a domain like acme.eu.auth0.com", tenant)
	}
	var base, scheme string
	switch {
	case env.BaseURL != "":
		u, err := url.Parse(env.BaseURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, errs.New(errs.KindUsage, "auth0: admin url %q is not like https://acme.eu.auth0.com", env.BaseURL)
		}
		base, scheme = u.Scheme+"://"+u.Host, u.Scheme
		if tenant == "" {
			tenant = u.Host
		}
	case tenant != "":
		base, scheme = "https://"+tenant, "https"
	case env.Issuer != "":
		u, err := url.Parse(env.Issuer)
		if err != nil || u.Host == "" {
			return nil, errs.New(errs.KindUsage, "auth0: issuer %q has no host; set the admin setting tenant", env.Issuer)
		}
		base, scheme, tenant = "https://"+u.Host, "https", u.Host
	default:
		return nil, errs.New(errs.KindUsage, "auth0: set the admin setting tenant (acme.eu.auth0.com), the admin url or the issuer")
	}
	if env.Auth != nil {
		switch env.Auth.Scheme {
		case "":
			// Unset and no admin client_id (which would have chosen client
			// credentials): a ready Management API token.
			env.Auth.Scheme = provider.AuthBearer
		case provider.AuthBearer:
		case provider.AuthClientCredentials:
			if env.Auth.ClientAuthMethod == "" {
				// Auth0 creates machine-to-machine applications with
				// token_endpoint_auth_method client_secret_post and
				// refuses HTTP Basic for them.
				env.Auth.ClientAuthMethod = oauth.AuthSecretPost
			}
			if env.Auth.TokenURL == "" {
				env.Auth.TokenURL = base + "/oauth/token"
			}
			if env.Auth.Audience == "" {
				env.Auth.Audience = scheme + "://" + tenant + "/api/v2/"
			}
		default:
			return nil, errs.New(errs.KindUsage, "auth0: admin auth %q is not supported: use client_credentials (a machine-to-machine app) or bearer", env.Auth.Scheme)
		}
	}
	c, err := provider.NewClient(env, Name, base+"/api/v2", provider.ClientOptions{
		Decode: decodeError,
		// Auth0's X-RateLimit-Reset is an epoch; measured against the
		// answer's Date a skewed local clock neither cuts a wait short nor
		// stretches it.
		ServerClock: true,
		// One try and four retries, as every admin call had before the base.
		MaxAttempts: 5,
	})
	if err != nil {
		return nil, err
	}
	return &Provider{Client: c, base: base, tenant: tenant, api: env.Setting("api", ""), perPage: devicePerPage, stillValid: map[string]string{}}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Tenant is the tenant domain the adapter works on.
func (p *Provider) Tenant() string { return p.tenant }

// JWKSURL is where relying parties read the tenant's signing keys.
func (p *Provider) JWKSURL() string { return p.base + "/.well-known/jwks.json" }

// send makes one Management API call. Reads and deletes are idempotent;
// writes are repeated only after a 429, which Auth0 documents as not
// processed.
func (p *Provider) send(ctx context.Context, method, path string, query url.Values, body any) (*httpx.Response, error) {
	return p.Do(ctx, provider.Req{Method: method, Path: path, Query: query, JSON: body, RetryRateLimited: !provider.Idempotent(method)})
}

// apiError is Auth0's error document.
type apiError struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
}

func (e apiError) text() string {
	msg := e.Message
	if msg == "" {
		msg = e.Error
	}
	if e.ErrorCode != "" {
		return e.ErrorCode + ": " + msg
	}
	return msg
}

func readError(resp *httpx.Response) apiError {
	var e apiError
	if httpx.IsJSON(resp.Body) {
		_ = json.Unmarshal(resp.Body, &e)
	}
	return e
}

// decodeError is the base's view of Auth0's error document; the message
// already names the errorCode.
func decodeError(resp *httpx.Response) provider.VendorError {
	e := readError(resp)
	return provider.VendorError{Code: e.ErrorCode, Message: e.text()}
}

// fail classifies an unexpected answer, keeping Auth0's own words. The
// adapter's operations name the vendor already ("auth0: reading the
// user"), which the base adds itself.
func (p *Provider) fail(op string, resp *httpx.Response) error {
	return p.Fail(strings.TrimPrefix(op, Name+": "), resp)
}

// notEnabled tells a tenant without an endpoint (not on the plan, or an
// early-access feature not turned on) from a refusal: a 404 that is not
// about the user, or a 403 that names a feature rather than a scope.
func notEnabled(resp *httpx.Response) bool {
	e := readError(resp)
	text := strings.ToLower(e.Message + " " + e.ErrorCode + " " + e.Error)
	switch resp.Status {
	case http.StatusNotFound:
		return e.ErrorCode != "inexistent_user" && !strings.Contains(text, "user")
	case http.StatusForbidden:
		if strings.Contains(text, "scope") {
			return false
		}
		for _, w := range []string{"not enabled", "feature", "not available", "enterprise", "plan"} {
			if strings.Contains(text, w) {
				return true
			}
		}
	}
	return false
}
