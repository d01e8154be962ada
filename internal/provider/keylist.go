package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// KeyLister lists the IdP's token keys. Every KeyRotator is one; an IdP
// that rotates its keys itself (Entra ID, Cognito) implements only this,
// and `key regen` answers exit 7 with the vendor's alternative.
type KeyLister interface {
	Provider
	ListKeys(ctx context.Context) ([]Key, error)
}

// JWKSKeys lists the public keys of a JWK Set document (RFC 7517 §5) at
// jwksURL, for IdPs whose admin API has no key listing. The document is
// public: no admin credential is sent with it. Keys carrying private
// members are refused, not listed.
func JWKSKeys(ctx context.Context, hc *httpx.Client, vendor, jwksURL string) ([]Key, error) {
	resp, err := hc.Do(ctx, httpx.Request{Method: http.MethodGet, URL: jwksURL, Idempotent: true})
	if err != nil {
		return nil, fmt.Errorf("%s: fetching the JWKS at %s: %w", vendor, jwksURL, err)
	}
	if resp.Status != http.StatusOK {
		return nil, StatusError(vendor+": fetching the JWKS at "+jwksURL, resp, "")
	}
	var doc struct {
		Keys []struct {
			KID string `json:"kid"`
			Kty string `json:"kty"`
			Alg string `json:"alg"`
			Use string `json:"use"`
			D   any    `json:"d"`
			K   any    `json:"k"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(resp.Body, &doc); err != nil || doc.Keys == nil {
		return nil, errs.New(errs.KindNetwork, "%s: the JWKS at %s is not a JWK Set", vendor, jwksURL)
	}
	out := make([]Key, 0, len(doc.Keys))
	for _, k := range doc.Keys {
		if k.D != nil || k.K != nil {
			return nil, errs.New(errs.KindNetwork, "%s: the JWKS at %s publishes private or symmetric key material (kid %q); refusing to read it", vendor, jwksURL, Clean(k.KID))
		}
		alg := k.Alg
		if alg == "" {
			alg = k.Kty
		}
		out = append(out, Key{KID: Clean(k.KID), Algorithm: Clean(alg), Use: Clean(k.Use), Status: "published"})
	}
	return out, nil
}
