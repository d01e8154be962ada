// Package sandbox is the admin adapter of idpctl's embedded IdP (`idpctl
// sandbox`), written on provider.Client as the reference for new adapters.
// It implements all three capabilities against the sandbox's admin API
// (internal/sandbox PathAdmin), so an administrator can rehearse an
// offboarding without a vendor tenant.
//
// Settings: admin url (default: the issuer + "/admin"); the admin
// credential is a bearer token (IDPCTL_ADMIN_SECRET or _FILE, as `idpctl
// sandbox -o env` prints it). Users are the sandbox's user ids; apps are
// client ids.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name of this adapter.
const Name = "sandbox"

// Ranges the sandbox's admin API accepts (internal/sandbox adminapi.go).
const (
	maxAccess  = 24 * time.Hour
	maxRefresh = 365 * 24 * time.Hour
)

// Provider is the sandbox adapter.
type Provider struct {
	*provider.Client
	issuer string
}

var (
	_ provider.UserTokenRevoker = (*Provider)(nil)
	_ provider.AppExpiryManager = (*Provider)(nil)
	_ provider.KeyRotator       = (*Provider)(nil)
	_ provider.KeyRetirer       = (*Provider)(nil)
)

// New builds the adapter from the profile.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil {
		return nil, errs.New(errs.KindUsage, "sandbox: no environment")
	}
	issuer := strings.TrimRight(env.Issuer, "/")
	base := env.BaseURL
	if base == "" {
		if issuer == "" {
			return nil, errs.New(errs.KindUsage, "sandbox: no issuer and no admin url: use the variables 'idpctl sandbox -o env' prints")
		}
		base = issuer + "/admin"
	}
	if issuer == "" {
		issuer = strings.TrimSuffix(strings.TrimRight(base, "/"), "/admin")
	}
	if env.Auth == nil {
		env.Auth = &provider.AdminAuth{}
	}
	if env.Auth.Scheme == "" {
		env.Auth.Scheme = provider.AuthBearer
	}
	c, err := provider.NewClient(env, Name, base, provider.ClientOptions{
		// The sandbox speaks the IETF RateLimit fields, reset in seconds.
		RateLimit: provider.RateLimitNames{Limit: "RateLimit-Limit", Remaining: "RateLimit-Remaining", Reset: "RateLimit-Reset", ResetIsDelta: true},
	})
	if err != nil {
		return nil, err
	}
	return &Provider{Client: c, issuer: issuer}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

func userPath(user string) string { return "/users/" + url.PathEscape(user) + "/tokens" }

// ---- (A) revoke --------------------------------------------------------------

// PlanRevokeUser implements provider.UserTokenRevoker.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if strings.TrimSpace(req.User) == "" {
		return nil, errs.New(errs.KindUsage, "sandbox: no user given")
	}
	if req.Method != "" {
		return nil, errs.New(errs.KindUsage, "sandbox: --method is not used here: revoking ends refresh tokens, access tokens and sessions at once")
	}
	path, purpose := userPath(req.User), "end the user's refresh tokens, access tokens and login sessions"
	if req.Client != "" {
		path += "?client_id=" + url.QueryEscape(req.Client)
		purpose = "end the user's refresh and access tokens at this client"
	}
	return []provider.Call{{Method: http.MethodDelete, Path: "/admin" + path, Purpose: purpose}}, nil
}

// revocation is the sandbox's answer to a revocation.
type revocation struct {
	RefreshTokens       int `json:"refresh_tokens"`
	AccessTokens        int `json:"access_tokens"`
	Sessions            int `json:"sessions"`
	AccessTokenLifetime int `json:"access_token_lifetime"`
}

// RevokeUser implements provider.UserTokenRevoker.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if _, err := p.PlanRevokeUser(req); err != nil {
		return nil, err
	}
	var q url.Values
	if req.Client != "" {
		q = url.Values{"client_id": {req.Client}}
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	var rev revocation
	_, err := p.Call(ctx, "revoking the tokens of "+req.User, provider.Req{Method: http.MethodDelete, Path: userPath(req.User), Query: q}, &rev, http.StatusOK)
	var ae *provider.APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Code == "user_not_found":
		res.Outcome, res.Detail = provider.OutcomeUserNotFound, "the sandbox has no such user"
		return res, nil
	case err != nil:
		return nil, err
	}
	res.Outcome = provider.OutcomeRevoked
	if rev.RefreshTokens+rev.AccessTokens+rev.Sessions == 0 {
		res.Outcome = provider.OutcomeNothingToRevoke
	}
	res.Detail = fmt.Sprintf("%s, %s and %s ended", count(rev.RefreshTokens, "refresh token"), count(rev.AccessTokens, "access token"), count(rev.Sessions, "session"))
	if rev.AccessTokens > 0 {
		// Introspection now says inactive, but the JWTs verify locally.
		res.StillValid = "up to " + durations.Format(time.Duration(rev.AccessTokenLifetime)*time.Second) + " (the access-token lifetime) where an API checks JWTs locally without introspection"
	}
	return res, nil
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ---- (B) lifetimes -----------------------------------------------------------

