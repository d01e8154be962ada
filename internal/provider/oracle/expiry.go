package oracle

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

const schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// appAttributes are the App attributes every App request names. Naming
// them keeps clientSecret, which identity domains return by default, out of
// responses and so out of the debug trace.
const appAttributes = "displayName,name,isOAuthClient,isOAuthResource,accessTokenExpiry,refreshTokenExpiry,allowOffline"

// Attribute names of the lifetimes (integer seconds).
const (
	attrAccessExpiry  = "accessTokenExpiry"
	attrRefreshExpiry = "refreshTokenExpiry"
)

// scimApp is the part of an App this adapter reads.
type scimApp struct {
	ID                 string `json:"id"`
	DisplayName        string `json:"displayName"`
	Name               string `json:"name"` // the OAuth client id
	IsOAuthClient      *bool  `json:"isOAuthClient"`
	IsOAuthResource    *bool  `json:"isOAuthResource"`
	AccessTokenExpiry  *int64 `json:"accessTokenExpiry"`
	RefreshTokenExpiry *int64 `json:"refreshTokenExpiry"`
	AllowOffline       *bool  `json:"allowOffline"`
}

// patchOp is one SCIM PATCH operation (RFC 7644 §3.5.2).
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value int64  `json:"value"`
}

type expiryState struct {
	appID string
	ops   []patchOp
}

// ListApps lists the OAuth client apps: id, client id (the App name) and
// display name.
func (p *Provider) ListApps(ctx context.Context) ([]provider.App, error) {
	apps, _, err := search[scimApp](ctx, p, "listing OAuth apps", "/admin/v1/Apps", "isOAuthClient eq true", "displayName,name")
	if err != nil {
		return nil, err
	}
	out := make([]provider.App, 0, len(apps))
	for _, a := range apps {
		out = append(out, provider.App{ID: a.ID, ClientID: a.Name, Name: a.DisplayName})
	}
	return out, nil
}

func appFilter(ref string) string {
	v := scimString(ref)
	return "id eq " + v + " or name eq " + v + " or displayName eq " + v
}

// findApp finds an app by id, client id (name) or display name, in that
// order of preference.
func (p *Provider) findApp(ctx context.Context, ref string) (*scimApp, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, errs.New(errs.KindUsage, "oracle: no app given")
	}
	apps, _, err := search[scimApp](ctx, p, "finding the app", "/admin/v1/Apps", appFilter(ref), "displayName,name")
	if err != nil {
		return nil, err
	}
	for _, match := range []func(scimApp) bool{
		func(a scimApp) bool { return a.ID == ref },
		func(a scimApp) bool { return a.Name == ref },
	} {
		for i := range apps {
			if match(apps[i]) {
				return &apps[i], nil
			}
		}
	}
	var named []scimApp
	for _, a := range apps {
		if strings.EqualFold(a.DisplayName, ref) {
			named = append(named, a)
		}
	}
	switch len(named) {
	case 0:
		return nil, errs.New(errs.KindUsage, "oracle: no app with id, client id or display name %q in the identity domain", ref)
	case 1:
		return &named[0], nil
	default:
		ids := make([]string, 0, len(named))
		for _, a := range named {
			ids = append(ids, a.ID)
		}
		sort.Strings(ids)
		return nil, errs.New(errs.KindUsage, "oracle: %d apps have the display name %q; give the id or client id (%s)", len(named), ref, strings.Join(ids, ", "))
	}
}

func (p *Provider) readApp(ctx context.Context, id string) (*scimApp, error) {
	var a scimApp
	found, _, err := p.getJSON(ctx, "reading the app", "/admin/v1/Apps/"+pathEscape(id), url.Values{"attributes": {appAttributes}}, &a)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errs.New(errs.KindUsage, "oracle: app %s no longer exists", id)
	}
	return &a, nil
}

// GetExpiry reads the app's accessTokenExpiry and refreshTokenExpiry.
func (p *Provider) GetExpiry(ctx context.Context, app string) (*provider.Lifetimes, error) {
	ref, err := p.findApp(ctx, app)
	if err != nil {
		return nil, err
	}
	a, err := p.readApp(ctx, ref.ID)
	if err != nil {
		return nil, err
	}
	return p.lifetimes(a), nil
}

