package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// Okta's token limits for authorization-server policy rules, in minutes
// (authorization servers reference, "Token limits").
const (
	minAccessMinutes = 5
	maxAccessMinutes = 24 * 60
	minWindowMinutes = 10
	maxWindowMinutes = 5 * 365 * 24 * 60
	// defaultLeeway is the grace period, in seconds, Okta gives a rotated
	// refresh token when rotation is first enabled.
	defaultLeeway = 30
)

// SharedRuleOK is the LifetimeChange option that allows changing a policy
// rule that also applies to other clients.
const SharedRuleOK = "shared_rule_ok"

const allClients = "ALL_CLIENTS"

// oidcFilter selects OpenID Connect apps in GET /api/v1/apps.
const oidcFilter = `name eq "oidc_client"`

type app struct {
	raw        map[string]any
	ID         string
	ClientID   string
	Label      string
	Updated    string
	GrantTypes []string
}

func parseApp(raw map[string]any) app {
	a := app{raw: raw, ID: provider.JSONString(raw, "id"), Label: provider.JSONString(raw, "label"), Updated: provider.JSONString(raw, "lastUpdated")}
	a.ClientID = provider.JSONString(child(child(raw, "credentials", false), "oauthClient", false), "client_id")
	a.GrantTypes = strings2(child(child(raw, "settings", false), "oauthClient", false)["grant_types"])
	return a
}

// refreshSettings is settings.oauthClient.refresh_token, or nil.
func (a app) refreshSettings() map[string]any {
	return child(child(child(a.raw, "settings", false), "oauthClient", false), "refresh_token", false)
}

type policy struct {
	ID       string
	Name     string
	Status   string
	Priority int
	Clients  []string
}

func (pol policy) appliesTo(client string) bool {
	return slices.Contains(pol.Clients, allClients) || slices.Contains(pol.Clients, client)
}

// others names who else the policy's rules apply to.
func (pol policy) others(client string) []string {
	var out []string
	for _, c := range pol.Clients {
		if c != client {
			out = append(out, c)
		}
	}
	return out
}

type rule struct {
	raw        map[string]any
	ID         string
	Name       string
	Status     string
	Priority   int
	Updated    string
	GrantTypes []string
	Access     int
	Refresh    int
	Window     int
}

func parseRule(raw map[string]any) rule {
	r := rule{raw: raw, ID: provider.JSONString(raw, "id"), Name: provider.JSONString(raw, "name"), Status: provider.JSONString(raw, "status"), Updated: provider.JSONString(raw, "lastUpdated")}
	r.Priority, _ = provider.JSONInt(raw["priority"])
	r.GrantTypes = strings2(child(child(raw, "conditions", false), "grantTypes", false)["include"])
	tok := child(child(raw, "actions", false), "token", false)
	r.Access, _ = provider.JSONInt(tok["accessTokenLifetimeMinutes"])
	r.Refresh, _ = provider.JSONInt(tok["refreshTokenLifetimeMinutes"])
	r.Window, _ = provider.JSONInt(tok["refreshTokenWindowMinutes"])
	return r
}

