package hydra

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// baseLifespans are the ten per-client lifespans every Hydra v2 has
// (OAuth2ClientTokenLifespans of API v2.1.0). Newer releases add
// device_authorization_grant_*; whatever *_lifespan members a client has
// are sent back, these are sent even when a server leaves them out.
var baseLifespans = []string{
	"authorization_code_grant_access_token_lifespan",
	"authorization_code_grant_id_token_lifespan",
	"authorization_code_grant_refresh_token_lifespan",
	"client_credentials_grant_access_token_lifespan",
	"implicit_grant_access_token_lifespan",
	"implicit_grant_id_token_lifespan",
	"jwt_bearer_grant_access_token_lifespan",
	"refresh_token_grant_access_token_lifespan",
	"refresh_token_grant_id_token_lifespan",
	"refresh_token_grant_refresh_token_lifespan",
}

type group int

const (
	accessGroup group = iota
	refreshGroup
	idGroup
	otherGroup
)

var groupSuffix = map[group]string{
	accessGroup:  "_access_token_lifespan",
	refreshGroup: "_refresh_token_lifespan",
	idGroup:      "_id_token_lifespan",
}

var groupConfigKey = map[group]string{
	accessGroup:  "ttl.access_token",
	refreshGroup: "ttl.refresh_token",
	idGroup:      "ttl.id_token",
}

func groupOf(key string) group {
	for g, suffix := range groupSuffix {
		if strings.HasSuffix(key, suffix) {
			return g
		}
	}
	return otherGroup
}

// grantOf names the grant of a lifespan member for messages:
// authorization_code_grant_access_token_lifespan -> authorization_code.
func grantOf(key string) string {
	if i := strings.Index(key, "_grant_"); i > 0 {
		return key[:i]
	}
	return key
}

// client is what the adapter reads of a Hydra client. lifespans holds the
// raw JSON of every *_lifespan member so that the ones not being changed
// are sent back byte for byte.
type client struct {
	id, name, strategy string
	lifespans          map[string]json.RawMessage
}

func (p *Provider) readClient(ctx context.Context, id string) (*client, error) {
	if strings.TrimSpace(id) == "" {
		return nil, errs.New(errs.KindUsage, "hydra: no client id given")
	}
	resp, err := p.get(ctx, "/admin/clients/"+url.PathEscape(id))
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusNotFound {
		return nil, errs.New(errs.KindUsage, "hydra: no client %q (see 'idpctl app list')", id)
	}
	if resp.Status != http.StatusOK {
		return nil, p.fail("reading client "+id, resp)
	}
	return decodeClient(resp, id)
}

func decodeClient(resp *httpx.Response, id string) (*client, error) {
	var raw map[string]json.RawMessage
	if err := httpx.DecodeJSON(resp, &raw); err != nil {
		return nil, fmt.Errorf("hydra: reading client %s: %w", id, err)
	}
	c := &client{id: id, lifespans: map[string]json.RawMessage{}}
	for k, v := range raw {
		switch {
		case k == "client_id":
			_ = json.Unmarshal(v, &c.id)
		case k == "client_name":
			_ = json.Unmarshal(v, &c.name)
		case k == "access_token_strategy":
			_ = json.Unmarshal(v, &c.strategy)
		case strings.HasSuffix(k, "_lifespan"):
			c.lifespans[k] = v
		}
	}
	for _, k := range baseLifespans {
		if _, ok := c.lifespans[k]; !ok {
			c.lifespans[k] = json.RawMessage("null")
		}
	}
	return c, nil
}