func (p *Provider) lifetimes(a *scimApp) *provider.Lifetimes {
	label := a.DisplayName
	if label == "" {
		label = a.ID
	}
	lt := &provider.Lifetimes{
		App:          label,
		AccessToken:  secondsLifetime(a.AccessTokenExpiry),
		RefreshToken: secondsLifetime(a.RefreshTokenExpiry),
		RefreshIdle: provider.Lifetime{Source: provider.SourceVendor,
			SetWhere: "identity domains have no refresh-token idle timeout; refreshTokenExpiry is absolute"},
		ReuseInterval: provider.Lifetime{Source: provider.SourceVendor,
			SetWhere: "identity domains have no refresh-token reuse interval"},
		RotationSource: provider.SourceUnknown,
		ReadAt:         p.Now(),
	}
	lt.Notes = append(lt.Notes,
		fmt.Sprintf("app id %s, client id %s", provider.Clean(a.ID), provider.Clean(a.Name)),
		"these lifetimes apply to tokens that grant access to this app as a resource (its scopes), not to every token this app requests as a client; which expiry wins for a token carrying scopes of several resource apps is not documented",
		"refresh tokens are issued when the client asks for the offline_access scope; whether they rotate is not an app setting")
	if a.AllowOffline != nil && !*a.AllowOffline {
		lt.Notes = append(lt.Notes, "allowOffline is false: no refresh tokens are issued for this app's scopes")
	}
	return lt
}

func secondsLifetime(v *int64) provider.Lifetime {
	if v == nil {
		return provider.Lifetime{Source: provider.SourceInherited, From: "identity domain default (the app returns no value)"}
	}
	return provider.Lifetime{
		Value:  time.Duration(*v) * time.Second,
		Known:  true,
		Source: provider.SourceApp,
		Native: fmt.Sprintf("%d seconds", *v),
	}
}

// toSeconds validates a requested lifetime: identity domains store whole
// seconds in an integer attribute.
func toSeconds(what string, d time.Duration) (int64, error) {
	if d < time.Second {
		return 0, errs.New(errs.KindUsage, "oracle: the %s lifetime must be at least 1s", what)
	}
	if d%time.Second != 0 {
		return 0, errs.New(errs.KindUsage, "oracle: identity domains store the %s lifetime in whole seconds; %s is not", what, d)
	}
	secs := int64(d / time.Second)
	if secs > math.MaxInt32 {
		return 0, errs.New(errs.KindUsage, "oracle: the %s lifetime %s is longer than identity domains can store", what, d)
	}
	return secs, nil
}

