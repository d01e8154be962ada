package oracle

import (
	"context"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// UnsupportedKeys says why keys cannot be rotated here.
const UnsupportedKeys = "Oracle manages the signing keys of identity domains; there is no rotation API"

type jwk struct {
	KID    string   `json:"kid"`
	Alg    string   `json:"alg"`
	Use    string   `json:"use"`
	Kty    string   `json:"kty"`
	KeyOps []string `json:"key_ops"`
}

// ListKeys reads the domain's signing certificates from the JWKS endpoint.
// Only public members are decoded.
func (p *Provider) ListKeys(ctx context.Context) ([]provider.Key, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	found, resp, err := p.getJSON(ctx, "reading the signing keys", "/admin/v1/SigningCert/jwk", nil, &set)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, p.Fail("reading the signing keys", resp)
	}
	// The JWKS does not say which certificate signs; with several
	// published, none is called active.
	status := "active"
	if len(set.Keys) > 1 {
		status = "published"
	}
	out := make([]provider.Key, 0, len(set.Keys))
	for _, k := range set.Keys {
		use := k.Use
		if use == "" {
			use = "sig"
		}
		out = append(out, provider.Key{KID: provider.Clean(k.KID), Algorithm: provider.Clean(k.Alg), Use: use, Status: status})
	}
	if len(out) == 0 {
		return nil, errs.New(errs.KindUnknown, "oracle: the identity domain publishes no signing key at /admin/v1/SigningCert/jwk")
	}
	return out, nil
}

// PlanRotate answers that rotation is not available.
func (p *Provider) PlanRotate(_ context.Context, use provider.KeyUse, _ provider.RotateOptions) (*provider.RotatePlan, error) {
	return nil, provider.Unsupported(Name, "rotating the "+string(use)+" key", UnsupportedKeys)
}

// Rotate answers that rotation is not available.
func (p *Provider) Rotate(_ context.Context, plan *provider.RotatePlan) (*provider.RotateResult, error) {
	use := "signing"
	if plan != nil && plan.Use != "" {
		use = string(plan.Use)
	}
	return nil, provider.Unsupported(Name, "rotating the "+use+" key", UnsupportedKeys)
}
