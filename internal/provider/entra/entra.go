// Package entra is the admin adapter for Microsoft Entra ID, through
// Microsoft Graph v1.0 (Microsoft Graph v1.0 OpenAPI description,
// msgraph-metadata openapi/v1.0/openapi.yaml), on provider.Client.
//
// Revocation: POST /users/{id}/revokeSignInSessions resets the user's
// signInSessionsValidFromDateTime, which ends every refresh token and
// browser session cookie the user holds, for all applications; Entra has
// no per-application revocation. With --client the user's delegated
// consent grants (oauth2PermissionGrants) to that application are deleted
// too. Access tokens already issued stay valid until they expire (60 to 90
// minutes by default) unless the resource supports continuous access
// evaluation.
//
// Lifetimes: a token lifetime policy assigned to the application sets the
// access and ID token lifetime (10 minutes to 1 day). Refresh token and
// session lifetimes are not configurable this way; Conditional Access
// sign-in frequency governs them.
//
// Keys: Microsoft rotates the tenant's signing keys; `key list` reads the
// tenant's JWKS.
//
// Settings: tenant (required: id or verified domain), authority (default
// https://login.microsoftonline.com), url (the Graph base, default
// https://graph.microsoft.com); national clouds override both. Admin auth:
// an app registration's client credentials (admin client_id; the secret,
// or with client_auth private_key_jwt a PEM key with its certificate).
package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name of this adapter.
const Name = "entra"

// Defaults for the global cloud.
const (
	DefaultAuthority = "https://login.microsoftonline.com"
	DefaultGraph     = "https://graph.microsoft.com"
)

// UnsupportedKeys is the exit-7 sentence of `key regen`.
const UnsupportedKeys = "Microsoft rotates the tenant's signing keys itself; an application that needs its own key can be given a custom signing key (a certificate in the application's keyCredentials, used with appid-specific metadata)"

// Graph permissions (application) each operation needs.
const (
	PermRevoke      = "User.RevokeSessions.All"
	PermReadUsers   = "User.Read.All"
	PermGrants      = "DelegatedPermissionGrant.ReadWrite.All"
	PermPolicy      = "Policy.ReadWrite.ApplicationConfiguration"
	PermApplication = "Application.ReadWrite.All"
)

// Policy lifetime bounds (configurable token lifetimes, Microsoft identity platform).
const (
	minAccess = 10 * time.Minute
	maxAccess = 24 * time.Hour
)

// stillValid completes "access tokens already issued stay valid ...".
const stillValid = "until they expire: 60 to 90 minutes by default (or the application's token lifetime policy), unless the resource supports continuous access evaluation, which rejects them within minutes"

// signInFrequency names where refresh and session lifetimes are set.
const signInFrequency = "Entra does not set refresh-token or session lifetimes per application; use Conditional Access sign-in frequency"

// Provider is the Entra ID adapter.
type Provider struct {
	*provider.Client
	tenant, authority string
}

var (
	_ provider.UserTokenRevoker = (*Provider)(nil)
	_ provider.AppExpiryManager = (*Provider)(nil)
	_ provider.KeyLister        = (*Provider)(nil)
)

// New builds the adapter from the profile.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil {
		return nil, errs.New(errs.KindUsage, "entra: no environment")
	}
	tenant := env.Setting("tenant", "")
	if tenant == "" {
		return nil, errs.New(errs.KindUsage, "entra: set the tenant (--admin tenant=ID-or-domain)")
	}
	authority := strings.TrimRight(env.Setting("authority", DefaultAuthority), "/")
	graph := env.BaseURL
	if graph == "" {
		graph = DefaultGraph
	}
	graph = strings.TrimSuffix(strings.TrimRight(graph, "/"), "/v1.0")
	if env.Auth == nil {
		env.Auth = &provider.AdminAuth{}
	}
	a := env.Auth
	if a.Scheme == "" {
		a.Scheme = provider.AuthClientCredentials
	}
	if a.Scheme == provider.AuthClientCredentials {
		if a.TokenURL == "" {
			a.TokenURL = authority + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
		}
		if a.Scope == "" {
			a.Scope = graph + "/.default"
		}
		if a.ClientAuthMethod == "" {
			// The identity platform documents the secret in the form body.
			a.ClientAuthMethod = oauth.AuthSecretPost
		}
	}
	c, err := provider.NewClient(env, Name, graph+"/v1.0", provider.ClientOptions{Decode: decodeError})
	if err != nil {
		return nil, err
	}
	return &Provider{Client: c, tenant: tenant, authority: authority}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Permissions lists the Graph application permissions the adapter uses.