// client is the sandbox's whole client object; PUT takes both lifetimes.
type client struct {
	ClientID string `json:"client_id"`
	Access   int    `json:"access_token_lifetime"`
	Refresh  int    `json:"refresh_token_lifetime"`
	Rotation bool   `json:"refresh_token_rotation"`
}

// ListApps implements provider.AppExpiryManager.
func (p *Provider) ListApps(ctx context.Context) ([]provider.App, error) {
	var cs []client
	if _, err := p.Call(ctx, "listing clients", provider.Req{Method: http.MethodGet, Path: "/clients"}, &cs, http.StatusOK); err != nil {
		return nil, err
	}
	apps := make([]provider.App, 0, len(cs))
	for _, c := range cs {
		apps = append(apps, provider.App{ID: c.ClientID, ClientID: c.ClientID})
	}
	return apps, nil
}

func (p *Provider) readClient(ctx context.Context, app string) (*client, error) {
	var c client
	_, err := p.Call(ctx, "reading client "+app, provider.Req{Method: http.MethodGet, Path: "/clients/" + url.PathEscape(app)}, &c, http.StatusOK)
	if provider.StatusOf(err) == http.StatusNotFound {
		return nil, errs.New(errs.KindUsage, "sandbox: no client %q: see 'idpctl app list'", app)
	}
	return &c, err
}

func (c *client) lifetimes(at time.Time) *provider.Lifetimes {
	secs := func(n int) provider.Lifetime {
		return provider.Lifetime{Value: time.Duration(n) * time.Second, Known: true, Source: provider.SourceApp, Native: fmt.Sprintf("%d seconds", n)}
	}
	on := c.Rotation
	return &provider.Lifetimes{
		App: c.ClientID, AccessToken: secs(c.Access), RefreshToken: secs(c.Refresh),
		RefreshIdle:   provider.Lifetime{Source: provider.SourceVendor, SetWhere: "the sandbox has no idle timeout"},
		ReuseInterval: provider.Lifetime{Source: provider.SourceVendor, SetWhere: "the sandbox allows no reuse: a replayed refresh token revokes its grant"},
		Rotation:      &on, RotationSource: provider.SourceVendor, ReadAt: at,
	}
}

// GetExpiry implements provider.AppExpiryManager.
func (p *Provider) GetExpiry(ctx context.Context, app string) (*provider.Lifetimes, error) {
	c, err := p.readClient(ctx, app)
	if err != nil {
		return nil, err
	}
	return c.lifetimes(p.Now()), nil
}

// PlanExpiry implements provider.AppExpiryManager.
func (p *Provider) PlanExpiry(ctx context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	if ch.RefreshIdle != nil {
		return nil, provider.Unsupported(Name, "an idle timeout for refresh tokens", "the sandbox has none; set --refresh-token")
	}
	if ch.Rotation != nil && !*ch.Rotation {
		return nil, provider.Unsupported(Name, "turning refresh-token rotation off", "the sandbox always rotates")
	}
	for _, v := range []struct {
		d    *time.Duration
		name string
		max  time.Duration
	}{{ch.AccessToken, "--access-token", maxAccess}, {ch.RefreshToken, "--refresh-token", maxRefresh}} {
		if v.d != nil && (*v.d < time.Second || *v.d > v.max || *v.d%time.Second != 0) {
			return nil, errs.New(errs.KindUsage, "sandbox: %s must be whole seconds from 1s to %s", v.name, durations.Format(v.max))
		}
	}
	before, err := p.readClient(ctx, app)
	if err != nil {
		return nil, err
	}
	after := *before
	if ch.AccessToken != nil {
		after.Access = int(*ch.AccessToken / time.Second)
	}
	if ch.RefreshToken != nil {
		after.Refresh = int(*ch.RefreshToken / time.Second)
	}
	path := "/admin/clients/" + url.PathEscape(app)
	return &provider.ExpiryPlan{
		App: app, Before: *before.lifetimes(p.Now()), After: *after.lifetimes(p.Now()), State: &after,
		Calls: []provider.Call{
			{Method: http.MethodGet, Path: path, Purpose: "read the client's lifetimes"},
			{Method: http.MethodPut, Path: path + "/lifetimes", Purpose: "replace both lifetimes; tokens issued from now on get them"},
		},
	}, nil
}