func decodeRaw(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// ListApps lists the org's OpenID Connect apps.
func (p *Provider) ListApps(ctx context.Context) ([]provider.App, error) {
	var out []provider.App
	err := p.eachOIDCApp(ctx, func(a app) bool {
		out = append(out, provider.App{ID: a.ID, ClientID: a.ClientID, Name: a.Label})
		return true
	})
	return out, err
}

func (p *Provider) eachOIDCApp(ctx context.Context, fn func(app) bool) error {
	const op = "okta: listing apps"
	done := false
	q := url.Values{"filter": {oidcFilter}, "limit": {"200"}}
	return p.listAll(ctx, op, "/api/v1/apps", q, func(raw json.RawMessage) error {
		if done {
			return nil
		}
		var m map[string]any
		if err := decodeRaw(raw, &m); err != nil {
			return errs.New(errs.KindNetwork, "%s: an app is not a JSON object", op)
		}
		if !fn(parseApp(m)) {
			done = true
		}
		return nil
	})
}

// findApp finds an OIDC app by app id or client id. The two are equal
// unless a custom client id was chosen, so the id is tried first and the
// OIDC apps are scanned only when that fails.
func (p *Provider) findApp(ctx context.Context, name string) (app, error) {
	const op = "okta: reading the app"
	if strings.TrimSpace(name) == "" || strings.Contains(name, "/") {
		return app{}, errs.New(errs.KindUsage, "okta: %q is not an app id or client id", name)
	}
	resp, err := p.send(ctx, http.MethodGet, p.api("/api/v1/apps/"+url.PathEscape(name)), nil, nil)
	if err != nil {
		return app{}, fmt.Errorf("%s: %w", op, err)
	}
	switch resp.Status {
	case http.StatusOK:
		var m map[string]any
		if err := provider.DecodeExact(resp, &m); err != nil {
			return app{}, fmt.Errorf("%s: %w", op, err)
		}
		a := parseApp(m)
		if a.ClientID == "" {
			return app{}, errs.New(errs.KindUsage, "okta: app %s (%s) is not an OpenID Connect app; only those have token lifetimes", name, a.Label)
		}
		return a, nil
	case http.StatusNotFound:
	default:
		return app{}, p.fail(op, resp)
	}
	var found *app
	err = p.eachOIDCApp(ctx, func(a app) bool {
		if a.ClientID == name {
			found = &a
			return false
		}
		return true
	})
	if err != nil {
		return app{}, err
	}
	if found == nil {
		return app{}, errs.New(errs.KindUsage, "okta: no OpenID Connect app has the id or client id %q", name)
	}
	return *found, nil
}

func (p *Provider) policies(ctx context.Context) ([]policy, error) {
	const op = "okta: listing the authorization server's policies"
	var out []policy
	err := p.listAll(ctx, op, p.asPath()+"/policies", nil, func(raw json.RawMessage) error {
		var m map[string]any
		if err := decodeRaw(raw, &m); err != nil {
			return errs.New(errs.KindNetwork, "%s: a policy is not a JSON object", op)
		}
		pol := policy{ID: provider.JSONString(m, "id"), Name: provider.JSONString(m, "name"), Status: provider.JSONString(m, "status")}
		pol.Priority, _ = provider.JSONInt(m["priority"])
		pol.Clients = strings2(child(child(m, "conditions", false), "clients", false)["include"])
		out = append(out, pol)
		return nil
	})
	if provider.StatusOf(err) == http.StatusNotFound {
		return nil, errs.New(errs.KindUsage, "okta: no custom authorization server %q in this org (set the admin setting authorization_server): %v", p.as, err)
	}
	sortByPriority(out, func(p policy) int { return p.Priority })
	return out, err
}

func (p *Provider) rulePath(pid string) string {
	return p.asPath() + "/policies/" + url.PathEscape(pid) + "/rules"
}

func (p *Provider) rules(ctx context.Context, pid string) ([]rule, error) {
	const op = "okta: listing the policy's rules"
	var out []rule
	err := p.listAll(ctx, op, p.rulePath(pid), nil, func(raw json.RawMessage) error {
		var m map[string]any
		if err := decodeRaw(raw, &m); err != nil {
			return errs.New(errs.KindNetwork, "%s: a rule is not a JSON object", op)
		}
		out = append(out, parseRule(m))
		return nil
	})
	sortByPriority(out, func(r rule) int { return r.Priority })
	return out, err
}

// where is the policy and rule whose lifetimes an app's tokens get.
type where struct {
	pol   policy
	rule  rule
	rules int // active rules in the policy
}

// locate finds the rule Okta applies to the app's tokens: the first active
// policy (by priority) that lists the client or ALL_CLIENTS, then its first
// active rule (by priority) that allows one of the app's grant types. The
// rules' people and scope conditions depend on the user and request and
// are not evaluated. nil means no policy applies.
func (p *Provider) locate(ctx context.Context, a app) (*where, error) {
	policies, err := p.policies(ctx)
	if err != nil {
		return nil, err
	}
	grants := slices.DeleteFunc(slices.Clone(a.GrantTypes), func(g string) bool { return g == "refresh_token" })
	for _, pol := range policies {
		if pol.Status != "ACTIVE" || !pol.appliesTo(a.ClientID) {
			continue
		}
		rules, err := p.rules(ctx, pol.ID)
		if err != nil {
			return nil, err
		}
		w := &where{pol: pol}
		var chosen *rule
		for i, r := range rules {
			if r.Status != "ACTIVE" {
				continue
			}
			w.rules++
			if chosen == nil && (len(grants) == 0 || slices.ContainsFunc(grants, func(g string) bool { return slices.Contains(r.GrantTypes, g) })) {
				chosen = &rules[i]
			}
		}
		if chosen == nil {
			// Okta stops at the first matching policy even when none of
			// its rules matches: the request is then denied.
			return &where{pol: pol, rules: w.rules}, nil
		}
		w.rule = *chosen
		return w, nil
	}
	return nil, nil
}

// GetExpiry reads an app's token lifetimes from the policy rule that
// applies to it, and its rotation settings from the app.
func (p *Provider) GetExpiry(ctx context.Context, name string) (*provider.Lifetimes, error) {
	a, err := p.findApp(ctx, name)
	if err != nil {
		return nil, err
	}
	var w *where
	if p.custom() {
		if w, err = p.locate(ctx, a); err != nil {
			return nil, err
		}
	}
	lt := p.lifetimes(a, w)
	return &lt, nil
}

func (p *Provider) serverName() string {
	if !p.custom() {
		return "the org authorization server"
	}
	return "authorization server " + p.as
}

func (p *Provider) lifetimes(a app, w *where) provider.Lifetimes {
	lt := provider.Lifetimes{App: a.ClientID, ReadAt: p.Now()}
	if a.Label != "" {
		lt.App = fmt.Sprintf("%s (%s)", a.ClientID, a.Label)
	}
	switch {
	case !p.custom():
		fixed := "fixed by Okta on the org authorization server; a custom authorization server (admin setting authorization_server) lets you choose"
		lt.AccessToken = provider.Lifetime{Value: time.Hour, Known: true, Source: provider.SourceVendor, From: "the org authorization server", Native: "60 minutes", SetWhere: fixed}
		lt.RefreshToken = provider.Lifetime{Source: provider.SourceVendor, From: "the org authorization server", SetWhere: fixed}
		lt.RefreshIdle = lt.RefreshToken
	case w == nil || w.rule.ID == "":
		msg := fmt.Sprintf("no active policy of %s applies to client %s, so it cannot get tokens from this server", p.serverName(), a.ClientID)
		if w != nil {
			msg = fmt.Sprintf("policy %q of %s applies to client %s but none of its active rules allows the app's grant types (%s)", w.pol.Name, p.serverName(), a.ClientID, strings.Join(a.GrantTypes, ", "))
		}
		lt.Notes = append(lt.Notes, msg)
		unknown := provider.Lifetime{Source: provider.SourceUnknown, SetWhere: "an access policy rule of " + p.serverName()}
		lt.AccessToken, lt.RefreshToken, lt.RefreshIdle = unknown, unknown, unknown
	default:
		from := fmt.Sprintf("%s, policy %q, rule %q", p.serverName(), w.pol.Name, w.rule.Name)
		minutes := func(n int) provider.Lifetime {
			return provider.Lifetime{Value: time.Duration(n) * time.Minute, Known: true, Source: provider.SourceInherited, From: from, Native: fmt.Sprintf("%d minutes", n)}
		}
		lt.AccessToken = minutes(w.rule.Access)
		lt.RefreshToken = minutes(w.rule.Refresh)
		if w.rule.Refresh == 0 {
			lt.RefreshToken.Unlimited = true
			lt.RefreshToken.Native = "0 minutes (unlimited)"
		}
		lt.RefreshIdle = minutes(w.rule.Window)
		if others := w.pol.others(a.ClientID); len(others) > 0 {
			lt.Notes = append(lt.Notes, fmt.Sprintf("policy %q also applies to %s: its lifetimes are shared", w.pol.Name, describeOthers(others)))
		}
		if w.rules > 1 {
			lt.Notes = append(lt.Notes, fmt.Sprintf("rule %q is the first active rule of the policy allowing the app's grant types; its people and scope conditions are not evaluated here, so some users or scopes may get a later rule's lifetimes", w.rule.Name))
		}
	}
	rt := a.refreshSettings()
	rotate := false
	switch strings.ToUpper(provider.JSONString(rt, "rotation_type")) {
	case "ROTATE":
		rotate = true
	case "STATIC", "":
	}
	lt.Rotation, lt.RotationSource = &rotate, provider.SourceApp
	if rt == nil {
		lt.Notes = append(lt.Notes, "the app has no refresh_token settings: its refresh tokens do not rotate")
		lt.ReuseInterval = provider.Lifetime{Source: provider.SourceApp}
	} else if leeway, ok := provider.JSONInt(rt["leeway"]); ok {
		lt.ReuseInterval = provider.Lifetime{Value: time.Duration(leeway) * time.Second, Known: true, Source: provider.SourceApp, Native: fmt.Sprintf("%d seconds", leeway)}
	}
	return lt
}

func describeOthers(others []string) string {
	if slices.Contains(others, allClients) {
		return "every client of the server (ALL_CLIENTS)"
	}
	return "client(s) " + strings.Join(others, ", ")
}

// planState is the read-modify-write state of an Okta expiry plan.
type planState struct {
	appID       string
	appUpdated  string
	app         map[string]any // the whole app to PUT, nil when unchanged
	policyID    string
	ruleID      string
	ruleUpdated string
	rule        map[string]any // the whole rule to PUT, nil when unchanged
	want        provider.Lifetimes
	changedRule bool
	changedRot  bool
}

// validateChange refuses units and ranges Okta would refuse, before any
// request.
func validateChange(ch provider.LifetimeChange) error {
	wholeMinutes := func(what string, d time.Duration) (int, error) {
		if d < 0 {
			return 0, errs.New(errs.KindUsage, "okta: the %s lifetime cannot be negative", what)
		}
		if d%time.Minute != 0 {
			return 0, errs.New(errs.KindUsage, "okta: Okta counts the %s lifetime in whole minutes; %s is not", what, d)
		}
		return int(d / time.Minute), nil
	}
	if ch.AccessToken != nil {
		m, err := wholeMinutes("access token", *ch.AccessToken)
		if err != nil {
			return err
		}
		if m < minAccessMinutes || m > maxAccessMinutes {
			return errs.New(errs.KindUsage, "okta: the access token lifetime must be 5m to 24h (Okta's range); %s is not", *ch.AccessToken)
		}
	}
	if ch.RefreshToken != nil {
		m, err := wholeMinutes("refresh token", *ch.RefreshToken)
		if err != nil {
			return err
		}
		// Okta's range for refreshTokenLifetimeMinutes: 10 minutes to 5
		// years, or 0 for unlimited.
		if m != 0 && (m < minWindowMinutes || m > maxWindowMinutes) {
			return errs.New(errs.KindUsage, "okta: the refresh token lifetime must be 10m to 5 years, or 0 for unlimited (Okta's range); %s is not", *ch.RefreshToken)
		}
	}
	if ch.RefreshIdle != nil {
		m, err := wholeMinutes("refresh token idle", *ch.RefreshIdle)
		if err != nil {
			return err
		}
		if m < minWindowMinutes || m > maxWindowMinutes {
			return errs.New(errs.KindUsage, "okta: the refresh token idle lifetime (\"expires if not used\") must be 10m to 5 years (Okta's range); %s is not", *ch.RefreshIdle)
		}
	}
	return nil
}

// PlanExpiry reads the app and its policy rule and computes the change.
func (p *Provider) PlanExpiry(ctx context.Context, name string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	if err := validateChange(ch); err != nil {
		return nil, err
	}
	lifetimes := ch.AccessToken != nil || ch.RefreshToken != nil || ch.RefreshIdle != nil
	if lifetimes && !p.custom() {
		return nil, provider.Unsupported(Name, "changing token lifetimes on the org authorization server", "its access tokens last one hour; set lifetimes in an access policy rule of a custom authorization server (admin setting authorization_server)")
	}
	a, err := p.findApp(ctx, name)
	if err != nil {
		return nil, err
	}
	var w *where
	if p.custom() {
		if w, err = p.locate(ctx, a); err != nil {
			return nil, err
		}
	}
	before := p.lifetimes(a, w)
	st := &planState{appID: a.ID, appUpdated: a.Updated}
	plan := &provider.ExpiryPlan{App: name, Before: before}
	newRule := rule{}
	if w != nil {
		newRule = w.rule
	}
	if lifetimes {
		if w == nil || w.rule.ID == "" {
			return nil, errs.New(errs.KindUsage, "okta: %s; create an access policy for the app in the Admin Console first", before.Notes[0])
		}
		if others := w.pol.others(a.ClientID); len(others) > 0 {
			if ch.Options[SharedRuleOK] != "true" {
				return nil, errs.New(errs.KindUsage, "okta: the lifetimes of %s live in rule %q of policy %q on %s, which also applies to %s; changing it changes their tokens too. Give the app a policy of its own, or pass --shared-rule-ok (option %s=true) to change the shared rule", a.ClientID, w.rule.Name, w.pol.Name, p.serverName(), describeOthers(others), SharedRuleOK)
			}
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("rule %q of policy %q also applies to %s: their tokens change too", w.rule.Name, w.pol.Name, describeOthers(others)))
		}
		access, refresh, window := w.rule.Access, w.rule.Refresh, w.rule.Window
		if ch.AccessToken != nil {
			access = int(*ch.AccessToken / time.Minute)
		}
		if ch.RefreshToken != nil {
			refresh = int(*ch.RefreshToken / time.Minute)
		}
		if ch.RefreshIdle != nil {
			window = int(*ch.RefreshIdle / time.Minute)
		}
		if refresh != 0 && refresh < access {
			return nil, errs.New(errs.KindUsage, "okta: the refresh token lifetime (%s) must be at least the access token lifetime (%s), or 0 for unlimited", durations.Format(time.Duration(refresh)*time.Minute), durations.Format(time.Duration(access)*time.Minute))
		}
		if refresh != 0 && window > refresh {
			return nil, errs.New(errs.KindUsage, "okta: the refresh token idle lifetime (%s) cannot exceed its lifetime (%s)", durations.Format(time.Duration(window)*time.Minute), durations.Format(time.Duration(refresh)*time.Minute))
		}
		if access != w.rule.Access || refresh != w.rule.Refresh || window != w.rule.Window {
			raw := provider.CloneJSON(w.rule.raw)
			tok := child(child(raw, "actions", true), "token", true)
			tok["accessTokenLifetimeMinutes"] = access
			tok["refreshTokenLifetimeMinutes"] = refresh
			tok["refreshTokenWindowMinutes"] = window
			st.rule, st.changedRule = raw, true
			st.policyID, st.ruleID, st.ruleUpdated = w.pol.ID, w.rule.ID, w.rule.Updated
			newRule = parseRule(raw)
			plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodPut, Path: p.rulePath(w.pol.ID) + "/" + url.PathEscape(w.rule.ID), Purpose: fmt.Sprintf("replace rule %q whole, with the new lifetimes", w.rule.Name)})
		}
	}
	newApp := a
	if ch.Rotation != nil && *ch.Rotation != *before.Rotation {
		raw := provider.CloneJSON(a.raw)
		oc := child(child(raw, "settings", true), "oauthClient", true)
		rt := child(oc, "refresh_token", false)
		if rt == nil {
			rt = map[string]any{"leeway": defaultLeeway}
			oc["refresh_token"] = rt
		}
		rt["rotation_type"] = "STATIC"
		if *ch.Rotation {
			rt["rotation_type"] = "ROTATE"
		}
		st.app, st.changedRot = raw, true
		newApp = parseApp(raw)
		plan.Calls = append(plan.Calls, provider.Call{Method: http.MethodPut, Path: "/api/v1/apps/" + url.PathEscape(a.ID), Purpose: "replace the app whole, with the new refresh token rotation"})
	}
	var after *where
	if w != nil {
		cp := *w
		cp.rule = newRule
		after = &cp
	}
	plan.After = p.lifetimes(newApp, after)
	if len(plan.Calls) > 0 {
		plan.Warnings = append(plan.Warnings, "tokens already issued keep the lifetimes they were issued with")
	}
	st.want = plan.After
	plan.State = st
	return plan, nil
}

