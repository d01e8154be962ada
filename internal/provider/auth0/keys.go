package auth0

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// signingKey is the public description of a tenant signing key. Only these
// members are decoded, so nothing else a response carries reaches a result.
type signingKey struct {
	Kid          string `json:"kid"`
	Current      bool   `json:"current"`
	Next         bool   `json:"next"`
	Previous     bool   `json:"previous"`
	Revoked      bool   `json:"revoked"`
	CurrentSince string `json:"current_since"`
}

func (k signingKey) status() string {
	switch {
	case k.Revoked:
		return "revoked"
	case k.Current:
		return "active"
	case k.Next:
		return "next"
	case k.Previous:
		return "previous"
	default:
		return "published"
	}
}

func (p *Provider) signingKeys(ctx context.Context) ([]signingKey, error) {
	const op = "auth0: listing the signing keys"
	resp, err := p.send(ctx, http.MethodGet, "/keys/signing", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if resp.Status != http.StatusOK {
		return nil, p.fail(op, resp)
	}
	var raw json.RawMessage
	if err := provider.DecodeExact(resp, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var keys []signingKey
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, errs.New(errs.KindNetwork, "%s: Auth0 answered something other than a key list", op)
	}
	return keys, nil
}

// ListKeys lists the tenant's signing keys (status active, next, previous,
// revoked). Certificates are left out: they are public, but long.
func (p *Provider) ListKeys(ctx context.Context) ([]provider.Key, error) {
	keys, err := p.signingKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]provider.Key, 0, len(keys))
	for _, k := range keys {
		key := provider.Key{KID: k.Kid, Algorithm: "RS256", Use: "sig", Status: k.status()}
		if t, err := time.Parse(time.RFC3339, k.CurrentSince); err == nil {
			key.Created = t
		}
		out = append(out, key)
	}
	return out, nil
}

type rotateState struct{ current, next string }

// PlanRotate says what rotating the signing key, or rekeying the
// encryption key hierarchy, does.
func (p *Provider) PlanRotate(ctx context.Context, use provider.KeyUse, opts provider.RotateOptions) (*provider.RotatePlan, error) {
	switch use {
	case provider.KeySigning:
		keys, err := p.signingKeys(ctx)
		if err != nil {
			return nil, err
		}
		st := &rotateState{}
		for _, k := range keys {
			if k.Revoked {
				continue
			}
			if k.Current {
				st.current = k.Kid
			}
			if k.Next {
				st.next = k.Kid
			}
		}
		plan := &provider.RotatePlan{
			Use: use, Options: opts, State: st,
			Calls: []provider.Call{{Method: http.MethodPost, Path: "/api/v2/keys/signing/rotate", Purpose: "make the next signing key current"}},
			Consequences: []string{
				fmt.Sprintf("the next key%s signs every token the tenant issues from now on", kidSuffix(st.next)),
				fmt.Sprintf("the current key%s becomes the previous key: it stays in %s, so tokens it signed still verify", kidSuffix(st.current), p.JWKSURL()),
				"Auth0 generates a new next key; relying parties that cache the JWKS must fetch it again",
				"Auth0 allows five signing key rotations a day",
			},
		}
		plan.Consequences = append(plan.Consequences, "the previous key is not revoked here: revoking it (PUT /api/v2/keys/signing/{kid}/revoke) invalidates every token it signed at once")
		return plan, nil
	case provider.KeyEncryption:
		return &provider.RotatePlan{
			Use: use, Options: opts,
			Calls: []provider.Call{{Method: http.MethodPost, Path: "/api/v2/keys/encryption/rekey", Purpose: "rekey the tenant's encryption key hierarchy"}},
			Consequences: []string{
				"Auth0 rekeys the tenant's encryption key hierarchy (the keys protecting its data at rest): a new top-level key wraps the keys below it",
				"no kid is published for it and the JWKS does not change; token signing is not affected",
			},
		}, nil
	default:
		return nil, errs.New(errs.KindUsage, "auth0: unknown key use %q: use signing or encryption", use)
	}
}

func kidSuffix(kid string) string {
	if kid == "" {
		return ""
	}
	return " (kid " + kid + ")"
}

// Rotate performs the plan.
func (p *Provider) Rotate(ctx context.Context, plan *provider.RotatePlan) (*provider.RotateResult, error) {
	if plan == nil {
		return nil, errs.New(errs.KindUsage, "auth0: no rotation plan")
	}
	switch plan.Use {
	case provider.KeySigning:
		const op = "auth0: rotating the signing key"
		st, _ := plan.State.(*rotateState)
		if st == nil {
			return nil, errs.New(errs.KindUsage, "auth0: the plan was not made by the Auth0 adapter")
		}
		resp, err := p.send(ctx, http.MethodPost, "/keys/signing/rotate", nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
			return nil, p.fail(op, resp)
		}
		var out struct {
			Kid string `json:"kid"`
		}
		if err := provider.DecodeExact(resp, &out); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if out.Kid == "" || out.Kid == st.current {
			return nil, errs.New(errs.KindUnknown, "%s: Auth0 answered, but no new key %q is current", op, out.Kid)
		}
		res := &provider.RotateResult{NewKID: out.Kid, JWKSURL: p.JWKSURL()}
		if st.current != "" {
			res.Notes = append(res.Notes, fmt.Sprintf("key %s is now the previous key and stays published", st.current))
		}
		res.Notes = append(res.Notes, "the previous key was not revoked: revoking it invalidates every token it signed at once; do it in the dashboard or with PUT /api/v2/keys/signing/{kid}/revoke when those tokens have expired")
		return res, nil
	case provider.KeyEncryption:
		const op = "auth0: rekeying the encryption key hierarchy"
		resp, err := p.send(ctx, http.MethodPost, "/keys/encryption/rekey", nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if resp.Status != http.StatusNoContent && resp.Status != http.StatusOK {
			return nil, p.fail(op, resp)
		}
		return &provider.RotateResult{Notes: []string{"Auth0 rekeyed the tenant's encryption key hierarchy; it publishes no kid for it and the JWKS is unchanged"}}, nil
	default:
		return nil, errs.New(errs.KindUsage, "auth0: unknown key use %q", plan.Use)
	}
}