// ApplyExpiry implements provider.AppExpiryManager: the PUT carries both
// lifetimes, then the client is read back.
func (p *Provider) ApplyExpiry(ctx context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	want, ok := plan.State.(*client)
	if !ok {
		return nil, errs.New(errs.KindUnknown, "sandbox: the plan was not made by this adapter")
	}
	body := map[string]int{"access_token_lifetime": want.Access, "refresh_token_lifetime": want.Refresh}
	if _, err := p.Call(ctx, "setting the lifetimes of "+plan.App, provider.Req{Method: http.MethodPut, Path: "/clients/" + url.PathEscape(plan.App) + "/lifetimes", JSON: body}, nil, http.StatusOK); err != nil {
		return nil, err
	}
	got, err := p.readClient(ctx, plan.App)
	if err != nil {
		return nil, err
	}
	if got.Access != want.Access || got.Refresh != want.Refresh {
		return nil, errs.New(errs.KindUnknown, "sandbox: read back %ds/%ds after setting %ds/%ds", got.Access, got.Refresh, want.Access, want.Refresh)
	}
	return got.lifetimes(p.Now()), nil
}

// ---- (C) keys ----------------------------------------------------------------

type keyInfo struct {
	KID     string    `json:"kid"`
	Use     string    `json:"use"`
	Alg     string    `json:"alg"`
	Status  string    `json:"status"`
	Created time.Time `json:"created_at"`
}

// ListKeys implements provider.KeyRotator.
func (p *Provider) ListKeys(ctx context.Context) ([]provider.Key, error) {
	ks, err := p.keys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]provider.Key, 0, len(ks))
	for _, k := range ks {
		out = append(out, provider.Key{KID: k.KID, Algorithm: k.Alg, Use: k.Use, Status: k.Status, Created: k.Created})
	}
	return out, nil
}

func (p *Provider) keys(ctx context.Context) ([]keyInfo, error) {
	var doc struct {
		Keys []keyInfo `json:"keys"`
	}
	_, err := p.Call(ctx, "listing keys", provider.Req{Method: http.MethodGet, Path: "/keys"}, &doc, http.StatusOK)
	return doc.Keys, err
}

func jwkUse(use provider.KeyUse) string {
	if use == provider.KeyEncryption {
		return "enc"
	}
	return "sig"
}

// PlanRotate implements provider.KeyRotator; State holds the kids the
// rotation replaces, for RetireKeys.
func (p *Provider) PlanRotate(ctx context.Context, use provider.KeyUse, opts provider.RotateOptions) (*provider.RotatePlan, error) {
	if use != provider.KeySigning && use != provider.KeyEncryption {
		return nil, errs.New(errs.KindUsage, "sandbox: unknown key use %q", use)
	}
	ks, err := p.keys(ctx)
	if err != nil {
		return nil, err
	}
	var old []string
	for _, k := range ks {
		if k.Use == jwkUse(use) {
			old = append(old, k.KID)
		}
	}
	consequences := []string{"tokens are signed with the new key from now on; tokens the previous key signed keep verifying while it stays published"}
	if use == provider.KeyEncryption {
		consequences = []string{"clients encrypting to the sandbox should take the new key (use=enc) from the JWKS; the previous one stays published until retired"}
	}
	calls := []provider.Call{{Method: http.MethodPost, Path: "/admin/keys", Purpose: "add a new " + string(use) + " key that becomes the active one"}}
	if opts.RetireOldAfter > 0 {
		consequences = append(consequences, "after "+durations.Format(opts.RetireOldAfter)+" the previous keys leave the JWKS: what they signed stops verifying")
		for _, kid := range old {
			calls = append(calls, provider.Call{Method: http.MethodDelete, Path: "/admin/keys/" + url.PathEscape(kid), Purpose: "retire the previous key"})
		}
	}
	return &provider.RotatePlan{Use: use, Calls: calls, Consequences: consequences, Options: opts, State: old}, nil
}

// Rotate implements provider.KeyRotator.
func (p *Provider) Rotate(ctx context.Context, plan *provider.RotatePlan) (*provider.RotateResult, error) {
	var k keyInfo
	if _, err := p.Call(ctx, "rotating the "+string(plan.Use)+" key", provider.Req{Method: http.MethodPost, Path: "/keys", JSON: map[string]string{"use": jwkUse(plan.Use)}}, &k, http.StatusCreated); err != nil {
		return nil, err
	}
	if k.KID == "" {
		return nil, errs.New(errs.KindNetwork, "sandbox: the new key has no kid")
	}
	return &provider.RotateResult{NewKID: k.KID, JWKSURL: p.issuer + "/jwks"}, nil
}

// RetireKeys implements provider.KeyRetirer: the keys the rotation replaced
// leave the JWKS. A key already gone counts as retired.
func (p *Provider) RetireKeys(ctx context.Context, plan *provider.RotatePlan, rotated *provider.RotateResult) (*provider.RotateResult, error) {
	old, _ := plan.State.([]string)
	out := *rotated
	for _, kid := range old {
		if kid == rotated.NewKID || slices.Contains(out.Retired, kid) {
			continue
		}
		_, err := p.Call(ctx, "retiring key "+kid, provider.Req{Method: http.MethodDelete, Path: "/keys/" + url.PathEscape(kid)}, nil, http.StatusNoContent, http.StatusNotFound)
		if err != nil {
			return &out, err
		}
		out.Retired = append(out.Retired, kid)
	}
	return &out, nil
}
