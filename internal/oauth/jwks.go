package oauth

import (
	"context"
	"fmt"
	"sync"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/jose"
)

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
