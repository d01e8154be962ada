package keycloak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

const keyProviderType = "org.keycloak.keys.KeyProvider"

// keyKind is what a rotation of one use creates.
type keyKind struct {
	use        string // SIG or ENC, as Keycloak's key metadata spells it
	providerID string // the generated-key provider factory
	alg        string
	label      string
}

var kinds = map[provider.KeyUse]keyKind{
	provider.KeySigning:    {use: "SIG", providerID: "rsa-generated", alg: "RS256", label: "rsa"},
	provider.KeyEncryption: {use: "ENC", providerID: "rsa-enc-generated", alg: "RSA-OAEP", label: "rsa-enc"},
}

// keyMeta is one entry of GET /admin/realms/{r}/keys. The endpoint never
// returns private keys; publicKey and certificate are not read either.
type keyMeta struct {
	ProviderID       string `json:"providerId"` // the key provider's component id
	ProviderPriority int64  `json:"providerPriority"`
	KID              string `json:"kid"`
	Status           string `json:"status"`
	Algorithm        string `json:"algorithm"`
	Use              string `json:"use"`
}

func (p *Provider) readKeys(ctx context.Context) ([]keyMeta, error) {
	var doc struct {
		Keys []keyMeta `json:"keys"`
	}
	if _, err := p.getJSON(ctx, "reading realm "+p.realm+"'s keys", p.adminPath("/keys"), nil, &doc); err != nil {
		return nil, err
	}
	return doc.Keys, nil
}

// ListKeys implements provider.KeyRotator.
func (p *Provider) ListKeys(ctx context.Context) ([]provider.Key, error) {
	keys, err := p.readKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]provider.Key, 0, len(keys))
	for _, k := range keys {
		out = append(out, provider.Key{KID: k.KID, Algorithm: k.Algorithm, Use: strings.ToLower(k.Use), Status: strings.ToLower(k.Status), KeySet: k.ProviderID})
	}
	return out, nil
}

type rotateState struct {
	kind     keyKind
	realmID  string
	priority int64
	name     string
	// old maps the previous active providers' component ids to their kids.
	old map[string][]string
}

func (p *Provider) componentsPath() string { return p.adminPath("/components") }

// PlanRotate implements provider.KeyRotator.
func (p *Provider) PlanRotate(ctx context.Context, use provider.KeyUse, opts provider.RotateOptions) (*provider.RotatePlan, error) {
	kind, ok := kinds[use]
	if !ok {
		return nil, errs.New(errs.KindUsage, "keycloak: unknown key use %q: use signing or encryption", use)
	}
	r, err := p.readRealm(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := p.readKeys(ctx)
	if err != nil {
		return nil, err
	}
	st := &rotateState{kind: kind, realmID: r.ID, old: map[string][]string{},
		name: fmt.Sprintf("idpctl-%s-%s", kind.label, p.Now().UTC().Format("20060102-150405"))}
	if st.realmID == "" {
		st.realmID = r.Realm
	}
	var highest int64
	for _, k := range keys {
		if !strings.EqualFold(k.Use, kind.use) || k.Algorithm != kind.alg {
			continue
		}
		if k.ProviderPriority > highest {
			highest = k.ProviderPriority
		}
		if strings.EqualFold(k.Status, "ACTIVE") {
			st.old[k.ProviderID] = append(st.old[k.ProviderID], k.KID)
		}
	}
	st.priority = highest + 10
	if highest == 0 {
		st.priority = 100
	}
	plan := &provider.RotatePlan{
		Use: use, Options: opts, State: st,
		Calls: []provider.Call{
			{Method: http.MethodPost, Path: p.componentsPath(), Purpose: fmt.Sprintf("add key provider %s (%s, %s, priority %d)", st.name, kind.providerID, kind.alg, st.priority)},
			{Method: http.MethodGet, Path: p.adminPath("/keys"), Purpose: "find the new key's kid"},
		},
	}
	if use == provider.KeySigning {
		plan.Consequences = append(plan.Consequences, fmt.Sprintf("Keycloak signs with the active %s key of highest priority, so the new key (priority %d) signs new %s tokens at once; a realm or client set to another signature algorithm keeps signing with its own key", kind.alg, st.priority, kind.alg))
	} else {
		plan.Consequences = append(plan.Consequences, fmt.Sprintf("clients that encrypt to realm %s pick up the new %s key (use enc) from the realm's JWKS; the old key keeps decrypting while it is active or passive", p.realm, kind.alg))
	}
	plan.Consequences = append(plan.Consequences, "relying parties must fetch the JWKS again to see the new key (most do on an unknown kid)")
	old := oldIDs(st.old)
	switch {
	case len(old) == 0:
		plan.Consequences = append(plan.Consequences, "no active "+kind.alg+" key exists; nothing is retired")
	case opts.RetireOldAfter > 0:
		for _, id := range old {
			plan.Calls = append(plan.Calls,
				provider.Call{Method: http.MethodGet, Path: p.componentsPath() + "/" + url.PathEscape(id), Purpose: fmt.Sprintf("%s after the new key is published: read the previous key provider", opts.RetireOldAfter)},
				provider.Call{Method: http.MethodPut, Path: p.componentsPath() + "/" + url.PathEscape(id), Purpose: "make it passive (whole representation, active=false)"})
		}
		plan.Consequences = append(plan.Consequences, fmt.Sprintf(
			"%s after the new key is published, the previous key providers (%s) are made passive: passive keys still verify and decrypt but are never used to sign or encrypt. Deleting them is a later manual step (DELETE %s/{id}) once tokens using them have expired",
			opts.RetireOldAfter, strings.Join(old, ", "), p.componentsPath()))
	default:
		plan.Consequences = append(plan.Consequences, fmt.Sprintf(
			"the previous keys (%s) stay active at a lower priority: published and verifying, no longer chosen; make them passive, then delete them, once tokens using them have expired",
			strings.Join(kidsOf(st.old), ", ")))
	}
	return plan, nil
}

func oldIDs(old map[string][]string) []string {
	ids := make([]string, 0, len(old))
	for id := range old {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func kidsOf(old map[string][]string) []string {
	var kids []string
	for _, id := range oldIDs(old) {
		kids = append(kids, old[id]...)
	}
	return kids
}

// Rotate implements provider.KeyRotator.
func (p *Provider) Rotate(ctx context.Context, plan *provider.RotatePlan) (*provider.RotateResult, error) {
	var st *rotateState
	if plan != nil {
		st, _ = plan.State.(*rotateState)
	}
	if st == nil {
		return nil, errs.New(errs.KindUsage, "keycloak: the plan was not made by the keycloak adapter")
	}
	one := func(v string) []string { return []string{v} }
	body := map[string]any{
		"name":         st.name,
		"providerId":   st.kind.providerID,
		"providerType": keyProviderType,
		"parentId":     st.realmID,
		"config": map[string][]string{
			"priority":  one(strconv.FormatInt(st.priority, 10)),
			"enabled":   one("true"),
			"active":    one("true"),
			"keySize":   one("2048"),
			"algorithm": one(st.kind.alg),
		},
	}
	resp, err := p.write(ctx, http.MethodPost, p.componentsPath(), body)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return nil, p.Fail("adding key provider "+st.name, resp)
	}
	componentID := ""
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			componentID = path.Base(u.Path)
		}
	}
	keys, err := p.readKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keycloak: key provider %s was added, but: %w", st.name, err)
	}
	res := &provider.RotateResult{JWKSURL: p.base + "/realms/" + url.PathEscape(p.realm) + "/protocol/openid-connect/certs"}
	for _, k := range keys {
		if k.ProviderID == "" || !strings.EqualFold(k.Use, st.kind.use) {
			continue
		}
		// Without a Location, the new key is the one of the new priority
		// from a provider that was not there before.
		if k.ProviderID == componentID || (componentID == "" && k.ProviderPriority == st.priority && st.old[k.ProviderID] == nil) {
			res.NewKID = k.KID
			componentID = k.ProviderID
			break
		}
	}
	if res.NewKID == "" {
		return nil, errs.New(errs.KindUnknown, "keycloak: key provider %s was added (component %q), but its key is not among realm %s's keys", st.name, componentID, p.realm)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("key provider %s (component %s, priority %d) added; its key %s is active", st.name, componentID, st.priority, res.NewKID))

	if kids := kidsOf(st.old); len(kids) > 0 && plan.Options.RetireOldAfter <= 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("previous keys (%s) left active at a lower priority; make them passive, then delete them, when tokens using them have expired", strings.Join(kids, ", ")))
	}
	return res, nil
}

