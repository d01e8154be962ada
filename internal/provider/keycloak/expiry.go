package keycloak

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// Client attributes holding lifetimes, in seconds as strings; empty (or
// absent, or not positive) means the realm default.
const (
	attrAccess      = "access.token.lifespan"
	attrSessionIdle = "client.session.idle.timeout"
	attrSessionMax  = "client.session.max.lifespan"
	attrOfflineIdle = "client.offline.session.idle.timeout"
	attrOfflineMax  = "client.offline.session.max.lifespan"
)

type client struct {
	ID         string         `json:"id"`
	ClientID   string         `json:"clientId"`
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
}

func (c *client) attr(k string) string {
	switch v := c.Attributes[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// seconds reads a lifetime attribute; false when it defers to the realm.
func (c *client) seconds(k string) (time.Duration, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(c.attr(k)), 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return seconds(n), true
}

func (p *Provider) clientPath(uuid string) string {
	return p.adminPath("/clients/" + url.PathEscape(uuid))
}

// findClient resolves a client_id (or, failing that, a client UUID).
func (p *Provider) findClient(ctx context.Context, app string) (*client, error) {
	if strings.TrimSpace(app) == "" {
		return nil, errs.New(errs.KindUsage, "keycloak: no client given")
	}
	var found []client
	if _, err := p.getJSON(ctx, "finding client "+app, p.adminPath("/clients"), url.Values{"clientId": {app}}, &found); err != nil {
		return nil, err
	}
	for i := range found {
		if found[i].ClientID == app {
			return &found[i], nil
		}
	}
	if uuidPattern().MatchString(app) {
		resp, err := p.get(ctx, p.clientPath(app), nil)
		if err != nil {
			return nil, err
		}
		switch resp.Status {
		case http.StatusOK:
			var c client
			if err := decode(resp, "reading client "+app, &c); err != nil {
				return nil, err
			}
			return &c, nil
		case http.StatusNotFound:
		default:
			return nil, p.Fail("reading client "+app, resp)
		}
	}
	return nil, errs.New(errs.KindUsage, "keycloak: no client %q in realm %s", app, p.realm)
}

// readClientRaw reads a client's whole representation, kept as raw JSON so
// that it can be sent back unchanged but for the attributes.
func (p *Provider) readClientRaw(ctx context.Context, uuid string) (map[string]json.RawMessage, *client, error) {
	resp, err := p.get(ctx, p.clientPath(uuid), nil)
	if err != nil {
		return nil, nil, err
	}
	if resp.Status == http.StatusNotFound {
		return nil, nil, errs.New(errs.KindUsage, "keycloak: client %s no longer exists in realm %s", uuid, p.realm)
	}
	if resp.Status != http.StatusOK {
		return nil, nil, p.Fail("reading client "+uuid, resp)
	}
	var raw map[string]json.RawMessage
	if err := decode(resp, "reading client "+uuid, &raw); err != nil {
		return nil, nil, err
	}
	var c client
	if err := decode(resp, "reading client "+uuid, &c); err != nil {
		return nil, nil, err
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	return raw, &c, nil
}

// inherited is a realm default: the first positive of the candidates.
func (p *Provider) inherited(candidates ...realmValue) provider.Lifetime {
	for _, c := range candidates {
		if c.seconds > 0 {
			return provider.Lifetime{Value: seconds(c.seconds), Known: true, Source: provider.SourceInherited,
				From: "realm " + p.realm, Native: fmt.Sprintf("%d seconds (realm %s)", c.seconds, c.name)}
		}
	}
	return provider.Lifetime{Source: provider.SourceInherited, From: "realm " + p.realm, Native: "not set in the realm"}
}

type realmValue struct {
	name    string
	seconds int64
}

func (p *Provider) lifetime(c *client, attr string, realm ...realmValue) provider.Lifetime {
	if d, ok := c.seconds(attr); ok {
		return provider.Lifetime{Value: d, Known: true, Source: provider.SourceApp, Native: fmt.Sprintf("%d seconds (%s)", int64(d/time.Second), attr)}
	}
	return p.inherited(realm...)
}

func (p *Provider) lifetimes(c *client, r *realmRep) *provider.Lifetimes {
	rotation := r.RevokeRefreshToken
	lt := &provider.Lifetimes{
		App:          c.ClientID,
		AccessToken:  p.lifetime(c, attrAccess, realmValue{"accessTokenLifespan", r.AccessTokenLifespan}),
		RefreshToken: p.lifetime(c, attrSessionMax, realmValue{"clientSessionMaxLifespan", r.ClientSessionMaxLifespan}, realmValue{"ssoSessionMaxLifespan", r.SSOSessionMaxLifespan}),
		RefreshIdle:  p.lifetime(c, attrSessionIdle, realmValue{"clientSessionIdleTimeout", r.ClientSessionIdleTimeout}, realmValue{"ssoSessionIdleTimeout", r.SSOSessionIdleTimeout}),
		ReuseInterval: provider.Lifetime{Source: provider.SourceInherited, From: "realm " + p.realm,
			Native:   fmt.Sprintf("refreshTokenMaxReuse %d (a count of reuses, not a time)", r.RefreshTokenMaxReuse),
			SetWhere: fmt.Sprintf("realm %s settings: Revoke Refresh Token and Refresh Token Max Reuse (realm-wide)", p.realm)},
		Rotation:       &rotation,
		RotationSource: provider.SourceInherited,
		ReadAt:         p.Now(),
	}
	offline := func(attr string, realmSecs int64, realmName string) string {
		if d, ok := c.seconds(attr); ok {
			return fmt.Sprintf("%s=%d", attr, int64(d/time.Second))
		}
		return fmt.Sprintf("%s unset (realm %s %d)", attr, realmName, realmSecs)
	}
	lt.Notes = append(lt.Notes,
		"refresh token lifetime is the client session: it ends at the session maximum or after the idle timeout, and Keycloak caps both at the realm's SSO session settings",
		"offline tokens (not changed here): "+offline(attrOfflineIdle, r.OfflineSessionIdleTimeout, "offlineSessionIdleTimeout")+", "+offline(attrOfflineMax, r.OfflineSessionMaxLifespan, "offlineSessionMaxLifespan"),
	)
	return lt
}

// ListApps implements provider.AppExpiryManager.
func (p *Provider) ListApps(ctx context.Context) ([]provider.App, error) {
	var apps []provider.App
	for first, i := 0, 0; ; first, i = first+pageSize, i+1 {
		if i >= provider.DefaultMaxPages {
			return nil, errs.New(errs.KindNetwork, "keycloak: listing clients: more than %d pages", provider.DefaultMaxPages)
		}
		var page []client
		q := url.Values{"first": {strconv.Itoa(first)}, "max": {strconv.Itoa(pageSize)}}
		if _, err := p.getJSON(ctx, "listing clients", p.adminPath("/clients"), q, &page); err != nil {
			return nil, err
		}
		for _, c := range page {
			apps = append(apps, provider.App{ID: c.ID, ClientID: c.ClientID, Name: c.Name})
		}
		if len(page) < pageSize {
			return apps, nil
		}
	}
}

// GetExpiry implements provider.AppExpiryManager.
func (p *Provider) GetExpiry(ctx context.Context, app string) (*provider.Lifetimes, error) {
	c, err := p.findClient(ctx, app)
	if err != nil {
		return nil, err
	}
	r, err := p.readRealm(ctx)
	if err != nil {
		return nil, err
	}
	return p.lifetimes(c, r), nil
}

type expiryState struct {
	uuid, clientID string
	set            map[string]string
}

func secondsAttr(what string, d *time.Duration) (string, error) {
	switch {
	case *d < time.Second:
		return "", errs.New(errs.KindUsage, "keycloak: the %s must be at least 1s, not %s", what, d)
	case *d%time.Second != 0:
		return "", errs.New(errs.KindUsage, "keycloak: the %s must be whole seconds (Keycloak stores seconds), not %s", what, d)
	case *d/time.Second > math.MaxInt32:
		return "", errs.New(errs.KindUsage, "keycloak: the %s %s is longer than Keycloak can store", what, d)
	}
	return strconv.FormatInt(int64(*d/time.Second), 10), nil
}

// PlanExpiry implements provider.AppExpiryManager.
func (p *Provider) PlanExpiry(ctx context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	if ch.Rotation != nil {
		return nil, provider.Unsupported(Name, "setting refresh-token rotation per client", fmt.Sprintf("rotation is realm-wide: realm %s settings, Tokens: Revoke Refresh Token (revokeRefreshToken) and Refresh Token Max Reuse (refreshTokenMaxReuse)", p.realm))
	}
	set := map[string]string{}
	for _, f := range []struct {
		attr, what string
		d          *time.Duration
	}{{attrAccess, "access token lifespan", ch.AccessToken}, {attrSessionMax, "refresh token lifetime", ch.RefreshToken}, {attrSessionIdle, "refresh token idle timeout", ch.RefreshIdle}} {
		if f.d == nil {
			continue
		}
		v, err := secondsAttr(f.what, f.d)
		if err != nil {
			return nil, err
		}
		set[f.attr] = v
	}
	if len(set) == 0 {
		return nil, errs.New(errs.KindUsage, "keycloak: nothing to change: give an access token, refresh token or refresh idle lifetime")
	}
	c, err := p.findClient(ctx, app)
	if err != nil {
		return nil, err
	}
	r, err := p.readRealm(ctx)
	if err != nil {
		return nil, err
	}
	after := &client{ID: c.ID, ClientID: c.ClientID, Name: c.Name, Attributes: map[string]any{}}
	for k, v := range c.Attributes {
		after.Attributes[k] = v
	}
	for k, v := range set {
		after.Attributes[k] = v
	}
	path := p.clientPath(c.ID)
	plan := &provider.ExpiryPlan{
		App:    c.ClientID,
		Before: *p.lifetimes(c, r),
		After:  *p.lifetimes(after, r),
		Calls: []provider.Call{
			{Method: http.MethodGet, Path: path, Purpose: "read the whole client representation"},
			{Method: http.MethodPut, Path: path, Purpose: "write it back whole with the changed attributes " + strings.Join(sortedKeys(set), ", ")},
			{Method: http.MethodGet, Path: path, Purpose: "read back and check no attribute was lost"},
			{Method: http.MethodGet, Path: p.adminPath(""), Purpose: "read the realm defaults the client inherits"},
		},
		State: &expiryState{uuid: c.ID, clientID: c.ClientID, set: set},
	}
	if d, ok := after.seconds(attrSessionMax); ok && r.SSOSessionMaxLifespan > 0 && d > seconds(r.SSOSessionMaxLifespan) {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("the refresh token lifetime %s exceeds realm %s's SSO Session Max (%s), which caps it", durations.Format(d), p.realm, durations.Format(seconds(r.SSOSessionMaxLifespan))))
	}
	if d, ok := after.seconds(attrSessionIdle); ok && r.SSOSessionIdleTimeout > 0 && d > seconds(r.SSOSessionIdleTimeout) {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("the refresh idle timeout %s exceeds realm %s's SSO Session Idle (%s), which caps it", durations.Format(d), p.realm, durations.Format(seconds(r.SSOSessionIdleTimeout))))
	}
	if plan.After.RefreshIdle.Known && plan.After.RefreshToken.Known && plan.After.RefreshIdle.Value > plan.After.RefreshToken.Value {
		plan.Warnings = append(plan.Warnings, "the refresh idle timeout is longer than the refresh token lifetime, so it never applies")
	}
	plan.Warnings = append(plan.Warnings, "access tokens already issued keep their expiry; existing sessions are held to the new session settings")
	return plan, nil
}

// ApplyExpiry implements provider.AppExpiryManager. Keycloak's client PUT
// takes the whole representation, so the client is read again and sent
// back complete with only the lifetime attributes changed.
func (p *Provider) ApplyExpiry(ctx context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	var st *expiryState
	if plan != nil {
		st, _ = plan.State.(*expiryState)
	}
	if st == nil {
		return nil, errs.New(errs.KindUsage, "keycloak: the plan was not made by the keycloak adapter")
	}
	raw, fresh, err := p.readClientRaw(ctx, st.uuid)
	if err != nil {
		return nil, err
	}
	attrs := map[string]any{}
	for k, v := range fresh.Attributes {
		attrs[k] = v
	}
	for k, v := range st.set {
		attrs[k] = v
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return nil, fmt.Errorf("keycloak: encoding the client attributes: %w", err)
	}
	raw["attributes"] = b
	resp, err := p.write(ctx, http.MethodPut, p.clientPath(st.uuid), raw)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusNotFound {
		return nil, errs.New(errs.KindUsage, "keycloak: client %s no longer exists in realm %s", st.clientID, p.realm)
	}
	if resp.Status != http.StatusNoContent && resp.Status != http.StatusOK {
		return nil, p.Fail("updating client "+st.clientID, resp)
	}
	_, back, err := p.readClientRaw(ctx, st.uuid)
	if err != nil {
		return nil, fmt.Errorf("keycloak: reading client %s back: %w", st.clientID, err)
	}
	var problems []string
	for k, v := range st.set {
		if back.attr(k) != v {
			problems = append(problems, fmt.Sprintf("%s is %q, not %q", k, back.attr(k), v))
		}
	}
	for k := range fresh.Attributes {
		if _, ok := back.Attributes[k]; !ok {
			problems = append(problems, k+" was lost")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, errs.New(errs.KindUnknown, "keycloak: client %s reads back differently than written: %s", st.clientID, strings.Join(problems, "; "))
	}
	r, err := p.readRealm(ctx)
	if err != nil {
		return nil, err
	}
	return p.lifetimes(back, r), nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
