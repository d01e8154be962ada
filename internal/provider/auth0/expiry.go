package auth0

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// Auth0's ranges, in seconds.
const (
	maxAPITokenLifetime     = 2592000   // 30 days, for an API's token_lifetime
	maxRefreshTokenLifetime = 157788000 // five years, for token_lifetime and idle_token_lifetime
	perPage                 = 100
)

// OptionAPI is the LifetimeChange option naming the API (resource server id
// or identifier) whose access-token lifetime to set.
const OptionAPI = "api"

// ListApps lists the tenant's applications.
func (p *Provider) ListApps(ctx context.Context) ([]provider.App, error) {
	const op = "auth0: listing applications"
	var out []provider.App
	for page := 0; page < maxPages; page++ {
		q := url.Values{
			"fields": {"client_id,name"}, "include_fields": {"true"},
			"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(perPage)}, "include_totals": {"true"},
		}
		resp, err := p.send(ctx, http.MethodGet, "/clients", q, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if resp.Status != http.StatusOK {
			return nil, p.fail(op, resp)
		}
		var doc struct {
			Clients []struct {
				ClientID string `json:"client_id"`
				Name     string `json:"name"`
			} `json:"clients"`
			Total int `json:"total"`
		}
		if err := provider.DecodeExact(resp, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		for _, c := range doc.Clients {
			out = append(out, provider.App{ID: c.ClientID, ClientID: c.ClientID, Name: c.Name})
		}
		if len(doc.Clients) < perPage || len(out) >= doc.Total {
			return out, nil
		}
	}
	return nil, errs.New(errs.KindNetwork, "%s: more than %d pages; stopping", op, maxPages)
}

func (p *Provider) client(ctx context.Context, id string) (map[string]any, error) {
	const op = "auth0: reading the application"
	if strings.TrimSpace(id) == "" || strings.Contains(id, "/") {
		return nil, errs.New(errs.KindUsage, "auth0: %q is not a client id", id)
	}
	resp, err := p.send(ctx, http.MethodGet, "/clients/"+url.PathEscape(id), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	switch resp.Status {
	case http.StatusOK:
		var m map[string]any
		if err := provider.DecodeExact(resp, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return m, nil
	case http.StatusNotFound:
		return nil, errs.New(errs.KindUsage, "auth0: no application with client id %q (%v)", id, p.fail(op, resp))
	default:
		return nil, p.fail(op, resp)
	}
}

// resourceServer reads an API by id or identifier (Auth0 takes either in
// the path; an identifier is usually a URL, hence the escaping).
func (p *Provider) resourceServer(ctx context.Context, api string) (map[string]any, error) {
	const op = "auth0: reading the API"
	resp, err := p.send(ctx, http.MethodGet, "/resource-servers/"+url.PathEscape(api), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	switch resp.Status {
	case http.StatusOK:
		var m map[string]any
		if err := provider.DecodeExact(resp, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return m, nil
	case http.StatusNotFound:
		return nil, errs.New(errs.KindUsage, "auth0: no API with id or identifier %q (%v)", api, p.fail(op, resp))
	default:
		return nil, p.fail(op, resp)
	}
}

// GetExpiry reads an application's refresh-token settings and, when the
// admin setting api names one, that API's access-token lifetime.
func (p *Provider) GetExpiry(ctx context.Context, app string) (*provider.Lifetimes, error) {
	return p.getExpiry(ctx, app, p.api)
}

func (p *Provider) getExpiry(ctx context.Context, app, api string) (*provider.Lifetimes, error) {
	c, err := p.client(ctx, app)
	if err != nil {
		return nil, err
	}
	var rs map[string]any
	if api != "" {
		if rs, err = p.resourceServer(ctx, api); err != nil {
			return nil, err
		}
	}
	lt := p.lifetimes(c, rs)
	return &lt, nil
}

func seconds(n int) provider.Lifetime {
	return provider.Lifetime{Value: time.Duration(n) * time.Second, Known: true, Source: provider.SourceApp, Native: fmt.Sprintf("%d seconds", n)}
}

func (p *Provider) lifetimes(c, rs map[string]any) provider.Lifetimes {
	lt := provider.Lifetimes{App: provider.JSONString(c, "client_id"), ReadAt: p.Now()}
	if name := provider.JSONString(c, "name"); name != "" {
		lt.App = fmt.Sprintf("%s (%s)", lt.App, name)
	}
	if rs == nil {
		lt.AccessToken = provider.Lifetime{Source: provider.SourceUnknown, SetWhere: "the API (resource server) the token is for, not the application: pass the API's id or identifier with --api (option api)"}
	} else {
		n, ok := provider.JSONInt(rs["token_lifetime"])
		lt.AccessToken = provider.Lifetime{Value: time.Duration(n) * time.Second, Known: ok, Source: provider.SourceInherited, From: "API " + firstNonEmpty(provider.JSONString(rs, "identifier"), provider.JSONString(rs, "id")), Native: fmt.Sprintf("%d seconds", n)}
		if web, ok := provider.JSONInt(rs["token_lifetime_for_web"]); ok {
			lt.Notes = append(lt.Notes, fmt.Sprintf("access tokens of the implicit and hybrid flows last %d seconds (token_lifetime_for_web of the API)", web))
		}
	}
	rt, _ := c["refresh_token"].(map[string]any)
	if rt == nil {
		lt.Notes = append(lt.Notes, "the application has no refresh_token settings: Auth0's defaults apply (non-rotating, non-expiring)")
		unlimited := provider.Lifetime{Unlimited: true, Known: true, Source: provider.SourceVendor, From: "Auth0 default", Native: "non-expiring"}
		lt.RefreshToken, lt.RefreshIdle = unlimited, unlimited
		f := false
		lt.Rotation, lt.RotationSource = &f, provider.SourceVendor
	} else {
		expiring := provider.JSONString(rt, "expiration_type") == "expiring"
		infinite := provider.Lifetime{Unlimited: true, Known: true, Source: provider.SourceApp}
		switch n, ok := provider.JSONInt(rt["token_lifetime"]); {
		case !expiring:
			lt.RefreshToken = infinite
			lt.RefreshToken.Native = "expiration_type non-expiring"
		case provider.JSONBool(rt["infinite_token_lifetime"]):
			lt.RefreshToken = infinite
			lt.RefreshToken.Native = "infinite_token_lifetime"
		case ok:
			lt.RefreshToken = seconds(n)
		default:
			lt.RefreshToken = provider.Lifetime{Source: provider.SourceApp}
		}
		switch n, ok := provider.JSONInt(rt["idle_token_lifetime"]); {
		case !expiring:
			lt.RefreshIdle = infinite
			lt.RefreshIdle.Native = "expiration_type non-expiring"
		case provider.JSONBool(rt["infinite_idle_token_lifetime"]):
			lt.RefreshIdle = infinite
			lt.RefreshIdle.Native = "infinite_idle_token_lifetime"
		case ok:
			lt.RefreshIdle = seconds(n)
		default:
			lt.RefreshIdle = provider.Lifetime{Source: provider.SourceApp}
		}
		if n, ok := provider.JSONInt(rt["leeway"]); ok {
			lt.ReuseInterval = seconds(n)
		}
		rot := provider.JSONString(rt, "rotation_type") == "rotating"
		lt.Rotation, lt.RotationSource = &rot, provider.SourceApp
	}
	if jc, _ := c["jwt_configuration"].(map[string]any); jc != nil {
		if n, ok := provider.JSONInt(jc["lifetime_in_seconds"]); ok {
			lt.Notes = append(lt.Notes, fmt.Sprintf("ID tokens last %d seconds (jwt_configuration.lifetime_in_seconds of the application)", n))
		}
	}
	return lt
}

// planState is the read-modify-write state of an Auth0 expiry plan.
type planState struct {
	clientID   string
	rtBefore   any            // refresh_token as read, to detect a change since
	rt         map[string]any // the whole refresh_token object to send, nil when unchanged
	rsID       string
	api        string
	rsBefore   any // token_lifetime as read
	rsLifetime int // new token_lifetime, 0 when unchanged
	want       provider.Lifetimes
}

// validateChange refuses units and ranges Auth0 would refuse, before any
// request.
func validateChange(ch provider.LifetimeChange, api string) error {
	wholeSeconds := func(what string, d time.Duration, max int, zeroOK bool) error {
		if d < 0 {
			return errs.New(errs.KindUsage, "auth0: the %s lifetime cannot be negative", what)
		}
		if d%time.Second != 0 {
			return errs.New(errs.KindUsage, "auth0: Auth0 counts the %s lifetime in whole seconds; %s is not", what, d)
		}
		n := int(d / time.Second)
		if n == 0 && zeroOK {
			return nil
		}
		if n < 1 || n > max {
			unlimited := ""
			if zeroOK {
				unlimited = ", or 0 for unlimited"
			}
			return errs.New(errs.KindUsage, "auth0: the %s lifetime must be 1s to %s (Auth0's range)%s; %s is not", what, durations.Format(time.Duration(max)*time.Second), unlimited, d)
		}
		return nil
	}
	if ch.AccessToken != nil {
		if err := wholeSeconds("access token", *ch.AccessToken, maxAPITokenLifetime, false); err != nil {
			return err
		}
		if api == "" {
			return provider.Unsupported(Name, "setting the access token lifetime of an application", "Auth0 sets it on the API (resource server) the token is for: pass the API's id or identifier with --api")
		}
	}
	if ch.RefreshToken != nil {
		if err := wholeSeconds("refresh token", *ch.RefreshToken, maxRefreshTokenLifetime, true); err != nil {
			return err
		}
	}
	if ch.RefreshIdle != nil {
		if err := wholeSeconds("refresh token idle", *ch.RefreshIdle, maxRefreshTokenLifetime, true); err != nil {
			return err
		}
	}
	return nil
}

// PlanExpiry reads the application (and API) and computes the change.
func (p *Provider) PlanExpiry(ctx context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	api := ch.Options[OptionAPI]
	if api == "" {
		api = p.api
	}
	if err := validateChange(ch, api); err != nil {
		return nil, err
	}
	c, err := p.client(ctx, app)
	if err != nil {
		return nil, err
	}
	var rs map[string]any
	if api != "" {
		if rs, err = p.resourceServer(ctx, api); err != nil {
			return nil, err
		}
	}
	plan := &provider.ExpiryPlan{App: app, Before: p.lifetimes(c, rs)}
	st := &planState{clientID: provider.JSONString(c, "client_id"), api: api, rtBefore: c["refresh_token"]}
	if st.clientID == "" {
		st.clientID = app
	}

	before, _ := c["refresh_token"].(map[string]any)
	rt := provider.CloneJSON(before)
	if rt == nil {
		// Auth0 requires both types in the object; these are its defaults.
		rt = map[string]any{"rotation_type": "non-rotating", "expiration_type": "non-expiring"}
	}
	if ch.RefreshToken != nil {
		if n := int(*ch.RefreshToken / time.Second); n == 0 {
			rt["infinite_token_lifetime"] = true
		} else {
			rt["token_lifetime"], rt["infinite_token_lifetime"], rt["expiration_type"] = n, false, "expiring"
		}
	}
	if ch.RefreshIdle != nil {
		if n := int(*ch.RefreshIdle / time.Second); n == 0 {
			rt["infinite_idle_token_lifetime"] = true
		} else {
			rt["idle_token_lifetime"], rt["infinite_idle_token_lifetime"], rt["expiration_type"] = n, false, "expiring"
		}
	}
	if ch.Rotation != nil {
		rt["rotation_type"] = "non-rotating"
		if *ch.Rotation {
			rt["rotation_type"] = "rotating"
		}
	}
	if provider.JSONString(rt, "expiration_type") == "expiring" && !provider.JSONBool(rt["infinite_token_lifetime"]) && !provider.JSONBool(rt["infinite_idle_token_lifetime"]) {
		abs, ok1 := provider.JSONInt(rt["token_lifetime"])
		idle, ok2 := provider.JSONInt(rt["idle_token_lifetime"])
		if ok1 && ok2 && idle > abs {
			return nil, errs.New(errs.KindUsage, "auth0: the refresh token idle lifetime (%s) cannot exceed its absolute lifetime (%s)", durations.Format(time.Duration(idle)*time.Second), durations.Format(time.Duration(abs)*time.Second))
		}
	}
	touched := ch.RefreshToken != nil || ch.RefreshIdle != nil || ch.Rotation != nil
	if touched && !provider.SameJSON(rt, before) {
		st.rt = rt
		plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodPatch, Path: "/api/v2/clients/" + url.PathEscape(st.clientID), Purpose: "send the whole refresh_token object with the new settings"})
	}
	if ch.AccessToken != nil {
		n := int(*ch.AccessToken / time.Second)
		if err := checkWebLifetime(rs, api, n); err != nil {
			return nil, err
		}
		if cur, ok := provider.JSONInt(rs["token_lifetime"]); !ok || cur != n {
			st.rsID, st.rsBefore, st.rsLifetime = provider.JSONString(rs, "id"), rs["token_lifetime"], n
			if st.rsID == "" {
				st.rsID = api
			}
			plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodPatch, Path: "/api/v2/resource-servers/" + url.PathEscape(st.rsID), Purpose: "set the API's access token lifetime"})
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("the access token lifetime belongs to API %s: every application requesting tokens for it is affected", firstNonEmpty(provider.JSONString(rs, "identifier"), api)))
		}
	}
	after := provider.CloneJSON(c)
	if st.rt != nil {
		after["refresh_token"] = st.rt
	}
	afterRS := provider.CloneJSON(rs)
	if st.rsLifetime > 0 {
		afterRS["token_lifetime"] = st.rsLifetime
	}
	plan.After = p.lifetimes(after, afterRS)
	if len(plan.Calls) > 0 {
		plan.Warnings = append(plan.Warnings, "tokens already issued keep the lifetimes they were issued with")
	}
	st.want = plan.After
	plan.State = st
	return plan, nil
}

// ApplyExpiry writes the plan, refusing when the settings changed since it
// was read, and reads back what Auth0 holds.
func (p *Provider) ApplyExpiry(ctx context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	if plan == nil {
		return nil, errs.New(errs.KindUsage, "auth0: no plan to apply")
	}
	st, ok := plan.State.(*planState)
	if !ok || st == nil {
		return nil, errs.New(errs.KindUsage, "auth0: the plan was not made by the Auth0 adapter")
	}
	if st.rt != nil {
		const op = "auth0: updating the application's refresh token settings"
		cur, err := p.client(ctx, st.clientID)
		if err != nil {
			return nil, err
		}
		if !provider.SameJSON(cur["refresh_token"], st.rtBefore) {
			return nil, errs.New(errs.KindUsage, "%s: they changed in Auth0 since the plan was made; plan again", op)
		}
		resp, err := p.send(ctx, http.MethodPatch, "/clients/"+url.PathEscape(st.clientID), nil, map[string]any{"refresh_token": st.rt})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if resp.Status != http.StatusOK {
			return nil, p.fail(op, resp)
		}
	}
	if st.rsLifetime > 0 {
		const op = "auth0: updating the API's access token lifetime"
		cur, err := p.resourceServer(ctx, st.rsID)
		if err != nil {
			return nil, err
		}
		if !provider.SameJSON(cur["token_lifetime"], st.rsBefore) {
			return nil, errs.New(errs.KindUsage, "%s: it changed in Auth0 since the plan was made; plan again", op)
		}
		if err := checkWebLifetime(cur, st.api, st.rsLifetime); err != nil {
			return nil, err
		}
		resp, err := p.send(ctx, http.MethodPatch, "/resource-servers/"+url.PathEscape(st.rsID), nil, map[string]any{"token_lifetime": st.rsLifetime})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if resp.Status != http.StatusOK {
			return nil, p.fail(op, resp)
		}
	}
	got, err := p.getExpiry(ctx, st.clientID, st.api)
	if err != nil {
		return nil, fmt.Errorf("auth0: reading back the settings: %w", err)
	}
	if err := verify(st.want, *got); err != nil {
		return got, err
	}
	return got, nil
}

// checkWebLifetime refuses a token_lifetime below the API's
// token_lifetime_for_web (the lifetime of access tokens issued through the
// implicit and hybrid flows): Auth0 requires token_lifetime_for_web ≤
// token_lifetime and answers 400 otherwise, so the change is refused
// before anything is sent.
func checkWebLifetime(rs map[string]any, api string, lifetime int) error {
	web, ok := provider.JSONInt(rs["token_lifetime_for_web"])
	if !ok || web <= lifetime {
		return nil
	}
	name := firstNonEmpty(provider.JSONString(rs, "identifier"), api)
	return errs.New(errs.KindUsage, "auth0: API %s keeps browser-flow access tokens for %s (token_lifetime_for_web), and Auth0 requires that to be at most the access token lifetime; %s is shorter. Lower the API's \"Implicit / Hybrid Flow\" token expiration to %s or less first, or choose at least %s; nothing was changed",
		name, durations.Format(time.Duration(web)*time.Second), durations.Format(time.Duration(lifetime)*time.Second), durations.Format(time.Duration(lifetime)*time.Second), durations.Format(time.Duration(web)*time.Second))
}

func verify(want, got provider.Lifetimes) error {
	var diffs []string
	check := func(what string, w, g provider.Lifetime) {
		if w.Known && (w.Value != g.Value || w.Unlimited != g.Unlimited) {
			diffs = append(diffs, fmt.Sprintf("%s %s, not %s", what, g.Native, w.Native))
		}
	}
	check("access token", want.AccessToken, got.AccessToken)
	check("refresh token", want.RefreshToken, got.RefreshToken)
	check("refresh idle", want.RefreshIdle, got.RefreshIdle)
	if want.Rotation != nil && got.Rotation != nil && *want.Rotation != *got.Rotation {
		diffs = append(diffs, fmt.Sprintf("rotation %t, not %t", *got.Rotation, *want.Rotation))
	}
	if len(diffs) > 0 {
		return errs.New(errs.KindUnknown, "auth0: the change was accepted but Auth0 reads back %s", strings.Join(diffs, "; "))
	}
	return nil
}
