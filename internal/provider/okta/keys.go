package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// key is the public part of an authorization server key. Only these
// members are decoded, so private members a response might carry never
// reach a result.
type key struct {
	Kid    string `json:"kid"`
	Alg    string `json:"alg"`
	Use    string `json:"use"`
	Status string `json:"status"`
}

// parseKeys reads a key list, which Okta's current API answers as a bare
// array and its older reference shows as {"keys":[...]}.
func parseKeys(op string, resp *httpx.Response) ([]key, error) {
	var raw json.RawMessage
	if err := provider.DecodeExact(resp, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var keys []key
	if err := json.Unmarshal(raw, &keys); err == nil {
		return keys, nil
	}
	var doc struct {
		Keys []key `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Keys == nil {
		return nil, errs.New(errs.KindNetwork, "%s: Okta answered something other than a key list", op)
	}
	return doc.Keys, nil
}

func toKeys(keys []key) []provider.Key {
	out := make([]provider.Key, 0, len(keys))
	for _, k := range keys {
		status := strings.ToLower(k.Status)
		if status == "" {
			status = "published"
		}
		out = append(out, provider.Key{KID: k.Kid, Algorithm: k.Alg, Use: k.Use, Status: status})
	}
	return out
}

func statusKid(keys []key, status string) string {
	for _, k := range keys {
		if strings.EqualFold(k.Status, status) {
			return k.Kid
		}
	}
	return ""
}

// JWKSURL is where relying parties read the authorization server's keys.
func (p *Provider) JWKSURL() string {
	if !p.custom() {
		return p.org + "/oauth2/v1/keys"
	}
	return p.org + "/oauth2/" + p.as + "/v1/keys"
}

func (p *Provider) keys(ctx context.Context) ([]key, error) {
	const op = "okta: listing the authorization server's keys"
	if !p.custom() {
		// The org server has no management key API; its published JWKS
		// is all there is to see.
		resp, err := p.send(ctx, http.MethodGet, p.JWKSURL(), nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if resp.Status != http.StatusOK {
			return nil, p.fail(op, resp)
		}
		return parseKeys(op, resp)
	}
	resp, err := p.send(ctx, http.MethodGet, p.api(p.asPath()+"/credentials/keys"), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	switch resp.Status {
	case http.StatusOK:
		return parseKeys(op, resp)
	case http.StatusNotFound:
		return nil, errs.New(errs.KindUsage, "okta: no custom authorization server %q in this org (set the admin setting authorization_server): %v", p.as, p.fail(op, resp))
	default:
		return nil, p.fail(op, resp)
	}
}

// ListKeys lists the authorization server's signing keys (status active,
// next or expired).
func (p *Provider) ListKeys(ctx context.Context) ([]provider.Key, error) {
	keys, err := p.keys(ctx)
	if err != nil {
		return nil, err
	}
	return toKeys(keys), nil
}

type rotateState struct{ active, next string }

// PlanRotate says what rotating the signing key does; Okta has no token
// encryption key and no rotation API for the org authorization server.
func (p *Provider) PlanRotate(ctx context.Context, use provider.KeyUse, opts provider.RotateOptions) (*provider.RotatePlan, error) {
	switch use {
	case provider.KeySigning:
	case provider.KeyEncryption:
		return nil, provider.Unsupported(Name, "rotating an encryption key", "Okta authorization servers have no token encryption key; only the signing key rotates")
	default:
		return nil, errs.New(errs.KindUsage, "okta: unknown key use %q: use signing", use)
	}
	if !p.custom() {
		return nil, provider.Unsupported(Name, "rotating the org authorization server's signing key", "Okta rotates it itself; the signing key of a custom authorization server can be rotated (admin setting authorization_server)")
	}
	keys, err := p.keys(ctx)
	if err != nil {
		return nil, err
	}
	st := &rotateState{active: statusKid(keys, "ACTIVE"), next: statusKid(keys, "NEXT")}
	plan := &provider.RotatePlan{
		Use:     use,
		Options: opts,
		State:   st,
		Calls: []provider.Call{{
			Method: http.MethodPost, Path: p.asPath() + "/credentials/lifecycle/keyRotate",
			Purpose: "make the NEXT key sign and expire the ACTIVE one",
		}},
	}
	next := "the NEXT key"
	if st.next != "" {
		next = "the NEXT key (kid " + st.next + ")"
	}
	active := "the ACTIVE key"
	if st.active != "" {
		active = "the ACTIVE key (kid " + st.active + ")"
	}
	plan.Consequences = []string{
		fmt.Sprintf("%s signs every token %s issues from now on", next, p.serverName()),
		fmt.Sprintf("%s becomes EXPIRED: it signs nothing more, and tokens it signed fail verification once relying parties drop it from their key cache", active),
		"Okta generates a new NEXT key; relying parties that cache the JWKS must fetch it again (" + p.JWKSURL() + ")",
		"if the server's key rotation mode is AUTO, Okta keeps rotating on its own schedule as well",
	}
	plan.Consequences = append(plan.Consequences, "Okta has no API to retire the expired key; it removes it on its own")
	return plan, nil
}

// Rotate rotates the signing key and reports the kid that now signs.
func (p *Provider) Rotate(ctx context.Context, plan *provider.RotatePlan) (*provider.RotateResult, error) {
	const op = "okta: rotating the signing key"
	if plan == nil {
		return nil, errs.New(errs.KindUsage, "okta: no rotation plan")
	}
	st, _ := plan.State.(*rotateState)
	if plan.Use != provider.KeySigning || st == nil {
		return nil, errs.New(errs.KindUsage, "okta: the plan was not made by the Okta adapter for the signing key")
	}
	resp, err := p.send(ctx, http.MethodPost, p.api(p.asPath()+"/credentials/lifecycle/keyRotate"), nil, map[string]string{"use": "sig"})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if resp.Status != http.StatusOK && resp.Status != http.StatusCreated {
		return nil, p.fail(op, resp)
	}
	keys, err := parseKeys(op, resp)
	if err != nil {
		return nil, err
	}
	newKid := statusKid(keys, "ACTIVE")
	if newKid == "" || newKid == st.active {
		return nil, errs.New(errs.KindUnknown, "%s: Okta answered, but key %q is still the active one", op, newKid)
	}
	res := &provider.RotateResult{NewKID: newKid, JWKSURL: p.JWKSURL()}
	if st.active != "" {
		// EXPIRED is not retired: the key stays in the JWKS, so tokens it
		// signed still verify. Retired is only for keys withdrawn.
		res.Notes = append(res.Notes, fmt.Sprintf("key %s is now EXPIRED: it signs nothing more but is still published, so tokens it signed verify until they expire", st.active))
	}
	if next := statusKid(keys, "NEXT"); next != "" {
		res.Notes = append(res.Notes, fmt.Sprintf("key %s is the next one", next))
	}
	res.Notes = append(res.Notes, "Okta has no API to retire the expired key; it removes it on its own")
	return res, nil
}