// duration reads one lifespan: nil for null (the global default).
func duration(raw json.RawMessage) (*time.Duration, error) {
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if s == nil || *s == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(*s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// groupState summarises the lifespans of one token type across grants.
type groupState struct {
	keys    []string
	values  map[string]time.Duration
	anyNull bool
	differ  bool
	max     time.Duration
}

func (c *client) group(g group) groupState {
	st := groupState{values: map[string]time.Duration{}}
	for k, raw := range c.lifespans {
		if groupOf(k) != g {
			continue
		}
		st.keys = append(st.keys, k)
		d, err := duration(raw)
		if err != nil || d == nil {
			st.anyNull = true
			continue
		}
		st.values[k] = *d
		if *d > st.max {
			st.max = *d
		}
	}
	sort.Strings(st.keys)
	for _, v := range st.values {
		if v != st.max {
			st.differ = true
		}
	}
	return st
}

func (st groupState) native() string {
	if len(st.values) > 0 && !st.differ && !st.anyNull {
		return st.max.String()
	}
	parts := make([]string, 0, len(st.keys))
	for _, k := range st.keys {
		if d, ok := st.values[k]; ok {
			parts = append(parts, grantOf(k)+" "+d.String())
		} else {
			parts = append(parts, grantOf(k)+" null")
		}
	}
	return strings.Join(parts, ", ")
}

func (st groupState) lifetime(g group) provider.Lifetime {
	if len(st.values) == 0 {
		return provider.Lifetime{Source: provider.SourceInherited, From: "Hydra configuration " + groupConfigKey[g], Native: "null (global default)"}
	}
	return provider.Lifetime{Value: st.max, Known: true, Source: provider.SourceApp, Native: st.native()}
}

func (st groupState) note(what string, g group) string {
	switch {
	case len(st.values) == 0:
		return ""
	case st.anyNull:
		return fmt.Sprintf("%s lifespans are set for some grants only (%s); the others use the Hydra configuration's %s; the longest set value is shown", what, st.native(), groupConfigKey[g])
	case st.differ:
		return fmt.Sprintf("%s lifespans differ per grant (%s); the longest is shown", what, st.native())
	}
	return ""
}

func (c *client) lifetimes(now time.Time) *provider.Lifetimes {
	access, refresh, id := c.group(accessGroup), c.group(refreshGroup), c.group(idGroup)
	rotation := true
	lt := &provider.Lifetimes{
		App:          c.id,
		AccessToken:  access.lifetime(accessGroup),
		RefreshToken: refresh.lifetime(refreshGroup),
		RefreshIdle: provider.Lifetime{Source: provider.SourceVendor,
			SetWhere: "Hydra has no refresh-token idle timeout: refresh tokens live for their lifespan (the client's refresh token lifespans or the Hydra configuration's ttl.refresh_token)"},
		ReuseInterval: provider.Lifetime{Source: provider.SourceInherited, From: "Hydra configuration oauth2.grant.refresh_token.rotation_grace_period",
			SetWhere: "the Hydra configuration's oauth2.grant.refresh_token.rotation_grace_period (global, at most 5m) and rotation_grace_reuse_count"},
		Rotation:       &rotation,
		RotationSource: provider.SourceVendor,
		ReadAt:         now,
	}
	for _, n := range []string{access.note("access token", accessGroup), refresh.note("refresh token", refreshGroup)} {
		if n != "" {
			lt.Notes = append(lt.Notes, n)
		}
	}
	if len(id.values) > 0 {
		lt.Notes = append(lt.Notes, "ID token lifespans are left as they are: "+id.native())
	}
	lt.Notes = append(lt.Notes, "Hydra always rotates refresh tokens; inherited values come from the Hydra configuration (ttl.*), which the admin API does not expose")
	return lt
}

// ListApps implements provider.AppExpiryManager.
func (p *Provider) ListApps(ctx context.Context) ([]provider.App, error) {
	var apps []provider.App
	err := p.Pages(ctx, "listing clients", "/admin/clients", nil, func(resp *httpx.Response) error {
		var page []struct {
			ClientID string `json:"client_id"`
			Name     string `json:"client_name"`
		}
		if err := httpx.DecodeJSON(resp, &page); err != nil {
			return fmt.Errorf("hydra: listing clients: %w", err)
		}
		for _, c := range page {
			apps = append(apps, provider.App{ID: c.ClientID, ClientID: c.ClientID, Name: c.Name})
		}
		return nil
	})
	return apps, err
}

// GetExpiry implements provider.AppExpiryManager.
func (p *Provider) GetExpiry(ctx context.Context, app string) (*provider.Lifetimes, error) {
	c, err := p.readClient(ctx, app)
	if err != nil {
		return nil, err
	}
	return c.lifetimes(p.Now()), nil
}

// expiryState is the adapter's part of an ExpiryPlan: the change, applied
// again to a fresh read at apply time so that a concurrent edit of another
// lifespan is not overwritten.
type expiryState struct {
	clientID        string
	access, refresh *time.Duration
}

func validateChange(ch provider.LifetimeChange) error {
	if ch.RefreshIdle != nil {
		return provider.Unsupported(Name, "setting a refresh-token idle timeout", "Hydra has no idle timeout: refresh tokens live for their lifespan (--refresh-token, or ttl.refresh_token in the Hydra configuration)")
	}
	if ch.Rotation != nil && !*ch.Rotation {
		return provider.Unsupported(Name, "turning refresh-token rotation off", "Hydra always rotates refresh tokens; the reuse grace period is the global configuration key oauth2.grant.refresh_token.rotation_grace_period")
	}
	for what, d := range map[string]*time.Duration{"access token": ch.AccessToken, "refresh token": ch.RefreshToken} {
		if d != nil && *d < time.Second {
			return errs.New(errs.KindUsage, "hydra: the %s lifespan must be at least 1s, not %s", what, d)
		}
	}
	if ch.AccessToken == nil && ch.RefreshToken == nil {
		return errs.New(errs.KindUsage, "hydra: nothing to change: give an access token or refresh token lifespan")
	}
	return nil
}

// apply returns the lifespans body with the change made: the access-token
// lifespans of every grant get the new access value, the refresh-token
// lifespans the new refresh value, and every other member is sent back as
// read, because PUT .../lifespans nulls what it is not sent.
func (st *expiryState) apply(c *client) map[string]json.RawMessage {
	body := make(map[string]json.RawMessage, len(c.lifespans))
	for k, v := range c.lifespans {
		body[k] = v
		var d *time.Duration
		switch groupOf(k) {
		case accessGroup:
			d = st.access
		case refreshGroup:
			d = st.refresh
		}
		if d != nil {
			b, _ := json.Marshal(d.String())
			body[k] = b
		}
	}
	return body
}

// PlanExpiry implements provider.AppExpiryManager.
func (p *Provider) PlanExpiry(ctx context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	if err := validateChange(ch); err != nil {
		return nil, err
	}
	c, err := p.readClient(ctx, app)
	if err != nil {
		return nil, err
	}
	st := &expiryState{clientID: c.id, access: ch.AccessToken, refresh: ch.RefreshToken}
	after := &client{id: c.id, name: c.name, strategy: c.strategy, lifespans: st.apply(c)}
	path := "/admin/clients/" + url.PathEscape(c.id)
	plan := &provider.ExpiryPlan{
		App:    c.id,
		Before: *c.lifetimes(p.Now()),
		After:  *after.lifetimes(p.Now()),
		Calls: []provider.Call{
			{Method: http.MethodGet, Path: path, Purpose: "read the client's lifespans"},
			{Method: http.MethodPut, Path: path + "/lifespans", Purpose: "write all lifespans (unsent ones would become null)"},
			{Method: http.MethodGet, Path: path, Purpose: "read back"},
		},
		State: st,
	}
	if ch.AccessToken != nil {
		if a := c.group(accessGroup); a.differ || (a.anyNull && len(a.values) > 0) {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("the access token lifespans differed per grant (%s); all become %s", a.native(), ch.AccessToken))
		}
	}
	if ch.RefreshToken != nil {
		if r := c.group(refreshGroup); r.differ || (r.anyNull && len(r.values) > 0) {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("the refresh token lifespans differed per grant (%s); all become %s", r.native(), ch.RefreshToken))
		}
	}
	plan.Warnings = append(plan.Warnings, "tokens already issued keep the expiry they were issued with")
	return plan, nil
}

