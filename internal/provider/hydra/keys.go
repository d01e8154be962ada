package hydra

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// publicJWK is all that is read of a key Hydra's admin API returns. The
// admin API sends private members (d, p, q, dp, dq, qi, k) too; decoding
// into this struct drops them, and the body holding them is wiped once
// read.
type publicJWK struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

type publicJWKS struct {
	Keys []publicJWK `json:"keys"`
}

// decodeKeys reads a key set response and wipes the body, which may hold
// private key material.
func decodeKeys(resp *httpx.Response, operation string) ([]publicJWK, error) {
	defer clear(resp.Body)
	var set publicJWKS
	if err := httpx.DecodeJSON(resp, &set); err != nil {
		return nil, fmt.Errorf("hydra: %s: %w", operation, err)
	}
	// Hydra v1 stored "public:<kid>" and "private:<kid>" pairs; v2 stores
	// one entry per kid.
	var out []publicJWK
	seen := map[string]bool{}
	for _, k := range set.Keys {
		if strings.HasPrefix(k.KID, "private:") {
			continue
		}
		k.KID = strings.TrimPrefix(k.KID, "public:")
		if !seen[k.KID] {
			seen[k.KID] = true
			out = append(out, k)
		}
	}
	return out, nil
}

func keysPath(set string) string { return "/admin/keys/" + url.PathEscape(set) }

// readKeySet returns a set's keys newest first; found is false when the set
// does not exist yet (Hydra creates it on first use).
func (p *Provider) readKeySet(ctx context.Context, set string) (keys []publicJWK, found bool, err error) {
	resp, err := p.get(ctx, keysPath(set))
	if err != nil {
		return nil, false, err
	}
	if resp.Status == http.StatusNotFound {
		clear(resp.Body)
		return nil, false, nil
	}
	if resp.Status != http.StatusOK {
		defer clear(resp.Body)
		return nil, false, p.fail("reading key set "+set, resp)
	}
	keys, err = decodeKeys(resp, "reading key set "+set)
	return keys, err == nil, err
}

// ListKeys implements provider.KeyRotator. Within a set the newest key
// signs; the older ones only verify tokens they signed earlier.
func (p *Provider) ListKeys(ctx context.Context) ([]provider.Key, error) {
	var out []provider.Key
	seen := map[string]bool{}
	for _, set := range []string{p.keySet, IDTokenKeySet, AccessTokenKeySet} {
		if seen[set] {
			continue
		}
		seen[set] = true
		keys, found, err := p.readKeySet(ctx, set)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		for i, k := range keys {
			status := "passive"
			if i == 0 {
				status = "active"
			}
			out = append(out, provider.Key{KID: k.KID, Algorithm: k.Alg, Use: k.Use, Status: status, KeySet: set})
		}
	}
	return out, nil
}

type rotateState struct {
	set string
	old []string
}

// PlanRotate implements provider.KeyRotator.
func (p *Provider) PlanRotate(ctx context.Context, use provider.KeyUse, opts provider.RotateOptions) (*provider.RotatePlan, error) {
	if use == provider.KeyEncryption {
		return nil, provider.Unsupported(Name, "rotating an encryption key", "Hydra has no token encryption key; its key sets hold signing keys only (rotate those with 'key regen authz signing')")
	}
	if use != provider.KeySigning {
		return nil, errs.New(errs.KindUsage, "hydra: unknown key use %q: use signing", use)
	}
	keys, _, err := p.readKeySet(ctx, p.keySet)
	if err != nil {
		return nil, err
	}
	st := &rotateState{set: p.keySet}
	for _, k := range keys {
		st.old = append(st.old, k.KID)
	}
	plan := &provider.RotatePlan{
		Use:     use,
		Options: opts,
		State:   st,
		Calls: []provider.Call{{Method: http.MethodPost, Path: keysPath(p.keySet),
			Purpose: fmt.Sprintf("generate a new %s signing key in %s", p.keyAlg, p.keySet)}},
		Consequences: []string{
			fmt.Sprintf("Hydra signs with the newest key of %s, so the new key signs from the moment it is created", p.keySet),
			"relying parties must fetch the JWKS again to verify tokens signed with the new key (most do on an unknown kid)",
		},
	}
	if p.keySet == IDTokenKeySet {
		plan.Consequences = append(plan.Consequences, "only ID tokens are signed with this set; JWT access tokens use "+AccessTokenKeySet+" (admin setting key_set selects it)")
	}
	switch {
	case len(st.old) == 0:
		plan.Consequences = append(plan.Consequences, "the set holds no key yet; nothing is retired")
	case opts.RetireOldAfter > 0:
		for _, kid := range st.old {
			plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodDelete, Path: keysPath(p.keySet) + "/" + url.PathEscape(kid),
				Purpose: fmt.Sprintf("%s after the new key is published: delete the previous key %s", opts.RetireOldAfter, kid)})
		}
		plan.Consequences = append(plan.Consequences, fmt.Sprintf(
			"%s after the new key is published, the previous keys (%s) are deleted: tokens they signed stop verifying then, so the wait should exceed the longest token lifetime",
			opts.RetireOldAfter, strings.Join(st.old, ", ")))
	default:
		plan.Consequences = append(plan.Consequences, fmt.Sprintf(
			"the previous keys (%s) stay published and keep verifying the tokens they signed; delete them later (DELETE %s/{kid}) once those tokens have expired",
			strings.Join(st.old, ", "), keysPath(p.keySet)))
	}
	return plan, nil
}

