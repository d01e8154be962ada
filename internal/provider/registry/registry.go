// Package registry maps a profile's provider name to its admin adapter, and
// turns a missing capability into the exit-7 answer with the adapter's own
// sentence about what the IdP offers instead.
package registry

import (
	"sort"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/auth0"
	"github.com/idpctl/idpctl/internal/provider/ciscoucm"
	"github.com/idpctl/idpctl/internal/provider/cognito"
	"github.com/idpctl/idpctl/internal/provider/entra"
	"github.com/idpctl/idpctl/internal/provider/generic"
	"github.com/idpctl/idpctl/internal/provider/google"
	"github.com/idpctl/idpctl/internal/provider/hydra"
	"github.com/idpctl/idpctl/internal/provider/keycloak"
	"github.com/idpctl/idpctl/internal/provider/okta"
	"github.com/idpctl/idpctl/internal/provider/oracle"
	"github.com/idpctl/idpctl/internal/provider/sandbox"
	"github.com/idpctl/idpctl/internal/provider/webex"
)

// adapter is one registered provider.
type adapter struct {
	New func(*provider.Env) (provider.Provider, error)
	// Sentences for capabilities the adapter does not implement at all
	// (its UnsupportedRevoke/UnsupportedExpiry/UnsupportedKeys constants);
	// adapters that implement every method and answer provider.Unsupported
	// themselves leave these empty.
	UnsupportedRevoke, UnsupportedExpiry, UnsupportedKeys string
	// Settings are the admin settings the adapter reads besides the
	// common ones (CommonSettings), as its package documentation lists
	// them; a test keeps the two in step.
	Settings []string
}

// CommonSettings are the admin settings every adapter with an admin API
// understands: the API base and how to authenticate to it
// (internal/cli ProviderEnv).
var CommonSettings = []string{"url", "auth", "user", "client_id", "token_url", "scope", "audience", "client_auth"}

// adapters is built on each call so that no registry state outlives a
// command (and tests cannot leak registrations into each other).
func adapters() map[string]adapter {
	return map[string]adapter{
		generic.Name:  {New: generic.New},
		hydra.Name:    {New: hydra.New, Settings: []string{"public_url", "key_set", "key_alg"}},
		keycloak.Name: {New: keycloak.New, Settings: []string{"realm", "admin_realm"}},
		okta.Name:     {New: okta.New, Settings: []string{"authorization_server"}},
		auth0.Name:    {New: auth0.New, Settings: []string{"tenant", "api"}},
		oracle.Name:   {New: oracle.New},
		ciscoucm.Name: {New: ciscoucm.New, Settings: []string{"host", "ssh_host", "ssh_user", "ssh_auth", "ssh_host_key_sha256", "ssh_known_hosts", "imp_nodes", "ssh_timeout", "axl_version"}},
		sandbox.Name:  {New: sandbox.New},
		entra.Name:    {New: entra.New, UnsupportedKeys: entra.UnsupportedKeys, Settings: []string{"tenant", "authority"}},
		webex.Name:    {New: webex.New, UnsupportedExpiry: webex.UnsupportedExpiry, UnsupportedKeys: webex.UnsupportedKeys},
		google.Name:   {New: google.New, UnsupportedExpiry: google.UnsupportedExpiry, UnsupportedKeys: google.UnsupportedKeys, Settings: []string{"subject"}},
		cognito.Name:  {New: cognito.New, UnsupportedKeys: cognito.UnsupportedKeys, Settings: []string{"user_pool_id", "region", "jwks_url"}},
	}
}

// Names lists the registered providers, sorted.
func Names() []string {
	m := adapters()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Known reports whether name is a registered provider ("" is generic).
func Known(name string) bool {
	if name == "" {
		return true
	}
	_, ok := adapters()[name]
	return ok
}

// AdminSettings lists, sorted, the admin settings the named provider
// understands. The generic provider has no admin API, so none.
func AdminSettings(name string) []string {
	if name == "" || name == generic.Name {
		return nil
	}
	a, ok := adapters()[name]
	if !ok {
		return nil
	}
	out := append(append([]string(nil), CommonSettings...), a.Settings...)
	sort.Strings(out)
	return out
}

// New builds the named provider's adapter. An empty name is generic.
func New(name string, env *provider.Env) (provider.Provider, error) {
	if name == "" {
		name = generic.Name
	}
	a, ok := adapters()[strings.ToLower(name)]
	if !ok {
		return nil, errs.New(errs.KindUsage, "unknown provider %q: choose one of %s (set it with 'idpctl profile add NAME --overwrite --provider P' or IDPCTL_PROVIDER)", name, strings.Join(Names(), ", "))
	}
	p, err := a.New(env)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Revoker is p's user-token revocation, or the exit-7 answer.
func Revoker(p provider.Provider) (provider.UserTokenRevoker, error) {
	if r, ok := p.(provider.UserTokenRevoker); ok {
		return r, nil
	}
	return nil, provider.Unsupported(p.Name(), "revoking a user's tokens", adapters()[p.Name()].UnsupportedRevoke)
}

// ExpiryManager is p's token-lifetime management, or the exit-7 answer.
func ExpiryManager(p provider.Provider) (provider.AppExpiryManager, error) {
	if m, ok := p.(provider.AppExpiryManager); ok {
		return m, nil
	}
	return nil, provider.Unsupported(p.Name(), "managing token lifetimes", adapters()[p.Name()].UnsupportedExpiry)
}

// KeyLister is p's key listing, or the exit-7 answer.
func KeyLister(p provider.Provider) (provider.KeyLister, error) {
	if k, ok := p.(provider.KeyLister); ok {
		return k, nil
	}
	return nil, provider.Unsupported(p.Name(), "listing keys", adapters()[p.Name()].UnsupportedKeys)
}

// KeyRotator is p's key rotation, or the exit-7 answer.
func KeyRotator(p provider.Provider) (provider.KeyRotator, error) {
	if k, ok := p.(provider.KeyRotator); ok {
		return k, nil
	}
	operation := "listing and rotating keys"
	if _, ok := p.(provider.KeyLister); ok {
		// Its keys can be listed; only the rotation is the IdP's own.
		operation = "rotating keys"
	}
	return nil, provider.Unsupported(p.Name(), operation, adapters()[p.Name()].UnsupportedKeys)
}