func (p *Provider) Permissions() []string {
	return []string{PermRevoke, PermReadUsers, PermGrants, PermPolicy, PermApplication}
}

// decodeError reads Graph's error body: {"error":{"code","message","innerError":{"request-id"}}}.
func decodeError(resp *httpx.Response) provider.VendorError {
	var doc struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	if json.Unmarshal(resp.Body, &doc) != nil {
		return provider.VendorError{}
	}
	msg := doc.Error.Message
	if id := doc.Error.InnerError.RequestID; id != "" && resp.Header.Get("request-id") == "" {
		msg += " (request-id " + id + ")"
	}
	return provider.VendorError{Code: doc.Error.Code, Message: msg}
}

func (p *Provider) path(format string, args ...string) string {
	esc := make([]any, len(args))
	for i, a := range args {
		esc[i] = url.PathEscape(a)
	}
	return fmt.Sprintf(format, esc...)
}

// odataString quotes s as an OData string literal: a quote is doubled.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// byAppID addresses an entity set by alternate key, as Graph documents it:
// /applications(appId='{appId}'); the key is escaped for the path.
func byAppID(set, appID string) string {
	return "/" + set + "(appId='" + url.PathEscape(strings.ReplaceAll(appID, "'", "''")) + "')"
}

// ---- (A) revoke --------------------------------------------------------------

// PlanRevokeUser implements provider.UserTokenRevoker.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if strings.TrimSpace(req.User) == "" {
		return nil, errs.New(errs.KindUsage, "entra: no user given")
	}
	if req.Method != "" {
		return nil, errs.New(errs.KindUsage, "entra: --method is not used here: revokeSignInSessions is the one way")
	}
	calls := []provider.Call{{Method: http.MethodGet, Path: p.path("/v1.0/users/%s", req.User), Purpose: "find the user by id or user principal name (" + PermReadUsers + ")"}}
	if strings.Contains(req.User, "@") {
		calls = append(calls, provider.Call{Method: http.MethodGet, Path: "/v1.0/users?$filter=mail eq " + odataString(req.User), Purpose: "else find the user by mail"})
	}
	calls = append(calls, provider.Call{Method: http.MethodPost, Path: "/v1.0/users/{id}/revokeSignInSessions", Purpose: "end every refresh token and session cookie of the user, in all applications (" + PermRevoke + ")"})
	if req.Client != "" {
		calls = append(calls,
			provider.Call{Method: http.MethodGet, Path: "/v1.0" + byAppID("servicePrincipals", req.Client), Purpose: "find the application's service principal"},
			provider.Call{Method: http.MethodGet, Path: "/v1.0/users/{id}/oauth2PermissionGrants", Purpose: "list the user's delegated consent grants (" + PermGrants + ")"},
			provider.Call{Method: http.MethodDelete, Path: "/v1.0/oauth2PermissionGrants/{grantId}", Purpose: "delete the user's own consent to the application (" + PermGrants + ")"})
	}
	return provider.Placeholders(calls), nil
}

type user struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail"`
}

const userSelect = "id,userPrincipalName,mail"

// findUser resolves an object id or UPN, then a mail address; nil when
// the tenant has no such user.
func (p *Provider) findUser(ctx context.Context, who string) (*user, error) {
	var u user
	_, err := p.Call(ctx, "finding user "+who, provider.Req{Method: http.MethodGet, Path: p.path("/users/%s", who), Query: url.Values{"$select": {userSelect}}}, &u, http.StatusOK)
	switch s := provider.StatusOf(err); {
	case err == nil:
		return &u, nil
	case s != http.StatusNotFound && s != http.StatusBadRequest:
		// 400: Graph's answer to a string that is no id or UPN at all.
		return nil, err
	}
	if !strings.Contains(who, "@") {
		return nil, nil
	}
	var list struct {
		Value []user `json:"value"`
	}
	q := url.Values{"$filter": {"mail eq " + odataString(who)}, "$select": {userSelect}}
	if _, err := p.Call(ctx, "finding user "+who+" by mail", provider.Req{Method: http.MethodGet, Path: "/users", Query: q}, &list, http.StatusOK); err != nil {
		return nil, err
	}
	switch len(list.Value) {
	case 0:
		return nil, nil
	case 1:
		return &list.Value[0], nil
	}
	return nil, errs.New(errs.KindUsage, "entra: %d users have the mail %s; give the object id or user principal name", len(list.Value), who)
}

