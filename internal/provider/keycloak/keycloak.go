package keycloak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name of this adapter.
const Name = "keycloak"

// DefaultAdminRealm is where Keycloak's admin clients usually live.
const DefaultAdminRealm = "master"

// pageSize is the max of paginated client listings.
const pageSize = 100

// Provider is the Keycloak adapter. It implements
// provider.UserTokenRevoker, provider.AppExpiryManager and
// provider.KeyRotator.
type Provider struct {
	*provider.Client
	base  string // server base, no trailing slash (may end in /auth)
	realm string
}

var (
	_ provider.UserTokenRevoker = (*Provider)(nil)
	_ provider.AppExpiryManager = (*Provider)(nil)
	_ provider.KeyRotator       = (*Provider)(nil)
)

var uuidPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
})

// New builds the adapter from the profile; see the package documentation
// for how the base URL and realm are found.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil || env.HTTP == nil {
		return nil, errs.New(errs.KindUsage, "keycloak: no HTTP client configured")
	}
	raw := strings.TrimSpace(env.BaseURL)
	if raw == "" {
		raw = strings.TrimSpace(env.Issuer)
	}
	if raw == "" {
		return nil, errs.New(errs.KindUsage, "keycloak: set the profile's admin url (https://kc.example.com) or an issuer of the form https://kc.example.com/realms/NAME")
	}
	base, realm, err := splitRealmURL(raw)
	if err != nil {
		return nil, err
	}
	realm = env.Setting("realm", realm)
	if realm == "" {
		return nil, errs.New(errs.KindUsage, "keycloak: no realm: set the admin setting realm, or use an issuer of the form %s/realms/NAME", base)
	}
	if a := env.Auth; a != nil && a.Scheme == provider.AuthClientCredentials && a.TokenURL == "" {
		a.TokenURL = base + "/realms/" + url.PathEscape(env.Setting("admin_realm", DefaultAdminRealm)) + "/protocol/openid-connect/token"
	}
	c, err := provider.NewClient(env, Name, base, provider.ClientOptions{
		Decode: decodeError,
		// One try and four retries, as every admin call had before the base.
		MaxAttempts: 5,
	})
	if err != nil {
		return nil, err
	}
	return &Provider{Client: c, base: base, realm: realm}, nil
}

// splitRealmURL reads https://host[/prefix][/admin]/realms/R[/...] as the
// base https://host[/prefix] and realm R; a URL without /realms/ is a base.
func splitRealmURL(raw string) (base, realm string, err error) {
	u, perr := url.Parse(strings.TrimRight(raw, "/"))
	if perr != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", errs.New(errs.KindUsage, "keycloak: %q is not an http(s) URL", raw)
	}
	path := u.Path
	if i := strings.Index(path, "/realms/"); i >= 0 {
		rest := path[i+len("/realms/"):]
		realm, _, _ = strings.Cut(rest, "/")
		if un, uerr := url.PathUnescape(realm); uerr == nil {
			realm = un
		}
		path = strings.TrimSuffix(path[:i], "/admin")
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = path, "", "", ""
	return strings.TrimRight(u.String(), "/"), realm, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// adminPath is a path under the realm's admin API.
func (p *Provider) adminPath(rest string) string {
	return "/admin/realms/" + url.PathEscape(p.realm) + rest
}

func (p *Provider) get(ctx context.Context, path string, q url.Values) (*httpx.Response, error) {
	return p.Do(ctx, provider.Req{Method: http.MethodGet, Path: path, Query: q})
}

func (p *Provider) del(ctx context.Context, path string) (*httpx.Response, error) {
	return p.Do(ctx, provider.Req{Method: http.MethodDelete, Path: path})
}

// write sends a POST or PUT, repeated only after a 429.
func (p *Provider) write(ctx context.Context, method, path string, body any) (*httpx.Response, error) {
	return p.Do(ctx, provider.Req{Method: method, Path: path, JSON: body, RetryRateLimited: true})
}

// getJSON GETs and decodes a 200 answer; other statuses are errors.
func (p *Provider) getJSON(ctx context.Context, operation, path string, q url.Values, v any) (*httpx.Response, error) {
	resp, err := p.get(ctx, path, q)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return resp, p.Fail(operation, resp)
	}
	return resp, decode(resp, operation, v)
}

func decode(resp *httpx.Response, operation string, v any) error {
	if err := httpx.DecodeJSON(resp, v); err != nil {
		return fmt.Errorf("keycloak: %s: %w", operation, err)
	}
	return nil
}

// decodeError is the base's view of Keycloak's error documents.
func decodeError(resp *httpx.Response) provider.VendorError {
	return provider.VendorError{Message: vendorMessage(resp.Body)}
}

// vendorMessage reads Keycloak's two error documents: ErrorRepresentation
// {"errorMessage"} and OAuth2ErrorRepresentation {"error",
// "error_description"}.
func vendorMessage(body []byte) string {
	var doc struct {
		ErrorMessage string `json:"errorMessage"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	var parts []string
	for _, s := range []string{doc.ErrorMessage, doc.Error, doc.Description} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// realmRep is what the adapter reads of a realm.
type realmRep struct {
	ID                        string `json:"id"`
	Realm                     string `json:"realm"`
	AccessTokenLifespan       int64  `json:"accessTokenLifespan"`
	SSOSessionIdleTimeout     int64  `json:"ssoSessionIdleTimeout"`
	SSOSessionMaxLifespan     int64  `json:"ssoSessionMaxLifespan"`
	ClientSessionIdleTimeout  int64  `json:"clientSessionIdleTimeout"`
	ClientSessionMaxLifespan  int64  `json:"clientSessionMaxLifespan"`
	OfflineSessionIdleTimeout int64  `json:"offlineSessionIdleTimeout"`
	OfflineSessionMaxLifespan int64  `json:"offlineSessionMaxLifespan"`
	OfflineMaxEnabled         bool   `json:"offlineSessionMaxLifespanEnabled"`
	RevokeRefreshToken        bool   `json:"revokeRefreshToken"`
	RefreshTokenMaxReuse      int64  `json:"refreshTokenMaxReuse"`
}

func (p *Provider) readRealm(ctx context.Context) (*realmRep, error) {
	var r realmRep
	resp, err := p.getJSON(ctx, "reading realm "+p.realm, p.adminPath(""), nil, &r)
	if err != nil {
		if resp != nil && resp.Status == http.StatusNotFound {
			return nil, errs.New(errs.KindUsage, "keycloak: no realm %q (or the admin client cannot see it)", p.realm)
		}
		return nil, err
	}
	return &r, nil
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