// Rotate implements provider.KeyRotator.
func (p *Provider) Rotate(ctx context.Context, plan *provider.RotatePlan) (*provider.RotateResult, error) {
	var st *rotateState
	if plan != nil {
		st, _ = plan.State.(*rotateState)
	}
	if st == nil {
		return nil, errs.New(errs.KindUsage, "hydra: the plan was not made by the hydra adapter")
	}
	body := map[string]string{"alg": p.keyAlg, "use": "sig", "kid": ""}
	resp, err := p.write(ctx, http.MethodPost, keysPath(st.set), body)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		defer clear(resp.Body)
		return nil, p.fail("creating a key in "+st.set, resp)
	}
	keys, err := decodeKeys(resp, "creating a key in "+st.set)
	if err != nil {
		return nil, err
	}
	old := map[string]bool{}
	for _, kid := range st.old {
		old[kid] = true
	}
	res := &provider.RotateResult{JWKSURL: p.jwksURL()}
	for _, k := range keys {
		if !old[k.KID] {
			res.NewKID = k.KID
			break
		}
	}
	if res.NewKID == "" {
		return nil, errs.New(errs.KindUnknown, "hydra: creating a key in %s answered no new key id", st.set)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("new key %s signs from now on", res.NewKID))

	if len(st.old) > 0 && plan.Options.RetireOldAfter <= 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("previous keys kept (%s): they verify the tokens they signed until you delete them", strings.Join(st.old, ", ")))
	}
	if res.JWKSURL == "" {
		res.Notes = append(res.Notes, "no public URL known (admin setting public_url or the profile's issuer), so the JWKS cannot be checked")
	}
	return res, nil
}

func (p *Provider) jwksURL() string {
	if p.publicURL == "" {
		return ""
	}
	return p.publicURL + "/.well-known/jwks.json"
}

// RetireKeys implements provider.KeyRetirer: it deletes the keys the
// rotation replaced. Hydra signs with the newest key, so the deleted keys
// only verified tokens signed before the rotation.
func (p *Provider) RetireKeys(ctx context.Context, plan *provider.RotatePlan, rotated *provider.RotateResult) (*provider.RotateResult, error) {
	var st *rotateState
	if plan != nil {
		st, _ = plan.State.(*rotateState)
	}
	if st == nil || rotated == nil {
		return nil, errs.New(errs.KindUsage, "hydra: the plan was not made by the hydra adapter")
	}
	res := *rotated
	for _, kid := range st.old {
		resp, err := p.del(ctx, keysPath(st.set)+"/"+url.PathEscape(kid), nil)
		if err != nil {
			return &res, fmt.Errorf("hydra: deleting the previous key %s failed: %w", kid, err)
		}
		switch resp.Status {
		case http.StatusNoContent, http.StatusOK:
			res.Retired = append(res.Retired, kid)
		case http.StatusNotFound:
			res.Notes = append(res.Notes, "previous key "+kid+" was already gone")
		default:
			return &res, p.fail("deleting the previous key "+kid, resp)
		}
	}
	if len(res.Retired) > 0 {
		res.Notes = append(res.Notes, "previous keys deleted: tokens they signed no longer verify")
	}
	return &res, nil
}