// ApplyExpiry writes the plan, refusing when the rule or app changed since
// it was read, and reads back what Okta holds.
func (p *Provider) ApplyExpiry(ctx context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	if plan == nil {
		return nil, errs.New(errs.KindUsage, "okta: no plan to apply")
	}
	st, ok := plan.State.(*planState)
	if !ok || st == nil {
		return nil, errs.New(errs.KindUsage, "okta: the plan was not made by the Okta adapter")
	}
	if st.changedRule {
		path := p.rulePath(st.policyID) + "/" + url.PathEscape(st.ruleID)
		if err := p.replace(ctx, "okta: replacing the policy rule", path, st.ruleUpdated, st.rule); err != nil {
			return nil, err
		}
	}
	if st.changedRot {
		path := "/api/v1/apps/" + url.PathEscape(st.appID)
		if err := p.replace(ctx, "okta: replacing the app", path, st.appUpdated, st.app); err != nil {
			return nil, err
		}
	}
	got, err := p.GetExpiry(ctx, st.appID)
	if err != nil {
		return nil, fmt.Errorf("okta: reading back the lifetimes: %w", err)
	}
	if err := verify(st.want, *got); err != nil {
		return got, err
	}
	return got, nil
}

// replace re-reads an object, refuses if someone changed it since the
// plan, and PUTs the planned whole object.
func (p *Provider) replace(ctx context.Context, op, path, updated string, body map[string]any) error {
	resp, err := p.send(ctx, http.MethodGet, p.api(path), nil, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if resp.Status != http.StatusOK {
		return p.fail(op, resp)
	}
	var cur map[string]any
	if err := provider.DecodeExact(resp, &cur); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if updated != "" && provider.JSONString(cur, "lastUpdated") != updated {
		return errs.New(errs.KindUsage, "%s: it changed in Okta since the plan was made (lastUpdated %s, was %s); plan again", op, provider.JSONString(cur, "lastUpdated"), updated)
	}
	resp, err = p.send(ctx, http.MethodPut, p.api(path), nil, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if resp.Status != http.StatusOK {
		return p.fail(op, resp)
	}
	return nil
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
		return errs.New(errs.KindUnknown, "okta: the change was accepted but Okta reads back %s", strings.Join(diffs, "; "))
	}
	return nil
}