// PlanExpiry validates the change, reads the app and computes the PATCH.
// Only the named attributes change: SCIM PATCH leaves the rest of the App
// alone, so no read-modify-write of the whole object is needed.
func (p *Provider) PlanExpiry(ctx context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	if ch.RefreshIdle != nil {
		return nil, provider.Unsupported(Name, "setting a refresh-token idle timeout", "identity domains only have an absolute refresh token expiry per app (refreshTokenExpiry)")
	}
	if ch.Rotation != nil {
		return nil, provider.Unsupported(Name, "setting refresh-token rotation", "identity domains have no app setting for refresh-token rotation")
	}
	if ch.AccessToken == nil && ch.RefreshToken == nil {
		return nil, errs.New(errs.KindUsage, "oracle: nothing to change: give an access token or refresh token lifetime")
	}
	type want struct {
		attr string
		secs int64
	}
	var wants []want
	if ch.AccessToken != nil {
		s, err := toSeconds("access token", *ch.AccessToken)
		if err != nil {
			return nil, err
		}
		wants = append(wants, want{attrAccessExpiry, s})
	}
	if ch.RefreshToken != nil {
		s, err := toSeconds("refresh token", *ch.RefreshToken)
		if err != nil {
			return nil, err
		}
		wants = append(wants, want{attrRefreshExpiry, s})
	}
	ref, err := p.findApp(ctx, app)
	if err != nil {
		return nil, err
	}
	a, err := p.readApp(ctx, ref.ID)
	if err != nil {
		return nil, err
	}
	before := p.lifetimes(a)
	after := *before
	after.Notes = append([]string(nil), before.Notes...)
	st := &expiryState{appID: a.ID}
	var changed []string
	for _, w := range wants {
		lt := provider.Lifetime{Value: time.Duration(w.secs) * time.Second, Known: true, Source: provider.SourceApp, Native: fmt.Sprintf("%d seconds", w.secs)}
		cur := before.AccessToken
		if w.attr == attrRefreshExpiry {
			cur = before.RefreshToken
		}
		if w.attr == attrAccessExpiry {
			after.AccessToken = lt
		} else {
			after.RefreshToken = lt
		}
		if cur.Known && cur.Value == lt.Value {
			continue
		}
		st.ops = append(st.ops, patchOp{Op: "replace", Path: w.attr, Value: w.secs})
		changed = append(changed, w.attr)
	}
	plan := &provider.ExpiryPlan{App: before.App, Before: *before, After: after, State: st}
	path := "/admin/v1/Apps/" + a.ID
	if len(st.ops) > 0 {
		plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodPatch, Path: path, Purpose: "replace " + strings.Join(changed, " and ") + " (SCIM PATCH: other attributes stay as they are)"})
	} else {
		plan.Warnings = append(plan.Warnings, "the app already has these lifetimes; nothing is written")
	}
	plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodGet, Path: path, Purpose: "read the app back to verify"})
	if a.IsOAuthResource != nil && !*a.IsOAuthResource {
		plan.Warnings = append(plan.Warnings, "this app is not an OAuth resource: its expiry settings govern tokens that grant access to it, so they may not change the tokens it obtains as a client")
	}
	if ch.RefreshToken != nil && a.AllowOffline != nil && !*a.AllowOffline {
		plan.Warnings = append(plan.Warnings, "allowOffline is false on this app: no refresh tokens are issued for its scopes, so the refresh token expiry has no effect until it is enabled")
	}
	if after.AccessToken.Known && after.RefreshToken.Known && after.AccessToken.Value >= after.RefreshToken.Value {
		plan.Warnings = append(plan.Warnings, "the access token lifetime is not shorter than the refresh token lifetime")
	}
	return plan, nil
}

// ApplyExpiry sends the PATCH, reads the app back and checks that the
// domain holds what was planned.
func (p *Provider) ApplyExpiry(ctx context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	st, ok := planState(plan)
	if !ok {
		return nil, errs.New(errs.KindUsage, "oracle: the expiry plan was not made by this adapter")
	}
	if len(st.ops) > 0 {
		body := map[string]any{"schemas": []string{schemaPatchOp}, "Operations": st.ops}
		resp, err := p.Do(ctx, provider.Req{
			Method:           http.MethodPatch,
			Path:             "/admin/v1/Apps/" + pathEscape(st.appID),
			Query:            url.Values{"attributes": {appAttributes}},
			JSON:             body,
			RetryRateLimited: true,
		})
		if err != nil {
			return nil, fmt.Errorf("oracle: changing the app's token expiry: %w", err)
		}
		if resp.Status != http.StatusOK {
			return nil, p.Fail("changing the app's token expiry", resp)
		}
		// The answer is the whole App; decoding it checks it is one.
		var patched scimApp
		if err := httpx.DecodeJSON(resp, &patched); err != nil {
			return nil, fmt.Errorf("oracle: changing the app's token expiry: %w", err)
		}
	}
	a, err := p.readApp(ctx, st.appID)
	if err != nil {
		return nil, fmt.Errorf("reading the app back: %w", err)
	}
	got := p.lifetimes(a)
	for _, op := range st.ops {
		v := a.AccessTokenExpiry
		if op.Path == attrRefreshExpiry {
			v = a.RefreshTokenExpiry
		}
		if v == nil || *v != op.Value {
			have := "no value"
			if v != nil {
				have = fmt.Sprintf("%d seconds", *v)
			}
			return nil, errs.New(errs.KindUnknown, "oracle: %s reads back as %s after setting %d seconds; the change did not take effect", op.Path, have, op.Value)
		}
	}
	return got, nil
}

func planState(plan *provider.ExpiryPlan) (*expiryState, bool) {
	if plan == nil {
		return nil, false
	}
	st, ok := plan.State.(*expiryState)
	return st, ok && st != nil
}