// RevokeUser implements provider.UserTokenRevoker.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if _, err := p.PlanRevokeUser(req); err != nil {
		return nil, err
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	u, err := p.findUser(ctx, req.User)
	if err != nil {
		return nil, err
	}
	if u == nil {
		res.Outcome, res.Detail = provider.OutcomeUserNotFound, "the tenant has no user "+req.User
		return res, nil
	}
	var spID string
	if req.Client != "" {
		// Look the application up before revoking, so that a mistyped
		// --client changes nothing.
		var sp struct {
			ID string `json:"id"`
		}
		_, err := p.Call(ctx, "finding application "+req.Client, provider.Req{Method: http.MethodGet, Path: byAppID("servicePrincipals", req.Client), Query: url.Values{"$select": {"id,appId,displayName"}}}, &sp, http.StatusOK)
		if provider.StatusOf(err) == http.StatusNotFound {
			return nil, errs.New(errs.KindUsage, "entra: the tenant has no application with appId %s", req.Client)
		}
		if err != nil {
			return nil, err
		}
		spID = sp.ID
	}
	var ok struct {
		Value *bool `json:"value"`
	}
	resp, err := p.Call(ctx, "revoking the sign-in sessions of "+req.User, provider.Req{Method: http.MethodPost, Path: p.path("/users/%s/revokeSignInSessions", u.ID)}, &ok, http.StatusOK)
	if err != nil {
		return nil, err
	}
	if ok.Value == nil || !*ok.Value {
		return nil, errs.New(errs.KindNetwork, "entra: revokeSignInSessions for %s did not answer true; the sessions may still be valid", req.User)
	}
	res.RequestID = resp.Header.Get("request-id")
	res.Outcome = provider.OutcomeRevoked
	res.Detail = "every refresh token and session cookie of " + u.UserPrincipalName + " revoked, in all applications (Entra takes a few minutes to apply it everywhere)"
	res.StillValid = stillValid
	if spID == "" {
		return res, nil
	}
	n, err := p.deleteGrants(ctx, u.ID, spID)
	if err != nil {
		return nil, fmt.Errorf("%w (the sign-in sessions were already revoked)", err)
	}
	res.Detail += fmt.Sprintf("; %d delegated consent grant(s) to %s deleted", n, req.Client)
	return res, nil
}

type grant struct {
	ID          string `json:"id"`
	ClientID    string `json:"clientId"`
	ConsentType string `json:"consentType"`
	PrincipalID string `json:"principalId"`
}