// RetireKeys implements provider.KeyRetirer: the key providers the
// rotation outranked are made passive, so they still verify and decrypt
// but never sign or encrypt.
func (p *Provider) RetireKeys(ctx context.Context, plan *provider.RotatePlan, rotated *provider.RotateResult) (*provider.RotateResult, error) {
	var st *rotateState
	if plan != nil {
		st, _ = plan.State.(*rotateState)
	}
	if st == nil || rotated == nil {
		return nil, errs.New(errs.KindUsage, "keycloak: the plan was not made by the keycloak adapter")
	}
	res := *rotated
	for _, id := range oldIDs(st.old) {
		if err := p.makePassive(ctx, id); err != nil {
			return &res, fmt.Errorf("keycloak: making the previous key provider %s passive: %w", id, err)
		}
		res.Retired = append(res.Retired, st.old[id]...)
	}
	if len(res.Retired) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("previous keys made passive: they still verify but never sign; delete their providers later by hand (DELETE %s/{id})", p.componentsPath()))
	}
	return &res, nil
}

// makePassive turns a key provider off for signing while keeping its key
// for verification. The component PUT takes the whole representation.
func (p *Provider) makePassive(ctx context.Context, id string) error {
	cpath := p.componentsPath() + "/" + url.PathEscape(id)
	resp, err := p.get(ctx, cpath, nil)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return p.Fail("reading key provider "+id, resp)
	}
	var comp map[string]json.RawMessage
	if err := decode(resp, "reading key provider "+id, &comp); err != nil {
		return err
	}
	config := map[string]json.RawMessage{}
	if raw, ok := comp["config"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &config); err != nil {
			return errs.New(errs.KindNetwork, "keycloak: key provider %s has a config that is not an object", id)
		}
	}
	config["active"] = json.RawMessage(`["false"]`)
	b, err := json.Marshal(config)
	if err != nil {
		return fmt.Errorf("keycloak: encoding key provider %s: %w", id, err)
	}
	comp["config"] = b
	resp, err = p.write(ctx, http.MethodPut, cpath, comp)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusNoContent && resp.Status != http.StatusOK {
		return p.Fail("making key provider "+id+" passive", resp)
	}
	return nil
}
