package tokens

import (
	"context"
	"fmt"
	"sync"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/oauth"
)

// VerifyIDToken checks the ID token of a login (OIDC Core §3.1.3.7).
// Without a JWKS the signature cannot be checked, but the claims still
// are: an ID token for another client, issuer or login, an expired one or
// an unsigned one (alg none) is refused all the same.
func (r *Grants) VerifyIDToken(ctx context.Context, c *oauth.Client, idToken, nonce string) error {
	opts := jose.VerifyOptions{Issuer: c.Metadata.Issuer, Audience: c.ClientID, Nonce: nonce, Now: r.Clock.Now}
	if c.Metadata.JWKSURI == "" {
		if _, err := jose.CheckUnverified(idToken, opts); err != nil {
			return errs.New(errs.KindRefused, "the ID token from the login does not hold: %w", err)
		}
		r.Prompt.Say("warning: the IdP publishes no JWKS, so the ID token's signature could not be verified; its iss, aud, exp and nonce were checked")
		return nil
	}
	_, err := jose.Verify(ctx, idToken, JWKS(c.HTTP, c.Metadata.JWKSURI), opts)
	if err != nil {
		return errs.New(errs.KindRefused, "the ID token from the login does not verify: %w", err)
	}
	return nil
}

// JWKS returns a key source that fetches the IdP's JWKS, caching it for the
// process and refetching when asked (an unknown kid after key rotation).
func JWKS(hc *httpx.Client, uri string) jose.KeySource {
	var mu sync.Mutex
	var cached *gojose.JSONWebKeySet
	return func(ctx context.Context, force bool) (*gojose.JSONWebKeySet, error) {
		mu.Lock()
		defer mu.Unlock()
		if cached != nil && !force {
			return cached, nil
		}
		resp, err := hc.Fetch(ctx, uri)
		if err != nil {
			return nil, fmt.Errorf("fetching the JWKS: %w", err)
		}
		if !httpx.IsJSON(resp.Body) {
			// Name what came back (an HTML page, a truncated body).
			if err := httpx.DecodeJSON(resp, new(map[string]any)); err != nil {
				return nil, fmt.Errorf("fetching the JWKS: %w", err)
			}
		}
		set, _, err := jose.ParseJWKS(resp.Body)
		if err != nil {
			return nil, errs.Wrap(errs.KindNetwork, fmt.Errorf("reading the JWKS from %s: %w", httpx.Host(uri), err))
		}
		cached = set
		return set, nil
	}
}