// deleteGrants deletes the user's own consent grants to the service
// principal; admin consent for all principals is not the user's and stays.
func (p *Provider) deleteGrants(ctx context.Context, userID, spID string) (int, error) {
	var mine []grant
	err := p.PagesByBody(ctx, "listing consent grants", p.path("/users/%s/oauth2PermissionGrants", userID), nil, func(resp *httpx.Response) (string, error) {
		var page struct {
			Value []grant `json:"value"`
			Next  string  `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return "", errs.New(errs.KindNetwork, "entra: unreadable consent grant list")
		}
		for _, g := range page.Value {
			if g.ClientID == spID && g.ConsentType == "Principal" && g.PrincipalID == userID {
				mine = append(mine, g)
			}
		}
		return page.Next, nil
	})
	if err != nil {
		return 0, err
	}
	for _, g := range mine {
		if _, err := p.Call(ctx, "deleting consent grant "+g.ID, provider.Req{Method: http.MethodDelete, Path: p.path("/oauth2PermissionGrants/%s", g.ID)}, nil, http.StatusNoContent, http.StatusNotFound); err != nil {
			return 0, err
		}
	}
	return len(mine), nil
}

// ---- (B) lifetimes -----------------------------------------------------------

type application struct {
	ID          string `json:"id"`
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName"`
}

type policy struct {
	ID                    string   `json:"id"`
	DisplayName           string   `json:"displayName"`
	IsOrganizationDefault bool     `json:"isOrganizationDefault"`
	Definition            []string `json:"definition"`
}

// ListApps implements provider.AppExpiryManager.
func (p *Provider) ListApps(ctx context.Context) ([]provider.App, error) {
	var apps []provider.App
	err := p.PagesByBody(ctx, "listing applications", "/applications", url.Values{"$select": {"id,appId,displayName"}}, func(resp *httpx.Response) (string, error) {
		var page struct {
			Value []application `json:"value"`
			Next  string        `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return "", errs.New(errs.KindNetwork, "entra: unreadable application list")
		}
		for _, a := range page.Value {
			apps = append(apps, provider.App{ID: a.AppID, ClientID: a.AppID, Name: provider.Clean(a.DisplayName)})
		}
		return page.Next, nil
	})
	return apps, err
}

func (p *Provider) application(ctx context.Context, appID string) (*application, error) {
	var a application
	_, err := p.Call(ctx, "finding application "+appID, provider.Req{Method: http.MethodGet, Path: byAppID("applications", appID), Query: url.Values{"$select": {"id,appId,displayName"}}}, &a, http.StatusOK)
	if provider.StatusOf(err) == http.StatusNotFound {
		return nil, errs.New(errs.KindUsage, "entra: no application with appId %s in the tenant: see 'idpctl app list'", appID)
	}
	return &a, err
}

func (p *Provider) assigned(ctx context.Context, app *application) (*policy, error) {
	var doc struct {
		Value []policy `json:"value"`
	}
	if _, err := p.Call(ctx, "reading the token lifetime policy of "+app.AppID, provider.Req{Method: http.MethodGet, Path: p.path("/applications/%s/tokenLifetimePolicies", app.ID)}, &doc, http.StatusOK); err != nil {
		return nil, err
	}
	if len(doc.Value) == 0 {
		return nil, nil
	}
	return &doc.Value[0], nil
}

// sharers lists the other objects a policy applies to.
func (p *Provider) sharers(ctx context.Context, pol *policy, self string) ([]string, error) {
	var others []string
	err := p.PagesByBody(ctx, "reading what the policy applies to", p.path("/policies/tokenLifetimePolicies/%s/appliesTo", pol.ID), nil, func(resp *httpx.Response) (string, error) {
		var page struct {
			Value []struct {
				ID          string `json:"id"`
				DisplayName string `json:"displayName"`
			} `json:"value"`
			Next string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return "", errs.New(errs.KindNetwork, "entra: unreadable appliesTo list")
		}
		for _, o := range page.Value {
			if o.ID != self {
				others = append(others, provider.Clean(o.DisplayName))
			}
		}
		return page.Next, nil
	})
	return others, err
}

// definition is the JSON inside a policy's definition string, kept whole
// so that members idpctl does not change are written back as they were.
type definition map[string]map[string]any

func parseDefinition(pol *policy) (definition, error) {
	if pol == nil || len(pol.Definition) == 0 {
		return definition{"TokenLifetimePolicy": {"Version": 1}}, nil
	}
	var d definition
	if err := json.Unmarshal([]byte(pol.Definition[0]), &d); err != nil || d["TokenLifetimePolicy"] == nil {
		return nil, errs.New(errs.KindNetwork, "entra: policy %s has a definition idpctl cannot read", pol.ID)
	}
	return d, nil
}

var lifetimeRE = regexp.MustCompile(`^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$`)

// parseLifetime reads "hh:mm:ss" or "d.hh:mm:ss".
func parseLifetime(s string) (time.Duration, bool) {
	m := lifetimeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	n := func(x string) time.Duration { v, _ := strconv.Atoi(x); return time.Duration(v) }
	return n(m[1])*24*time.Hour + n(m[2])*time.Hour + n(m[3])*time.Minute + n(m[4])*time.Second, true
}

// formatLifetime writes d as Entra does: "hh:mm:ss", or "1.00:00:00".
func formatLifetime(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	s := fmt.Sprintf("%02d:%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second))
	if days > 0 {
		s = strconv.Itoa(days) + "." + s
	}
	return s
}

func (p *Provider) lifetimes(app string, pol *policy, d definition) *provider.Lifetimes {
	l := &provider.Lifetimes{
		App:          app,
		RefreshToken: provider.Lifetime{Source: provider.SourceVendor, SetWhere: signInFrequency},
		RefreshIdle:  provider.Lifetime{Source: provider.SourceVendor, SetWhere: signInFrequency},
		ReadAt:       p.Now(),
		Notes:        []string{"the access-token lifetime applies to ID tokens too"},
	}
	raw, _ := d["TokenLifetimePolicy"]["AccessTokenLifetime"].(string)
	if v, ok := parseLifetime(raw); pol != nil && ok {
		l.AccessToken = provider.Lifetime{Value: v, Known: true, Source: provider.SourceApp, Native: raw, From: "policy " + provider.Clean(pol.DisplayName)}
	} else {
		l.AccessToken = provider.Lifetime{Source: provider.SourceInherited, From: "Entra's default: 60 to 90 minutes, chosen at random per token"}
	}
	return l
}

// current reads the application, its assigned policy (nil for none) and
// that policy's definition.
func (p *Provider) current(ctx context.Context, app string) (*application, *policy, definition, error) {
	a, err := p.application(ctx, app)
	if err != nil {
		return nil, nil, nil, err
	}
	pol, err := p.assigned(ctx, a)
	if err != nil {
		return nil, nil, nil, err
	}
	d, err := parseDefinition(pol)
	return a, pol, d, err
}

// GetExpiry implements provider.AppExpiryManager; app is the appId.
func (p *Provider) GetExpiry(ctx context.Context, app string) (*provider.Lifetimes, error) {
	_, pol, d, err := p.current(ctx, app)
	if err != nil {
		return nil, err
	}
	return p.lifetimes(app, pol, d), nil
}

// expiryState is the plan: which policy to change or create.
type expiryState struct {
	app      *application
	current  *policy
	shared   bool
	def      definition
	lifetime time.Duration
}

// PlanExpiry implements provider.AppExpiryManager.
func (p *Provider) PlanExpiry(ctx context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	if ch.RefreshToken != nil || ch.RefreshIdle != nil || ch.Rotation != nil {
		return nil, provider.Unsupported(Name, "setting refresh-token lifetimes, idle timeouts or rotation", signInFrequency)
	}
	if ch.AccessToken == nil {
		return nil, errs.New(errs.KindUsage, "entra: give --access-token (10m to 1d); it sets access and ID tokens")
	}
	v := *ch.AccessToken
	if v < minAccess || v > maxAccess || v%time.Second != 0 {
		return nil, errs.New(errs.KindUsage, "entra: --access-token must be whole seconds from %s to %s", durations.Format(minAccess), durations.Format(maxAccess))
	}
	a, pol, d, err := p.current(ctx, app)
	if err != nil {
		return nil, err
	}
	st := &expiryState{app: a, current: pol, def: d, lifetime: v}
	before := p.lifetimes(app, pol, d)
	plan := &provider.ExpiryPlan{App: app, Before: *before, State: st}
	appPath := p.path("/v1.0/applications/%s", a.ID)
	if pol != nil {
		others, err := p.sharers(ctx, pol, a.ID)
		if err != nil {
			return nil, err
		}
		st.shared = len(others) > 0 || pol.IsOrganizationDefault
		if st.shared {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("policy %q also applies to %s; it is left as it is and this application gets a policy of its own", provider.Clean(pol.DisplayName), strings.Join(append(others, orgDefault(pol)...), ", ")))
		}
	}
	switch {
	case pol != nil && !st.shared:
		plan.Calls = []provider.Call{{Method: http.MethodPatch, Path: p.path("/v1.0/policies/tokenLifetimePolicies/%s", pol.ID), Purpose: "set AccessTokenLifetime in the application's own policy, keeping its other settings (" + PermPolicy + ")"}}
	default:
		plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodPost, Path: "/v1.0/policies/tokenLifetimePolicies", Purpose: "create a token lifetime policy for this application (" + PermPolicy + ")"})
		if pol != nil {
			plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodDelete, Path: appPath + p.path("/tokenLifetimePolicies/%s/$ref", pol.ID), Purpose: "unassign the shared policy from this application only (" + PermApplication + ")"})
		}
		plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodPost, Path: appPath + "/tokenLifetimePolicies/$ref", Purpose: "assign the new policy (" + PermApplication + ")"})
	}
	next := cloneDefinition(d)
	next["TokenLifetimePolicy"]["AccessTokenLifetime"] = formatLifetime(v)
	st.def = next
	after := p.lifetimes(app, &policy{ID: "new", DisplayName: policyName(app)}, next)
	if pol != nil && !st.shared {
		after = p.lifetimes(app, pol, next)
	}
	plan.After = *after
	return plan, nil
}

func orgDefault(pol *policy) []string {
	if pol.IsOrganizationDefault {
		return []string{"the whole organisation (it is the organisation default)"}
	}
	return nil
}

func policyName(appID string) string { return "idpctl " + appID }

func cloneDefinition(d definition) definition {
	out := definition{}
	for k, m := range d {
		inner := map[string]any{}
		for k2, v := range m {
			inner[k2] = v
		}
		out[k] = inner
	}
	return out
}

// ApplyExpiry implements provider.AppExpiryManager.
func (p *Provider) ApplyExpiry(ctx context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	st, ok := plan.State.(*expiryState)
	if !ok {
		return nil, errs.New(errs.KindUnknown, "entra: the plan was not made by this adapter")
	}
	raw, err := json.Marshal(st.def)
	if err != nil {
		return nil, err
	}
	if st.current != nil && !st.shared {
		if _, err := p.Call(ctx, "updating policy "+st.current.ID, provider.Req{Method: http.MethodPatch, Path: p.path("/policies/tokenLifetimePolicies/%s", st.current.ID), JSON: map[string]any{"definition": []string{string(raw)}}}, nil, http.StatusNoContent, http.StatusOK); err != nil {
			return nil, err
		}
	} else {
		var created policy
		body := map[string]any{"definition": []string{string(raw)}, "displayName": policyName(plan.App), "isOrganizationDefault": false}
		if _, err := p.Call(ctx, "creating a token lifetime policy", provider.Req{Method: http.MethodPost, Path: "/policies/tokenLifetimePolicies", JSON: body}, &created, http.StatusCreated); err != nil {
			return nil, err
		}
		if st.current != nil {
			if _, err := p.Call(ctx, "unassigning policy "+st.current.ID, provider.Req{Method: http.MethodDelete, Path: p.path("/applications/%s/tokenLifetimePolicies/%s/$ref", st.app.ID, st.current.ID)}, nil, http.StatusNoContent, http.StatusNotFound); err != nil {
				return nil, fmt.Errorf("%w (policy %s was created and is not assigned to anything)", err, created.ID)
			}
		}
		ref := map[string]string{"@odata.id": p.URL(p.path("/policies/tokenLifetimePolicies/%s", created.ID))}
		if _, err := p.Call(ctx, "assigning policy "+created.ID, provider.Req{Method: http.MethodPost, Path: p.path("/applications/%s/tokenLifetimePolicies/$ref", st.app.ID), JSON: ref}, nil, http.StatusNoContent); err != nil {
			return nil, fmt.Errorf("%w (policy %s was created; the application has no lifetime policy now)", err, created.ID)
		}
	}
	got, err := p.GetExpiry(ctx, plan.App)
	if err != nil {
		return nil, err
	}
	if !got.AccessToken.Known || got.AccessToken.Value != st.lifetime {
		return nil, errs.New(errs.KindUnknown, "entra: read back an access-token lifetime of %q after setting %s", got.AccessToken.Native, formatLifetime(st.lifetime))
	}
	return got, nil
}

// ---- (C) keys ----------------------------------------------------------------

// ListKeys implements provider.KeyLister from the tenant's public JWKS.
func (p *Provider) ListKeys(ctx context.Context) ([]provider.Key, error) {
	return provider.JWKSKeys(ctx, p.Env.HTTP, Name, p.authority+"/"+url.PathEscape(p.tenant)+"/discovery/v2.0/keys")
}
