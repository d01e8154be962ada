// Package generic is the provider of a profile that names no vendor: the
// standards cover token work (RFC 6749, 7009, 7662) but no standard lets an
// administrator act on a user's tokens, lifetimes or keys, so every admin
// capability answers "not supported" (exit 7) with what to do instead.
package generic

import (
	"context"

	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name.
const Name = "generic"

// The sentences say what the standards do offer.
const (
	UnsupportedRevoke = "revoking every token of a user needs the IdP's admin API, which no standard defines; RFC 7009 revocation needs the token itself: use 'idpctl token revoke --token-file FILE' (or - for stdin), or set the profile's provider (hydra, keycloak, okta, auth0, oracle, cisco-ucm) and an admin credential"
	UnsupportedExpiry = "token lifetimes are set in the IdP's admin console or admin API, which no standard defines; set the profile's provider (hydra, keycloak, okta, auth0, oracle, cisco-ucm) to manage them with idpctl"
	UnsupportedKeys   = "signing keys are managed by the IdP and no standard defines a rotation API; the public keys can be read from the issuer's JWKS ('idpctl idp discover'); set the profile's provider (hydra, keycloak, okta, auth0, cisco-ucm) to rotate them with idpctl"
)

// Provider implements every capability as unsupported.
type Provider struct{}

// New returns the generic provider; it needs nothing from env.
func New(*provider.Env) (provider.Provider, error) { return Provider{}, nil }

func (Provider) Name() string { return Name }

func (Provider) PlanRevokeUser(provider.RevokeUserRequest) ([]provider.Call, error) {
	return nil, provider.Unsupported(Name, "revoking a user's tokens", UnsupportedRevoke)
}

func (Provider) RevokeUser(context.Context, provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	return nil, provider.Unsupported(Name, "revoking a user's tokens", UnsupportedRevoke)
}

func (Provider) ListApps(context.Context) ([]provider.App, error) {
	return nil, provider.Unsupported(Name, "listing applications", UnsupportedExpiry)
}

func (Provider) GetExpiry(context.Context, string) (*provider.Lifetimes, error) {
	return nil, provider.Unsupported(Name, "reading token lifetimes", UnsupportedExpiry)
}

func (Provider) PlanExpiry(context.Context, string, provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	return nil, provider.Unsupported(Name, "changing token lifetimes", UnsupportedExpiry)
}

func (Provider) ApplyExpiry(context.Context, *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	return nil, provider.Unsupported(Name, "changing token lifetimes", UnsupportedExpiry)
}

func (Provider) ListKeys(context.Context) ([]provider.Key, error) {
	return nil, provider.Unsupported(Name, "listing signing keys", UnsupportedKeys)
}

func (Provider) PlanRotate(context.Context, provider.KeyUse, provider.RotateOptions) (*provider.RotatePlan, error) {
	return nil, provider.Unsupported(Name, "rotating keys", UnsupportedKeys)
}

func (Provider) Rotate(context.Context, *provider.RotatePlan) (*provider.RotateResult, error) {
	return nil, provider.Unsupported(Name, "rotating keys", UnsupportedKeys)
}

// The compiler checks the capabilities are all there.
var (
	_ provider.UserTokenRevoker = Provider{}
	_ provider.AppExpiryManager = Provider{}
	_ provider.KeyRotator       = Provider{}
)