// ApplyExpiry implements provider.AppExpiryManager.
func (p *Provider) ApplyExpiry(ctx context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	var st *expiryState
	if plan != nil {
		st, _ = plan.State.(*expiryState)
	}
	if st == nil {
		return nil, errs.New(errs.KindUsage, "hydra: the plan was not made by the hydra adapter")
	}
	fresh, err := p.readClient(ctx, st.clientID)
	if err != nil {
		return nil, err
	}
	body := st.apply(fresh)
	path := "/admin/clients/" + url.PathEscape(st.clientID)
	resp, err := p.write(ctx, http.MethodPut, path+"/lifespans", body)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusNotFound {
		return nil, errs.New(errs.KindUsage, "hydra: no client %q", st.clientID)
	}
	if resp.Status != http.StatusOK && resp.Status != http.StatusNoContent {
		return nil, p.fail("setting the lifespans of client "+st.clientID, resp)
	}
	back, err := p.readClient(ctx, st.clientID)
	if err != nil {
		return nil, fmt.Errorf("hydra: reading client %s back: %w", st.clientID, err)
	}
	if diff := lifespanDiff(body, back.lifespans); diff != "" {
		return nil, errs.New(errs.KindUnknown, "hydra: client %s reads back different lifespans than were written (%s)", st.clientID, diff)
	}
	return back.lifetimes(p.Now()), nil
}

// lifespanDiff compares written and read lifespans as durations, since
// Hydra normalises them (1h -> 1h0m0s).
func lifespanDiff(want, got map[string]json.RawMessage) string {
	var out []string
	for k, w := range want {
		wd, err1 := duration(w)
		gd, err2 := duration(got[k])
		if err1 != nil || err2 != nil || (wd == nil) != (gd == nil) || (wd != nil && *wd != *gd) {
			out = append(out, fmt.Sprintf("%s: wrote %s, read %s", k, w, got[k]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
